/*
 * Otter viewer: the trace explorer's model. The server's trace model (embedded in the trace page, or an upload's)
 * prepared once into typed arrays (parent, depth, subtree end, start, duration) in depth-first order; where a span
 * falls in a time window; the zoom window's bounds; the statistics table's order.
 *
 * Pure functions: no DOM, no fetch, so Node's test runner imports this module as browsers do.
 */
import { text } from './format.mjs';
import { expandOutline } from './outline.mjs';

const COLOR = /^#[0-9a-fA-F]{3,8}$/;
const FALLBACK_COLORS = ['#2c7be5', '#00a67e', '#e67e22', '#8e44ad', '#16a085', '#c0392b', '#2980b9', '#7f8c8d'];

/**
 * The model's spans as arrays indexed by position: `parent` (-1 for a root), `depth`, `subtreeEnd` (the index after
 * the last descendant), `start` and `duration` (microseconds from the trace's start), each span's service, the index
 * of each span id, and `total`, the trace's length (never 0). `detailsOnDemand` when the spans came as an outline.
 */
export function prepare(model) {
  // A big trace comes as an outline (outline.mjs): its spans' details are read as they are shown.
  const detailsOnDemand = !!(model.outline && typeof model.outline === 'object');
  const spans = detailsOnDemand ? expandOutline(model.outline) : Array.isArray(model.spans) ? model.spans : [];
  const n = spans.length;
  const services = (Array.isArray(model.services) ? model.services : []).map((service, index) => ({
    name: text(service && service.name),
    color: service && COLOR.test(service.color) ? service.color : FALLBACK_COLORS[index % FALLBACK_COLORS.length],
    resource: service && Array.isArray(service.resource) ? service.resource : [],
  }));
  const unknownService = { name: 'unknown', color: '#999999', resource: [] };

  const parent = new Int32Array(n);
  const depth = new Int32Array(n);
  const subtreeEnd = new Int32Array(n);   // index after the last descendant (depth-first order)
  const start = new Float64Array(n);
  const duration = new Float64Array(n);
  const spanService = new Array(n);
  const indexById = new Map();
  let lastEnd = 0;

  for (let i = 0; i < n; i++) {
    const span = spans[i];
    const p = Number(span.parentIndex);
    // Depth-first order puts a parent before its children; anything else is treated as a root.
    parent[i] = Number.isInteger(p) && p >= 0 && p < i ? p : -1;
    depth[i] = Math.max(0, Number(span.depth) || 0);
    subtreeEnd[i] = i + 1;
    start[i] = Number(span.startMicros) || 0;
    duration[i] = Math.max(0, Number(span.durationMicros) || 0);
    lastEnd = Math.max(lastEnd, start[i] + duration[i]);
    spanService[i] = services[span.serviceIndex] || unknownService;
    indexById.set(text(span.spanID).toLowerCase(), i);
  }
  for (let i = n - 1; i >= 0; i--) {
    const p = parent[i];
    if (p >= 0 && subtreeEnd[i] > subtreeEnd[p]) subtreeEnd[p] = subtreeEnd[i];
  }
  const total = Math.max(Number(model.durationMicros) || 0, lastEnd);
  // A zero-length trace still needs a non-zero scale.
  return { model, spans, detailsOnDemand, n, services, parent, depth, subtreeEnd, start, duration, spanService, indexById, total: total || 1 };
}

/** Placement of span i in the window [viewStart, viewEnd] (percent), or null when outside it. */
export function barGeometry(data, i, viewStart, viewEnd) {
  const s = data.start[i];
  const e = s + data.duration[i];
  if (e < viewStart || s > viewEnd) return null;
  const start = Math.max(s, viewStart);
  const end = Math.min(e, viewEnd);
  const width = (viewEnd - viewStart) || 1;
  return { start, end, left: (start - viewStart) / width * 100, width: (end - start) / width * 100 };
}

/**
 * A zoom window within [0, total], its bounds in either order, at least a millionth of the trace long:
 * `{ start, end, full }`, `full` when it is the whole trace.
 */
export function clampWindow(from, to, total) {
  const minimum = total * 1e-6;
  let a = Math.min(Math.max(0, Math.min(from, to)), total);
  let b = Math.min(Math.max(0, Math.max(from, to)), total);
  if (b - a < minimum) {
    b = Math.min(total, a + minimum);
    a = b - minimum;
  }
  return { start: a, end: b, full: a <= 0 && b >= total };
}

/** Sorts statistics rows in place by a column: service and operation as text, the others as numbers. */
export function sortStatistics(rows, key, ascending) {
  const textual = key === 'service' || key === 'operation';
  const direction = ascending ? 1 : -1;
  return rows.sort((a, b) => direction * (textual ? text(a[key]).localeCompare(text(b[key]))
    : (Number(a[key]) || 0) - (Number(b[key]) || 0)));
}
