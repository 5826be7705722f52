/// The viewer's page frame and its smaller pages, as Mustache templates compiled into the binary. `{{name}}`
/// escapes HTML; the only `{{{unescaped}}}` slot is `content`, which holds the output of another template. Styles and
/// scripts are files of their own (`UI/Assets`, served under `/static/`): the Content-Security-Policy allows no
/// inline script, and every page shows its data without one.
enum Templates {
    static let layout = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>{{title}} · Otter</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <link rel="stylesheet" href="/static/otter.css"><link rel="icon" href="/static/otter.svg" type="image/svg+xml">
        {{#script}}<script src="/static/{{script}}" defer></script>{{/script}}
        </head>
        <body><header><a class="brand" href="/search">Otter</a><nav>
        <a href="/search">Search</a><a href="/logs">Logs</a><a href="/compare">Compare</a><a href="/monitor">Monitor</a>
        <a href="/dependencies">System architecture</a><a href="/upload">Upload</a><a href="/status">Status</a></nav></header>
        <main>{{{content}}}</main></body></html>
        """

    static let trace = """
        <div id="trace-page" data-trace-id="{{traceID}}">
        <h2>{{rootService}}: {{rootName}}</h2>
        <p class="muted">Trace {{traceID}} · {{spanCount}} spans · {{duration}} · started {{start}} ·
          {{#services}}<span class="swatch" style="background:{{color}}"></span>{{name}} {{/services}}
          · <a href="/api/traces/{{traceID}}">Jaeger JSON</a> · <a href="/api/v3/traces/{{traceID}}">OTLP JSON</a>
          · <a href="/compare?a={{traceID}}">Compare with…</a>{{#hasLogs}} · <a id="trace-logs-link" href="/logs?traceID={{traceID}}">Logs</a>{{/hasLogs}}</p>
        <div id="static-trace">
        {{#isPaged}}<p class="pages">Spans {{firstShown}}–{{lastShown}} of {{spanCount}}
          {{#previousPage}}· <a href="/trace/{{traceID}}?offset={{previousPage}}">previous</a>{{/previousPage}}
          {{#nextPage}}· <a href="/trace/{{traceID}}?offset={{nextPage}}">next</a>{{/nextPage}}</p>{{/isPaged}}
        <div class="waterfall">
        <div class="ruler-static">{{#ticks}}<span style="left:{{left}}%">{{label}}</span>{{/ticks}}</div>
        {{#spans}}<details><summary><div class="name" style="padding-left:{{indent}}px">{{#failed}}<span class="error">⚠ </span>{{/failed}}<span class="swatch" style="background:{{color}}"></span>{{service}} <b>{{name}}</b> <span class="muted">{{kind}}</span></div>
        <div class="lane"><div class="bar{{#failed}} failed{{/failed}}{{#critical}} on-critical-path{{/critical}}" style="left:{{left}}%;width:{{width}}%;background:{{color}}"></div><span class="dur" style="left:{{left}}%">{{duration}}</span></div></summary>
        <div class="details">
          <div>Span {{spanID}}{{#parentID}} · parent {{parentID}}{{/parentID}} · start +{{offset}} · self {{selfTime}} · {{status}} · scope {{scope}}</div>
          <table><tbody>{{#attributes}}<tr><td>{{key}}</td><td>{{value}}</td></tr>{{/attributes}}</tbody></table>
          {{#hasEvents}}<div><b>Events</b></div><table><tbody>{{#events}}<tr><td>+{{offset}}</td><td>{{name}}</td><td>{{attributes}}</td></tr>{{/events}}</tbody></table>{{/hasEvents}}
          {{#hasLinks}}<div><b>Links</b></div><table><tbody>{{#links}}<tr><td><a href="/trace/{{traceID}}">{{traceID}}</a></td><td>{{spanID}}</td><td>{{attributes}}</td></tr>{{/links}}</tbody></table>{{/hasLinks}}
          <div><b>Resource</b></div><table><tbody>{{#resource}}<tr><td>{{key}}</td><td>{{value}}</td></tr>{{/resource}}</tbody></table>
        </div></details>{{/spans}}
        </div>
        <h3>Statistics</h3>
        <table class="statistics"><thead><tr><th>Service</th><th>Operation</th><th>Count</th><th>Total</th><th>Self</th><th>Average</th><th>Min</th><th>Max</th></tr></thead><tbody>
        {{#statistics}}<tr><td>{{service}}</td><td>{{operation}}</td><td>{{count}}</td><td>{{total}}</td><td>{{selfTime}}</td><td>{{average}}</td><td>{{minimum}}</td><td>{{maximum}}</td></tr>{{/statistics}}
        </tbody></table>
        </div>
        <div id="explorer"></div>
        </div>
        """

    static let upload = """
        <h2>View a trace file</h2>
        <p class="muted">An OTLP JSON export or a Jaeger JSON file (Jaeger UI's "Download JSON", or <code>/api/traces</code>).
        It is read by this viewer and shown here; nothing is stored. This page needs JavaScript.</p>
        <p><input type="file" id="upload-file" accept=".json,.jsonl,application/json"></p>
        <p id="upload-message" class="error"></p>
        <div id="explorer"></div>
        """

    static let noLogStore = """
        <h2>Logs</h2><p>This viewer keeps no log records.</p>
        """

    static let notFound = """
        <h2>Trace not found</h2><p>No spans are stored for trace {{traceID}}.</p><p><a href="/search">Search traces</a></p>
        """
}

/// One choice of a form's `<select>` or checkbox group, as the templates render it.
struct FormOption {
    var value: String
    var label: String
    var selected: Bool
}
