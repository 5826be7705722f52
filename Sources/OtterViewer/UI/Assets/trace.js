/*
 * Otter viewer: trace explorer for the trace page (/trace/{id}) and the upload page (/upload).
 *
 * Loads the trace model from the server's JSON API and replaces the static waterfall with an
 * interactive explorer: a virtualised timeline, minimap with zoom, flamegraph, statistics,
 * find, collapse, critical path and a span details pane. The trace's log records (OTLP/JSON from
 * /api/otter/logs) are drawn as markers on their spans' bars, listed in the span details and in
 * the Logs view. Plain ES2020, no dependencies.
 *
 * Every string in the model comes from spans or log records and is untrusted: it only reaches the
 * page through textContent, text nodes or attributes, and link hrefs are built from validated hex ids.
 */
(function () {
  'use strict';

  // ---------------------------------------------------------------------------
  // Constants

  const ROW_HEIGHT = 26;          // px, as .span-row in otter.css
  const HEADER_HEIGHT = 28;       // px, as .timeline-header in otter.css
  const OVERSCAN = 12;            // rows rendered above and below the viewport
  const MAX_INDENT_DEPTH = 12;    // indentation stops growing here, so deep spans keep their names in view
  const INDENT_PX = 14;
  const FLAME_LANE_HEIGHT = 20;   // px, as .flame-node in otter.css
  const FLAME_MAX_DEPTH = 60;     // deeper lanes are clipped
  const MINIMAP_HEIGHT = 48;      // px, as #minimap in otter.css
  const MINIMAP_MAX_BARS = 20000;
  const FIND_DEBOUNCE_MS = 120;
  const VIEWS = { timeline: 'Timeline', flamegraph: 'Flamegraph', statistics: 'Statistics', logs: 'Logs' };
  const ERROR_SEVERITY = 17;      // OpenTelemetry's ERROR; from here on a record is drawn as failed spans are
  const WARN_SEVERITY = 13;
  const MAX_MARKERS_PER_ROW = 500;
  const MAX_SPAN_LOGS = 500;      // records listed in the span details; the Logs view lists them all
  const SEVERITY_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
  const HEX = /^[0-9a-f]+$/;
  const COLOR = /^#[0-9a-fA-F]{3,8}$/;
  const FALLBACK_COLORS = ['#2c7be5', '#00a67e', '#e67e22', '#8e44ad', '#16a085', '#c0392b', '#2980b9', '#7f8c8d'];

  // ---------------------------------------------------------------------------
  // Formatting

  /** Microseconds as `850µs`, `12.3ms`, `1.25s` (up to 3 significant digits); 0 as `0µs`. */
  function formatDuration(micros) {
    if (!Number.isFinite(micros) || micros === 0) return '0\u00b5s';
    const sign = micros < 0 ? '-' : '';
    const units = [['\u00b5s', 1], ['ms', 1e3], ['s', 1e6]];
    for (let u = 0; ; u++) {
      const scaled = Number((Math.abs(micros) / units[u][1]).toPrecision(3));
      if (scaled < 1000 || u === units.length - 1) return sign + scaled + units[u][0];
    }
  }

  /** An offset from a start: `+12.3ms`, or `-1ms` for a record before it. */
  function offsetText(micros) {
    return (micros < 0 ? '' : '+') + formatDuration(micros);
  }

  /** A number for a URL parameter: at most 3 decimals, no trailing zeros. */
  function formatParam(value) {
    return String(Math.round(value * 1000) / 1000);
  }

  // ---------------------------------------------------------------------------
  // DOM helpers

  /**
   * Creates an element. `props` are DOM properties set by code (className, id, textContent, type,
   * title, hidden, ...), never markup; `children` are nodes or strings (appended as text).
   */
  function el(tag, props, ...children) {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  function text(value) {
    return value === null || value === undefined ? '' : String(value);
  }

  function button(label, props) {
    return el('button', Object.assign({ type: 'button', textContent: label }, props));
  }

  function swatch(color) {
    const node = el('span', { className: 'swatch' });
    node.style.background = color;
    return node;
  }

  /** A two-column key/value table of `[[key, value], ...]`. */
  function keyValueTable(className, pairs) {
    const list = Array.isArray(pairs) ? pairs : [];
    const rows = list.map((pair) => el('tr', null,
      el('td', { className: 'key', textContent: text(pair && pair[0]) }),
      el('td', { className: 'value', textContent: text(pair && pair[1]) })));
    if (rows.length === 0) rows.push(el('tr', null, el('td', { className: 'muted', colSpan: 2, textContent: 'none' })));
    return el('table', { className }, el('tbody', null, ...rows));
  }

  function isEditable(target) {
    return !!target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // ---------------------------------------------------------------------------
  // URL state (view, uiFind, span, from, to), kept with history.replaceState

  function urlParam(name) {
    return new URLSearchParams(location.search).get(name);
  }

  function setUrlParams(values) {
    const url = new URL(location.href);
    for (const [key, value] of Object.entries(values)) {
      if (value === null || value === undefined || value === '') url.searchParams.delete(key);
      else url.searchParams.set(key, String(value));
    }
    try {
      history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    } catch (_) {
      // Some contexts (sandboxed frames, rate limits) refuse; the state just is not kept.
    }
  }

  // ---------------------------------------------------------------------------
  // Clipboard

  function copyText(value, target) {
    const done = (ok) => {
      target.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(() => { target.textContent = 'Copy'; }, 1500);
    };
    const fallback = () => {
      const area = el('textarea', { value, readOnly: true });
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.append(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
      area.remove();
      done(ok);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(value).then(() => done(true), fallback);
    else fallback();
  }

  // ---------------------------------------------------------------------------
  // Model preparation: typed arrays built once per model

  function prepare(model) {
    const spans = Array.isArray(model.spans) ? model.spans : [];
    const n = spans.length;
    const services = (Array.isArray(model.services) ? model.services : []).map((service, index) => ({
      name: text(service && service.name),
      color: service && COLOR.test(service.color) ? service.color : FALLBACK_COLORS[index % FALLBACK_COLORS.length],
      resource: service && Array.isArray(service.resource) ? service.resource : [],
    }));
    const unknownService = { name: 'unknown', color: '#999999', resource: [] };

    const parent = new Int32Array(n);
    const depth = new Int32Array(n);
    const subtreeEnd = new Int32Array(n);   // index after the last descendant (depth-first order)
    const start = new Float64Array(n);
    const duration = new Float64Array(n);
    const spanService = new Array(n);
    const indexById = new Map();
    let lastEnd = 0;

    for (let i = 0; i < n; i++) {
      const span = spans[i];
      const p = Number(span.parentIndex);
      // Depth-first order puts a parent before its children; anything else is treated as a root.
      parent[i] = Number.isInteger(p) && p >= 0 && p < i ? p : -1;
      depth[i] = Math.max(0, Number(span.depth) || 0);
      subtreeEnd[i] = i + 1;
      start[i] = Number(span.startMicros) || 0;
      duration[i] = Math.max(0, Number(span.durationMicros) || 0);
      lastEnd = Math.max(lastEnd, start[i] + duration[i]);
      spanService[i] = services[span.serviceIndex] || unknownService;
      indexById.set(text(span.spanID).toLowerCase(), i);
    }
    for (let i = n - 1; i >= 0; i--) {
      const p = parent[i];
      if (p >= 0 && subtreeEnd[i] > subtreeEnd[p]) subtreeEnd[p] = subtreeEnd[i];
    }
    const total = Math.max(Number(model.durationMicros) || 0, lastEnd);
    // A zero-length trace still needs a non-zero scale.
    return { model, spans, n, services, parent, depth, subtreeEnd, start, duration, spanService, indexById, total: total || 1 };
  }

  /**
   * Lower-cased text searched by find, as Jaeger's uiFind searches: name, service, span id, attribute keys and
   * values, event names and attributes, and the service's resource.
   */
  function buildHaystacks(data) {
    const out = new Array(data.n);
    for (let i = 0; i < data.n; i++) {
      const span = data.spans[i];
      const parts = [span.name, data.spanService[i].name, span.spanID];
      for (const pair of span.attributes || []) parts.push(pair[0], pair[1]);
      for (const event of span.events || []) {
        parts.push(event.name);
        for (const pair of event.attributes || []) parts.push(pair[0], pair[1]);
      }
      for (const pair of data.spanService[i].resource || []) parts.push(pair[0], pair[1]);
      out[i] = parts.join('\u0000').toLowerCase();
    }
    return out;
  }

  // ---------------------------------------------------------------------------
  // Log records: OTLP/JSON from /api/otter/logs, flattened and placed on the trace's time axis

  /** An OTLP/JSON AnyValue as one line of text, as the server writes it (strings as they are, lists as JSON-like text). */
  function anyValueText(value, depth) {
    if (!value || typeof value !== 'object') return '';
    const level = depth || 0;
    const quoted = (inner) => (inner && typeof inner === 'object' && 'stringValue' in inner
      ? `"${text(inner.stringValue)}"` : anyValueText(inner, level + 1));
    if (level > 32) return '';
    if ('stringValue' in value) return text(value.stringValue);
    if ('boolValue' in value) return value.boolValue ? 'true' : 'false';
    if ('intValue' in value) return text(value.intValue);
    if ('doubleValue' in value) return text(value.doubleValue);
    if ('bytesValue' in value) return text(value.bytesValue);
    if (value.arrayValue) {
      const values = Array.isArray(value.arrayValue.values) ? value.arrayValue.values : [];
      return '[' + values.map(quoted).join(', ') + ']';
    }
    if (value.kvlistValue) {
      const values = Array.isArray(value.kvlistValue.values) ? value.kvlistValue.values : [];
      return '{' + values.map((pair) => [text(pair && pair.key), pair && pair.value])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([key, inner]) => `${key}: ${quoted(inner)}`).join(', ') + '}';
    }
    return '';
  }

  /** OTLP/JSON attributes as `[key, text]` pairs, sorted by key. */
  function attributePairs(attributes) {
    return (Array.isArray(attributes) ? attributes : [])
      .map((pair) => [text(pair && pair.key), anyValueText(pair && pair.value)])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** Nanoseconds since the epoch (an OTLP/JSON decimal string) as a BigInt; null when it is not one. */
  function nanoseconds(value) {
    const digits = text(value);
    if (!/^[0-9]{1,20}$/.test(digits)) return null;
    return BigInt(digits);
  }

  /** A severity as shown: the record's own text, else OpenTelemetry's short name of its number. */
  function severityLabel(number, severityText) {
    if (severityText) return severityText;
    if (!(number >= 1 && number <= 24)) return '';
    const step = (number - 1) % 4;
    return SEVERITY_NAMES[Math.floor((number - 1) / 4)] + (step ? String(step + 1) : '');
  }

  function severityClass(number) {
    return number >= ERROR_SEVERITY ? 'severity-error' : number >= WARN_SEVERITY ? 'severity-warn' : 'severity';
  }

  /**
   * The records of an OTLP/JSON logs answer, oldest first, each with its time in microseconds from the trace's start
   * and the index of its span (-1 without a span id or for a span not in the trace).
   */
  function prepareLogs(answer, data) {
    const records = [];
    const traceStart = Number(data.model.startTimeUnixMicros) || 0;
    const resourceLogs = answer && Array.isArray(answer.resourceLogs) ? answer.resourceLogs : [];
    for (const resourceLog of resourceLogs) {
      const resource = resourceLog && resourceLog.resource && Array.isArray(resourceLog.resource.attributes) ? resourceLog.resource.attributes : [];
      const serviceAttribute = resource.find((pair) => pair && pair.key === 'service.name');
      const service = serviceAttribute ? anyValueText(serviceAttribute.value) : '';
      for (const scopeLog of Array.isArray(resourceLog && resourceLog.scopeLogs) ? resourceLog.scopeLogs : []) {
        for (const record of Array.isArray(scopeLog && scopeLog.logRecords) ? scopeLog.logRecords : []) {
          if (!record || typeof record !== 'object') continue;
          const nanos = nanoseconds(record.timeUnixNano) || nanoseconds(record.observedTimeUnixNano) || 0n;
          const micros = Number(nanos / 1000n) + Number(nanos % 1000n) / 1000 - traceStart;
          const spanID = text(record.spanId).toLowerCase();
          const spanIndex = HEX.test(spanID) && data.indexById.has(spanID) ? data.indexById.get(spanID) : -1;
          const severity = Number(record.severityNumber) || 0;
          records.push({
            nanos, micros, spanID: HEX.test(spanID) ? spanID : '', spanIndex, service, severity,
            severityText: severityLabel(severity, text(record.severityText)),
            body: anyValueText(record.body), attributes: attributePairs(record.attributes),
          });
        }
      }
    }
    records.sort((a, b) => (a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0));
    const bySpan = new Map();
    records.forEach((record, index) => {
      record.index = index;
      if (record.spanIndex < 0) return;
      if (!bySpan.has(record.spanIndex)) bySpan.set(record.spanIndex, []);
      bySpan.get(record.spanIndex).push(record);
    });
    return { records, bySpan };
  }

  /** The most log records the explorer reads for a trace: the newest ones (the Logs view says when there are more). */
  const LOG_LIMIT = 10000;

  /** The trace's log records (OTLP/JSON); none when the viewer keeps no logs (404) or the request fails. */
  async function fetchLogs(traceID) {
    try {
      const response = await fetch(`/api/otter/logs?traceID=${traceID}&limit=${LOG_LIMIT}`, { headers: { Accept: 'application/json' } });
      return response.ok ? await response.json() : null;
    } catch (_) {
      return null;
    }
  }

  // ---------------------------------------------------------------------------
  // Explorer

  class Explorer {
    constructor(root, model, options) {
      this.root = root;
      this.options = options || {};
      this.data = prepare(model);
      this.logs = prepareLogs(this.options.logs, this.data);
      const n = this.data.n;

      this.collapsed = new Uint8Array(n);
      this.visible = new Int32Array(n);     // span index per visible row
      this.rowOf = new Int32Array(n);       // visible row per span, -1 when hidden
      this.visibleCount = 0;
      this.selected = -1;
      this.view = 'timeline';
      this.viewStart = 0;
      this.viewEnd = this.data.total;
      this.haystacks = null;                // built on the first find
      this.matches = null;                  // Uint8Array of match flags, null without a query
      this.matchCount = 0;
      this.rowElements = new Map();         // span index -> rendered row
      this.renderedFirst = -1;
      this.renderedLast = -1;
      this.rowsDirty = true;                // rows must be rebuilt (collapse, zoom)
      this.frame = 0;
      this.flameNodes = null;               // span index -> flame node
      this.flameDirty = true;
      this.flameRoot = -1;                  // the span whose subtree the flamegraph shows, -1 for the whole trace
      this.minimapWidth = 0;
      this.stats = null;
      this.findTimer = 0;
      this.logsDirty = true;                // the Logs view must be rebuilt (first show, subtree filter)
      this.listeners = [];

      this.buildDom();
      this.bindEvents();
      this.recomputeVisible();
      this.updateWindowDecorations();
      this.applyInitialState();
    }

    /** Removes document-level listeners (the upload page replaces explorers). */
    destroy() {
      for (const [target, type, handler] of this.listeners) target.removeEventListener(type, handler);
      this.listeners = [];
      cancelAnimationFrame(this.frame);
      clearTimeout(this.findTimer);
    }

    // --- DOM construction ------------------------------------------------------

    buildDom() {
      const root = this.root;
      root.replaceChildren();
      root.classList.add('explorer', 'show-critical');
      if (this.options.summary) root.append(this.buildSummary());

      // Toolbar
      this.tabs = {};
      for (const [view, label] of Object.entries(VIEWS)) {
        this.tabs[view] = button(label);
        this.tabs[view].dataset.view = view;
        this.tabs[view].setAttribute('role', 'tab');
      }
      // No records, no Logs tab.
      this.tabs.logs.hidden = this.logs.records.length === 0;
      this.collapseAllButton = button('Collapse all', { id: 'collapse-all' });
      this.expandAllButton = button('Expand all', { id: 'expand-all' });
      this.criticalToggle = el('input', { type: 'checkbox', id: 'critical-path-toggle', checked: true });
      this.findInput = el('input', { type: 'text', id: 'find-input', placeholder: 'Find in trace\u2026', autocomplete: 'off' });
      this.findInput.setAttribute('aria-label', 'Find in trace');
      this.findCount = el('span', { id: 'find-count', className: 'muted' });
      this.findCount.setAttribute('aria-live', 'polite');
      this.resetZoomButton = button('Reset zoom', { id: 'reset-zoom' });
      const toolbar = el('div', { className: 'explorer-toolbar' },
        el('div', { className: 'view-tabs' }, ...Object.values(this.tabs)),
        this.collapseAllButton, this.expandAllButton,
        el('label', { className: 'critical-toggle' }, this.criticalToggle, ' Critical path'),
        el('div', { className: 'find' }, this.findInput, this.findCount),
        this.resetZoomButton);

      const legend = el('div', { className: 'legend' }, ...this.data.services.map((service) =>
        el('span', { className: 'service-chip' }, swatch(service.color), el('span', { className: 'service', textContent: service.name }))));

      // Minimap: a canvas, the current window and the drag selection
      this.minimapCanvas = el('canvas');
      this.minimapWindow = el('div', { className: 'minimap-window', hidden: true });
      this.minimapSelection = el('div', { className: 'minimap-selection', hidden: true });
      this.minimap = el('div', { id: 'minimap', title: 'Drag to zoom into a time window' },
        this.minimapCanvas, this.minimapWindow, this.minimapSelection);

      // Timeline: sticky header with the ruler, then a canvas of absolutely placed rows
      this.ticks = [0, 1, 2, 3, 4].map((t) => {
        const tick = el('span', { className: 'tick' });
        tick.style.left = (t * 25) + '%';
        return tick;
      });
      this.canvas = el('div', { className: 'timeline-canvas' });
      this.timeline = el('div', { id: 'timeline', tabIndex: 0 },
        el('div', { className: 'timeline-header' },
          el('div', { className: 'name-header', textContent: 'Service & operation' }),
          el('div', { id: 'ruler' }, ...this.ticks)),
        this.canvas);
      this.timelineView = el('div', { className: 'timeline-view' }, this.timeline);

      this.flameNote = el('p', { className: 'muted flame-note', hidden: true });
      this.flame = el('div', { id: 'flamegraph' });
      this.flameView = el('div', { className: 'flamegraph-view' }, this.flameNote, this.flame);

      this.statsTable = el('table', { id: 'statistics-table' });
      this.statsView = el('div', { className: 'statistics-view' }, this.statsTable);

      this.logsCount = el('span', { id: 'logs-count', className: 'muted' });
      this.logsSubtree = el('input', { type: 'checkbox', id: 'logs-subtree', disabled: true });
      this.logsSubtreeLabel = el('span', { textContent: 'Only the selected span and its descendants (select a span)' });
      this.logsBody = el('tbody');
      this.logsTable = el('table', { id: 'logs-table', className: 'logs' },
        el('thead', null, el('tr', null, ...['Time', 'Severity', 'Service', 'Span', 'Body', 'Attributes'].map((label) => el('th', { textContent: label })))),
        this.logsBody);
      this.logsView = el('div', { className: 'logs-view' },
        el('div', { className: 'logs-toolbar' }, this.logsCount,
          el('label', { className: 'logs-subtree' }, this.logsSubtree, ' ', this.logsSubtreeLabel)),
        this.logsTable);

      this.details = el('aside', { id: 'span-details', hidden: true });
      this.body = el('div', { className: 'explorer-body' },
        el('div', { className: 'explorer-views' }, this.timelineView, this.flameView, this.statsView, this.logsView),
        this.details);
      root.append(toolbar, legend, this.minimap, this.body);
    }

    buildSummary() {
      const model = this.data.model;
      const id = HEX.test(text(model.traceID)) ? model.traceID : '';
      return el('div', { className: 'explorer-summary' },
        el('h2', { textContent: `${text(model.rootService)}: ${text(model.rootName)}` }),
        el('p', { className: 'muted', textContent: `Trace ${id} \u00b7 ${this.data.n} spans \u00b7 ${formatDuration(this.data.total)}` }));
    }

    // --- Events ----------------------------------------------------------------

    listen(target, type, handler) {
      target.addEventListener(type, handler);
      this.listeners.push([target, type, handler]);
    }

    bindEvents() {
      for (const view of Object.keys(VIEWS)) this.tabs[view].addEventListener('click', () => this.setView(view, true));
      this.collapseAllButton.addEventListener('click', () => this.collapseAll());
      this.expandAllButton.addEventListener('click', () => this.expandAll());
      this.criticalToggle.addEventListener('change', () => this.root.classList.toggle('show-critical', this.criticalToggle.checked));
      this.resetZoomButton.addEventListener('click', () => this.setWindow(0, this.data.total));

      this.findInput.addEventListener('input', () => {
        clearTimeout(this.findTimer);
        this.findTimer = setTimeout(() => this.setFind(this.findInput.value), FIND_DEBOUNCE_MS);
      });
      this.findInput.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') {
          event.preventDefault();
          clearTimeout(this.findTimer);
          this.setFind(this.findInput.value);
          this.jumpToMatch(event.shiftKey ? -1 : 1);
        } else if (event.key === 'Escape') {
          event.preventDefault();
          this.findInput.blur();
        }
      });

      this.timeline.addEventListener('scroll', () => this.scheduleRender(), { passive: true });
      this.canvas.addEventListener('click', (event) => {
        const row = event.target.closest('.span-row');
        if (!row) return;
        if (event.target.closest('.toggle')) return this.toggle(Number(row.dataset.index));
        this.select(Number(row.dataset.index), { scroll: false });
        // A log marker also points at its record in the details.
        const marker = event.target.closest('.log-marker');
        const record = marker && this.details.querySelector(`table.span-logs tr[data-log="${Number(marker.dataset.log)}"]`);
        if (record) {
          record.classList.add('highlight');
          record.scrollIntoView({ block: 'nearest' });
        }
      });
      this.flame.addEventListener('click', (event) => {
        const node = event.target.closest('.flame-node');
        if (node) this.select(Number(node.dataset.index), { reveal: true });
      });
      // Double-click: the flamegraph shows that span's subtree only, across the whole width, from its own depth
      // (so lanes deeper than the clip are reachable); the note's button shows the whole trace again.
      this.flame.addEventListener('dblclick', (event) => {
        const node = event.target.closest('.flame-node');
        if (node) this.focusFlamegraph(Number(node.dataset.index));
      });
      this.flameNote.addEventListener('click', (event) => {
        if (event.target.closest('.flame-unfocus')) this.focusFlamegraph(-1);
      });
      this.details.addEventListener('click', (event) => {
        const copy = event.target.closest('button.copy');
        if (copy) copyText(copy.dataset.copy || '', copy);
        else if (event.target.closest('.close-details')) this.select(-1);
      });
      this.statsTable.addEventListener('click', (event) => {
        const th = event.target.closest('th');
        if (th && th.dataset.key) this.sortStatistics(th.dataset.key);
      });
      // A record's row shows its span in the timeline.
      this.logsBody.addEventListener('click', (event) => {
        const row = event.target.closest('tr.log-row');
        const i = row ? Number(row.dataset.index) : -1;
        if (!(i >= 0 && i < this.data.n)) return;
        this.setView('timeline', true);
        this.select(i, { reveal: true, center: true });
      });
      this.logsSubtree.addEventListener('change', () => {
        this.logsDirty = true;
        this.renderLogs();
      });
      this.bindMinimap();

      this.listen(document, 'keydown', (event) => this.onKeyDown(event));
      let resizeFrame = 0;
      this.listen(window, 'resize', () => {
        cancelAnimationFrame(resizeFrame);
        resizeFrame = requestAnimationFrame(() => {
          this.drawMinimap();
          this.flameDirty = true;
          if (this.view === 'flamegraph') this.renderFlamegraph();
          this.renderRows();
        });
      });
    }

    /** Keys when focus is not in a text field: j/k/arrows move, ←/→ collapse/expand, / find, n next match, Esc. */
    onKeyDown(event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isEditable(event.target) || !this.root.isConnected) return;
      const key = event.key;
      const i = this.selected;
      if (key === '/') {
        event.preventDefault();
        this.findInput.focus();
        this.findInput.select();
      } else if (key === 'Escape') {
        if (i >= 0) this.select(-1);
      } else if (key === 'n' || key === 'N') {
        this.jumpToMatch(key === 'N' ? -1 : 1);
      } else if (this.view === 'statistics' || this.view === 'logs') {
        // no row navigation in the statistics and logs tables
      } else if (key === 'ArrowDown' || key === 'j' || key === 'ArrowUp' || key === 'k') {
        event.preventDefault();
        this.moveSelection(key === 'ArrowDown' || key === 'j' ? 1 : -1);
      } else if (key === 'ArrowLeft' && i >= 0) {
        event.preventDefault();
        if (this.hasChildren(i) && !this.collapsed[i]) this.toggle(i);
        else if (this.data.parent[i] >= 0) this.select(this.data.parent[i]);
      } else if (key === 'ArrowRight' && i >= 0) {
        event.preventDefault();
        if (this.collapsed[i]) this.toggle(i);
      }
    }

    // --- Initial state and views -------------------------------------------------

    applyInitialState() {
      const from = urlParam('from');
      const to = urlParam('to');
      // Both bounds are required: a lone `from` is the static page's row offset.
      if (from !== null && to !== null && Number.isFinite(+from) && Number.isFinite(+to) && +to > +from) this.setWindow(+from, +to, false);
      const find = urlParam('uiFind');
      if (find) {
        this.findInput.value = find;
        this.setFind(find, false);
      }
      const view = urlParam('view');
      this.setView(Object.keys(VIEWS).includes(view) && !this.tabs[view].hidden ? view : 'timeline', false);
      const spanID = text(urlParam('span')).toLowerCase();
      if (HEX.test(spanID) && this.data.indexById.has(spanID)) {
        this.select(this.data.indexById.get(spanID), { reveal: true, center: true, writeUrl: false });
      }
      this.renderRows();
    }

    setView(view, writeUrl) {
      this.view = view;
      this.root.dataset.view = view;
      for (const [name, tab] of Object.entries(this.tabs)) {
        tab.classList.toggle('active', name === view);
        tab.setAttribute('aria-selected', String(name === view));
      }
      this.timelineView.hidden = view !== 'timeline';
      this.flameView.hidden = view !== 'flamegraph';
      this.statsView.hidden = view !== 'statistics';
      this.logsView.hidden = view !== 'logs';
      this.minimap.hidden = view === 'statistics' || view === 'logs';
      if (writeUrl) setUrlParams({ view });
      if (!this.minimap.hidden) this.drawMinimap();
      if (view === 'timeline') {
        if (this.selected >= 0) this.scrollToRow(this.rowOf[this.selected], false);
        this.scheduleRender();
      } else if (view === 'flamegraph') {
        if (this.flameDirty) this.renderFlamegraph();
      } else if (view === 'logs') {
        this.renderLogs();
      } else if (!this.stats) {
        this.buildStatistics();
      }
    }

    // --- Visibility and collapse ---------------------------------------------------

    hasChildren(i) {
      return this.data.subtreeEnd[i] > i + 1;
    }

    /** Rebuilds the visible-row arrays after a collapse change: O(spans), once per change. */
    recomputeVisible() {
      const { n, subtreeEnd } = this.data;
      this.rowOf.fill(-1);
      let count = 0;
      for (let i = 0; i < n; i = this.collapsed[i] ? subtreeEnd[i] : i + 1) {
        this.visible[count] = i;
        this.rowOf[i] = count++;
      }
      this.visibleCount = count;
      this.root.dataset.visibleRows = String(count);
      this.canvas.style.height = (count * ROW_HEIGHT) + 'px';
      this.rowsDirty = true;
      this.scheduleRender();
    }

    toggle(i) {
      if (!this.hasChildren(i)) return;
      this.collapsed[i] ^= 1;
      // A selection inside a collapsed subtree moves up to the collapsed span.
      if (this.collapsed[i] && this.selected > i && this.selected < this.data.subtreeEnd[i]) this.select(i, { scroll: false });
      this.recomputeVisible();
    }

    collapseAll() {
      for (let i = 0; i < this.data.n; i++) this.collapsed[i] = this.hasChildren(i) ? 1 : 0;
      let top = this.selected;
      while (top >= 0 && this.data.parent[top] >= 0) top = this.data.parent[top];
      if (top !== this.selected) this.select(top, { scroll: false });
      this.recomputeVisible();
      this.timeline.scrollTop = 0;
    }

    expandAll() {
      this.collapsed.fill(0);
      this.recomputeVisible();
      if (this.selected >= 0) this.scrollToRow(this.rowOf[this.selected], true);
    }

    /** Expands the collapsed ancestors of span i. */
    reveal(i) {
      let changed = false;
      for (let p = this.data.parent[i]; p >= 0; p = this.data.parent[p]) {
        if (this.collapsed[p]) {
          this.collapsed[p] = 0;
          changed = true;
        }
      }
      if (changed) this.recomputeVisible();
    }

    // --- Selection -------------------------------------------------------------------

    /** Selects span i (-1 clears). Options: scroll (default true), reveal, center, writeUrl (default true). */
    select(i, options) {
      const opts = Object.assign({ scroll: true, reveal: false, center: false, writeUrl: true }, options);
      const previous = this.selected;
      this.selected = i;
      if (i >= 0 && opts.reveal) this.reveal(i);
      if (opts.writeUrl) setUrlParams({ span: i >= 0 ? this.data.spans[i].spanID : null });
      for (const nodes of [this.rowElements, this.flameNodes]) {
        if (!nodes) continue;
        if (nodes.has(previous)) nodes.get(previous).classList.remove('selected');
        if (nodes.has(i)) nodes.get(i).classList.add('selected');
      }
      this.renderDetails();
      this.updateLogsSubtree();
      if (i >= 0 && opts.scroll) this.scrollToRow(this.rowOf[i], opts.center);
    }

    /** The row of the selection, or of its nearest visible ancestor; -1 without a selection. */
    selectedRow() {
      for (let i = this.selected; i >= 0; i = this.data.parent[i]) {
        if (this.rowOf[i] >= 0) return this.rowOf[i];
      }
      return -1;
    }

    moveSelection(step) {
      if (this.visibleCount === 0) return;
      const current = this.selectedRow();
      const row = current < 0 ? (step > 0 ? 0 : this.visibleCount - 1) : Math.min(this.visibleCount - 1, Math.max(0, current + step));
      this.select(this.visible[row]);
    }

    scrollToRow(row, center) {
      if (row < 0 || this.view !== 'timeline') return;
      const timeline = this.timeline;
      const top = row * ROW_HEIGHT;                        // relative to the canvas, below the sticky header
      const viewport = timeline.clientHeight - HEADER_HEIGHT;
      if (center) timeline.scrollTop = Math.max(0, top - viewport / 2 + ROW_HEIGHT / 2);
      else if (top < timeline.scrollTop) timeline.scrollTop = top;
      else if (top + ROW_HEIGHT > timeline.scrollTop + viewport) timeline.scrollTop = top + ROW_HEIGHT - viewport;
      this.scheduleRender();
    }

    // --- Timeline rendering (virtualised) ----------------------------------------------

    scheduleRender() {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.renderRows();
      });
    }

    /** Renders the rows in view plus overscan. Rows still in range are kept; only new rows are built. */
    renderRows() {
      if (this.view !== 'timeline') return;
      // The only layout reads of a render, before any write.
      const scrollTop = this.timeline.scrollTop;
      const height = this.timeline.clientHeight;
      const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
      const last = Math.min(this.visibleCount, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
      if (!this.rowsDirty && first === this.renderedFirst && last === this.renderedLast) return;
      const previous = this.rowsDirty ? new Map() : this.rowElements;
      const current = new Map();
      const fragment = document.createDocumentFragment();
      for (let row = first; row < last; row++) {
        const i = this.visible[row];
        let node = previous.get(i);
        if (node) previous.delete(i);
        else fragment.append(node = this.buildRow(row));
        current.set(i, node);
      }
      if (this.rowsDirty) {
        this.canvas.replaceChildren(fragment);
      } else {
        for (const node of previous.values()) node.remove();
        this.canvas.append(fragment);
      }
      this.rowElements = current;
      this.renderedFirst = first;
      this.renderedLast = last;
      this.rowsDirty = false;
    }

    /** Placement of span i in the current window (percent), or null when outside it. */
    barGeometry(i, viewStart = this.viewStart, viewEnd = this.viewEnd) {
      const s = this.data.start[i];
      const e = s + this.data.duration[i];
      if (e < viewStart || s > viewEnd) return null;
      const start = Math.max(s, viewStart);
      const end = Math.min(e, viewEnd);
      const width = (viewEnd - viewStart) || 1;
      return { start, end, left: (start - viewStart) / width * 100, width: (end - start) / width * 100 };
    }

    buildRow(row) {
      const data = this.data;
      const i = this.visible[row];
      const span = data.spans[i];
      const service = data.spanService[i];
      const critical = Array.isArray(span.criticalPath) ? span.criticalPath : [];

      // Left column: indentation, toggle, service, name, error marker
      const name = el('div', { className: 'name-cell', title: `${service.name} ${text(span.name)}` });
      name.style.paddingLeft = (4 + Math.min(data.depth[i], MAX_INDENT_DEPTH) * INDENT_PX) + 'px';
      if (this.hasChildren(i)) {
        const toggle = button(this.collapsed[i] ? '\u25b8' : '\u25be', { className: 'toggle', tabIndex: -1 });
        toggle.setAttribute('aria-label', this.collapsed[i] ? 'Expand' : 'Collapse');
        name.append(toggle);
      } else {
        name.append(el('span', { className: 'toggle-spacer' }));
      }
      name.append(swatch(service.color), el('span', { className: 'service', textContent: service.name }),
        el('span', { className: 'span-name', textContent: text(span.name) }));
      if (span.error) name.append(el('span', { className: 'error-marker', title: 'error', textContent: '\u26a0' }));

      // Right column: bar with critical-path segments, duration label
      const lane = el('div', { className: 'lane' });
      const label = el('span', { className: 'bar-label', textContent: formatDuration(data.duration[i]) });
      const bar = this.barGeometry(i);
      if (bar) {
        const node = el('div', { className: 'bar' });
        node.style.left = bar.left + '%';
        node.style.width = bar.width + '%';
        node.style.background = service.color;
        const length = bar.end - bar.start;
        for (const segment of length > 0 ? critical : []) {
          const a = Math.max(Number(segment[0]), bar.start);
          const b = Math.min(Number(segment[1]), bar.end);
          if (!(b > a)) continue;
          const part = el('div', { className: 'critical' });
          part.style.left = ((a - bar.start) / length * 100) + '%';
          part.style.width = ((b - a) / length * 100) + '%';
          node.append(part);
        }
        lane.append(node);
        // The label goes after the bar, before it when the bar reaches the right edge, inside it when it spans both.
        if (bar.left + bar.width > 75 && bar.left < 12) {
          label.classList.add('inside');
          label.style.right = Math.max(0, 100 - bar.left - bar.width) + '%';
        } else if (bar.left + bar.width > 75) {
          label.classList.add('before');
          label.style.right = (100 - bar.left) + '%';
        } else {
          label.style.left = (bar.left + bar.width) + '%';
        }
      } else {
        label.classList.add('outside');
      }
      lane.append(label);
      this.appendLogMarkers(lane, i);

      const node = el('div', { className: 'span-row' }, name, lane);
      node.dataset.spanId = text(span.spanID);
      node.dataset.index = String(i);
      node.style.top = (row * ROW_HEIGHT) + 'px';
      if (critical.length) node.classList.add('critical');
      if (span.error) node.classList.add('failed');
      if (i === this.selected) node.classList.add('selected');
      if (this.matches && this.matches[i]) node.classList.add('match');
      if (this.collapsed[i]) node.classList.add('collapsed');
      return node;
    }

    // --- Zoom window, ruler and minimap ---------------------------------------------------

    setWindow(from, to, writeUrl) {
      const total = this.data.total;
      const minimum = total * 1e-6;
      let a = Math.min(Math.max(0, Math.min(from, to)), total);
      let b = Math.min(Math.max(0, Math.max(from, to)), total);
      if (b - a < minimum) {
        b = Math.min(total, a + minimum);
        a = b - minimum;
      }
      this.viewStart = a;
      this.viewEnd = b;
      const full = a <= 0 && b >= total;
      if (writeUrl !== false) setUrlParams(full ? { from: null, to: null } : { from: formatParam(a), to: formatParam(b) });
      this.updateWindowDecorations();
      this.flameDirty = true;
      if (this.view === 'flamegraph') this.renderFlamegraph();
      this.rowsDirty = true;
      this.scheduleRender();
    }

    updateWindowDecorations() {
      const width = this.viewEnd - this.viewStart;
      this.ticks.forEach((tick, t) => { tick.textContent = formatDuration(this.viewStart + width * t / (this.ticks.length - 1)); });
      const total = this.data.total;
      const zoomed = this.viewStart > 0 || this.viewEnd < total;
      this.root.classList.toggle('zoomed', zoomed);
      this.minimapWindow.hidden = !zoomed;
      this.minimapWindow.style.left = (this.viewStart / total * 100) + '%';
      this.minimapWindow.style.width = (width / total * 100) + '%';
    }

    /** One thin bar per span (sampled above a cap), by row, x by time. Redrawn only when the width changes. */
    drawMinimap() {
      const data = this.data;
      const width = this.minimap.clientWidth;
      if (!width || width === this.minimapWidth) return;
      this.minimapWidth = width;
      const canvas = this.minimapCanvas;
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(MINIMAP_HEIGHT * ratio);
      const context = canvas.getContext('2d');
      if (!context) return;
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      const step = Math.max(1, Math.ceil(data.n / MINIMAP_MAX_BARS));
      const rowHeight = (MINIMAP_HEIGHT - 2) / Math.max(1, Math.ceil(data.n / step));
      const barHeight = Math.max(1, Math.min(rowHeight > 3 ? rowHeight - 1 : rowHeight, 6));
      const scale = width / data.total;
      let color = '';
      for (let k = 0, i = 0; i < data.n; k++, i += step) {
        if (data.spanService[i].color !== color) context.fillStyle = color = data.spanService[i].color;
        context.fillRect(data.start[i] * scale, 1 + k * rowHeight, Math.max(1, data.duration[i] * scale), barHeight);
      }
    }

    /** Mouse drag on the minimap selects the window [t0, t1]. */
    bindMinimap() {
      let origin = -1;
      let rect = null;
      const position = (event) => Math.min(Math.max(event.clientX - rect.left, 0), rect.width);
      const selection = this.minimapSelection;
      this.minimap.addEventListener('pointerdown', (event) => {
        if (event.button !== 0) return;
        rect = this.minimap.getBoundingClientRect();
        if (!rect.width) return;
        origin = position(event);
        try { this.minimap.setPointerCapture(event.pointerId); } catch (_) { /* synthetic events */ }
        selection.style.left = origin + 'px';
        selection.style.width = '0px';
        selection.hidden = false;
        event.preventDefault();
      });
      this.minimap.addEventListener('pointermove', (event) => {
        if (origin < 0) return;
        const x = position(event);
        selection.style.left = Math.min(x, origin) + 'px';
        selection.style.width = Math.abs(x - origin) + 'px';
      });
      const finish = (event, apply) => {
        if (origin < 0) return;
        const x = position(event);
        const from = origin;
        origin = -1;
        selection.hidden = true;
        if (!apply || Math.abs(x - from) < 3) return;   // a click, not a drag
        const scale = this.data.total / rect.width;
        this.setWindow(Math.min(x, from) * scale, Math.max(x, from) * scale);
      };
      this.minimap.addEventListener('pointerup', (event) => finish(event, true));
      this.minimap.addEventListener('pointercancel', (event) => finish(event, false));
    }

    // --- Find ------------------------------------------------------------------------------

    /**
     * Marks the spans matching `value`: like Jaeger's uiFind, words separated by spaces, any of them matching (a word
     * starting with `-` excludes spans that contain the rest). Collapsed subtrees stay collapsed; their matches count.
     */
    setFind(value, writeUrl) {
      const query = text(value).trim().toLowerCase();
      const words = query.split(/\s+/).filter((word) => word && word !== '-');
      const wanted = words.filter((word) => !word.startsWith('-'));
      const unwanted = words.filter((word) => word.startsWith('-')).map((word) => word.slice(1));
      const data = this.data;
      this.matches = null;
      this.matchCount = 0;
      if (query) {
        if (!this.haystacks) this.haystacks = buildHaystacks(data);
        this.matches = new Uint8Array(data.n);
        for (let i = 0; i < data.n; i++) {
          const haystack = this.haystacks[i];
          if ((wanted.length === 0 || wanted.some((word) => haystack.includes(word)))
              && !unwanted.some((word) => haystack.includes(word))) {
            this.matches[i] = 1;
            this.matchCount++;
          }
        }
      }
      this.findCount.textContent = query ? `${this.matchCount} matches` : '';
      this.root.classList.toggle('finding', !!query);
      if (writeUrl !== false) setUrlParams({ uiFind: value || null });
      for (const nodes of [this.rowElements, this.flameNodes]) {
        if (nodes) nodes.forEach((node, i) => node.classList.toggle('match', !!(this.matches && this.matches[i])));
      }
    }

    /** Selects the next (1) or previous (-1) visible match; expands ancestors only when no match is visible. */
    jumpToMatch(step) {
      if (!this.matchCount) return;
      // Wraps around; without a selection, starts at the first (or last) one.
      const next = (from, count, accept) => {
        if (from < 0) from = step > 0 ? -1 : count;
        for (let k = 1; k <= count; k++) {
          const at = (((from + step * k) % count) + count) % count;
          if (accept(at)) return at;
        }
        return -1;
      };
      const row = next(this.selectedRow(), this.visibleCount, (r) => this.matches[this.visible[r]] === 1);
      if (row >= 0) return this.select(this.visible[row]);
      const i = next(this.selected, this.data.n, (s) => this.matches[s] === 1);
      if (i >= 0) this.select(i, { reveal: true, center: true });
    }

    // --- Flamegraph ---------------------------------------------------------------------------

    /** Shows the subtree of span `i` only (-1: the whole trace) and redraws the flamegraph. */
    focusFlamegraph(i) {
      this.flameRoot = i >= 0 && i < this.data.n ? i : -1;
      document.querySelector('#explorer').dataset.flameRoot = String(this.flameRoot);
      this.renderFlamegraph();
    }

    /**
     * One lane per depth; only nodes at least 1px wide in the window are rendered. Focused on a span (double-click),
     * the graph holds its subtree only, its duration across the whole width and its depth as the top lane.
     */
    renderFlamegraph() {
      const data = this.data;
      const width = this.flame.clientWidth;
      if (!width) return;
      const root = this.flameRoot >= 0 ? this.flameRoot : -1;
      const from = root >= 0 ? root : 0;
      const to = root >= 0 ? data.subtreeEnd[root] : data.n;
      const baseDepth = root >= 0 ? data.depth[root] : 0;
      const viewStart = root >= 0 ? data.start[root] : this.viewStart;
      const viewEnd = root >= 0 ? data.start[root] + data.duration[root] : this.viewEnd;
      const scale = width / ((viewEnd - viewStart) || 1);
      const fragment = document.createDocumentFragment();
      const nodes = new Map();
      let deepest = 0;
      let clipped = 0;
      for (let i = from; i < to; i++) {
        const depth = data.depth[i] - baseDepth;
        if (depth > FLAME_MAX_DEPTH) {
          clipped++;
          continue;
        }
        const bar = this.barGeometry(i, viewStart, viewEnd);
        if (!bar || (bar.end - bar.start) * scale < 1) continue;
        const span = data.spans[i];
        const service = data.spanService[i];
        const node = el('div', {
          className: 'flame-node', textContent: text(span.name),
          title: `${service.name} ${text(span.name)} ${formatDuration(data.duration[i])}`,
        });
        node.dataset.spanId = text(span.spanID);
        node.dataset.index = String(i);
        node.style.left = bar.left + '%';
        node.style.width = bar.width + '%';
        node.style.top = (depth * FLAME_LANE_HEIGHT) + 'px';
        node.style.background = service.color;
        if (span.error) node.classList.add('failed');
        if (i === this.selected) node.classList.add('selected');
        if (this.matches && this.matches[i]) node.classList.add('match');
        nodes.set(i, node);
        fragment.append(node);
        deepest = Math.max(deepest, depth);
      }
      this.flame.style.height = ((deepest + 1) * FLAME_LANE_HEIGHT) + 'px';
      this.flame.replaceChildren(fragment);
      this.flameNodes = nodes;
      const notes = [];
      if (root >= 0) {
        notes.push(document.createTextNode(`Showing the subtree of ${text(data.spans[root].name)} only. `),
          button('Show the whole trace', { className: 'flame-unfocus' }), document.createTextNode(' '));
      }
      if (clipped) {
        notes.push(document.createTextNode(
          `${clipped} spans more than ${FLAME_MAX_DEPTH} levels below the top lane are not shown: double-click a span to see its subtree.`));
      }
      this.flameNote.replaceChildren(...notes);
      this.flameNote.hidden = notes.length === 0;
      this.flameDirty = false;
    }

    // --- Statistics -------------------------------------------------------------------------------

    buildStatistics() {
      const columns = [['service', 'Service'], ['operation', 'Operation'], ['count', 'Count'], ['totalMicros', 'Total'],
        ['selfMicros', 'Self'], ['averageMicros', 'Average'], ['minMicros', 'Min'], ['maxMicros', 'Max']];
      const headers = columns.map(([key, label]) => {
        const th = el('th', { className: key === 'service' || key === 'operation' ? '' : 'num' }, button(label, { className: 'sort' }));
        th.dataset.key = key;
        th.setAttribute('aria-sort', 'none');
        return th;
      });
      this.statsBody = el('tbody');
      this.statsTable.replaceChildren(el('thead', null, el('tr', null, ...headers)), this.statsBody);
      this.stats = { rows: Array.isArray(this.data.model.statistics) ? this.data.model.statistics.slice() : [], key: null, ascending: true };
      this.renderStatisticsBody();
    }

    /** Sorts by a column: ascending on the first click, then toggles. */
    sortStatistics(key) {
      const stats = this.stats;
      stats.ascending = stats.key === key ? !stats.ascending : true;
      stats.key = key;
      const textual = key === 'service' || key === 'operation';
      const direction = stats.ascending ? 1 : -1;
      stats.rows.sort((a, b) => direction * (textual ? text(a[key]).localeCompare(text(b[key])) : (Number(a[key]) || 0) - (Number(b[key]) || 0)));
      for (const th of this.statsTable.querySelectorAll('th')) {
        const active = th.dataset.key === key;
        th.classList.toggle('sorted-asc', active && stats.ascending);
        th.classList.toggle('sorted-desc', active && !stats.ascending);
        th.setAttribute('aria-sort', active ? (stats.ascending ? 'ascending' : 'descending') : 'none');
      }
      this.renderStatisticsBody();
    }

    renderStatisticsBody() {
      const colors = new Map(this.data.services.map((service) => [service.name, service.color]));
      this.statsBody.replaceChildren(...this.stats.rows.map((stat) => el('tr', null,
        el('td', null, colors.has(stat.service) ? swatch(colors.get(stat.service)) : null, text(stat.service)),
        el('td', { textContent: text(stat.operation) }),
        el('td', { className: 'num', textContent: text(stat.count) }),
        ...['totalMicros', 'selfMicros', 'averageMicros', 'minMicros', 'maxMicros'].map((key) =>
          el('td', { className: 'num', textContent: formatDuration(Number(stat[key]) || 0) })))));
    }

    // --- Log records -----------------------------------------------------------------------------------

    /** A marker per record of span i at its time on the lane (in the window), errors in the error colour. */
    appendLogMarkers(lane, i) {
      const logs = this.logs.bySpan.get(i);
      if (!logs) return;
      const width = this.viewEnd - this.viewStart;
      let drawn = 0;
      for (const record of logs) {
        if (record.micros < this.viewStart || record.micros > this.viewEnd) continue;
        if (drawn++ === MAX_MARKERS_PER_ROW) break;
        const marker = el('span', {
          className: 'log-marker' + (record.severity >= ERROR_SEVERITY ? ' error' : ''),
          title: `${record.severityText} ${record.body}`.trim(),
        });
        marker.dataset.log = String(record.index);
        marker.style.left = ((record.micros - this.viewStart) / width * 100) + '%';
        lane.append(marker);
      }
    }

    /** The span details' "Logs" section: span i's records with their offsets from the span's start. */
    spanLogs(i, logs, nested) {
      const shown = logs.slice(0, MAX_SPAN_LOGS);
      const rows = shown.map((record) => {
        const row = el('tr', null,
          el('td', { className: 'offset', textContent: offsetText(record.micros - this.data.start[i]) }),
          el('td', { className: severityClass(record.severity), textContent: record.severityText }),
          el('td', { className: 'log-body', textContent: record.body }),
          nested(record.attributes));
        row.dataset.log = String(record.index);
        return row;
      });
      const more = logs.length > shown.length
        ? el('p', { className: 'muted', textContent: `${logs.length - shown.length} more in the Logs view.` }) : null;
      return [el('h4', { textContent: `Logs \u00b7 ${logs.length}` }), el('table', { className: 'span-logs' }, el('tbody', null, ...rows)), more];
    }

    /** The subtree filter of the Logs view follows the selection. */
    updateLogsSubtree() {
      const i = this.selected;
      this.logsSubtree.disabled = i < 0;
      this.logsSubtreeLabel.textContent = i < 0 ? 'Only the selected span and its descendants (select a span)'
        : `Only \u201c${text(this.data.spans[i].name)}\u201d and its descendants`;
      if (this.logsSubtree.checked) {
        this.logsDirty = true;
        if (this.view === 'logs') this.renderLogs();
      }
    }

    /** The Logs view: the trace's records in time order, or those of the selected span's subtree. */
    renderLogs() {
      if (!this.logsDirty) return;
      this.logsDirty = false;
      const data = this.data;
      const all = this.logs.records;
      const root = this.logsSubtree.checked ? this.selected : -1;
      const records = root < 0 ? all
        : all.filter((record) => record.spanIndex >= root && record.spanIndex < data.subtreeEnd[root]);
      this.logsCount.textContent = (root < 0 ? `${all.length} records` : `${records.length} of ${all.length} records`)
        + (all.length >= LOG_LIMIT ? ` (the newest ${LOG_LIMIT}: the trace has more; the Logs page finds the others by time)` : '');
      const fragment = document.createDocumentFragment();
      for (const record of records) {
        const i = record.spanIndex;
        let span;
        if (i >= 0) {
          const service = data.spanService[i];
          span = el('td', { className: 'log-span' }, swatch(service.color),
            button(text(data.spans[i].name), { className: 'span-link', title: `Show span ${data.spans[i].spanID} in the timeline` }));
        } else {
          span = el('td', { className: 'log-span muted', textContent: record.spanID ? `${record.spanID} (not in this trace)` : 'no span' });
        }
        const attributes = el('td', { className: 'log-attributes' },
          record.attributes.length ? keyValueTable('kv', record.attributes) : null);
        const row = el('tr', { className: 'log-row' },
          el('td', { className: 'offset', textContent: offsetText(record.micros) }),
          el('td', { className: severityClass(record.severity), textContent: record.severityText }),
          el('td', { className: 'service', textContent: record.service }),
          span,
          el('td', { className: 'log-body', textContent: record.body }),
          attributes);
        row.dataset.index = String(i);
        row.dataset.log = String(record.index);
        if (record.spanID) row.dataset.spanId = record.spanID;
        if (i >= 0) row.classList.add('has-span');
        fragment.append(row);
      }
      this.logsBody.replaceChildren(fragment);
    }

    // --- Span details ---------------------------------------------------------------------------------

    renderDetails() {
      const pane = this.details;
      const i = this.selected;
      this.body.classList.toggle('has-details', i >= 0);
      pane.hidden = i < 0;
      if (i < 0) return pane.replaceChildren();
      const data = this.data;
      const span = data.spans[i];
      const service = data.spanService[i];

      const close = button('\u00d7', { className: 'close-details' });
      close.setAttribute('aria-label', 'Close details');
      const head = el('div', { className: 'details-head' },
        el('h3', null, swatch(service.color), el('span', { className: 'service', textContent: service.name }), ' ',
          el('span', { className: 'span-name', textContent: text(span.name) })),
        close);

      // Facts: "Label value" lines, the ids with copy buttons
      const fact = (className, label, value, copy) => {
        const line = el('div', { className }, el('span', { className: 'label', textContent: label }), ' ',
          el('span', { className: 'value', textContent: value }));
        if (copy) {
          const copyButton = button('Copy', { className: 'copy' });
          copyButton.dataset.copy = value;
          copyButton.setAttribute('aria-label', `Copy ${label}`);
          line.append(' ', copyButton);
        }
        return line;
      };
      const status = fact('detail-status', 'Status', text(span.status || 'unset') + (span.statusMessage ? `: ${span.statusMessage}` : ''));
      if (span.error) status.classList.add('error');
      const parentIndex = data.parent[i];
      const scope = span.scope && span.scope.name ? `${span.scope.name}${span.scope.version ? ` ${span.scope.version}` : ''}` : '';
      const facts = el('div', { className: 'detail-facts' },
        fact('detail-duration', 'Duration', formatDuration(data.duration[i])),
        fact('detail-self', 'Self', formatDuration(Number(span.selfMicros) || 0)),
        fact('detail-start', 'Start', '+' + formatDuration(data.start[i])),
        fact('detail-kind', 'Kind', text(span.kind || 'unspecified')),
        status,
        fact('detail-span-id', 'Span ID', text(span.spanID), true),
        parentIndex >= 0 ? fact('detail-parent-id', 'Parent ID', text(data.spans[parentIndex].spanID), true)
          : span.parentSpanID ? fact('detail-parent-id', 'Parent ID (not in this trace)', text(span.parentSpanID), true)
            : fact('detail-parent-id', 'Parent ID', 'none (root)'),
        scope ? fact('detail-scope', 'Scope', scope) : null);

      const parts = [head, facts];
      if (Array.isArray(span.warnings) && span.warnings.length) {
        parts.push(el('ul', { className: 'warnings' }, ...span.warnings.map((warning) => el('li', { textContent: text(warning) }))));
      }
      parts.push(el('h4', { textContent: 'Attributes' }), keyValueTable('attributes', span.attributes));

      const nested = (pairs) => el('td', null, Array.isArray(pairs) && pairs.length ? keyValueTable('kv', pairs) : null);
      if (Array.isArray(span.events) && span.events.length) {
        parts.push(el('h4', { textContent: 'Events' }), el('table', { className: 'events' }, el('tbody', null,
          ...span.events.map((event) => el('tr', null,
            el('td', { className: 'offset', textContent: '+' + formatDuration((Number(event.timeMicros) || 0) - data.start[i]) }),
            el('td', { className: 'event-name', textContent: text(event.name) }),
            nested(event.attributes))))));
      }
      if (Array.isArray(span.links) && span.links.length) {
        parts.push(el('h4', { textContent: 'Links' }), el('table', { className: 'links' }, el('tbody', null,
          ...span.links.map((link) => {
            const traceID = text(link.traceID).toLowerCase();
            const trace = HEX.test(traceID) ? el('a', { href: `/trace/${traceID}`, textContent: traceID }) : text(link.traceID);
            return el('tr', null, el('td', null, trace), el('td', { className: 'span-id', textContent: text(link.spanID) }), nested(link.attributes));
          }))));
      }
      const logs = this.logs.bySpan.get(i);
      if (logs) parts.push(...this.spanLogs(i, logs, nested).filter(Boolean));
      parts.push(el('h4', { textContent: `Resource \u00b7 ${service.name}` }), keyValueTable('resource', service.resource));
      pane.replaceChildren(...parts);
      pane.scrollTop = 0;
    }
  }

  // ---------------------------------------------------------------------------
  // Trace page: fetch the model, then swap the static waterfall for the explorer

  async function initTracePage(page) {
    const traceID = text(page.dataset.traceId).toLowerCase();
    if (!HEX.test(traceID)) return;
    let model;
    const logs = fetchLogs(traceID);
    try {
      const response = await fetch(`/api/otter/traces/${traceID}`, { headers: { Accept: 'application/json' } });
      if (!response.ok) return;
      model = await response.json();
    } catch (_) {
      return;   // the static page stays
    }
    if (!model || !Array.isArray(model.spans) || model.spans.length === 0) return;

    const staticTrace = document.getElementById('static-trace');
    let root = document.getElementById('explorer');
    if (!root) {
      root = el('div', { id: 'explorer' });
      if (staticTrace) staticTrace.after(root);
      else page.append(root);
    }
    // Hidden first, so building the explorer never lays out the static waterfall.
    if (staticTrace) staticTrace.hidden = true;
    try {
      new Explorer(root, model, { logs: await logs });
    } catch (error) {
      root.replaceChildren();
      if (staticTrace) staticTrace.hidden = false;
      console.error('otter: explorer failed', error);
    }
  }

  // ---------------------------------------------------------------------------
  // Upload page: post a file, render the returned models (nothing is stored)

  function initUploadPage(input) {
    const message = document.getElementById('upload-message') || el('p');
    let root = document.getElementById('explorer');
    if (!root) input.after(root = el('div', { id: 'explorer' }));
    let current = null;
    let picker = null;

    const say = (value, isError) => {
      message.textContent = value;
      message.classList.toggle('error', !!isError);
      // A failed upload leaves no earlier trace on screen under its message.
      if (isError) {
        if (current) current.destroy();
        current = null;
        root.replaceChildren();
        if (picker) picker.remove();
        picker = null;
      }
    };
    const show = (model) => {
      if (current) current.destroy();
      setUrlParams({ span: null, from: null, to: null });
      current = new Explorer(root, model, { summary: true });
    };

    input.addEventListener('change', async () => {
      const file = input.files && input.files[0];
      if (!file) return;
      say(`Reading ${file.name}\u2026`, false);
      try {
        const response = await fetch('/api/otter/trace-models', {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: await file.text(),
        });
        const body = await response.json().catch(() => null);
        if (!response.ok) {
          const errors = body && Array.isArray(body.errors) ? body.errors.map((e) => e && e.msg).filter(Boolean) : [];
          return say(errors.length ? errors.join('; ') : `Upload failed (HTTP ${response.status}).`, true);
        }
        const traces = body && Array.isArray(body.traces) ? body.traces.filter((t) => t && Array.isArray(t.spans) && t.spans.length) : [];
        if (picker) picker.remove();
        picker = null;
        if (traces.length === 0) return say('The file holds no spans.', true);
        say(traces.length === 1 ? 'Loaded 1 trace.' : `Loaded ${traces.length} traces.`, false);
        if (traces.length > 1) {
          picker = el('select', { id: 'upload-trace-picker' }, ...traces.map((trace, index) => el('option', {
            value: String(index), textContent: `${text(trace.rootService)}: ${text(trace.rootName)}, ${trace.spans.length} spans`,
          })));
          picker.setAttribute('aria-label', 'Trace');
          picker.addEventListener('change', () => show(traces[Number(picker.value)]));
          root.before(picker);
        }
        show(traces[0]);
      } catch (error) {
        say(`Upload failed: ${error && error.message ? error.message : error}`, true);
      }
    });
  }

  // ---------------------------------------------------------------------------
  // Boot

  function boot() {
    const page = document.getElementById('trace-page');
    if (page) initTracePage(page);
    const upload = document.getElementById('upload-file');
    if (upload) initUploadPage(upload);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
