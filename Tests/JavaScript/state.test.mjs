// state.mjs: collapsing and visible rows, selection moves, zoom windows and find matches of the explorer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { load, sampleModel } from './assets.mjs';

const { prepare } = await load('model.mjs');
const { prepareLogs } = await load('logs.mjs');
const { TraceState, VIEWS } = await load('state.mjs');

function state() {
  const data = prepare(sampleModel());
  const trace = new TraceState(data, prepareLogs(null, data));
  trace.recomputeVisible();
  return trace;
}

const rows = (trace) => Array.from(trace.visible.subarray(0, trace.visibleCount));

test('every span is a row until one is collapsed; then its descendants are hidden', () => {
  const trace = state();
  assert.deepEqual(rows(trace), [0, 1, 2, 3]);
  trace.collapsed[1] = 1;
  assert.equal(trace.recomputeVisible(), 3);
  assert.deepEqual(rows(trace), [0, 1, 3]);
  assert.equal(trace.rowOf[2], -1);
  assert.equal(trace.rowOf[3], 2);
});

test('only spans with children count as having children', () => {
  const trace = state();
  assert.deepEqual([0, 1, 2, 3].map((i) => trace.hasChildren(i)), [true, true, false, false]);
});

test('collapse all leaves the roots and answers the selection\'s root', () => {
  const trace = state();
  trace.selected = 2;
  assert.equal(trace.collapseAll(), 0);
  assert.deepEqual(Array.from(trace.collapsed), [1, 1, 0, 0]);
  assert.equal(trace.recomputeVisible(), 1);
  trace.selected = -1;
  assert.equal(trace.collapseAll(), -1);
});

test('expanding ancestors opens the collapsed ones only', () => {
  const trace = state();
  trace.collapsed[0] = 1;
  trace.collapsed[1] = 1;
  assert.equal(trace.expandAncestors(2), true);
  assert.deepEqual(Array.from(trace.collapsed), [0, 0, 0, 0]);
  assert.equal(trace.expandAncestors(2), false);
});

test('the selected row is the nearest visible ancestor\'s; moves are clamped', () => {
  const trace = state();
  assert.equal(trace.selectedRow(), -1);
  assert.equal(trace.spanAfterSelection(1), 0, 'without a selection, down starts at the top');
  assert.equal(trace.spanAfterSelection(-1), 3, 'and up at the bottom');
  trace.selected = 2;
  trace.collapsed[1] = 1;
  trace.recomputeVisible();
  assert.equal(trace.selectedRow(), 1);
  assert.equal(trace.spanAfterSelection(1), 3);
  trace.selected = 3;
  assert.equal(trace.spanAfterSelection(1), 3, 'the last row stays');
});

test('the zoom window is clamped and says whether it is the whole trace', () => {
  const trace = state();
  assert.equal(trace.zoomed, false);
  assert.equal(trace.setWindow(600, 200), false);
  assert.deepEqual([trace.viewStart, trace.viewEnd], [200, 600]);
  assert.equal(trace.zoomed, true);
  assert.equal(trace.setWindow(-1, 5000), true);
  assert.equal(trace.zoomed, false);
});

test('find marks matches; the haystacks are built on the first query only', () => {
  const trace = state();
  assert.equal(trace.find(''), '');
  assert.equal(trace.haystacks, null);
  assert.equal(trace.find(' Payments '), 'payments');
  assert.equal(trace.matchCount, 2);
  assert.deepEqual(Array.from(trace.matches), [0, 1, 1, 0]);
  trace.find('');
  assert.equal(trace.matches, null);
  assert.equal(trace.matchCount, 0);
});

test('the next match prefers visible rows and wraps; hidden matches need revealing', () => {
  const trace = state();
  assert.equal(trace.nextMatch(1), null, 'no query');
  trace.find('payments');
  assert.deepEqual(trace.nextMatch(1), { index: 1, hidden: false });
  trace.selected = 1;
  assert.deepEqual(trace.nextMatch(1), { index: 2, hidden: false });
  assert.deepEqual(trace.nextMatch(-1), { index: 2, hidden: false }, 'backwards wraps to the last');
  trace.find('db.query');
  trace.collapsed[1] = 1;
  trace.recomputeVisible();
  trace.selected = -1;
  assert.deepEqual(trace.nextMatch(1), { index: 2, hidden: true });
});

test('the views are the four tabs', () => {
  assert.deepEqual(Object.keys(VIEWS), ['timeline', 'flamegraph', 'statistics', 'logs']);
});
