/*
 * Otter viewer: trace explorer for the trace page (/trace/{id}) and the upload page (/upload).
 *
 * Loads the trace model from the server's JSON API and replaces the static waterfall with an
 * interactive explorer: a virtualised timeline, minimap with zoom, flamegraph, statistics,
 * find, collapse, critical path and a span details pane. Plain ES2020, no dependencies.
 *
 * Every string in the model comes from spans and is untrusted: it only ever reaches the page
 * through textContent or attributes, and link hrefs are built from validated hex ids.
 */
(function () {
  'use strict';

  // ---------------------------------------------------------------------------
  // Constants

  const ROW_HEIGHT = 26;          // px, must match .span-row in otter.css
  const HEADER_HEIGHT = 28;       // px, must match .timeline-header in otter.css
  const OVERSCAN = 12;            // rows rendered above and below the viewport
  const MAX_INDENT_DEPTH = 40;    // indentation stops growing here
  const INDENT_PX = 14;
  const FLAME_LANE_HEIGHT = 20;   // px, must match .flame-node in otter.css
  const FLAME_MAX_DEPTH = 60;     // deeper lanes are clipped
  const MINIMAP_HEIGHT = 48;      // px, must match #minimap in otter.css
  const MINIMAP_MAX_BARS = 20000;
  const FIND_DEBOUNCE_MS = 120;
  const VIEWS = ['timeline', 'flamegraph', 'statistics'];
  const HEX = /^[0-9a-f]+$/;
  const COLOR = /^#[0-9a-fA-F]{3,8}$/;
  const FALLBACK_COLORS = ['#2c7be5', '#00a67e', '#e67e22', '#8e44ad', '#16a085', '#c0392b', '#2980b9', '#7f8c8d'];

  // ---------------------------------------------------------------------------
  // Formatting

  /** Microseconds as `850µs`, `12.3ms`, `1.25s` (up to 3 significant digits). */
  function formatDuration(micros) {
    if (!Number.isFinite(micros) || micros === 0) return '0\u00b5s';
    const sign = micros < 0 ? '-' : '';
    const value = Math.abs(micros);
    const units = [['\u00b5s', 1], ['ms', 1e3], ['s', 1e6]];
    for (let u = 0; u < units.length; u++) {
      const scaled = Number((value / units[u][1]).toPrecision(3));
      if (scaled < 1000 || u === units.length - 1) return sign + scaled + units[u][0];
    }
    return '0\u00b5s';
  }

  /** A number for a URL parameter: at most 3 decimals, no trailing zeros. */
  function formatParam(value) {
    return String(Math.round(value * 1000) / 1000);
  }

  // ---------------------------------------------------------------------------
  // DOM helpers

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(text, id, className) {
    const node = el('button', className, text);
    node.type = 'button';
    if (id) node.id = id;
    return node;
  }

  function swatch(color) {
    const node = el('span', 'swatch');
    node.style.background = color;
    return node;
  }

  /** A two-column key/value table; `pairs` is [[key, value], ...]. */
  function keyValueTable(className, pairs) {
    const table = el('table', className);
    const body = el('tbody');
    const list = Array.isArray(pairs) ? pairs : [];
    for (const pair of list) {
      const row = el('tr');
      row.append(el('td', 'key', pair && pair[0]), el('td', 'value', pair && pair[1]));
      body.append(row);
    }
    if (list.length === 0) {
      const cell = el('td', 'muted', 'none');
      cell.colSpan = 2;
      body.append(el('tr')).append(cell);
    }
    table.append(body);
    return table;
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
      // Some contexts (file://, sandboxed frames) refuse; the state just is not kept.
    }
  }

  // ---------------------------------------------------------------------------
  // Clipboard

  function copyText(text, target) {
    const done = (ok) => {
      target.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(() => { target.textContent = 'Copy'; }, 1500);
    };
    const fallback = () => {
      const area = el('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.append(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
      area.remove();
      done(ok);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(() => done(true), fallback);
    } else {
      fallback();
    }
  }

  // ---------------------------------------------------------------------------
  // Model preparation: typed arrays built once per model

  function prepare(model) {
    const spans = Array.isArray(model.spans) ? model.spans : [];
    const n = spans.length;
    const services = (Array.isArray(model.services) ? model.services : []).map((service, index) => ({
      name: String(service && service.name != null ? service.name : 'unknown'),
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
    let maxDepth = 0;

    for (let i = 0; i < n; i++) {
      const span = spans[i];
      const p = Number(span.parentIndex);
      // Depth-first order puts a parent before its children; anything else is treated as a root.
      parent[i] = Number.isInteger(p) && p >= 0 && p < i ? p : -1;
      depth[i] = Math.max(0, Number(span.depth) || 0);
      if (depth[i] > maxDepth) maxDepth = depth[i];
      subtreeEnd[i] = i + 1;
      start[i] = Number(span.startMicros) || 0;
      duration[i] = Math.max(0, Number(span.durationMicros) || 0);
      if (start[i] + duration[i] > lastEnd) lastEnd = start[i] + duration[i];
      spanService[i] = services[span.serviceIndex] || unknownService;
      if (typeof span.spanID === 'string') indexById.set(span.spanID.toLowerCase(), i);
    }
    for (let i = n - 1; i >= 0; i--) {
      const p = parent[i];
      if (p >= 0 && subtreeEnd[i] > subtreeEnd[p]) subtreeEnd[p] = subtreeEnd[i];
    }

    const total = Math.max(Number(model.durationMicros) || 0, lastEnd);
    return {
      model, spans, n, services, parent, depth, subtreeEnd, start, duration, spanService, indexById, maxDepth,
      // A zero-length trace still needs a non-zero scale.
      total: total > 0 ? total : 1,
      haystacks: null,
    };
  }

  /** Lower-cased text searched by find: name, service, span id, attributes, event names. */
  function buildHaystacks(data) {
    const out = new Array(data.n);
    for (let i = 0; i < data.n; i++) {
      const span = data.spans[i];
      const parts = [span.name, data.spanService[i].name, span.spanID];
      for (const pair of span.attributes || []) parts.push(pair[0], pair[1]);
      for (const event of span.events || []) parts.push(event.name);
      out[i] = parts.join('\u0000').toLowerCase();
    }
    return out;
  }

  // ---------------------------------------------------------------------------
  // Explorer

  class Explorer {
    constructor(root, model, options) {
      this.root = root;
      this.options = options || {};
      this.data = prepare(model);
      const n = this.data.n;

      this.collapsed = new Uint8Array(n);
      this.visible = new Int32Array(n);     // span index per visible row
      this.rowOf = new Int32Array(n);       // visible row per span, -1 when hidden
      this.visibleCount = 0;
      this.selected = -1;
      this.view = 'timeline';
      this.viewStart = 0;
      this.viewEnd = this.data.total;
      this.matches = null;                  // Uint8Array of match flags, or null without a query
      this.matchCount = 0;
      this.renderedFirst = -1;
      this.renderedLast = -1;
      this.rowsDirty = true;
      this.frame = 0;
      this.flameDirty = true;
      this.flameNodes = null;
      this.statsBuilt = false;
      this.statsSort = { key: null, ascending: true };
      this.findTimer = 0;
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

    listen(target, type, handler) {
      target.addEventListener(type, handler);
      this.listeners.push([target, type, handler]);
    }

    // --- DOM construction ----------------------------------------------------

    buildDom() {
      const root = this.root;
      const data = this.data;
      root.replaceChildren();
      root.classList.add('explorer', 'show-critical');

      if (this.options.summary) root.append(this.buildSummary());

      // Toolbar
      const toolbar = el('div', 'explorer-toolbar');
      const tabs = el('div', 'view-tabs');
      tabs.setAttribute('role', 'tablist');
      this.tabs = {};
      for (const [view, label] of [['timeline', 'Timeline'], ['flamegraph', 'Flamegraph'], ['statistics', 'Statistics']]) {
        const tab = button(label);
        tab.dataset.view = view;
        tab.setAttribute('role', 'tab');
        this.tabs[view] = tab;
        tabs.append(tab);
      }
      this.collapseAllButton = button('Collapse all', 'collapse-all');
      this.expandAllButton = button('Expand all', 'expand-all');
      const criticalLabel = el('label', 'critical-toggle');
      this.criticalToggle = el('input');
      this.criticalToggle.type = 'checkbox';
      this.criticalToggle.id = 'critical-path-toggle';
      this.criticalToggle.checked = true;
      criticalLabel.append(this.criticalToggle, ' Critical path');
      const find = el('div', 'find');
      this.findInput = el('input');
      this.findInput.type = 'text';
      this.findInput.id = 'find-input';
      this.findInput.placeholder = 'Find in trace\u2026';
      this.findInput.setAttribute('aria-label', 'Find in trace');
      this.findInput.autocomplete = 'off';
      this.findCount = el('span', 'muted');
      this.findCount.id = 'find-count';
      this.findCount.setAttribute('aria-live', 'polite');
      find.append(this.findInput, this.findCount);
      this.resetZoomButton = button('Reset zoom', 'reset-zoom');
      toolbar.append(tabs, this.collapseAllButton, this.expandAllButton, criticalLabel, find, this.resetZoomButton);

      // Legend
      const legend = el('div', 'legend');
      for (const service of data.services) {
        const chip = el('span', 'service-chip');
        chip.append(swatch(service.color), el('span', 'service', service.name));
        legend.append(chip);
      }

      // Minimap
      this.minimap = el('div');
      this.minimap.id = 'minimap';
      this.minimap.title = 'Drag to zoom into a time window';
      this.minimapCanvas = el('canvas');
      this.minimapWindow = el('div', 'minimap-window');
      this.minimapSelection = el('div', 'minimap-selection');
      this.minimapSelection.hidden = true;
      this.minimap.append(this.minimapCanvas, this.minimapWindow, this.minimapSelection);

      // Timeline: sticky header with the ruler, then a canvas of absolutely placed rows
      this.timeline = el('div');
      this.timeline.id = 'timeline';
      this.timeline.tabIndex = 0;
      const header = el('div', 'timeline-header');
      this.ruler = el('div');
      this.ruler.id = 'ruler';
      this.ticks = [];
      for (let t = 0; t < 5; t++) {
        const tick = el('span', 'tick');
        tick.style.left = (t * 25) + '%';
        this.ticks.push(tick);
        this.ruler.append(tick);
      }
      header.append(el('div', 'name-header', 'Service & operation'), this.ruler);
      this.canvas = el('div', 'timeline-canvas');
      this.timeline.append(header, this.canvas);
      this.timelineView = el('div', 'timeline-view');
      this.timelineView.append(this.timeline);

      // Flamegraph
      this.flameView = el('div', 'flamegraph-view');
      this.flameNote = el('p', 'muted flame-note');
      this.flameNote.hidden = true;
      this.flame = el('div');
      this.flame.id = 'flamegraph';
      this.flameView.append(this.flameNote, this.flame);

      // Statistics
      this.statsView = el('div', 'statistics-view');
      this.statsTable = el('table');
      this.statsTable.id = 'statistics-table';
      this.statsView.append(this.statsTable);

      // Details
      this.details = el('aside');
      this.details.id = 'span-details';
      this.details.hidden = true;

      this.body = el('div', 'explorer-body');
      const views = el('div', 'explorer-views');
      views.append(this.timelineView, this.flameView, this.statsView);
      this.body.append(views, this.details);
      root.append(toolbar, legend, this.minimap, this.body);
    }

    buildSummary() {
      const model = this.data.model;
      const box = el('div', 'explorer-summary');
      box.append(el('h2', null, `${model.rootService || 'unknown'}: ${model.rootName || ''}`));
      const id = typeof model.traceID === 'string' && HEX.test(model.traceID) ? model.traceID : '';
      box.append(el('p', 'muted', `Trace ${id} \u00b7 ${this.data.n} spans \u00b7 ${formatDuration(Number(model.durationMicros) || 0)}`));
      return box;
    }

    // --- Events --------------------------------------------------------------

    bindEvents() {
      for (const view of VIEWS) this.tabs[view].addEventListener('click', () => this.setView(view, true));
      this.collapseAllButton.addEventListener('click', () => this.collapseAll());
      this.expandAllButton.addEventListener('click', () => this.expandAll());
      this.criticalToggle.addEventListener('change', () => {
        this.root.classList.toggle('show-critical', this.criticalToggle.checked);
      });
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
        const index = Number(row.dataset.index);
        if (event.target.closest('.toggle')) this.toggle(index);
        else this.select(index, { scroll: false });
      });
      this.flame.addEventListener('click', (event) => {
        const node = event.target.closest('.flame-node');
        if (node) this.select(Number(node.dataset.index), { scroll: true, reveal: true });
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

      this.bindMinimap();
      this.listen(document, 'keydown', (event) => this.onKeyDown(event));
      this.listen(window, 'resize', () => {
        this.drawMinimap();
        this.flameDirty = true;
        if (this.view === 'flamegraph') this.renderFlamegraph();
        this.scheduleRender();
      });
    }

    onKeyDown(event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isEditable(event.target) || !this.root.isConnected) return;
      const key = event.key;
      if (key === '/') {
        event.preventDefault();
        this.findInput.focus();
        this.findInput.select();
        return;
      }
      if (key === 'Escape') {
        if (this.selected >= 0) this.select(-1);
        return;
      }
      if (key === 'n' || key === 'N') {
        this.jumpToMatch(key === 'N' ? -1 : 1);
        return;
      }
      if (this.view === 'statistics') return;
      if (key === 'ArrowDown' || key === 'j') {
        event.preventDefault();
        this.moveSelection(1);
      } else if (key === 'ArrowUp' || key === 'k') {
        event.preventDefault();
        this.moveSelection(-1);
      } else if (key === 'ArrowLeft' && this.selected >= 0) {
        event.preventDefault();
        const i = this.selected;
        if (this.hasChildren(i) && !this.collapsed[i]) this.toggle(i);
        else if (this.data.parent[i] >= 0) this.select(this.data.parent[i], { scroll: true });
      } else if (key === 'ArrowRight' && this.selected >= 0) {
        event.preventDefault();
        if (this.collapsed[this.selected]) this.toggle(this.selected);
      }
    }

    // --- Views -----------------------------------------------------------------

    applyInitialState() {
      const view = urlParam('view');
      const from = Number(urlParam('from'));
      const to = Number(urlParam('to'));
      // Both bounds are required: a lone `from` is the static page's row offset.
      if (urlParam('from') !== null && urlParam('to') !== null && Number.isFinite(from) && Number.isFinite(to) && to > from) {
        this.setWindow(from, to, false);
      }
      const find = urlParam('uiFind');
      if (find) {
        this.findInput.value = find;
        this.setFind(find, false);
      }
      this.setView(VIEWS.includes(view) ? view : 'timeline', false);
      this.drawMinimap();
      const spanID = (urlParam('span') || '').toLowerCase();
      if (HEX.test(spanID) && this.data.indexById.has(spanID)) {
        this.select(this.data.indexById.get(spanID), { scroll: true, reveal: true, center: true, writeUrl: false });
      }
      this.renderRows();
    }

    setView(view, writeUrl) {
      this.view = view;
      this.root.dataset.view = view;
      for (const name of VIEWS) {
        this.tabs[name].classList.toggle('active', name === view);
        this.tabs[name].setAttribute('aria-selected', String(name === view));
      }
      this.timelineView.hidden = view !== 'timeline';
      this.flameView.hidden = view !== 'flamegraph';
      this.statsView.hidden = view !== 'statistics';
      this.minimap.hidden = view === 'statistics';
      if (writeUrl) setUrlParams({ view });
      if (view === 'timeline') {
        this.rowsDirty = true;
        if (this.selected >= 0 && this.rowOf[this.selected] >= 0) this.scrollToRow(this.rowOf[this.selected], false);
        this.scheduleRender();
      } else if (view === 'flamegraph') {
        if (this.flameDirty) this.renderFlamegraph();
      } else if (!this.statsBuilt) {
        this.buildStatistics();
      }
      if (view !== 'statistics') this.drawMinimap();
    }

    // --- Visibility and collapse ------------------------------------------------

    hasChildren(i) {
      return this.data.subtreeEnd[i] > i + 1;
    }

    recomputeVisible() {
      const { n, subtreeEnd } = this.data;
      this.rowOf.fill(-1);
      let count = 0;
      for (let i = 0; i < n;) {
        this.visible[count] = i;
        this.rowOf[i] = count;
        count++;
        i = this.collapsed[i] ? subtreeEnd[i] : i + 1;
      }
      this.visibleCount = count;
      this.root.dataset.visibleRows = String(count);
      this.canvas.style.height = (count * ROW_HEIGHT) + 'px';
      this.rowsDirty = true;
      this.scheduleRender();
    }

    toggle(i) {
      if (!this.hasChildren(i)) return;
      this.collapsed[i] = this.collapsed[i] ? 0 : 1;
      // A selection inside a collapsed subtree moves up to the collapsed span.
      if (this.collapsed[i] && this.selected > i && this.selected < this.data.subtreeEnd[i]) this.select(i, { scroll: false });
      this.recomputeVisible();
    }

    collapseAll() {
      for (let i = 0; i < this.data.n; i++) this.collapsed[i] = this.hasChildren(i) ? 1 : 0;
      if (this.selected >= 0) {
        let top = this.selected;
        while (this.data.parent[top] >= 0) top = this.data.parent[top];
        if (top !== this.selected) this.select(top, { scroll: false });
      }
      this.recomputeVisible();
      this.timeline.scrollTop = 0;
    }

    expandAll() {
      this.collapsed.fill(0);
      this.recomputeVisible();
      if (this.selected >= 0) this.scrollToRow(this.rowOf[this.selected], true);
    }

    /** Expands the ancestors of span i; returns whether anything changed. */
    reveal(i) {
      let changed = false;
      for (let p = this.data.parent[i]; p >= 0; p = this.data.parent[p]) {
        if (this.collapsed[p]) {
          this.collapsed[p] = 0;
          changed = true;
        }
      }
      if (changed) this.recomputeVisible();
      return changed;
    }

    // --- Selection ---------------------------------------------------------------

    /** Selects span i (-1 clears). Options: scroll, reveal (expand ancestors), center, writeUrl. */
    select(i, options) {
      const opts = Object.assign({ scroll: true, reveal: false, center: false, writeUrl: true }, options);
      const previous = this.selected;
      this.selected = i;
      if (i >= 0 && opts.reveal) this.reveal(i);
      if (opts.writeUrl) setUrlParams({ span: i >= 0 ? this.data.spans[i].spanID : null });
      if (this.flameNodes) {
        if (previous >= 0 && this.flameNodes[previous]) this.flameNodes[previous].classList.remove('selected');
        if (i >= 0 && this.flameNodes[i]) this.flameNodes[i].classList.add('selected');
      }
      this.renderDetails();
      if (i >= 0 && opts.scroll && this.rowOf[i] >= 0) this.scrollToRow(this.rowOf[i], opts.center);
      this.rowsDirty = true;
      this.scheduleRender();
    }

    /** The row of the selection, or of its nearest visible ancestor. */
    selectedRow() {
      for (let i = this.selected; i >= 0; i = this.data.parent[i]) {
        if (this.rowOf[i] >= 0) return this.rowOf[i];
      }
      return -1;
    }

    moveSelection(step) {
      if (this.visibleCount === 0) return;
      const current = this.selectedRow();
      const row = current < 0 ? (step > 0 ? 0 : this.visibleCount - 1)
        : Math.min(this.visibleCount - 1, Math.max(0, current + step));
      this.select(this.visible[row], { scroll: true });
    }

    scrollToRow(row, center) {
      if (row < 0 || this.view !== 'timeline') return;
      const timeline = this.timeline;
      const top = row * ROW_HEIGHT;                         // relative to the canvas
      const viewport = timeline.clientHeight - HEADER_HEIGHT;
      if (center) timeline.scrollTop = Math.max(0, top - viewport / 2 + ROW_HEIGHT / 2);
      else if (top < timeline.scrollTop) timeline.scrollTop = top;
      else if (top + ROW_HEIGHT > timeline.scrollTop + viewport) timeline.scrollTop = top + ROW_HEIGHT - viewport;
      this.scheduleRender();
    }

    // --- Timeline rendering (virtualised) ------------------------------------------

    scheduleRender() {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.renderRows();
      });
    }

    renderRows() {
      if (this.view !== 'timeline') return;
      // The only layout reads of a render, before any write.
      const scrollTop = this.timeline.scrollTop;
      const height = this.timeline.clientHeight;
      const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
      const last = Math.min(this.visibleCount, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
      if (!this.rowsDirty && first === this.renderedFirst && last === this.renderedLast) return;
      const fragment = document.createDocumentFragment();
      for (let row = first; row < last; row++) fragment.append(this.buildRow(row));
      this.canvas.replaceChildren(fragment);
      this.renderedFirst = first;
      this.renderedLast = last;
      this.rowsDirty = false;
    }

    /** Bar placement of span i in the current window, in percent, or null when outside. */
    barGeometry(i) {
      const s = this.data.start[i];
      const e = s + this.data.duration[i];
      const width = this.viewEnd - this.viewStart;
      if (e < this.viewStart || s > this.viewEnd) return null;
      const clippedStart = Math.max(s, this.viewStart);
      const clippedEnd = Math.min(e, this.viewEnd);
      return {
        start: clippedStart, end: clippedEnd,
        left: (clippedStart - this.viewStart) / width * 100,
        width: (clippedEnd - clippedStart) / width * 100,
      };
    }

    buildRow(row) {
      const data = this.data;
      const i = this.visible[row];
      const span = data.spans[i];
      const service = data.spanService[i];
      const critical = Array.isArray(span.criticalPath) ? span.criticalPath : [];

      const node = el('div', 'span-row');
      node.dataset.spanId = span.spanID;
      node.dataset.index = String(i);
      node.style.top = (row * ROW_HEIGHT) + 'px';
      if (critical.length) node.classList.add('critical');
      if (span.error) node.classList.add('error');
      if (i === this.selected) node.classList.add('selected');
      if (this.matches && this.matches[i]) node.classList.add('match');
      if (this.collapsed[i]) node.classList.add('collapsed');

      // Left column: indentation, toggle, service and name
      const name = el('div', 'name-cell');
      name.style.paddingLeft = (4 + Math.min(data.depth[i], MAX_INDENT_DEPTH) * INDENT_PX) + 'px';
      name.title = `${service.name} ${span.name}`;
      if (this.hasChildren(i)) {
        const toggle = button(this.collapsed[i] ? '\u25b8' : '\u25be', null, 'toggle');
        toggle.tabIndex = -1;
        toggle.setAttribute('aria-label', this.collapsed[i] ? 'Expand' : 'Collapse');
        name.append(toggle);
      } else {
        name.append(el('span', 'toggle-spacer'));
      }
      name.append(swatch(service.color), el('span', 'service', service.name), el('span', 'span-name', span.name));
      if (span.error) {
        const marker = el('span', 'error-marker', '\u26a0');
        marker.title = 'error';
        name.append(marker);
      }

      // Right column: bar, critical segments, duration label
      const lane = el('div', 'lane');
      const label = el('span', 'bar-label', formatDuration(data.duration[i]));
      const geometry = this.barGeometry(i);
      if (geometry) {
        const bar = el('div', 'bar');
        bar.style.left = geometry.left + '%';
        bar.style.width = geometry.width + '%';
        bar.style.background = service.color;
        const span_ = geometry.end - geometry.start;
        if (span_ > 0) {
          for (const segment of critical) {
            const a = Math.max(Number(segment[0]), geometry.start);
            const b = Math.min(Number(segment[1]), geometry.end);
            if (!(b > a)) continue;
            const part = el('div', 'critical');
            part.style.left = ((a - geometry.start) / span_ * 100) + '%';
            part.style.width = ((b - a) / span_ * 100) + '%';
            bar.append(part);
          }
        }
        lane.append(bar);
        const right = geometry.left + geometry.width;
        if (right > 75) {
          label.classList.add('before');
          label.style.right = (100 - geometry.left) + '%';
        } else {
          label.style.left = right + '%';
        }
      } else {
        label.classList.add('outside');
      }
      lane.append(label);
      node.append(name, lane);
      return node;
    }

    // --- Zoom window, ruler and minimap -------------------------------------------

    setWindow(from, to, writeUrl) {
      const total = this.data.total;
      let a = Math.min(Math.max(0, from), total);
      let b = Math.min(Math.max(0, to), total);
      if (b < a) [a, b] = [b, a];
      if (b - a < total * 1e-6) b = Math.min(total, a + total * 1e-6);
      if (b <= a) a = Math.max(0, b - total * 1e-6);
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
      for (let t = 0; t < this.ticks.length; t++) {
        this.ticks[t].textContent = formatDuration(this.viewStart + width * t / (this.ticks.length - 1));
      }
      const total = this.data.total;
      const zoomed = this.viewStart > 0 || this.viewEnd < total;
      this.root.classList.toggle('zoomed', zoomed);
      this.minimapWindow.hidden = !zoomed;
      this.minimapWindow.style.left = (this.viewStart / total * 100) + '%';
      this.minimapWindow.style.width = (width / total * 100) + '%';
    }

    drawMinimap() {
      if (this.minimap.hidden) return;
      const data = this.data;
      const canvas = this.minimapCanvas;
      const width = this.minimap.clientWidth;
      if (!width) return;
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(MINIMAP_HEIGHT * ratio);
      const context = canvas.getContext('2d');
      if (!context) return;
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.clearRect(0, 0, width, MINIMAP_HEIGHT);
      // One bar per span by row (sampled above the cap), x by time.
      const step = Math.max(1, Math.ceil(data.n / MINIMAP_MAX_BARS));
      const bars = Math.ceil(data.n / step);
      const rowHeight = (MINIMAP_HEIGHT - 2) / Math.max(bars, 1);
      const barHeight = Math.max(1, Math.min(rowHeight - (rowHeight > 3 ? 1 : 0), 6));
      const scale = width / data.total;
      let color = '';
      for (let k = 0, i = 0; i < data.n; k++, i += step) {
        const c = data.spanService[i].color;
        if (c !== color) {
          context.fillStyle = c;
          color = c;
        }
        context.fillRect(data.start[i] * scale, 1 + k * rowHeight, Math.max(1, data.duration[i] * scale), barHeight);
      }
    }

    bindMinimap() {
      let originX = -1;
      let rect = null;
      const position = (event) => Math.min(Math.max(event.clientX - rect.left, 0), rect.width);
      this.minimap.addEventListener('pointerdown', (event) => {
        if (event.button !== 0) return;
        rect = this.minimap.getBoundingClientRect();
        if (!rect.width) return;
        originX = position(event);
        this.minimap.setPointerCapture(event.pointerId);
        this.minimapSelection.style.left = originX + 'px';
        this.minimapSelection.style.width = '0px';
        this.minimapSelection.hidden = false;
        event.preventDefault();
      });
      this.minimap.addEventListener('pointermove', (event) => {
        if (originX < 0) return;
        const x = position(event);
        this.minimapSelection.style.left = Math.min(x, originX) + 'px';
        this.minimapSelection.style.width = Math.abs(x - originX) + 'px';
      });
      const finish = (event, apply) => {
        if (originX < 0) return;
        const x = position(event);
        const from = originX;
        originX = -1;
        this.minimapSelection.hidden = true;
        if (!apply || Math.abs(x - from) < 3) return;
        const total = this.data.total;
        this.setWindow(Math.min(x, from) / rect.width * total, Math.max(x, from) / rect.width * total);
      };
      this.minimap.addEventListener('pointerup', (event) => finish(event, true));
      this.minimap.addEventListener('pointercancel', (event) => finish(event, false));
    }

    // --- Find --------------------------------------------------------------------

    setFind(text, writeUrl) {
      const query = String(text || '').trim().toLowerCase();
      const data = this.data;
      if (!query) {
        this.matches = null;
        this.matchCount = 0;
        this.findCount.textContent = '';
      } else {
        if (!data.haystacks) data.haystacks = buildHaystacks(data);
        const matches = new Uint8Array(data.n);
        let count = 0;
        for (let i = 0; i < data.n; i++) {
          if (data.haystacks[i].includes(query)) {
            matches[i] = 1;
            count++;
          }
        }
        this.matches = matches;
        this.matchCount = count;
        this.findCount.textContent = `${count} matches`;
      }
      this.root.classList.toggle('finding', !!query);
      if (writeUrl !== false) setUrlParams({ uiFind: text || null });
      if (this.flameNodes) {
        this.flameNodes.forEach((node, i) => node.classList.toggle('match', !!(this.matches && this.matches[i])));
      }
      this.rowsDirty = true;
      this.scheduleRender();
    }

    /** Selects the next (step 1) or previous (-1) match among visible rows; expands only when none is visible. */
    jumpToMatch(step) {
      if (!this.matches || this.matchCount === 0) return;
      const count = this.visibleCount;
      const current = this.selectedRow();
      for (let k = 1; k <= count; k++) {
        const row = ((current < 0 ? (step > 0 ? -1 : 0) : current) + step * k + count * k) % count;
        if (this.matches[this.visible[row]]) {
          this.select(this.visible[row], { scroll: true });
          return;
        }
      }
      // Every match is under a collapsed span: open the way to the first one after the selection.
      const n = this.data.n;
      for (let k = 1; k <= n; k++) {
        const i = ((this.selected < 0 ? -1 : this.selected) + step * k + n * k) % n;
        if (this.matches[i]) {
          this.select(i, { scroll: true, reveal: true, center: true });
          return;
        }
      }
    }

    // --- Flamegraph ----------------------------------------------------------------

    renderFlamegraph() {
      const data = this.data;
      const width = this.flame.clientWidth;
      if (!width) return;
      const scale = width / (this.viewEnd - this.viewStart);
      const fragment = document.createDocumentFragment();
      const nodes = new Map();
      let deepest = 0;
      let clipped = 0;
      for (let i = 0; i < data.n; i++) {
        const depth = data.depth[i];
        if (depth > FLAME_MAX_DEPTH) {
          clipped++;
          continue;
        }
        const geometry = this.barGeometry(i);
        if (!geometry || (geometry.end - geometry.start) * scale < 1) continue;
        const span = data.spans[i];
        const service = data.spanService[i];
        const node = el('div', 'flame-node', span.name);
        node.dataset.spanId = span.spanID;
        node.dataset.index = String(i);
        node.title = `${service.name} ${span.name} ${formatDuration(data.duration[i])}`;
        node.style.left = geometry.left + '%';
        node.style.width = geometry.width + '%';
        node.style.top = (depth * FLAME_LANE_HEIGHT) + 'px';
        node.style.background = service.color;
        if (span.error) node.classList.add('error');
        if (i === this.selected) node.classList.add('selected');
        if (this.matches && this.matches[i]) node.classList.add('match');
        nodes.set(i, node);
        fragment.append(node);
        if (depth > deepest) deepest = depth;
      }
      this.flame.style.height = ((deepest + 1) * FLAME_LANE_HEIGHT) + 'px';
      this.flame.replaceChildren(fragment);
      this.flameNodes = nodes;
      this.flameNote.hidden = clipped === 0;
      this.flameNote.textContent = clipped ? `${clipped} spans deeper than ${FLAME_MAX_DEPTH} levels are not shown.` : '';
      this.flameDirty = false;
    }

    // --- Statistics ----------------------------------------------------------------

    buildStatistics() {
      const columns = [
        ['service', 'Service'], ['operation', 'Operation'], ['count', 'Count'], ['totalMicros', 'Total'],
        ['selfMicros', 'Self'], ['averageMicros', 'Average'], ['minMicros', 'Min'], ['maxMicros', 'Max'],
      ];
      const head = el('thead');
      const row = el('tr');
      for (const [key, label] of columns) {
        const th = el('th', key === 'service' || key === 'operation' ? null : 'num');
        th.dataset.key = key;
        th.setAttribute('aria-sort', 'none');
        th.append(button(label, null, 'sort'));
        row.append(th);
      }
      head.append(row);
      this.statsBody = el('tbody');
      this.statsTable.replaceChildren(head, this.statsBody);
      this.statsRows = Array.isArray(this.data.model.statistics) ? this.data.model.statistics.slice() : [];
      this.statsBuilt = true;
      this.renderStatisticsBody();
    }

    sortStatistics(key) {
      const sort = this.statsSort;
      sort.ascending = sort.key === key ? !sort.ascending : true;
      sort.key = key;
      const direction = sort.ascending ? 1 : -1;
      const text = key === 'service' || key === 'operation';
      this.statsRows.sort((a, b) => {
        const x = a[key];
        const y = b[key];
        const order = text ? String(x).localeCompare(String(y)) : (Number(x) || 0) - (Number(y) || 0);
        return order * direction;
      });
      for (const th of this.statsTable.querySelectorAll('th')) {
        const active = th.dataset.key === key;
        th.classList.toggle('sorted-asc', active && sort.ascending);
        th.classList.toggle('sorted-desc', active && !sort.ascending);
        th.setAttribute('aria-sort', active ? (sort.ascending ? 'ascending' : 'descending') : 'none');
      }
      this.renderStatisticsBody();
    }

    renderStatisticsBody() {
      const colors = new Map(this.data.services.map((s) => [s.name, s.color]));
      const fragment = document.createDocumentFragment();
      for (const stat of this.statsRows) {
        const row = el('tr');
        const service = el('td');
        if (colors.has(stat.service)) service.append(swatch(colors.get(stat.service)));
        service.append(String(stat.service));
        row.append(service, el('td', null, stat.operation), el('td', 'num', stat.count));
        for (const key of ['totalMicros', 'selfMicros', 'averageMicros', 'minMicros', 'maxMicros']) {
          row.append(el('td', 'num', formatDuration(Number(stat[key]) || 0)));
        }
        fragment.append(row);
      }
      this.statsBody.replaceChildren(fragment);
    }

    // --- Span details --------------------------------------------------------------

    renderDetails() {
      const pane = this.details;
      const i = this.selected;
      this.body.classList.toggle('has-details', i >= 0);
      if (i < 0) {
        pane.hidden = true;
        pane.replaceChildren();
        return;
      }
      const data = this.data;
      const span = data.spans[i];
      const service = data.spanService[i];

      const head = el('div', 'details-head');
      const title = el('h3');
      title.append(swatch(service.color), el('span', 'service', service.name), ' ', el('span', 'span-name', span.name));
      const close = button('\u00d7', null, 'close-details');
      close.setAttribute('aria-label', 'Close details');
      head.append(title, close);

      const facts = el('div', 'detail-facts');
      const fact = (className, label, value) => {
        const line = el('div', className);
        line.append(el('span', 'label', label), ' ', el('span', 'value', value));
        facts.append(line);
        return line;
      };
      fact('detail-duration', 'Duration', formatDuration(data.duration[i]));
      fact('detail-self', 'Self', formatDuration(Number(span.selfMicros) || 0));
      fact('detail-start', 'Start', '+' + formatDuration(data.start[i]));
      fact('detail-kind', 'Kind', span.kind || 'unspecified');
      const status = fact('detail-status', 'Status', (span.status || 'unset') + (span.statusMessage ? `: ${span.statusMessage}` : ''));
      if (span.error) status.classList.add('error');
      const idLine = (className, label, id) => {
        const line = fact(className, label, id);
        const copy = button('Copy', null, 'copy');
        copy.dataset.copy = id;
        copy.setAttribute('aria-label', `Copy ${label}`);
        line.append(' ', copy);
      };
      idLine('detail-span-id', 'Span ID', String(span.spanID));
      if (data.parent[i] >= 0) idLine('detail-parent-id', 'Parent ID', String(data.spans[data.parent[i]].spanID));
      else fact('detail-parent-id', 'Parent ID', 'none (root)');
      if (span.scope && span.scope.name) {
        fact('detail-scope', 'Scope', span.scope.name + (span.scope.version ? ` ${span.scope.version}` : ''));
      }

      const parts = [head, facts];
      if (Array.isArray(span.warnings) && span.warnings.length) {
        const list = el('ul', 'warnings');
        for (const warning of span.warnings) list.append(el('li', null, warning));
        parts.push(list);
      }
      parts.push(el('h4', null, 'Attributes'), keyValueTable('attributes', span.attributes));

      if (Array.isArray(span.events) && span.events.length) {
        const table = el('table', 'events');
        const body = el('tbody');
        for (const event of span.events) {
          const row = el('tr');
          const attributes = el('td');
          if (Array.isArray(event.attributes) && event.attributes.length) attributes.append(keyValueTable('kv', event.attributes));
          row.append(el('td', 'offset', '+' + formatDuration((Number(event.timeMicros) || 0) - data.start[i])),
            el('td', 'event-name', event.name), attributes);
          body.append(row);
        }
        table.append(body);
        parts.push(el('h4', null, 'Events'), table);
      }

      if (Array.isArray(span.links) && span.links.length) {
        const table = el('table', 'links');
        const body = el('tbody');
        for (const link of span.links) {
          const row = el('tr');
          const traceCell = el('td');
          const traceID = String(link.traceID || '').toLowerCase();
          if (HEX.test(traceID)) {
            const anchor = el('a', null, traceID);
            anchor.href = `/trace/${traceID}`;
            traceCell.append(anchor);
          } else {
            traceCell.textContent = String(link.traceID || '');
          }
          const attributes = el('td');
          if (Array.isArray(link.attributes) && link.attributes.length) attributes.append(keyValueTable('kv', link.attributes));
          row.append(traceCell, el('td', 'span-id', link.spanID), attributes);
          body.append(row);
        }
        table.append(body);
        parts.push(el('h4', null, 'Links'), table);
      }

      parts.push(el('h4', null, `Resource \u00b7 ${service.name}`), keyValueTable('resource', service.resource));
      pane.replaceChildren(...parts);
      pane.hidden = false;
      pane.scrollTop = 0;
    }
  }

  // ---------------------------------------------------------------------------
  // Trace page: fetch the model, then swap the static waterfall for the explorer

  async function initTracePage(page) {
    const traceID = String(page.dataset.traceId || '').toLowerCase();
    if (!HEX.test(traceID)) return;
    let model;
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
      root = el('div');
      root.id = 'explorer';
      if (staticTrace) staticTrace.after(root);
      else page.append(root);
    }
    // Hide the static waterfall first so building the explorer does not lay it out.
    if (staticTrace) staticTrace.hidden = true;
    try {
      new Explorer(root, model, {});
    } catch (error) {
      root.replaceChildren();
      if (staticTrace) staticTrace.hidden = false;
      console.error('otter: explorer failed', error);
    }
  }

  // ---------------------------------------------------------------------------
  // Upload page: post a file, render the returned models

  function initUploadPage(input) {
    const message = document.getElementById('upload-message') || el('p');
    let root = document.getElementById('explorer');
    if (!root) {
      root = el('div');
      root.id = 'explorer';
      input.after(root);
    }
    let current = null;
    let picker = null;

    const show = (model) => {
      if (current) current.destroy();
      setUrlParams({ span: null, from: null, to: null });
      current = new Explorer(root, model, { summary: true });
    };
    const say = (text, isError) => {
      message.textContent = text;
      message.classList.toggle('error', !!isError);
    };

    input.addEventListener('change', async () => {
      const file = input.files && input.files[0];
      if (!file) return;
      say(`Reading ${file.name}\u2026`, false);
      try {
        const text = await file.text();
        const response = await fetch('/api/otter/trace-models', {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: text,
        });
        let body = null;
        try { body = await response.json(); } catch (_) { body = null; }
        if (!response.ok) {
          const errors = body && Array.isArray(body.errors) ? body.errors.map((e) => e && e.msg).filter(Boolean) : [];
          say(errors.length ? errors.join('; ') : `Upload failed (HTTP ${response.status}).`, true);
          return;
        }
        const traces = body && Array.isArray(body.traces) ? body.traces.filter((t) => t && Array.isArray(t.spans)) : [];
        if (picker) {
          picker.remove();
          picker = null;
        }
        if (traces.length === 0) {
          say('The file holds no spans.', true);
          return;
        }
        say(traces.length === 1 ? 'Loaded 1 trace.' : `Loaded ${traces.length} traces.`, false);
        if (traces.length > 1) {
          picker = el('select');
          picker.id = 'upload-trace-picker';
          picker.setAttribute('aria-label', 'Trace');
          traces.forEach((trace, index) => {
            const option = el('option', null, `${trace.rootService || 'unknown'}: ${trace.rootName || ''}, ${trace.spans.length} spans`);
            option.value = String(index);
            picker.append(option);
          });
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
