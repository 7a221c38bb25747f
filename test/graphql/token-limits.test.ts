// Token buckets and the event count of an operation, table-driven with explicit time.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'graphql';
import { TokenBuckets, eventsSent } from '../../src/graphql/token-limits.js';
import { buildSchema } from '../../src/graphql/schema.js';

describe('TokenBuckets', () => {
  test('a burst, then the rate', () => {
    const buckets = new TokenBuckets({ perSecond: 10, burst: 3 });
    const steps: { at: number; cost: number; wait: number }[] = [
      { at: 0, cost: 1, wait: 0 },
      { at: 0, cost: 1, wait: 0 },
      { at: 0, cost: 1, wait: 0 },
      { at: 0, cost: 1, wait: 100 },
      { at: 50, cost: 1, wait: 50 },
      { at: 100, cost: 1, wait: 0 },
      { at: 100, cost: 2, wait: 200 },
      { at: 10_000, cost: 3, wait: 0 },
      { at: 10_000, cost: 4, wait: Number.POSITIVE_INFINITY },
    ];
    for (const { at, cost, wait } of steps) assert.equal(buckets.take('t', cost, at), wait, `at ${at} ms, cost ${cost}`);
  });
  test('keys are independent', () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1 });
    assert.equal(buckets.take('a', 1, 0), 0);
    assert.ok(buckets.take('a', 1, 0) > 0);
    assert.equal(buckets.take('b', 1, 0), 0);
  });
  test('a refused take costs nothing', () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 2 });
    assert.equal(buckets.take('a', 1, 0), 0);
    assert.ok(buckets.take('a', 2, 0) > 0);
    assert.equal(buckets.take('a', 1, 0), 0, 'the one token left is still there');
  });
});

describe('eventsSent', () => {
  const schema = buildSchema();
  const count = (query: string, variableValues: Record<string, unknown> = {}) => eventsSent({ schema, document: parse(query), variableValues });
  const cases: { query: string; variables?: Record<string, unknown>; expected: number }[] = [
    { query: '{ __typename }', expected: 0 },
    { query: 'mutation { a: sendEvent(input: {}) { __typename } b: sendEvent(input: {}) { __typename } }', expected: 2 },
    { query: 'mutation { sendEvents(input: { events: [{}, {}, {}] }) { __typename } }', expected: 3 },
    { query: 'mutation($e: [EventInput!]!) { sendEvents(input: { events: $e }) { __typename } }', variables: { e: [{}, {}] }, expected: 2 },
    { query: 'mutation($i: SendEventsInput!) { sendEvents(input: $i) { __typename } }', variables: { i: { events: new Array(7).fill({}) } }, expected: 7 },
    { query: 'mutation { createTenant(input: { name: "x" }) { __typename } }', expected: 0 },
  ];
  for (const { query, variables, expected } of cases) test(query, () => assert.equal(count(query, variables), expected));
});
