/*
 * Otter viewer: the explorer's Logs view. The trace's log records in time order (or only those of the selected
 * span's subtree), each with its offset, severity, service, span, body and attributes; a click on a record with a
 * span shows that span in the timeline.
 */
import { button, el, keyValueTable, swatch } from './dom.mjs';
import { offsetText, severityClass, text } from './format.mjs';
import { LOG_LIMIT } from './logs.mjs';

const NO_SELECTION = 'Only the selected span and its descendants (select a span)';

export class LogsView {
  /** `state` is the explorer's TraceState; `showSpan(i)` shows span i in the timeline (a record's row was clicked). */
  constructor(state, showSpan) {
    this.state = state;
    this.dirty = true;                    // must be rebuilt (first show, subtree filter)
    this.count = el('span', { id: 'logs-count', className: 'muted' });
    this.subtree = el('input', { type: 'checkbox', id: 'logs-subtree', disabled: true });
    this.subtreeLabel = el('span', { textContent: NO_SELECTION });
    this.body = el('tbody');
    const headers = ['Time', 'Severity', 'Service', 'Span', 'Body', 'Attributes'].map((label) => el('th', { textContent: label }));
    this.table = el('table', { id: 'logs-table', className: 'logs' }, el('thead', null, el('tr', null, ...headers)), this.body);
    this.view = el('div', { className: 'logs-view' },
      el('div', { className: 'logs-toolbar' }, this.count,
        el('label', { className: 'logs-subtree' }, this.subtree, ' ', this.subtreeLabel)),
      this.table);

    // A record's row shows its span in the timeline.
    this.body.addEventListener('click', (event) => {
      const row = event.target.closest('tr.log-row');
      const i = row ? Number(row.dataset.index) : -1;
      if (!(i >= 0 && i < this.state.data.n)) return;
      showSpan(i);
    });
    this.subtree.addEventListener('change', () => {
      this.dirty = true;
      this.render();
    });
  }

  /** The subtree filter follows the selection. */
  updateSubtree() {
    const state = this.state;
    const i = state.selected;
    this.subtree.disabled = i < 0;
    this.subtreeLabel.textContent = i < 0 ? NO_SELECTION
      : `Only \u201c${text(state.data.spans[i].name)}\u201d and its descendants`;
    if (this.subtree.checked) {
      this.dirty = true;
      if (state.view === 'logs') this.render();
    }
  }

  /** The trace's records in time order, or those of the selected span's subtree. */
  render() {
    if (!this.dirty) return;
    this.dirty = false;
    const data = this.state.data;
    const all = this.state.logs.records;
    const root = this.subtree.checked ? this.state.selected : -1;
    const records = root < 0 ? all
      : all.filter((record) => record.spanIndex >= root && record.spanIndex < data.subtreeEnd[root]);
    this.count.textContent = (root < 0 ? `${all.length} records` : `${records.length} of ${all.length} records`)
      + (all.length >= LOG_LIMIT ? ` (the newest ${LOG_LIMIT}: the trace has more; the Logs page finds the others by time)` : '');
    const fragment = document.createDocumentFragment();
    for (const record of records) fragment.append(this.row(record));
    this.body.replaceChildren(fragment);
  }

  row(record) {
    const data = this.state.data;
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
    return row;
  }
}
