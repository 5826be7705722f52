/*
 * Otter viewer: the trace explorer, wiring its parts together. It owns the shared state (state.mjs) and the views
 * (toolbar, minimap, timeline, flamegraph, statistics, logs, span details), turns their events into state changes
 * and tells each view what changed. The URL keeps the view, the find query, the selected span and the zoom window
 * (view, uiFind, span, from, to), so a state deep-links.
 *
 * Every string in the model comes from spans or log records and is untrusted: it only reaches the page through
 * textContent, text nodes or attributes, and link hrefs are built from validated hex ids.
 */
import { Details } from './details.mjs';
import { el, setUrlParams, urlParam } from './dom.mjs';
import { Flamegraph } from './flamegraph.mjs';
import { HEX, formatParam, text } from './format.mjs';
import { handleKey } from './keys.mjs';
import { prepareLogs } from './logs.mjs';
import { LogsView } from './logs-view.mjs';
import { Minimap } from './minimap.mjs';
import { prepare } from './model.mjs';
import { findOnServer } from './outline.mjs';
import { TraceState } from './state.mjs';
import { Statistics } from './statistics.mjs';
import { Timeline } from './timeline.mjs';
import { Toolbar, legend, summary } from './toolbar.mjs';

export class Explorer {
  /**
   * Replaces `root`'s content with the explorer of a trace model (the server's JSON). Options: `logs`, the trace's
   * records as an OTLP/JSON answer; `summary`, a header line with the trace's root (the upload page).
   */
  constructor(root, model, options) {
    this.root = root;
    this.options = options || {};
    const data = prepare(model);
    this.state = new TraceState(data, prepareLogs(this.options.logs, data));
    this.listeners = [];

    this.buildDom();
    this.bindDocument();
    this.recomputeVisible();
    this.updateWindowDecorations();
    this.applyInitialState();
  }

  /** Removes document-level listeners (the upload page replaces explorers). */
  destroy() {
    for (const [target, type, handler] of this.listeners) target.removeEventListener(type, handler);
    this.listeners = [];
    this.timeline.destroy();
    this.toolbar.destroy();
  }

  buildDom() {
    const { root, state } = this;
    root.replaceChildren();
    root.classList.add('explorer', 'show-critical');
    if (this.options.summary) root.append(summary(state.data));
    this.toolbar = new Toolbar(state.logs.records.length > 0, {
      setView: (view) => this.setView(view, true),
      collapseAll: () => this.collapseAll(),
      expandAll: () => this.expandAll(),
      showCritical: (on) => root.classList.toggle('show-critical', on),
      resetZoom: () => this.setWindow(0, state.data.total),
      find: (value) => this.setFind(value),
      jump: (step) => this.jumpToMatch(step),
    });
    this.minimap = new Minimap(state, (from, to) => this.setWindow(from, to));
    this.timeline = new Timeline(state, {
      toggle: (i) => this.toggle(i),
      select: (i) => this.select(i, { scroll: false }),
      showLog: (index) => this.details.highlightLog(index),
    });
    this.flamegraph = new Flamegraph(state, (i) => this.select(i, { reveal: true }));
    this.statistics = new Statistics(state);
    this.logsView = new LogsView(state, (i) => {
      this.setView('timeline', true);
      this.select(i, { reveal: true, center: true });
    });
    this.details = new Details(state, () => this.select(-1));
    this.body = el('div', { className: 'explorer-body' },
      el('div', { className: 'explorer-views' }, this.timeline.view, this.flamegraph.view, this.statistics.view, this.logsView.view),
      this.details.element);
    root.append(this.toolbar.element, legend(state.data.services), this.minimap.element, this.body);
  }

  listen(target, type, handler) {
    target.addEventListener(type, handler);
    this.listeners.push([target, type, handler]);
  }

  /** Keys (keys.mjs) and window resizes, removed again by `destroy`. */
  bindDocument() {
    this.listen(document, 'keydown', (event) => handleKey(this, event));
    let resizeFrame = 0;
    this.listen(window, 'resize', () => {
      cancelAnimationFrame(resizeFrame);
      resizeFrame = requestAnimationFrame(() => {
        this.minimap.draw();
        this.flamegraph.dirty = true;
        if (this.state.view === 'flamegraph') this.flamegraph.render();
        this.timeline.renderRows();
      });
    });
  }

  // --- Initial state and views -------------------------------------------------

  applyInitialState() {
    const state = this.state;
    const from = urlParam('from');
    const to = urlParam('to');
    // Both bounds are required: a lone `from` is the static page's row offset.
    if (from !== null && to !== null && Number.isFinite(+from) && Number.isFinite(+to) && +to > +from) this.setWindow(+from, +to, false);
    const find = urlParam('uiFind');
    if (find) {
      this.toolbar.findInput.value = find;
      this.setFind(find, false);
    }
    const view = urlParam('view');
    this.setView(this.toolbar.offers(view) ? view : 'timeline', false);
    const spanID = text(urlParam('span')).toLowerCase();
    if (HEX.test(spanID) && state.data.indexById.has(spanID)) {
      this.select(state.data.indexById.get(spanID), { reveal: true, center: true, writeUrl: false });
    }
    this.timeline.renderRows();
  }

  setView(view, writeUrl) {
    const state = this.state;
    state.view = view;
    this.root.dataset.view = view;
    this.toolbar.showView(view);
    this.timeline.view.hidden = view !== 'timeline';
    this.flamegraph.view.hidden = view !== 'flamegraph';
    this.statistics.view.hidden = view !== 'statistics';
    this.logsView.view.hidden = view !== 'logs';
    this.minimap.element.hidden = view === 'statistics' || view === 'logs';
    if (writeUrl) setUrlParams({ view });
    if (!this.minimap.element.hidden) this.minimap.draw();
    if (view === 'timeline') {
      if (state.selected >= 0) this.timeline.scrollToRow(state.rowOf[state.selected], false);
      this.timeline.scheduleRender();
    } else if (view === 'flamegraph') {
      if (this.flamegraph.dirty) this.flamegraph.render();
    } else if (view === 'logs') {
      this.logsView.render();
    } else {
      this.statistics.show();
    }
  }

