// The cost model, table-driven over the real schema: list fields multiply by `first` (literal,
// variable or the default page size), nested multiplicatively; fragments count once per use.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'graphql';
import { UNBOUNDED_LIST_SIZE, measureOperation, operationCost, selectedOperation } from '../../src/graphql/cost.js';
import { buildSchema } from '../../src/graphql/schema.js';

const schema = buildSchema();
const options = { defaultPageSize: 20, maxPageSize: 100, unboundedListSize: UNBOUNDED_LIST_SIZE };

function cost(query: string, variables: Record<string, unknown> = {}, operationName?: string): number {
  const document = parse(query);
  const operation = selectedOperation(document, operationName);
  assert.ok(operation, 'an operation to run');
  return operationCost(schema, document, operation, variables, options);
}

describe('operationCost', () => {
  const cases: { name: string; query: string; variables?: Record<string, unknown>; expected: number }[] = [
    { name: 'a scalar', query: '{ __typename }', expected: 1 },
    { name: 'a default page of ids', query: '{ endpoints { nodes { id } } }', expected: 1 + 20 * (1 + 1) },
    { name: 'a literal first', query: '{ endpoints(first: 5) { nodes { id url } } }', expected: 1 + 5 * (1 + 2) },
    { name: 'first from a variable', query: 'query($n: Int) { endpoints(first: $n) { nodes { id } } }', variables: { n: 50 }, expected: 1 + 50 * 2 },
    { name: 'first over the maximum counts as the maximum', query: '{ endpoints(first: 1000) { nodes { id } } }', expected: 1 + 100 * 2 },
    { name: 'an unset variable counts as the default page', query: 'query($n: Int) { endpoints(first: $n) { nodes { id } } }', expected: 1 + 20 * 2 },
    {
      name: 'nested pages multiply',
      query: '{ endpoints(first: 10) { nodes { tenant { endpoints(first: 10) { nodes { id } } } } } }',
      expected: 1 + 10 * (1 + (1 + (1 + 10 * 2))),
    },
    { name: 'nodes(ids) counts its ids', query: '{ nodes(ids: ["a", "b", "c"]) { id } }', expected: 1 + 3 * 1 },
    {
      name: 'a fragment counts like its fields',
      query: 'fragment F on Endpoint { id url } { endpoints(first: 2) { nodes { ...F } } }',
      expected: 1 + 2 * (1 + 2),
    },
    { name: 'aliases add up', query: '{ a: endpoints(first: 2) { nodes { id } } b: endpoints(first: 3) { nodes { id } } }', expected: 1 + 2 * 2 + 1 + 3 * 2 },
    { name: 'other lists of objects take the fixed estimate', query: '{ endpoints(first: 1) { nodes { signingSecrets { id } } } }', expected: 1 + 1 * (1 + (1 + 10 * 1)) },
  ];
  for (const { name, query, variables, expected } of cases) {
    test(name, () => assert.equal(cost(query, variables), expected));
  }

  test('the operation is picked by name', () => {
    const query = 'query A { __typename } query B { endpoints(first: 3) { nodes { id } } }';
    assert.equal(cost(query, {}, 'B'), 1 + 3 * 2);
    assert.equal(selectedOperation(parse(query)), null, 'two operations and no name: none to pick');
  });

  // The cost limit keeps the cost of an operation that reads no variable (see useCostLimit): it
  // must be told of every variable a count depends on, and of none that it does not.
  const readsVariables: { query: string; reads: boolean }[] = [
    { query: '{ endpoints(first: 3) { nodes { id } } }', reads: false },
    { query: 'query($n: Int) { endpoints(first: $n) { nodes { id } } }', reads: true },
    { query: 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', reads: true },
    { query: 'query($a: ID!, $b: ID!) { nodes(ids: [$a, $b]) { id } }', reads: false },
    { query: 'query($n: Int) { ...F } fragment F on Query { endpoints(first: $n) { nodes { id } } }', reads: true },
    { query: 'mutation($input: SendEventInput!) { sendEvent(input: $input) { __typename } }', reads: false },
  ];
  for (const { query, reads } of readsVariables) {
    test(`reads a variable: ${reads} for ${query}`, () => {
      const document = parse(query);
      const operation = selectedOperation(document);
      assert.ok(operation);
      assert.equal(measureOperation(schema, document, operation, { n: 5, ids: ['a'], a: 'a', b: 'b' }, options).readsVariables, reads);
    });
  }

  test('a fragment bomb is counted without expanding it', () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1 ? `fragment F${i} on Query { __typename }` : `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
    ).join('\n');
    const started = performance.now();
    const value = cost(`${fragments}\n{ ...F0 }`);
    assert.ok(performance.now() - started < 100, 'counted in well under 100 ms');
    assert.equal(value, 2 ** (levels - 1), 'the cost is still what the expansion would return');
  });
});
