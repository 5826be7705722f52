// outline.mjs: a big trace's outline expanded into the explorer's spans, and details filled in as they are read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { load } from './assets.mjs';

const { expandOutline, fillDetails } = await load('outline.mjs');
const { prepare } = await load('model.mjs');

function outlineModel() {
  return {
    traceID: '0af7651916cd43dd8448eb211c80319c',
    durationMicros: 1000,
    services: [{ name: 'front', color: '#2c7be5', resource: [] }, { name: 'db', color: '#00a67e', resource: [] }],
    statistics: [],
    outline: {
      names: ['GET /', 'query'],
      kinds: ['server', 'client'],
      spanID: '00000000000000010000000000000002000000000000000300000000000000ff',
      parentIndex: [-1, 0, 1, -1],
      depth: [0, 1, 2, 0],
      serviceIndex: [0, 0, 1, 1],
      nameIndex: [0, 1, 1, 1],
      kindIndex: [0, 1, 1, 1],
      startMicros: [0, 100, 150.5, 700],
      durationMicros: [1000, 500, 20, 300],
      selfMicros: [500, 480, 20, 300],
      status: [1, 0, 2, 0],
      criticalPath: { 0: [[500, 1000], [0, 100]], 1: [[100, 500]] },
      warnings: { 3: ['parent span 00000000000000aa is not in this trace'] },
      missingParentSpanID: { 3: '00000000000000aa' },
    },
  };
}

test('the outline expands to the spans the explorer draws, ids and parents included', () => {
  const spans = expandOutline(outlineModel().outline);
  assert.equal(spans.length, 4);
  assert.deepEqual(spans.map((s) => s.spanID), ['0000000000000001', '0000000000000002', '0000000000000003', '00000000000000ff']);
  assert.deepEqual(spans.map((s) => s.parentSpanID), ['', '0000000000000001', '0000000000000002', '00000000000000aa']);
  assert.deepEqual(spans.map((s) => s.name), ['GET /', 'query', 'query', 'query']);
  assert.deepEqual(spans.map((s) => s.kind), ['server', 'client', 'client', 'client']);
  assert.deepEqual(spans.map((s) => s.status), ['ok', 'unset', 'error', 'unset']);
  assert.deepEqual(spans.map((s) => s.error), [false, false, true, false]);
  assert.deepEqual(spans.map((s) => s.childCount), [1, 1, 0, 0]);
  assert.equal(spans[2].startMicros, 150.5);
  assert.deepEqual(spans[0].criticalPath, [[500, 1000], [0, 100]]);
  assert.deepEqual(spans[2].criticalPath, []);
  assert.deepEqual(spans[3].warnings, ['parent span 00000000000000aa is not in this trace']);
  assert.ok(spans.every((s) => s.detailsLoaded === false && s.attributes.length === 0));
});

test('prepare reads an outline model as it reads a whole one', () => {
  const data = prepare(outlineModel());
  assert.equal(data.detailsOnDemand, true);
  assert.equal(data.n, 4);
  assert.deepEqual(Array.from(data.parent), [-1, 0, 1, -1]);
  assert.deepEqual(Array.from(data.subtreeEnd), [3, 3, 3, 4]);
  assert.equal(data.spanService[2].name, 'db');
  assert.equal(data.indexById.get('00000000000000ff'), 3);
  assert.equal(prepare({ spans: [] }).detailsOnDemand, false);
});

test('a damaged outline gives spans without throwing', () => {
  const spans = expandOutline({ parentIndex: [5, 'x', 0], spanID: 'short', names: 'no', status: [9] });
  assert.equal(spans.length, 3);
  assert.deepEqual(spans.map((s) => s.parentSpanID), ['', '', 'short']);
  assert.equal(spans[0].status, 'unset');
  assert.equal(spans[0].name, '');
  assert.deepEqual(expandOutline(null), []);
});

test('details read later fill the span; event times become offsets from the trace start', () => {
  const data = prepare(outlineModel());
  fillDetails(data, 2, {
    spanID: '0000000000000003', statusMessage: 'timeout', attributes: [['db.system', 'sqlite']],
    events: [{ name: 'retry', timeMicros: 5, attributes: [['attempt', '2']] }], links: [],
    scope: { name: 'otter', version: '1' }, resource: [['service.name', 'db']],
  });
  const span = data.spans[2];
  assert.equal(span.detailsLoaded, true);
  assert.equal(span.statusMessage, 'timeout');
  assert.deepEqual(span.attributes, [['db.system', 'sqlite']]);
  assert.equal(span.events[0].timeMicros, 155.5, "the span's start plus the event's offset");
  assert.deepEqual(data.spanService[2].resource, [['service.name', 'db']], 'the service had no resource yet');
  fillDetails(data, 3, { resource: [['service.name', 'other']] });
  assert.deepEqual(data.spanService[3].resource, [['service.name', 'db']], 'a resource already read stays');
});

test('spans that share an id take the details whose start is theirs', async () => {
  const { pickDetails } = await load('outline.mjs');
  const answers = [
    { spanID: '0000000000000002', startTimeUnixMicros: 1_700_000_000_000_100, attributes: [['k', 'v2']] },
    { spanID: '0000000000000002', startTimeUnixMicros: 1_700_000_000_000_900, attributes: [] },
    { spanID: '0000000000000003', startTimeUnixMicros: 1_700_000_000_000_100 },
  ];
  assert.equal(pickDetails(answers, '0000000000000002', 1_700_000_000_000_900), answers[1]);
  assert.equal(pickDetails(answers, '0000000000000002', 1_700_000_000_000_120), answers[0]);
  assert.equal(pickDetails(answers, '00000000000000ff', 0), undefined);
  assert.equal(pickDetails(null, '0000000000000002', 0), undefined);
});