  // --- Visibility and collapse ---------------------------------------------------

  /** After a collapse change: the visible rows, the row count on the root (`data-visible-rows`), the timeline. */
  recomputeVisible() {
    const count = this.state.recomputeVisible();
    this.root.dataset.visibleRows = String(count);
    this.timeline.setRowCount(count);
  }

  toggle(i) {
    const state = this.state;
    if (!state.hasChildren(i)) return;
    state.collapsed[i] ^= 1;
    // A selection inside a collapsed subtree moves up to the collapsed span.
    if (state.collapsed[i] && state.selected > i && state.selected < state.data.subtreeEnd[i]) this.select(i, { scroll: false });
    this.recomputeVisible();
  }

  collapseAll() {
    const top = this.state.collapseAll();
    if (top !== this.state.selected) this.select(top, { scroll: false });
    this.recomputeVisible();
    this.timeline.element.scrollTop = 0;
  }

  expandAll() {
    const state = this.state;
    state.collapsed.fill(0);
    this.recomputeVisible();
    if (state.selected >= 0) this.timeline.scrollToRow(state.rowOf[state.selected], true);
  }

  // --- Selection -------------------------------------------------------------------

  /** Selects span i (-1 clears). Options: scroll (default true), reveal, center, writeUrl (default true). */
  select(i, options) {
    const opts = Object.assign({ scroll: true, reveal: false, center: false, writeUrl: true }, options);
    const state = this.state;
    const previous = state.selected;
    state.selected = i;
    if (i >= 0 && opts.reveal && state.expandAncestors(i)) this.recomputeVisible();
    if (opts.writeUrl) setUrlParams({ span: i >= 0 ? state.data.spans[i].spanID : null });
    for (const nodes of [this.timeline.rowElements, this.flamegraph.nodes]) {
      if (!nodes) continue;
      if (nodes.has(previous)) nodes.get(previous).classList.remove('selected');
      if (nodes.has(i)) nodes.get(i).classList.add('selected');
    }
    this.body.classList.toggle('has-details', i >= 0);
    this.details.render();
    this.logsView.updateSubtree();
    if (i >= 0 && opts.scroll) this.timeline.scrollToRow(state.rowOf[i], opts.center);
  }

  moveSelection(step) {
    const i = this.state.spanAfterSelection(step);
    if (i >= 0) this.select(i);
  }

  // --- Zoom window ---------------------------------------------------------------------

  setWindow(from, to, writeUrl) {
    const state = this.state;
    const full = state.setWindow(from, to);
    if (writeUrl !== false) setUrlParams(full ? { from: null, to: null } : { from: formatParam(state.viewStart), to: formatParam(state.viewEnd) });
    this.updateWindowDecorations();
    this.flamegraph.dirty = true;
    if (state.view === 'flamegraph') this.flamegraph.render();
    this.timeline.invalidate();
  }

  updateWindowDecorations() {
    this.timeline.updateRuler();
    this.root.classList.toggle('zoomed', this.state.zoomed);
    this.minimap.updateWindow();
  }

  // --- Find ------------------------------------------------------------------------------

  /**
   * Marks the spans matching `value` (find.mjs: words separated by spaces, any of them matching, `-word` excluding).
   * Collapsed subtrees stay collapsed; their matches count.
   */
  setFind(value, writeUrl) {
    const state = this.state;
    if (writeUrl !== false) setUrlParams({ uiFind: value || null });
    // Enter runs find again before jumping: the same query keeps its matches (and a big trace's server answer).
    if (text(value).trim().toLowerCase() === this.findQuery && this.findQuery !== undefined) return;
    const query = state.find(value);
    this.findQuery = query;
    this.showMatches(query);
    // A big trace's outline holds names, services and ids only: the server finds words in the rest.
    if (query && state.data.detailsOnDemand) {
      this.toolbar.findCount.textContent = 'finding\u2026';
      this.findPending = true;
      const settle = () => {
        this.findPending = false;
        const step = this.pendingJump;
        this.pendingJump = 0;
        if (step) this.jumpToMatch(step);
      };
      findOnServer(state.data, query).then((ids) => {
        if (this.findQuery !== query) return;
        state.setMatches(ids);
        this.showMatches(query);
        settle();
      }, () => {
        if (this.findQuery !== query) return;
        this.toolbar.findCount.textContent = `${state.matchCount} matches in names (find failed)`;
        settle();
      });
    } else {
      this.findPending = false;
    }
  }

  /** Shows the state's find matches: their count, and marked rows and flamegraph nodes. */
  showMatches(query) {
    const state = this.state;
    this.toolbar.findCount.textContent = query ? `${state.matchCount} matches` : '';
    this.root.classList.toggle('finding', !!query);
    for (const nodes of [this.timeline.rowElements, this.flamegraph.nodes]) {
      if (nodes) nodes.forEach((node, i) => node.classList.toggle('match', !!(state.matches && state.matches[i])));
    }
  }

  /** Selects the next (1) or previous (-1) visible match; expands ancestors only when no match is visible. */
  jumpToMatch(step) {
    if (this.findPending) {
      this.pendingJump = step;   // after the server's answer
      return;
    }
    const match = this.state.nextMatch(step);
    if (!match) return;
    if (match.hidden) this.select(match.index, { reveal: true, center: true });
    else this.select(match.index);
  }
}
