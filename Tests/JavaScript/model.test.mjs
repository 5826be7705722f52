// model.mjs: the trace model prepared into arrays, bar geometry, zoom windows, the statistics' order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { load, sampleModel, traceModel } from './assets.mjs';

const { prepare, barGeometry, clampWindow, sortStatistics } = await load('model.mjs');

test('prepare reads parents, depths and the subtree ends of depth-first order', () => {
  const data = prepare(sampleModel());
  assert.equal(data.n, 4);
  assert.deepEqual(Array.from(data.parent), [-1, 0, 1, 0]);
  assert.deepEqual(Array.from(data.depth), [0, 1, 2, 1]);
  assert.deepEqual(Array.from(data.subtreeEnd), [4, 3, 3, 4]);
  assert.deepEqual(Array.from(data.start), [0, 100, 150, 700]);
  assert.equal(data.indexById.get('0000000000000003'), 2);
  assert.equal(data.total, 1000, 'the last end, as the model gives no duration');
});

test('a parent index that is not before its span makes the span a root', () => {
  const data = prepare(traceModel([
    { spanID: 'A', parentIndex: 1, depth: -3 },
    { spanID: 'B', parentIndex: 1 },
    { spanID: 'C', parentIndex: 0.5 },
    { spanID: 'D', parentIndex: '0' },
  ]));
  assert.deepEqual(Array.from(data.parent), [-1, -1, -1, 0]);
  assert.equal(data.depth[0], 0, 'negative depths are 0');
  assert.equal(data.indexById.get('a'), 0, 'span ids are looked up in lower case');
  assert.deepEqual(Array.from(data.subtreeEnd), [4, 2, 3, 4]);
});

test('services get valid colours, a fallback colour, or the unknown service', () => {
  const data = prepare(traceModel([{ spanID: '1', serviceIndex: 1 }, { spanID: '2', serviceIndex: 7 }]));
  assert.equal(data.services[0].color, '#2c7be5');
  assert.equal(data.services[1].color, '#00a67e', 'an invalid colour is replaced by the palette at its index');
  assert.equal(data.spanService[0].name, 'payments');
  assert.deepEqual(data.spanService[1], { name: 'unknown', color: '#999999', resource: [] });
});

test('the total is the model\'s duration or the last end, never 0', () => {
  assert.equal(prepare(traceModel([{ spanID: '1', startMicros: 10, durationMicros: 5 }], { durationMicros: 100 })).total, 100);
  assert.equal(prepare(traceModel([{ spanID: '1', startMicros: 10, durationMicros: -5 }])).total, 10);
  assert.equal(prepare(traceModel([])).total, 1);
  assert.equal(prepare({}).n, 0);
});

test('bar geometry places a span in a window, clipped, in percent', () => {
  const data = prepare(sampleModel());
  assert.deepEqual(barGeometry(data, 1, 0, 1000), { start: 100, end: 600, left: 10, width: 50 });
  assert.deepEqual(barGeometry(data, 1, 500, 1000), { start: 500, end: 600, left: 0, width: 20 });
  assert.equal(barGeometry(data, 3, 0, 500), null, 'after the window');
  assert.equal(barGeometry(data, 2, 400, 500), null, 'before the window');
});

test('a zoom window is ordered, clamped to the trace and at least a millionth of it', () => {
  assert.deepEqual(clampWindow(300, 100, 1000), { start: 100, end: 300, full: false });
  assert.deepEqual(clampWindow(-50, 2000, 1000), { start: 0, end: 1000, full: true });
  const tiny = clampWindow(1000, 1000, 1000);
  assert.equal(tiny.end, 1000);
  assert.ok(Math.abs(tiny.start - 999.999) < 1e-9);
  assert.equal(tiny.full, false);
});

test('statistics sort as text by service and operation, as numbers otherwise', () => {
  const rows = [
    { service: 'b', operation: 'x', count: 2, totalMicros: '300' },
    { service: 'a', operation: 'y', count: 10, totalMicros: 'n/a' },
    { service: 'c', operation: 'z', count: 1, totalMicros: 50 },
  ];
  assert.deepEqual(sortStatistics(rows, 'service', true).map((row) => row.service), ['a', 'b', 'c']);
  assert.deepEqual(sortStatistics(rows, 'count', false).map((row) => row.count), [10, 2, 1]);
  assert.deepEqual(sortStatistics(rows, 'totalMicros', true).map((row) => row.service), ['a', 'c', 'b'], 'not a number: 0');
});
