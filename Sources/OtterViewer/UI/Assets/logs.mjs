/*
 * Otter viewer: log records of an OTLP/JSON logs answer (GET /api/otter/logs). Each record with its service; the
 * records of a trace placed on its time axis and grouped by span (the explorer); the records of a live tail with
 * the keys that recognise one already shown (the /logs page).
 *
 * Pure functions: no DOM, no fetch, so Node's test runner imports this module as browsers do.
 */
import { HEX, anyValueText, attributePairs, hexID, nanoseconds, severityLabel, text } from './format.mjs';

/** The most log records the explorer reads for a trace: the newest ones (the Logs view says when there are more). */
export const LOG_LIMIT = 10000;

/** Calls `visit(record, service)` for each record (an object) of an OTLP/JSON logs answer, in the answer's order. */
export function eachLogRecord(answer, visit) {
  const resourceLogs = answer && Array.isArray(answer.resourceLogs) ? answer.resourceLogs : [];
  for (const resourceLog of resourceLogs) {
    const resource = resourceLog && resourceLog.resource && Array.isArray(resourceLog.resource.attributes)
      ? resourceLog.resource.attributes : [];
    const serviceAttribute = resource.find((pair) => pair && pair.key === 'service.name');
    const service = serviceAttribute ? anyValueText(serviceAttribute.value) : '';
    for (const scopeLog of Array.isArray(resourceLog && resourceLog.scopeLogs) ? resourceLog.scopeLogs : []) {
      for (const record of Array.isArray(scopeLog && scopeLog.logRecords) ? scopeLog.logRecords : []) {
        if (!record || typeof record !== 'object') continue;
        visit(record, service);
      }
    }
  }
}

/**
 * The records of an OTLP/JSON logs answer, oldest first, each with its time in microseconds from the trace's start
 * and the index of its span (-1 without a span id or for a span not in the trace); `bySpan` maps a span's index to
 * its records. `data` is the prepared trace model (model.mjs).
 */
export function prepareLogs(answer, data) {
  const records = [];
  const traceStart = Number(data.model.startTimeUnixMicros) || 0;
  eachLogRecord(answer, (record, service) => {
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
  });
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

/**
 * The records of a live tail's answer in the answer's order, as `{ record, service, nanos, key }`: the time is the
 * record's own (its observed time when it has none), and the key (time, trace, span, severity, the body's start)
 * recognises a record that comes again. Also how many records the answer held and the time of the oldest
 * (nanoseconds, null for none), for paging.
 */
export function tailEntries(answer) {
  const entries = [];
  let count = 0;
  let oldest = null;
  eachLogRecord(answer, (record, service) => {
    count += 1;
    const time = /^[0-9]{1,20}$/.test(text(record.timeUnixNano)) && record.timeUnixNano !== '0'
      ? record.timeUnixNano : text(record.observedTimeUnixNano);
    const nanos = /^[0-9]{1,20}$/.test(time) ? BigInt(time) : 0n;
    if (oldest === null || nanos < oldest) oldest = nanos;
    // The first 200 Unicode scalars, as the server's key has them (not UTF-16 units).
    const body = Array.from(anyValueText(record.body)).slice(0, 200).join('');
    const key = `${nanos}|${hexID(record.traceId)}|${hexID(record.spanId)}|${Number(record.severityNumber) || 0}|${body}`;
    entries.push({ record, service, nanos, key });
  });
  return { entries, count, oldest };
}
