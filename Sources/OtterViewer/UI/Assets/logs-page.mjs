/*
 * Otter viewer: the logs page's script (/logs), the live tail. While #tail is checked, /api/otter/logs is asked
 * every 2 s for the search's records stored since the last poll (its arrival cursor), and the new ones are put on
 * top (tail=1 in the URL). The page works without this script. Log records are untrusted: they reach the page only
 * as text nodes.
 */
import { setUrlParams, urlParam } from './dom.mjs';
import { livePoller } from './live.mjs';
import { anyValueText, attributePairs, formatTime, hexID, severityClass, severityLabel, text } from './format.mjs';
import { tailEntries } from './logs.mjs';

const TAIL_MS = 2000;
const TAIL_LIMIT = 1000;        // records asked for per request
const TAIL_PAGES = 20;          // requests per poll at most (a burst of 20,000 records)
const TAIL_MAX_ROWS = 5000;     // older rows are dropped from the bottom

function cell(className, value) {
  const td = document.createElement('td');
  td.className = className;
  td.textContent = value;
  return td;
}

/** A table row for one record of an OTLP/JSON answer, as the server renders them. */
function logRow(record, service, nanos, key) {
  const severity = Number(record.severityNumber) || 0;
  const attributes = cell('attributes', '');
  for (const [name, value] of attributePairs(record.attributes)) {
    const attribute = document.createElement('span');
    attribute.className = 'attribute';
    const keyNode = document.createElement('span');
    keyNode.className = 'key';
    keyNode.textContent = name;
    const valueNode = document.createElement('span');
    valueNode.className = 'value';
    valueNode.textContent = value;
    attribute.append(keyNode, '=', valueNode);
    attributes.append(attribute, ' ');
  }
  const trace = cell('', '');
  const traceID = hexID(record.traceId);
  const spanID = hexID(record.spanId);
  if (traceID) {
    const link = document.createElement('a');
    link.className = 'trace-link';
    link.href = `/trace/${traceID}` + (spanID ? `?span=${spanID}` : '');
    link.textContent = traceID;
    trace.append(link);
  }
  const row = document.createElement('tr');
  row.className = 'log-record new';
  row.dataset.time = nanos.toString();
  row.dataset.key = key;
  row.append(cell('time', formatTime(nanos)),
    cell(severityClass(severity), severityLabel(severity, text(record.severityText))),
    cell('service', service), cell('body', anyValueText(record.body)), attributes, trace);
  return row;
}

/**
 * Polls for records from the newest shown on (the API's `start` is inclusive: the records of that microsecond come
 * again and are recognised by their keys) and puts them on top, newest first.
 */
function initTail(tail) {
  const results = document.getElementById('log-results');
  const table = document.getElementById('logs-table');
  if (!results || !table) return;
  const tbody = table.tBodies[0];
  const query = text(results.dataset.query);
  // The store's arrival cursor: each poll asks for the records stored since the last one, whatever their own times
  // (a batch stamped before the newest row shown is still new), and moves it on (the X-Otter-Log-Cursor header).
  let cursor = /^[0-9]+$/.test(text(results.dataset.cursor)) ? text(results.dataset.cursor) : '0';
  // Keys of the rows shown: a record stored while a poll ran comes again in the next one.
  const shown = new Set();
  for (const row of tbody.rows) shown.add(row.dataset.key);
  // Newest first, TAIL_LIMIT at a time: a burst of more is read page by page, each page ending where the last one's
  // oldest record was (records at that instant come twice and are shown once).
  const { poll, stop } = livePoller(tail, TAIL_MS, async (signal) => {
    let nextCursor = null;
    let end = '';
    for (let page = 0; page < TAIL_PAGES; page++) {
      const url = `/api/otter/logs?${query ? query + '&' : ''}storedAfter=${cursor}${end}&limit=${TAIL_LIMIT}`;
      const response = await fetch(url, { signal, cache: 'no-store', headers: { Accept: 'application/json' } });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        const errors = body && Array.isArray(body.errors) ? body.errors.map((e) => e && e.msg).filter(Boolean) : [];
        throw new Error(errors.length ? errors.join('; ') : `HTTP ${response.status}`);
      }
      if (nextCursor === null) nextCursor = text(response.headers.get('X-Otter-Log-Cursor'));
      if (!tail.checked) return null;
      const { count, oldest } = add(body);
      if (count < TAIL_LIMIT || oldest === null) break;
      end = `&end=${oldest / 1000n}`;
    }
    if (/^[0-9]+$/.test(nextCursor || '')) cursor = nextCursor;
    return `Tailing \u00b7 updated ${new Date().toLocaleTimeString()}`;
  }, { failure: 'Live tail failed', statusID: 'tail-status' });

  // Puts the answer's records not shown yet on top, newest first; returns how many the answer held and the time of
  // its oldest (nanoseconds), for paging.
  function add(body) {
    const { entries, count, oldest } = tailEntries(body);
    const fresh = entries.filter((entry) => {
      if (shown.has(entry.key)) return false;
      shown.add(entry.key);
      return true;
    });
    if (fresh.length === 0) return { count, oldest };
    fresh.sort((a, b) => (a.nanos > b.nanos ? -1 : a.nanos < b.nanos ? 1 : 0));
    const fragment = document.createDocumentFragment();
    for (const item of fresh) fragment.append(logRow(item.record, item.service, item.nanos, item.key));
    tbody.prepend(fragment);
    while (tbody.rows.length > TAIL_MAX_ROWS) {
      shown.delete(tbody.rows[tbody.rows.length - 1].dataset.key);
      tbody.deleteRow(-1);
    }
    const empty = document.getElementById('no-logs');
    if (empty) empty.remove();
    const resultCount = document.getElementById('result-count');
    if (resultCount) resultCount.textContent = tbody.rows.length === 1 ? '1 record' : `${tbody.rows.length} records`;
    return { count, oldest };
  }

  tail.addEventListener('change', () => {
    setUrlParams({ tail: tail.checked ? '1' : null });
    if (tail.checked) poll();
    else stop();
  });
  if (urlParam('tail') === '1') {
    tail.checked = true;
    poll();
  }
}

function boot() {
  const tail = document.getElementById('tail');
  if (tail) initTail(tail);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
