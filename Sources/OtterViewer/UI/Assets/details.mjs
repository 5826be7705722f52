/*
 * Otter viewer: the explorer's span details pane. The selected span's facts (duration, self time, start, kind,
 * status, ids with copy buttons, scope), warnings, attributes, events, links, log records and its service's
 * resource.
 */
import { button, copyText, el, keyValueTable, swatch } from './dom.mjs';
import { HEX, formatDuration, offsetText, severityClass, text } from './format.mjs';
import { loadDetails } from './outline.mjs';

const MAX_SPAN_LOGS = 500;      // records listed here; the Logs view lists them all

export class Details {
  /** `state` is the explorer's TraceState; `close()` clears the selection (the pane's × button). */
  constructor(state, close) {
    this.state = state;
    this.loading = new Set();     // spans whose details are being read (a big trace's outline)
    this.element = el('aside', { id: 'span-details', hidden: true });
    this.element.addEventListener('click', (event) => {
      const copy = event.target.closest('button.copy');
      if (copy) copyText(copy.dataset.copy || '', copy);
      else if (event.target.closest('.close-details')) close();
    });
  }

  /** Highlights log record `index` in the pane's Logs section and scrolls to it (a marker was clicked). */
  highlightLog(index) {
    const record = this.element.querySelector(`table.span-logs tr[data-log="${index}"]`);
    if (record) {
      record.classList.add('highlight');
      record.scrollIntoView({ block: 'nearest' });
    }
  }

  /**
   * Reads span i's details (a big trace's outline holds none) and shows them if it is still selected; returns what
   * the pane says meanwhile.
   */
  load(i) {
    if (!this.loading.has(i)) {
      this.loading.add(i);
      loadDetails(this.state.data, [i]).then(() => {
        this.loading.delete(i);
        if (this.state.selected === i) this.render();
      }, (error) => {
        this.loading.delete(i);
        const note = this.element.querySelector('.details-loading');
        if (this.state.selected === i && note) note.textContent = `The span's attributes could not be read: ${error.message}`;
      });
    }
    return 'Reading attributes, events and links\u2026';
  }

  /** Shows the selected span (hidden without a selection). */
  render() {
    const pane = this.element;
    const state = this.state;
    const i = state.selected;
    pane.hidden = i < 0;
    if (i < 0) return pane.replaceChildren();
    const data = state.data;
    const span = data.spans[i];
    const service = data.spanService[i];

    const close = button('\u00d7', { className: 'close-details' });
    close.setAttribute('aria-label', 'Close details');
    const head = el('div', { className: 'details-head' },
      el('h3', null, swatch(service.color), el('span', { className: 'service', textContent: service.name }), ' ',
        el('span', { className: 'span-name', textContent: text(span.name) })),
      close);

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
    if (data.detailsOnDemand && !span.detailsLoaded) {
      parts.push(el('p', { className: 'details-loading muted', textContent: this.load(i) }));
      pane.replaceChildren(...parts);
      return;
    }
    parts.push(el('h4', { textContent: 'Attributes' }), keyValueTable('attributes', span.attributes));

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
    const logs = state.logs.bySpan.get(i);
    if (logs) parts.push(...spanLogs(logs, data.start[i]).filter(Boolean));
    parts.push(el('h4', { textContent: `Resource \u00b7 ${service.name}` }), keyValueTable('resource', service.resource));
    pane.replaceChildren(...parts);
    pane.scrollTop = 0;
  }
}

/** A "Label value" line of the facts; with `copy`, a button copies the value (the ids). */
function fact(className, label, value, copy) {
  const line = el('div', { className }, el('span', { className: 'label', textContent: label }), ' ',
    el('span', { className: 'value', textContent: value }));
  if (copy) {
    const copyButton = button('Copy', { className: 'copy' });
    copyButton.dataset.copy = value;
    copyButton.setAttribute('aria-label', `Copy ${label}`);
    line.append(' ', copyButton);
  }
  return line;
}

/** A cell holding a key/value table of attribute pairs (empty without any). */
function nested(pairs) {
  return el('td', null, Array.isArray(pairs) && pairs.length ? keyValueTable('kv', pairs) : null);
}

/** The "Logs" section: a span's records with their offsets from the span's start (`spanStart`). */
function spanLogs(logs, spanStart) {
  const shown = logs.slice(0, MAX_SPAN_LOGS);
  const rows = shown.map((record) => {
    const row = el('tr', null,
      el('td', { className: 'offset', textContent: offsetText(record.micros - spanStart) }),
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
