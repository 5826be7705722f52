/// The viewer's HTML, as Mustache templates compiled into the binary. `{{name}}` escapes HTML; the only
/// `{{{unescaped}}}` slot is `content`, which holds the output of another template.
enum Templates {
    static let layout = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>{{title}} · Otter</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
        header{background:#14324a;color:#fff;padding:10px 20px;display:flex;gap:24px;align-items:center}
        header a{color:#fff;text-decoration:none;font-weight:600}
        main{padding:16px 20px}
        form.search{display:flex;flex-wrap:wrap;gap:10px;align-items:end;background:#fff;padding:12px;border:1px solid #dde1e7;border-radius:6px}
        form.search label{display:flex;flex-direction:column;font-size:12px;color:#555;gap:3px}
        input,select,button{font:inherit;padding:5px 7px;border:1px solid #c4cad3;border-radius:4px}
        button{background:#14324a;color:#fff;border:none;padding:7px 14px;cursor:pointer}
        table{width:100%;border-collapse:collapse;background:#fff;margin-top:14px;border:1px solid #dde1e7}
        th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #eceff3;font-size:14px}
        .error{color:#b3261e;font-weight:600}
        .muted{color:#6b7280;font-size:12px}
        .waterfall{background:#fff;border:1px solid #dde1e7;margin-top:12px}
        .waterfall details{border-bottom:1px solid #eceff3}
        .waterfall summary{list-style:none;cursor:pointer;display:grid;grid-template-columns:38% 62%;align-items:center}
        .waterfall summary::-webkit-details-marker{display:none}
        .waterfall summary:hover{background:#f0f4f8}
        .name{padding:5px 8px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-size:13px}
        .lane{position:relative;height:26px}
        .bar{position:absolute;top:7px;height:12px;border-radius:2px;min-width:2px}
        .bar.failed{outline:2px solid #b3261e}
        .dur{position:absolute;top:5px;font-size:11px;color:#333;margin-left:4px}
        .details{padding:8px 14px;background:#fafbfc;font-size:13px}
        .details table{margin-top:4px}
        .swatch{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:5px}
        svg{background:#fff;border:1px solid #dde1e7;margin-top:12px}
        </style></head>
        <body><header><a href="/search">Otter</a><a href="/search">Search</a><a href="/dependencies">System architecture</a></header>
        <main>{{{content}}}</main></body></html>
        """

    static let search = """
        <form class="search" method="get" action="/search">
          <label>Service<select name="service">{{#services}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/services}}</select></label>
          <label>Operation<input name="operation" value="{{operation}}" placeholder="all"></label>
          <label>Tags<input name="tags" value="{{tags}}" placeholder="http.status_code=200 error=true" size="32"></label>
          <label>Lookback<select name="lookback">{{#lookbacks}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/lookbacks}}</select></label>
          <label>Min duration<input name="minDuration" value="{{minDuration}}" placeholder="e.g. 1.2s" size="8"></label>
          <label>Max duration<input name="maxDuration" value="{{maxDuration}}" placeholder="e.g. 100ms" size="8"></label>
          <label>Limit<input name="limit" value="{{limit}}" size="4"></label>
          <button type="submit">Find Traces</button>
        </form>
        {{#message}}<p class="error">{{message}}</p>{{/message}}
        {{#hasResults}}
        <svg width="100%" viewBox="0 0 1000 140" aria-label="duration over time">
          {{#results}}<circle cx="{{x}}" cy="{{y}}" r="5" fill="{{#hasErrors}}#b3261e{{/hasErrors}}{{^hasErrors}}#2c7be5{{/hasErrors}}"><title>{{rootName}} {{duration}}</title></circle>{{/results}}
        </svg>
        <table><thead><tr><th>Trace</th><th>Services</th><th>Spans</th><th>Errors</th><th>Duration</th><th>Start</th></tr></thead><tbody>
        {{#results}}<tr><td><a href="/trace/{{traceID}}">{{rootService}}: {{rootName}}</a><div class="muted">{{traceID}}</div></td>
        <td>{{services}}</td><td>{{spanCount}}</td><td>{{#hasErrors}}<span class="error">{{errorCount}}</span>{{/hasErrors}}{{^hasErrors}}0{{/hasErrors}}</td>
        <td>{{duration}}</td><td>{{start}}</td></tr>{{/results}}
        </tbody></table>
        {{/hasResults}}
        {{^hasResults}}{{#searched}}<p>No traces found.</p>{{/searched}}{{/hasResults}}
        """

    static let trace = """
        <h2>{{rootService}}: {{rootName}}</h2>
        <p class="muted">Trace {{traceID}} · {{spanCount}} spans · {{duration}} · started {{start}} ·
          {{#services}}<span class="swatch" style="background:{{color}}"></span>{{name}} {{/services}}
          · <a href="/api/traces/{{traceID}}">Jaeger JSON</a> · <a href="/api/v3/traces/{{traceID}}">OTLP JSON</a></p>
        {{#isPaged}}<p class="pages">Spans {{firstShown}}–{{lastShown}} of {{spanCount}}
          {{#previousPage}}· <a href="/trace/{{traceID}}?from={{previousPage}}">previous</a>{{/previousPage}}
          {{#nextPage}}· <a href="/trace/{{traceID}}?from={{nextPage}}">next</a>{{/nextPage}}</p>{{/isPaged}}
        <div class="waterfall">
        {{#spans}}<details><summary><div class="name" style="padding-left:{{indent}}px">{{#failed}}<span class="error">⚠ </span>{{/failed}}<span class="swatch" style="background:{{color}}"></span>{{service}} <b>{{name}}</b> <span class="muted">{{kind}}</span></div>
        <div class="lane"><div class="bar{{#failed}} failed{{/failed}}" style="left:{{left}}%;width:{{width}}%;background:{{color}}"></div><span class="dur" style="left:{{left}}%">{{duration}}</span></div></summary>
        <div class="details">
          <div>Span {{spanID}}{{#parentID}} · parent {{parentID}}{{/parentID}} · start +{{offset}} · {{status}}</div>
          <table><tbody>{{#attributes}}<tr><td>{{key}}</td><td>{{value}}</td></tr>{{/attributes}}</tbody></table>
          {{#hasEvents}}<div><b>Events</b></div><table><tbody>{{#events}}<tr><td>+{{offset}}</td><td>{{name}}</td><td>{{attributes}}</td></tr>{{/events}}</tbody></table>{{/hasEvents}}
          {{#hasLinks}}<div><b>Links</b></div><table><tbody>{{#links}}<tr><td><a href="/trace/{{traceID}}">{{traceID}}</a></td><td>{{spanID}}</td></tr>{{/links}}</tbody></table>{{/hasLinks}}
          <div><b>Resource</b></div><table><tbody>{{#resource}}<tr><td>{{key}}</td><td>{{value}}</td></tr>{{/resource}}</tbody></table>
        </div></details>{{/spans}}
        </div>
        """

    static let notFound = """
        <h2>Trace not found</h2><p>No spans are stored for trace {{traceID}}.</p><p><a href="/search">Search traces</a></p>
        """

    static let dependencies = """
        <h2>System architecture</h2>
        <form class="search" method="get" action="/dependencies">
        <label>Lookback<select name="lookback">{{#lookbacks}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/lookbacks}}</select></label>
        <button type="submit">Show</button>
        </form>
        {{^hasLinks}}<p class="muted">No calls between services in this window.</p>{{/hasLinks}}
        {{#hasLinks}}
        <svg width="{{size}}" height="{{size}}" viewBox="0 0 {{size}} {{size}}" role="img" aria-label="service dependency graph">
        <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280"/></marker></defs>
        {{#links}}<line class="edge" x1="{{x1}}" y1="{{y1}}" x2="{{x2}}" y2="{{y2}}" stroke="#9aa3ae" stroke-width="1.5" marker-end="url(#arrow)"/><text x="{{labelX}}" y="{{labelY}}" font-size="11" fill="#374151">{{callCount}}</text>{{/links}}
        {{#nodes}}<g class="node"><circle cx="{{x}}" cy="{{y}}" r="8" fill="{{color}}"/><text x="{{x}}" y="{{labelY}}" font-size="13" text-anchor="middle">{{name}}</text></g>{{/nodes}}
        </svg>
        <table class="dependencies"><thead><tr><th>Caller</th><th>Callee</th><th>Calls</th></tr></thead><tbody>
        {{#links}}<tr><td><a href="{{parentSearch}}">{{parent}}</a></td><td><a href="{{childSearch}}">{{child}}</a></td><td>{{callCount}}</td></tr>{{/links}}
        </tbody></table>
        {{/hasLinks}}
        """
}
