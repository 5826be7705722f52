/*
 * Otter viewer: search page and logs page enhancements.
 *  - Compare: the "Compare selected" button is enabled only when exactly two traces are picked.
 *  - Live: while #live is checked, the results are refetched every 3 s (same URL) and swapped in,
 *    keeping the compare picks. The state is kept in the URL (live=1) so it deep-links.
 *  - Live tail (/logs): while #tail is checked, /api/otter/logs is asked every 2 s for the search's
 *    records stored since the last poll (its arrival cursor), and the new ones are put on top (tail=1 in the URL).
 * The pages work without this script; the server checks the compare count itself. Log records are
 * untrusted: they reach the page only as text nodes.
 */
(function () {
  'use strict';

  const POLL_MS = 3000;
  const TAIL_MS = 2000;
  const TAIL_LIMIT = 1000;        // records asked for per request
  const TAIL_PAGES = 20;          // requests per poll at most (a burst of 20,000 records)
  const TAIL_MAX_ROWS = 5000;     // older rows are dropped from the bottom
  const SEVERITY_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
  const HEX = /^[0-9a-f]+$/;

  // ---------------------------------------------------------------------------
  // Compare picks

  function pickBoxes() {
    return Array.from(document.querySelectorAll('#results input.compare-pick'));
  }

  function updateCompare() {
    const boxes = pickBoxes();
    const picked = boxes.filter((box) => box.checked).length;
    for (const box of boxes) box.disabled = picked >= 2 && !box.checked;
    const button = document.getElementById('compare-button');
    if (button) button.disabled = picked !== 2;
  }

  // Delegated: #results is replaced by live updates.
  document.addEventListener('change', (event) => {
    if (event.target instanceof HTMLInputElement && event.target.classList.contains('compare-pick')) updateCompare();
  });

  // ---------------------------------------------------------------------------
  // Live refresh

  function setLiveParam(on, name) {
    const url = new URL(location.href);
    if (on) url.searchParams.set(name || 'live', '1');
    else url.searchParams.delete(name || 'live');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }

  function initLive(live) {
    let timer = 0;
    let controller = null;
    const status = document.createElement('span');
    status.className = 'muted live-status';
    status.setAttribute('aria-live', 'polite');
    (live.closest('label') || live).after(status);

    const schedule = () => {
      if (live.checked && !timer) timer = setTimeout(poll, POLL_MS);
    };

    const stop = () => {
      clearTimeout(timer);
      timer = 0;
      if (controller) controller.abort();
      controller = null;
      status.textContent = '';
    };

    async function poll() {
      timer = 0;
      if (!live.checked) return;
      if (document.hidden) {   // no polling in a background tab
        schedule();
        return;
      }
      controller = new AbortController();
      try {
        const response = await fetch(location.href, {
          signal: controller.signal, cache: 'no-store', headers: { Accept: 'text/html' },
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const html = await response.text();
        const fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('results');
        const current = document.getElementById('results');
        if (fresh && current && live.checked) {
          const picked = new Set(pickBoxes().filter((box) => box.checked).map((box) => box.value));
          const adopted = document.adoptNode(fresh);
          for (const box of adopted.querySelectorAll('input.compare-pick')) box.checked = picked.has(box.value);
          current.replaceWith(adopted);
          updateCompare();
          status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
        }
      } catch (error) {
        if (error.name === 'AbortError') return;
        status.textContent = `Live update failed (${error.message})`;
      }
      controller = null;
      schedule();
    }

    live.addEventListener('change', () => {
      setLiveParam(live.checked);
      if (live.checked) poll();
      else stop();
    });

    if (new URLSearchParams(location.search).get('live') === '1') {
      live.checked = true;
      schedule();
    }
  }

  // ---------------------------------------------------------------------------
  // Operation picker: follows the service (Jaeger's /api/services/{service}/operations)

  function initOperations() {
    const service = document.querySelector('form.search select[name="service"]');
    const operation = document.querySelector('form.search select[name="operation"]');
    if (!service || !operation) return;
    service.addEventListener('change', async () => {
      let names = [];
      try {
        const response = await fetch('/api/services/' + encodeURIComponent(service.value) + '/operations');
        if (response.ok) names = (await response.json()).data || [];
      } catch (error) {
        return;
      }
      operation.replaceChildren();
      const all = document.createElement('option');
      all.value = '';
      all.textContent = 'all';
      operation.append(all);
      for (const name of names) {
        const option = document.createElement('option');
        option.value = String(name);
        option.textContent = String(name);
        operation.append(option);
      }
    });
  }

  // ---------------------------------------------------------------------------
  // Live tail of log records (/logs)

  function text(value) {
    return value === null || value === undefined ? '' : String(value);
  }

  /** A trace or span id as lowercase hex; '' when absent or not valid (all zero). */
  function hexID(value) {
    const id = text(value).toLowerCase();
    return HEX.test(id) && !/^0+$/.test(id) ? id : '';
  }

  function cell(className, value) {
    const td = document.createElement('td');
    td.className = className;
    td.textContent = value;
    return td;
  }

  /** An OTLP/JSON AnyValue as one line of text, as the server writes it. */
  function anyValueText(value, depth) {
    if (!value || typeof value !== 'object' || (depth || 0) > 32) return '';
    const quoted = (inner) => (inner && typeof inner === 'object' && 'stringValue' in inner
      ? `"${text(inner.stringValue)}"` : anyValueText(inner, (depth || 0) + 1));
    if ('stringValue' in value) return text(value.stringValue);
    if ('boolValue' in value) return value.boolValue ? 'true' : 'false';
    for (const key of ['intValue', 'doubleValue', 'bytesValue']) if (key in value) return text(value[key]);
    const list = (holder) => (holder && Array.isArray(holder.values) ? holder.values : []);
    if (value.arrayValue) return '[' + list(value.arrayValue).map(quoted).join(', ') + ']';
    if (value.kvlistValue) {
      return '{' + list(value.kvlistValue).map((pair) => [text(pair && pair.key), pair && pair.value])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([key, inner]) => `${key}: ${quoted(inner)}`).join(', ') + '}';
    }
    return '';
  }

  /** `YYYY-MM-DD HH:MM:SS.mmm UTC`, as the server writes times. */
  function formatTime(nanos) {
    const date = new Date(Number(nanos / 1000000n));
    return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace('T', ' ').replace('Z', ' UTC');
  }

  /** A table row for one record of an OTLP/JSON answer, as the server renders them. */
  function logRow(record, service, nanos, key) {
    const severity = Number(record.severityNumber) || 0;
    let severityText = text(record.severityText);
    if (!severityText && severity >= 1 && severity <= 24) {
      const step = (severity - 1) % 4;
      severityText = SEVERITY_NAMES[Math.floor((severity - 1) / 4)] + (step ? String(step + 1) : '');
    }
    const attributes = cell('attributes', '');
    const pairs = (Array.isArray(record.attributes) ? record.attributes : [])
      .map((pair) => [text(pair && pair.key), anyValueText(pair && pair.value)])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [name, value] of pairs) {
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
      cell(severity >= 17 ? 'severity-error' : severity >= 13 ? 'severity-warn' : 'severity', severityText),
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
    const status = document.createElement('span');
    status.className = 'muted live-status';
    status.id = 'tail-status';
    status.setAttribute('aria-live', 'polite');
    (tail.closest('label') || tail).after(status);
    const query = text(results.dataset.query);
    // The store's arrival cursor: each poll asks for the records stored since the last one, whatever their own times
    // (a batch stamped before the newest row shown is still new), and moves it on (the X-Otter-Log-Cursor header).
    let cursor = /^[0-9]+$/.test(text(results.dataset.cursor)) ? text(results.dataset.cursor) : '0';
    // Keys of the rows shown: a record stored while a poll ran comes again in the next one.
    const shown = new Set();
    for (const row of tbody.rows) shown.add(row.dataset.key);
    let timer = 0;
    let controller = null;

    const schedule = () => {
      if (tail.checked && !timer) timer = setTimeout(poll, TAIL_MS);
    };
    const stop = () => {
      clearTimeout(timer);
      timer = 0;
      if (controller) controller.abort();
      controller = null;
      status.textContent = '';
    };

    async function poll() {
      timer = 0;
      if (!tail.checked) return;
      if (document.hidden) {
        schedule();
        return;
      }
      controller = new AbortController();
      try {
        // Newest first, TAIL_LIMIT at a time: a burst of more is read page by page, each page ending where the last
        // one's oldest record was (records at that instant come twice and are shown once).
        let nextCursor = null;
        let end = '';
        for (let page = 0; page < TAIL_PAGES; page++) {
          const url = `/api/otter/logs?${query ? query + '&' : ''}storedAfter=${cursor}${end}&limit=${TAIL_LIMIT}`;
          const response = await fetch(url, { signal: controller.signal, cache: 'no-store', headers: { Accept: 'application/json' } });
          const body = await response.json().catch(() => null);
          if (!response.ok) {
            const errors = body && Array.isArray(body.errors) ? body.errors.map((e) => e && e.msg).filter(Boolean) : [];
            throw new Error(errors.length ? errors.join('; ') : `HTTP ${response.status}`);
          }
          if (nextCursor === null) nextCursor = text(response.headers.get('X-Otter-Log-Cursor'));
          if (!tail.checked) return;
          const { count, oldest } = add(body);
          if (count < TAIL_LIMIT || oldest === null) break;
          end = `&end=${oldest / 1000n}`;
        }
        if (/^[0-9]+$/.test(nextCursor || '')) cursor = nextCursor;
        status.textContent = `Tailing \u00b7 updated ${new Date().toLocaleTimeString()}`;
      } catch (error) {
        if (error.name === 'AbortError') return;
        status.textContent = `Live tail failed (${error.message})`;
      }
      controller = null;
      schedule();
    }

    // Puts the answer's records not shown yet on top, newest first; returns how many the answer held and the time of
    // its oldest (nanoseconds), for paging.
    function add(body) {
      const fresh = [];
      let count = 0;
      let oldest = null;
      for (const resourceLog of body && Array.isArray(body.resourceLogs) ? body.resourceLogs : []) {
        const resource = resourceLog && resourceLog.resource && Array.isArray(resourceLog.resource.attributes) ? resourceLog.resource.attributes : [];
        const serviceAttribute = resource.find((pair) => pair && pair.key === 'service.name');
        const service = serviceAttribute ? anyValueText(serviceAttribute.value) : '';
        for (const scopeLog of Array.isArray(resourceLog && resourceLog.scopeLogs) ? resourceLog.scopeLogs : []) {
          for (const record of Array.isArray(scopeLog && scopeLog.logRecords) ? scopeLog.logRecords : []) {
            if (!record || typeof record !== 'object') continue;
            count += 1;
            const time = /^[0-9]{1,20}$/.test(text(record.timeUnixNano)) && record.timeUnixNano !== '0' ? record.timeUnixNano : text(record.observedTimeUnixNano);
            const nanos = /^[0-9]{1,20}$/.test(time) ? BigInt(time) : 0n;
            if (oldest === null || nanos < oldest) oldest = nanos;
            const body = anyValueText(record.body).slice(0, 200);
            const key = `${nanos}|${hexID(record.traceId)}|${hexID(record.spanId)}|${Number(record.severityNumber) || 0}|${body}`;
            if (shown.has(key)) continue;
            shown.add(key);
            fresh.push({ record, service, nanos, key });
          }
        }
      }
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
      setLiveParam(tail.checked, 'tail');
      if (tail.checked) poll();
      else stop();
    });
    if (new URLSearchParams(location.search).get('tail') === '1') {
      tail.checked = true;
      poll();
    }
  }

  // ---------------------------------------------------------------------------
  // Boot

  function boot() {
    updateCompare();
    initOperations();
    const live = document.getElementById('live');
    if (live) initLive(live);
    const tail = document.getElementById('tail');
    if (tail) initTail(tail);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
