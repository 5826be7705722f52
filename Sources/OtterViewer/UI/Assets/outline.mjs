/*
 * Otter viewer: a big trace's outline. The server sends a trace with more spans than its limit as columns (one array
 * per field, names and kinds once, span ids concatenated) without attributes, events or links; the explorer expands
 * them into the span objects it draws, reads a span's details when they are shown and asks the server to find words
 * in what it does not hold.
 *
 * `expandOutline` and `fillDetails` are pure (Node's test runner imports them); the two fetches are the explorer's.
 */
import { text } from './format.mjs';

const STATUS = ['unset', 'ok', 'error'];

/** The model's spans from its `outline` columns; each lacks its details (`detailsLoaded: false`). */
export function expandOutline(outline) {
  const o = outline || {};
  const parentIndex = Array.isArray(o.parentIndex) ? o.parentIndex : [];
  const n = parentIndex.length;
  const ids = text(o.spanID);
  const names = Array.isArray(o.names) ? o.names : [];
  const kinds = Array.isArray(o.kinds) ? o.kinds : [];
  const column = (name) => (Array.isArray(o[name]) ? o[name] : []);
  const [depth, serviceIndex, nameIndex, kindIndex] = ['depth', 'serviceIndex', 'nameIndex', 'kindIndex'].map(column);
  const [start, duration, self, status] = ['startMicros', 'durationMicros', 'selfMicros', 'status'].map(column);
  const sparse = (name) => (o[name] && typeof o[name] === 'object' ? o[name] : {});
  const critical = sparse('criticalPath');
  const warnings = sparse('warnings');
  const missingParents = sparse('missingParentSpanID');
  const spans = new Array(n);
  const childCount = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = Number(parentIndex[i]);
    if (Number.isInteger(p) && p >= 0 && p < i) childCount[p]++;
  }
  for (let i = 0; i < n; i++) {
    const p = Number(parentIndex[i]);
    const code = Number(status[i]) || 0;
    spans[i] = {
      spanID: ids.slice(i * 16, i * 16 + 16),
      parentSpanID: Number.isInteger(p) && p >= 0 && p < i ? ids.slice(p * 16, p * 16 + 16) : text(missingParents[i]),
      parentIndex: p,
      depth: depth[i],
      childCount: childCount[i],
      serviceIndex: serviceIndex[i],
      name: text(names[nameIndex[i]]),
      kind: text(kinds[kindIndex[i]]),
      startMicros: start[i],
      durationMicros: duration[i],
      selfMicros: self[i],
      status: STATUS[code] || 'unset',
      statusMessage: '',
      error: code === 2,
      criticalPath: Array.isArray(critical[i]) ? critical[i] : [],
      warnings: Array.isArray(warnings[i]) ? warnings[i] : [],
      attributes: [],
      events: [],
      links: [],
      scope: null,
      detailsLoaded: false,
    };
  }
  return spans;
}

/**
 * Adds a span's details as the server sends them (`/api/otter/traces/{id}/spans`: event times from the span's start)
 * to span `i` of prepared `data`; its service gets the resource when it has none yet.
 */
export function fillDetails(data, i, details) {
  const span = data.spans[i];
  const spanStart = data.start[i];
  span.statusMessage = text(details.statusMessage);
  span.attributes = Array.isArray(details.attributes) ? details.attributes : [];
  span.events = (Array.isArray(details.events) ? details.events : []).map((event) => ({
    name: text(event && event.name),
    timeMicros: spanStart + (Number(event && event.timeMicros) || 0),
    attributes: event && Array.isArray(event.attributes) ? event.attributes : [],
  }));
  span.links = Array.isArray(details.links) ? details.links : [];
  span.scope = details.scope && typeof details.scope === 'object' ? details.scope : null;
  span.detailsLoaded = true;
  const service = data.spanService[i];
  if (service && (!service.resource || service.resource.length === 0) && Array.isArray(details.resource)) {
    service.resource = details.resource;
  }
}

/**
 * The answer's details for span `spanID` that starts at `startUnixMicros`: spans that share an id (corrupt data) are
 * told apart by their start (the closest). Undefined when none has the id.
 */
export function pickDetails(answers, spanID, startUnixMicros) {
  let best;
  let distance = Infinity;
  for (const details of Array.isArray(answers) ? answers : []) {
    if (text(details && details.spanID).toLowerCase() !== spanID) continue;
    const d = Math.abs((Number(details.startTimeUnixMicros) || 0) - startUnixMicros);
    if (d < distance) {
      best = details;
      distance = d;
    }
  }
  return best;
}

/** Reads the details of spans `indices` of `data` from the server and fills them in; resolves to the filled indices. */
export async function loadDetails(data, indices) {
  const wanted = indices.filter((i) => !data.spans[i].detailsLoaded).slice(0, 500);
  if (wanted.length === 0) return [];
  const traceID = text(data.model.traceID);
  const query = wanted.map((i) => `spanID=${encodeURIComponent(data.spans[i].spanID)}`).join('&');
  const response = await fetch(`/api/otter/traces/${encodeURIComponent(traceID)}/spans?${query}`, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`span details: HTTP ${response.status}`);
  const answer = await response.json();
  const filled = [];
  for (const i of wanted) {
    const details = pickDetails(answer.spans, data.spans[i].spanID, Number(data.model.startTimeUnixMicros) + data.start[i]);
    if (details) {
      fillDetails(data, i, details);
      filled.push(i);
    }
  }
  return filled;
}

/** The ids of the spans of the trace that match a find query, as the server finds them in the whole spans. */
export async function findOnServer(data, query) {
  const traceID = text(data.model.traceID);
  const response = await fetch(`/api/otter/traces/${encodeURIComponent(traceID)}/find?uiFind=${encodeURIComponent(query)}`,
    { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`find: HTTP ${response.status}`);
  const answer = await response.json();
  return Array.isArray(answer.spanIDs) ? answer.spanIDs.map((id) => text(id).toLowerCase()) : [];
}
