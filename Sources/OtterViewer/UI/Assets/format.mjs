/*
 * Otter viewer: text formatting shared by every page's scripts. Durations and offsets, numbers for URL parameters,
 * OTLP/JSON values and attributes as one line of text, severities, ids and times.
 *
 * Pure functions: no DOM, no fetch, so Node's test runner imports this module as browsers do.
 */

/** Lowercase hex, as trace and span ids are written. */
export const HEX = /^[0-9a-f]+$/;
/** OpenTelemetry's ERROR severity number: from here on a record is drawn as failed spans are. */
export const ERROR_SEVERITY = 17;
/** OpenTelemetry's WARN severity number. */
export const WARN_SEVERITY = 13;
const SEVERITY_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** A value as text: '' for null and undefined, else `String(value)`. */
export function text(value) {
  return value === null || value === undefined ? '' : String(value);
}

/** Microseconds as `850µs`, `12.3ms`, `1.25s` (up to 3 significant digits); 0 as `0µs`. */
export function formatDuration(micros) {
  if (!Number.isFinite(micros) || micros === 0) return '0\u00b5s';
  const sign = micros < 0 ? '-' : '';
  const units = [['\u00b5s', 1], ['ms', 1e3], ['s', 1e6]];
  for (let u = 0; ; u++) {
    const scaled = Number((Math.abs(micros) / units[u][1]).toPrecision(3));
    if (scaled < 1000 || u === units.length - 1) return sign + scaled + units[u][0];
  }
}

/** An offset from a start: `+12.3ms`, or `-1ms` for a record before it. */
export function offsetText(micros) {
  return (micros < 0 ? '' : '+') + formatDuration(micros);
}

/** A number for a URL parameter: at most 3 decimals, no trailing zeros. */
export function formatParam(value) {
  return String(Math.round(value * 1000) / 1000);
}

/** An OTLP/JSON AnyValue as one line of text, as the server writes it (strings as they are, lists as JSON-like text). */
/**
 * A double as Swift's `description` writes it (what the server shows): `2.0`, `0.1`, `1e+16`, `1e-05`, `nan`, `inf`.
 * OTLP/JSON may write non-finite values as the strings "NaN", "Infinity" and "-Infinity".
 */
export function doubleText(raw) {
  const value = Number(raw);
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  if (exponent < -4 || exponent >= 16) {
    const [mantissa, power] = value.toExponential().split('e');
    const sign = power.startsWith('-') ? '-' : '+';
    const digits = power.replace(/^[+-]/, '');
    return `${mantissa}e${sign}${digits.length < 2 ? '0' + digits : digits}`;
  }
  const plain = String(value);
  return /[.e]/.test(plain) ? plain : `${plain}.0`;
}

export function anyValueText(value, depth) {
  if (!value || typeof value !== 'object') return '';
  const level = depth || 0;
  const quoted = (inner) => (inner && typeof inner === 'object' && 'stringValue' in inner
    ? `"${text(inner.stringValue)}"` : anyValueText(inner, level + 1));
  if (level > 32) return '';
  if ('stringValue' in value) return text(value.stringValue);
  if ('boolValue' in value) return value.boolValue ? 'true' : 'false';
  if ('intValue' in value) return text(value.intValue);
  if ('doubleValue' in value) return doubleText(value.doubleValue);
  if ('bytesValue' in value) return text(value.bytesValue);
  if (value.arrayValue) {
    const values = Array.isArray(value.arrayValue.values) ? value.arrayValue.values : [];
    return '[' + values.map(quoted).join(', ') + ']';
  }
  if (value.kvlistValue) {
    const values = Array.isArray(value.kvlistValue.values) ? value.kvlistValue.values : [];
    return '{' + values.map((pair) => [text(pair && pair.key), pair && pair.value])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([key, inner]) => `${key}: ${quoted(inner)}`).join(', ') + '}';
  }
  return '';
}

/** OTLP/JSON attributes as `[key, text]` pairs, sorted by key. */
export function attributePairs(attributes) {
  return (Array.isArray(attributes) ? attributes : [])
    .map((pair) => [text(pair && pair.key), anyValueText(pair && pair.value)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Nanoseconds since the epoch (an OTLP/JSON decimal string) as a BigInt; null when it is not one. */
export function nanoseconds(value) {
  const digits = text(value);
  if (!/^[0-9]{1,20}$/.test(digits)) return null;
  return BigInt(digits);
}

/** A severity as shown: the record's own text, else OpenTelemetry's short name of its number (`WARN`, `ERROR2`). */
export function severityLabel(number, severityText) {
  if (severityText) return severityText;
  if (!(number >= 1 && number <= 24)) return '';
  const step = (number - 1) % 4;
  return SEVERITY_NAMES[Math.floor((number - 1) / 4)] + (step ? String(step + 1) : '');
}

/** The CSS class of a severity number's cell: errors from ERROR up, warnings from WARN up. */
export function severityClass(number) {
  return number >= ERROR_SEVERITY ? 'severity-error' : number >= WARN_SEVERITY ? 'severity-warn' : 'severity';
}

/** A trace or span id as lowercase hex; '' when absent or not valid (all zero). */
export function hexID(value) {
  const id = text(value).toLowerCase();
  return HEX.test(id) && !/^0+$/.test(id) ? id : '';
}

/** Nanoseconds since the epoch (a BigInt) as `YYYY-MM-DD HH:MM:SS.mmm UTC`, as the server writes times. */
export function formatTime(nanos) {
  const date = new Date(Number(nanos / 1000000n));
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace('T', ' ').replace('Z', ' UTC');
}
