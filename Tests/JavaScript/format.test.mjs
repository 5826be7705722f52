// format.mjs: durations, offsets, URL numbers, OTLP/JSON values, severities, ids and times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { load } from './assets.mjs';

const format = await load('format.mjs');

test('durations keep 3 significant digits in µs, ms or s', () => {
  assert.equal(format.formatDuration(0), '0µs');
  assert.equal(format.formatDuration(850), '850µs');
  assert.equal(format.formatDuration(999.4), '999µs');
  assert.equal(format.formatDuration(12345), '12.3ms');
  assert.equal(format.formatDuration(1250000), '1.25s');
  assert.equal(format.formatDuration(-1500), '-1.5ms');
  // Past 1000 s there is no larger unit.
  assert.equal(format.formatDuration(3.6e9), '3600s');
  assert.equal(format.formatDuration(NaN), '0µs');
  assert.equal(format.formatDuration(Infinity), '0µs');
});

test('a duration rounding up to 1000 moves to the next unit', () => {
  assert.equal(format.formatDuration(999.6), '1ms');
  assert.equal(format.formatDuration(999999), '1s');
});

test('offsets carry a sign', () => {
  assert.equal(format.offsetText(12300), '+12.3ms');
  assert.equal(format.offsetText(0), '+0µs');
  assert.equal(format.offsetText(-1000), '-1ms');
});

test('URL numbers have at most 3 decimals and no trailing zeros', () => {
  assert.equal(format.formatParam(12.3456), '12.346');
  assert.equal(format.formatParam(5), '5');
  assert.equal(format.formatParam(0.1 + 0.2), '0.3');
});

test('text turns null and undefined into the empty string', () => {
  assert.equal(format.text(null), '');
  assert.equal(format.text(undefined), '');
  assert.equal(format.text(0), '0');
  assert.equal(format.text(false), 'false');
});

test('anyValueText writes scalars as they are', () => {
  assert.equal(format.anyValueText({ stringValue: 'payment declined' }), 'payment declined');
  assert.equal(format.anyValueText({ boolValue: true }), 'true');
  assert.equal(format.anyValueText({ boolValue: false }), 'false');
  assert.equal(format.anyValueText({ intValue: '-9223372036854775808' }), '-9223372036854775808');
  assert.equal(format.anyValueText({ doubleValue: 1.5 }), '1.5');
  assert.equal(format.anyValueText({ bytesValue: 'AQI=' }), 'AQI=');
  assert.equal(format.anyValueText({ stringValue: null }), '');
});

test('anyValueText quotes strings inside lists and maps, and sorts map keys', () => {
  const value = {
    kvlistValue: {
      values: [
        { key: 'z', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }, { kvlistValue: { values: [] } }] } } },
        { key: 'a', value: { stringValue: 'first' } },
        { key: 'm', value: { boolValue: false } },
      ],
    },
  };
  assert.equal(format.anyValueText(value), '{a: "first", m: false, z: ["a", 1, {}]}');
});

test('anyValueText writes odd values as empty text', () => {
  assert.equal(format.anyValueText(null), '');
  assert.equal(format.anyValueText('plain string'), '');
  assert.equal(format.anyValueText(42), '');
  assert.equal(format.anyValueText({}), '');
  assert.equal(format.anyValueText({ arrayValue: {} }), '[]');
  assert.equal(format.anyValueText({ arrayValue: { values: 'no list' } }), '[]');
  assert.equal(format.anyValueText({ arrayValue: { values: [null, 7, { stringValue: 'x' }] } }), '[, , "x"]');
  assert.equal(format.anyValueText({ kvlistValue: { values: [null, { key: 'k' }] } }), '{: , k: }');
});

test('anyValueText stops past 32 levels of nesting', () => {
  let value = { stringValue: 'deep' };
  for (let level = 0; level < 40; level++) value = { arrayValue: { values: [value] } };
  const written = format.anyValueText(value);
  assert.equal(written, '['.repeat(33) + ']'.repeat(33));
  assert.ok(!written.includes('deep'));
});

test('attributePairs sorts by key and flattens values', () => {
  const pairs = format.attributePairs([
    { key: 'http.route', value: { stringValue: '/checkout' } },
    { key: 'count', value: { intValue: '3' } },
    null,
  ]);
  assert.deepEqual(pairs, [['', ''], ['count', '3'], ['http.route', '/checkout']]);
  assert.deepEqual(format.attributePairs(undefined), []);
});

test('nanoseconds reads decimal strings of up to 20 digits as BigInt', () => {
  assert.equal(format.nanoseconds('1700000000123456789'), 1700000000123456789n);
  assert.equal(format.nanoseconds(12), 12n);
  assert.equal(format.nanoseconds('-5'), null);
  assert.equal(format.nanoseconds('1e9'), null);
  assert.equal(format.nanoseconds('123456789012345678901'), null);
  assert.equal(format.nanoseconds(undefined), null);
});

test('severity labels use the record\'s text, else OpenTelemetry\'s short names', () => {
  assert.equal(format.severityLabel(9, ''), 'INFO');
  assert.equal(format.severityLabel(10, ''), 'INFO2');
  assert.equal(format.severityLabel(13, ''), 'WARN');
  assert.equal(format.severityLabel(17, ''), 'ERROR');
  assert.equal(format.severityLabel(20, ''), 'ERROR4');
  assert.equal(format.severityLabel(24, ''), 'FATAL4');
  assert.equal(format.severityLabel(1, ''), 'TRACE');
  assert.equal(format.severityLabel(0, ''), '');
  assert.equal(format.severityLabel(25, ''), '');
  assert.equal(format.severityLabel(17, 'oops'), 'oops');
});

test('severity classes: errors from 17, warnings from 13', () => {
  assert.equal(format.severityClass(12), 'severity');
  assert.equal(format.severityClass(13), 'severity-warn');
  assert.equal(format.severityClass(16), 'severity-warn');
  assert.equal(format.severityClass(17), 'severity-error');
  assert.equal(format.severityClass(24), 'severity-error');
  assert.equal(format.severityClass(0), 'severity');
});

test('hexID keeps lowercase hex ids and drops all-zero or invalid ones', () => {
  assert.equal(format.hexID('4BF92F35'), '4bf92f35');
  assert.equal(format.hexID('0000000000000000'), '');
  assert.equal(format.hexID('xyz'), '');
  assert.equal(format.hexID(undefined), '');
});

test('times are written as the server writes them, in UTC', () => {
  assert.equal(format.formatTime(1700000000123456789n), '2023-11-14 22:13:20.123 UTC');
  assert.equal(format.formatTime(0n), '1970-01-01 00:00:00.000 UTC');
  assert.equal(format.formatTime(10n ** 28n), '');
});

test('doubleText writes doubles as the server (Swift) does', () => {
  // Expected values printed by Swift's `print(2.0, 0.1, 1e16, ...)`.
  const cases = [[2, '2.0'], [0.1, '0.1'], [1e16, '1e+16'], [1e-5, '1e-05'], [123456.789, '123456.789'],
    [1e15, '1000000000000000.0'], [0.0001, '0.0001'], [-2.5e-7, '-2.5e-07'], [1.5e300, '1.5e+300'],
    ['NaN', 'nan'], ['-Infinity', '-inf'], ['Infinity', 'inf'], [9007199254740993, '9007199254740992.0'], [-0, '-0.0']];
  for (const [value, expected] of cases) assert.equal(format.doubleText(value), expected, `${value}`);
  assert.equal(format.anyValueText({ kvlistValue: { values: [{ key: 'b', value: { doubleValue: 1 } }] } }), '{b: 1.0}');
});
