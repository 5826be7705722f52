// logs.mjs: records of an OTLP/JSON logs answer, for the explorer (placed on a trace) and the live tail (keys).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { load, sampleModel } from './assets.mjs';

const { prepare } = await load('model.mjs');
const { eachLogRecord, prepareLogs, tailEntries } = await load('logs.mjs');

const start = 1700000000000000n;   // the sample trace's start, microseconds
const at = (micros) => String((start + BigInt(micros)) * 1000n);

function answer() {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'host.name', value: { stringValue: 'web-1' } }, { key: 'service.name', value: { stringValue: 'payments' } }] },
        scopeLogs: [{
          logRecords: [
            { timeUnixNano: at(400), spanId: '0000000000000002', severityNumber: 17, body: { stringValue: 'declined' },
              attributes: [{ key: 'z', value: { intValue: '1' } }, { key: 'a', value: { boolValue: true } }] },
            { timeUnixNano: 'soon', observedTimeUnixNano: at(120), spanId: '0000000000000002', severityNumber: 9, severityText: 'note' },
            'not a record',
            { timeUnixNano: at(50), spanId: 'FFFFFFFFFFFFFFFF', body: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } } },
          ],
        }],
      },
      null,
      { scopeLogs: [{ logRecords: [{ timeUnixNano: at(10), spanId: 'not hex' }] }] },
    ],
  };
}

test('each record comes with its resource\'s service.name; non-objects are skipped', () => {
  const seen = [];
  eachLogRecord(answer(), (record, service) => seen.push(service));
  assert.deepEqual(seen, ['payments', 'payments', 'payments', '']);
  eachLogRecord(null, () => assert.fail('no records'));
  eachLogRecord({ resourceLogs: 'x' }, () => assert.fail('no records'));
});

test('a trace\'s records are sorted by time, placed from its start and grouped by span', () => {
  const data = prepare(sampleModel());
  const { records, bySpan } = prepareLogs(answer(), data);
  assert.deepEqual(records.map((record) => record.micros), [10, 50, 120, 400]);
  assert.deepEqual(records.map((record) => record.index), [0, 1, 2, 3]);
  assert.deepEqual(records.map((record) => record.spanIndex), [-1, -1, 1, 1]);
  assert.deepEqual(records.map((record) => record.spanID), ['', 'ffffffffffffffff', '0000000000000002', '0000000000000002'],
    'a span id not in the trace is kept; an invalid one is not');
  assert.deepEqual(bySpan.get(1).map((record) => record.micros), [120, 400]);
  assert.equal(bySpan.size, 1);
});

test('a trace\'s records carry severity labels, body and sorted attributes as text', () => {
  const { records } = prepareLogs(answer(), prepare(sampleModel()));
  const declined = records[3];
  assert.equal(declined.severity, 17);
  assert.equal(declined.severityText, 'ERROR');
  assert.equal(declined.body, 'declined');
  assert.deepEqual(declined.attributes, [['a', 'true'], ['z', '1']]);
  assert.equal(records[2].severityText, 'note', 'the record\'s own text');
  assert.equal(records[1].body, '{k: "v"}');
});

test('a record without a valid time is at the epoch', () => {
  const data = prepare(sampleModel());
  const { records } = prepareLogs({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: 'x' }] }] }] }, data);
  assert.equal(records[0].nanos, 0n);
  assert.equal(records[0].micros, -1700000000000000);
});

test('no answer, no records', () => {
  const { records, bySpan } = prepareLogs(null, prepare(sampleModel()));
  assert.deepEqual(records, []);
  assert.equal(bySpan.size, 0);
});

test('tail entries keep the answer\'s order, with keys and the oldest time', () => {
  const { entries, count, oldest } = tailEntries(answer());
  assert.equal(count, 4);
  assert.equal(oldest, (start + 10n) * 1000n);
  assert.deepEqual(entries.map((entry) => entry.nanos), [400n, 120n, 50n, 10n].map((micros) => (start + micros) * 1000n));
  assert.equal(entries[0].key, `${(start + 400n) * 1000n}||0000000000000002|17|declined`);
  assert.equal(entries[0].service, 'payments');
  assert.equal(entries[3].key, `${(start + 10n) * 1000n}|||0|`, 'an invalid span id, no severity, no body');
});

test('a tail record timed 0 uses its observed time; long bodies are cut in the key', () => {
  const body = 'x'.repeat(300);
  const { entries } = tailEntries({ resourceLogs: [{ scopeLogs: [{ logRecords: [
    { timeUnixNano: '0', observedTimeUnixNano: '42', traceId: 'AB', body: { stringValue: body } },
    { timeUnixNano: 'bad' },
  ] }] }] });
  assert.equal(entries[0].nanos, 42n);
  assert.equal(entries[0].key, `42|ab||0|${'x'.repeat(200)}`);
  assert.equal(entries[1].nanos, 0n);
  assert.deepEqual(tailEntries(null), { entries: [], count: 0, oldest: null });
});
