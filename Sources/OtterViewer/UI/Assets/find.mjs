/*
 * Otter viewer: find in a trace, as Jaeger's uiFind. The text searched per span, the spans a query matches, and
 * the next match from a position (wrapping around).
 *
 * Pure functions: no DOM, no fetch, so Node's test runner imports this module as browsers do.
 */
import { text } from './format.mjs';

/**
 * Lower-cased text searched by find, one per span of prepared `data`, as Jaeger's uiFind searches: name, service,
 * span id, attribute keys and values, event names and attributes, and the service's resource.
 */
export function buildHaystacks(data) {
  const out = new Array(data.n);
  for (let i = 0; i < data.n; i++) {
    const span = data.spans[i];
    const parts = [span.name, data.spanService[i].name, span.spanID];
    for (const pair of span.attributes || []) parts.push(pair[0], pair[1]);
    for (const event of span.events || []) {
      parts.push(event.name);
      for (const pair of event.attributes || []) parts.push(pair[0], pair[1]);
    }
    for (const pair of data.spanService[i].resource || []) parts.push(pair[0], pair[1]);
    out[i] = parts.join('\u0000').toLowerCase();
  }
  return out;
}

/**
 * The spans whose haystacks match `value`: words separated by spaces, any of them matching (a word starting with `-`
 * excludes spans that contain the rest). `{ query, matches, count }`: the trimmed, lower-cased query, a Uint8Array of
 * match flags (null for an empty query) and their number.
 */
export function findMatches(haystacks, value) {
  // NUL separates the parts of a haystack: a query cannot hold one (it would match across parts).
  const query = text(value).replaceAll('\u0000', '').trim().toLowerCase();
  if (!query) return { query, matches: null, count: 0 };
  const words = query.split(/\s+/).filter((word) => word && word !== '-');
  const wanted = words.filter((word) => !word.startsWith('-'));
  const unwanted = words.filter((word) => word.startsWith('-')).map((word) => word.slice(1));
  const matches = new Uint8Array(haystacks.length);
  let count = 0;
  for (let i = 0; i < haystacks.length; i++) {
    const haystack = haystacks[i];
    if ((wanted.length === 0 || wanted.some((word) => haystack.includes(word)))
        && !unwanted.some((word) => haystack.includes(word))) {
      matches[i] = 1;
      count++;
    }
  }
  return { query, matches, count };
}

/**
 * The first position after `from` (step 1) or before it (step -1) among `0..<count` that `accept`s, wrapping around;
 * without a position (`from` < 0), the first (or last) one. -1 when none does.
 */
export function nextPosition(from, count, step, accept) {
  if (from < 0) from = step > 0 ? -1 : count;
  for (let k = 1; k <= count; k++) {
    const at = (((from + step * k) % count) + count) % count;
    if (accept(at)) return at;
  }
  return -1;
}
