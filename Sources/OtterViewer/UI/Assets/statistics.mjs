/*
 * Otter viewer: the explorer's Statistics view. The trace's statistics per service and operation (count, total,
 * self, average, min, max), built on first show, sorted by a click on a column's header. Virtualised: only the rows
 * in view (and a margin) are in the page, between two spacer rows, so 10,000 operations cost what 60 do.
 */
import { button, el, swatch } from './dom.mjs';
import { formatDuration, text } from './format.mjs';
import { sortStatistics } from './model.mjs';

const COLUMNS = [['service', 'Service'], ['operation', 'Operation'], ['count', 'Count'], ['totalMicros', 'Total'],
  ['selfMicros', 'Self'], ['averageMicros', 'Average'], ['minMicros', 'Min'], ['maxMicros', 'Max']];
const DURATIONS = ['totalMicros', 'selfMicros', 'averageMicros', 'minMicros', 'maxMicros'];
const ROW_HEIGHT = 24;          // px, as statistics rows are styled (flamegraph.css)
const MARGIN_ROWS = 30;         // drawn above and below the rows in view

export class Statistics {
  /** `state` is the explorer's TraceState (its model's `statistics` rows). */
  constructor(state) {
    this.state = state;
    this.stats = null;                    // { rows, key, ascending } once built
    this.table = el('table', { id: 'statistics-table' });
    this.view = el('div', { className: 'statistics-view' }, this.table);
    const redraw = () => {
      if (this.frame || !this.stats) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.renderWindow(false);
      });
    };
    this.view.addEventListener('scroll', redraw);
    // A taller view shows more rows.
    if (typeof ResizeObserver === 'function') new ResizeObserver(redraw).observe(this.view);
    this.table.addEventListener('click', (event) => {
      const th = event.target.closest('th');
      if (th && th.dataset.key) this.sort(th.dataset.key);
    });
  }

  /** Builds the table the first time the view is shown. */
  show() {
    if (!this.stats) this.build();
  }

  build() {
    const headers = COLUMNS.map(([key, label]) => {
      const th = el('th', { className: key === 'service' || key === 'operation' ? '' : 'num' }, button(label, { className: 'sort' }));
      th.dataset.key = key;
      th.setAttribute('aria-sort', 'none');
      return th;
    });
    this.body = el('tbody');
    this.table.replaceChildren(el('thead', null, el('tr', null, ...headers)), this.body);
    const model = this.state.data.model;
    this.stats = { rows: Array.isArray(model.statistics) ? model.statistics.slice() : [], key: null, ascending: true };
    this.renderBody();
  }

  /** Sorts by a column: ascending on the first click, then toggles. */
  sort(key) {
    const stats = this.stats;
    stats.ascending = stats.key === key ? !stats.ascending : true;
    stats.key = key;
    sortStatistics(stats.rows, key, stats.ascending);
    for (const th of this.table.querySelectorAll('th')) {
      const active = th.dataset.key === key;
      th.classList.toggle('sorted-asc', active && stats.ascending);
      th.classList.toggle('sorted-desc', active && !stats.ascending);
      th.setAttribute('aria-sort', active ? (stats.ascending ? 'ascending' : 'descending') : 'none');
    }
    this.renderBody();
  }

  renderBody() {
    this.colors = new Map(this.state.data.services.map((service) => [service.name, service.color]));
    this.table.dataset.rows = String(this.stats.rows.length);
    this.renderWindow(true);
  }

  /** Draws the rows in view and the margin around them (again only when that range changed, or with `force`). */
  renderWindow(force) {
    const rows = this.stats.rows;
    const header = this.table.tHead ? this.table.tHead.offsetHeight : 0;
    const top = Math.max(0, this.view.scrollTop - header);
    const height = this.view.clientHeight || 900;    // hidden: as tall as a window
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - MARGIN_ROWS);
    const last = Math.min(rows.length, Math.ceil((top + height) / ROW_HEIGHT) + MARGIN_ROWS);
    if (!force && first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    const spacer = (count) => {
      const row = el('tr', { className: 'spacer' });
      row.style.height = `${count * ROW_HEIGHT}px`;
      return row;
    };
    this.body.replaceChildren(
      ...(first > 0 ? [spacer(first)] : []),
      ...rows.slice(first, last).map((stat) => el('tr', null,
        el('td', null, this.colors.has(stat.service) ? swatch(this.colors.get(stat.service)) : null, text(stat.service)),
        el('td', { textContent: text(stat.operation) }),
        el('td', { className: 'num', textContent: text(stat.count) }),
        ...DURATIONS.map((key) => el('td', { className: 'num', textContent: formatDuration(Number(stat[key]) || 0) })))),
      ...(last < rows.length ? [spacer(rows.length - last)] : []));
  }
}
