/*
 * Otter viewer: the explorer's Statistics view. The trace's statistics per service and operation (count, total,
 * self, average, min, max), built on first show, sorted by a click on a column's header.
 */
import { button, el, swatch } from './dom.mjs';
import { formatDuration, text } from './format.mjs';
import { sortStatistics } from './model.mjs';

const COLUMNS = [['service', 'Service'], ['operation', 'Operation'], ['count', 'Count'], ['totalMicros', 'Total'],
  ['selfMicros', 'Self'], ['averageMicros', 'Average'], ['minMicros', 'Min'], ['maxMicros', 'Max']];
const DURATIONS = ['totalMicros', 'selfMicros', 'averageMicros', 'minMicros', 'maxMicros'];

export class Statistics {
  /** `state` is the explorer's TraceState (its model's `statistics` rows). */
  constructor(state) {
    this.state = state;
    this.stats = null;                    // { rows, key, ascending } once built
    this.table = el('table', { id: 'statistics-table' });
    this.view = el('div', { className: 'statistics-view' }, this.table);
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
    const colors = new Map(this.state.data.services.map((service) => [service.name, service.color]));
    this.body.replaceChildren(...this.stats.rows.map((stat) => el('tr', null,
      el('td', null, colors.has(stat.service) ? swatch(colors.get(stat.service)) : null, text(stat.service)),
      el('td', { textContent: text(stat.operation) }),
      el('td', { className: 'num', textContent: text(stat.count) }),
      ...DURATIONS.map((key) => el('td', { className: 'num', textContent: formatDuration(Number(stat[key]) || 0) })))));
  }
}
