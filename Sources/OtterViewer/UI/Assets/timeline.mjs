/*
 * Otter viewer: the explorer's Timeline view. A sticky header with the ruler of the zoom window, then a canvas of
 * absolutely placed rows, virtualised: only the rows in view (plus overscan) exist. Each row shows its span's
 * indentation, collapse toggle, service and name, and its bar in the window with the critical-path segments, the
 * duration label and a marker per log record.
 */
import { button, el, swatch } from './dom.mjs';
import { ERROR_SEVERITY, formatDuration, text } from './format.mjs';
import { barGeometry } from './model.mjs';

const ROW_HEIGHT = 26;          // px, as .span-row in otter.css
const HEADER_HEIGHT = 28;       // px, as .timeline-header in otter.css
const OVERSCAN = 12;            // rows rendered above and below the viewport
const MAX_INDENT_DEPTH = 12;    // indentation stops growing here, so deep spans keep their names in view
const INDENT_PX = 14;
const MAX_MARKERS_PER_ROW = 500;

export class Timeline {
  /**
   * `state` is the explorer's TraceState; `actions` what a click asks of the explorer: `toggle(i)` (a row's toggle),
   * `select(i)` (a row) and `showLog(index)` (a log marker, after its row is selected).
   */
  constructor(state, actions) {
    this.state = state;
    this.actions = actions;
    this.rowElements = new Map();         // span index -> rendered row
    this.renderedFirst = -1;
    this.renderedLast = -1;
    this.rowsDirty = true;                // rows must be rebuilt (collapse, zoom)
    this.frame = 0;

    this.ticks = [0, 1, 2, 3, 4].map((t) => {
      const tick = el('span', { className: 'tick' });
      tick.style.left = (t * 25) + '%';
      return tick;
    });
    this.canvas = el('div', { className: 'timeline-canvas' });
    this.element = el('div', { id: 'timeline', tabIndex: 0 },
      el('div', { className: 'timeline-header' },
        el('div', { className: 'name-header', textContent: 'Service & operation' }),
        el('div', { id: 'ruler' }, ...this.ticks)),
      this.canvas);
    this.view = el('div', { className: 'timeline-view' }, this.element);

    this.element.addEventListener('scroll', () => this.scheduleRender(), { passive: true });
    this.canvas.addEventListener('click', (event) => {
      const row = event.target.closest('.span-row');
      if (!row) return;
      if (event.target.closest('.toggle')) return this.actions.toggle(Number(row.dataset.index));
      this.actions.select(Number(row.dataset.index));
      // A log marker also points at its record in the details.
      const marker = event.target.closest('.log-marker');
      if (marker) this.actions.showLog(Number(marker.dataset.log));
    });
  }

  destroy() {
    cancelAnimationFrame(this.frame);
  }

  /** The canvas's height for `count` visible rows; the rows are rebuilt. */
  setRowCount(count) {
    this.canvas.style.height = (count * ROW_HEIGHT) + 'px';
    this.invalidate();
  }

  /** Rebuilds the rows at the next frame (a collapse or a zoom changed them). */
  invalidate() {
    this.rowsDirty = true;
    this.scheduleRender();
  }

  scheduleRender() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderRows();
    });
  }

  /** Renders the rows in view plus overscan. Rows still in range are kept; only new rows are built. */
  renderRows() {
    const state = this.state;
    if (state.view !== 'timeline') return;
    // The only layout reads of a render, before any write.
    const scrollTop = this.element.scrollTop;
    const height = this.element.clientHeight;
    const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(state.visibleCount, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
    if (!this.rowsDirty && first === this.renderedFirst && last === this.renderedLast) return;
    const previous = this.rowsDirty ? new Map() : this.rowElements;
    const current = new Map();
    const fragment = document.createDocumentFragment();
    for (let row = first; row < last; row++) {
      const i = state.visible[row];
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

  buildRow(row) {
    const state = this.state;
    const data = state.data;
    const i = state.visible[row];
    const span = data.spans[i];
    const service = data.spanService[i];
    const critical = Array.isArray(span.criticalPath) ? span.criticalPath : [];

    // Left column: indentation, toggle, service, name, error marker
    const name = el('div', { className: 'name-cell', title: `${service.name} ${text(span.name)}` });
    name.style.paddingLeft = (4 + Math.min(data.depth[i], MAX_INDENT_DEPTH) * INDENT_PX) + 'px';
    if (state.hasChildren(i)) {
      const toggle = button(state.collapsed[i] ? '\u25b8' : '\u25be', { className: 'toggle', tabIndex: -1 });
      toggle.setAttribute('aria-label', state.collapsed[i] ? 'Expand' : 'Collapse');
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
    const bar = barGeometry(data, i, state.viewStart, state.viewEnd);
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
    if (i === state.selected) node.classList.add('selected');
    if (state.matches && state.matches[i]) node.classList.add('match');
    if (state.collapsed[i]) node.classList.add('collapsed');
    return node;
  }

  /** A marker per record of span i at its time on the lane (in the window), errors in the error colour. */
  appendLogMarkers(lane, i) {
    const { logs, viewStart, viewEnd } = this.state;
    const records = logs.bySpan.get(i);
    if (!records) return;
    const width = viewEnd - viewStart;
    let drawn = 0;
    for (const record of records) {
      if (record.micros < viewStart || record.micros > viewEnd) continue;
      if (drawn++ === MAX_MARKERS_PER_ROW) break;
      const marker = el('span', {
        className: 'log-marker' + (record.severity >= ERROR_SEVERITY ? ' error' : ''),
        title: `${record.severityText} ${record.body}`.trim(),
      });
      marker.dataset.log = String(record.index);
      marker.style.left = ((record.micros - viewStart) / width * 100) + '%';
      lane.append(marker);
    }
  }

  /** Scrolls row `row` into view (to the middle with `center`); only in the Timeline view. */
  scrollToRow(row, center) {
    if (row < 0 || this.state.view !== 'timeline') return;
    const timeline = this.element;
    const top = row * ROW_HEIGHT;                        // relative to the canvas, below the sticky header
    const viewport = timeline.clientHeight - HEADER_HEIGHT;
    if (center) timeline.scrollTop = Math.max(0, top - viewport / 2 + ROW_HEIGHT / 2);
    else if (top < timeline.scrollTop) timeline.scrollTop = top;
    else if (top + ROW_HEIGHT > timeline.scrollTop + viewport) timeline.scrollTop = top + ROW_HEIGHT - viewport;
    this.scheduleRender();
  }

  /** The ruler's ticks label the zoom window. */
  updateRuler() {
    const { viewStart, viewEnd } = this.state;
    const width = viewEnd - viewStart;
    this.ticks.forEach((tick, t) => { tick.textContent = formatDuration(viewStart + width * t / (this.ticks.length - 1)); });
  }
}
