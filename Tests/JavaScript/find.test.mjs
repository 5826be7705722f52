// find.mjs: what find searches per span, which spans a query matches, and the next match.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { load, sampleModel } from './assets.mjs';

const { prepare } = await load('model.mjs');
const { buildHaystacks, findMatches, nextPosition } = await load('find.mjs');

const haystacks = buildHaystacks(prepare(sampleModel()));

test('a haystack holds the name, service, span id, attributes, events and resource, in lower case', () => {
  const root = haystacks[0].split('\u0000');
  assert.deepEqual(root, ['get /', 'shop', '0000000000000001', 'http.request.method', 'get', 'service.name', 'shop', 'host.name', 'web-1']);
  assert.ok(haystacks[1].includes('card.declined') && haystacks[1].includes('visa'), 'event names and attributes');
  assert.ok(!haystacks[1].includes('web-1'), 'another service\'s resource');
});

test('words are alternatives, case-insensitive', () => {
  const found = findMatches(haystacks, '  CHARGE render ');
  assert.equal(found.query, 'charge render');
  assert.deepEqual(Array.from(found.matches), [0, 1, 0, 1]);
  assert.equal(found.count, 2);
});

test('a word starting with - excludes spans; alone it matches every other span', () => {
  assert.deepEqual(Array.from(findMatches(haystacks, 'payments -charge').matches), [0, 0, 1, 0]);
  assert.deepEqual(Array.from(findMatches(haystacks, '-shop').matches), [0, 1, 1, 0]);
  assert.equal(findMatches(haystacks, '-').count, 4, 'a lone dash is no word');
});

test('resource attributes and event attributes are found', () => {
  assert.equal(findMatches(haystacks, 'web-1').count, 2);
  assert.equal(findMatches(haystacks, 'visa').count, 1);
});

test('an empty query matches nothing and marks nothing', () => {
  assert.deepEqual(findMatches(haystacks, '   '), { query: '', matches: null, count: 0 });
  assert.deepEqual(findMatches(haystacks, null), { query: '', matches: null, count: 0 });
});

test('the next position wraps around, and starts at an end without a position', () => {
  const even = (at) => at % 2 === 0;
  assert.equal(nextPosition(-1, 5, 1, even), 0);
  assert.equal(nextPosition(-1, 5, -1, even), 4);
  assert.equal(nextPosition(4, 5, 1, even), 0);
  assert.equal(nextPosition(0, 5, -1, even), 4);
  assert.equal(nextPosition(2, 5, 1, even), 4);
  assert.equal(nextPosition(2, 5, 1, (at) => at === 2), 2, 'itself after a full turn');
  assert.equal(nextPosition(1, 5, 1, () => false), -1);
  assert.equal(nextPosition(-1, 0, 1, () => true), -1);
});

test('a NUL in the query matches nothing across a span text\'s parts', async () => {
  const { findMatches } = await load('find.mjs');
  const found = findMatches(['name\u0000service', 'other'], '\u0000');
  assert.equal(found.count, 0, 'a query of only NUL is empty');
  assert.equal(findMatches(['name\u0000service'], 'na\u0000me').count, 1, 'NUL is dropped from a word');
});
