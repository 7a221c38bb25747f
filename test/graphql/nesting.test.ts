// The nesting limits, table-driven: bracket depth of a document's text, and the depth of a JSON input.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { documentNesting } from '../../src/graphql/document-nesting.js';
import { MAX_JSON_DEPTH, pathTooDeep } from '../../src/json-depth.js';

describe('documentNesting', () => {
  const cases: { source: string; expected: number }[] = [
    { source: '', expected: 0 },
    { source: '{ __typename }', expected: 1 },
    { source: '{ a { b { c } } }', expected: 3 },
    { source: 'query($x: [ID!]) { nodes(ids: [["a"]]) { id } }', expected: 4 },
    { source: '{ a(s: "{{{{[[[[") }', expected: 2 },
    { source: '{ a(s: "\\"{{{{") }', expected: 2 },
    { source: '{ a(s: """ {{{{ \\""" [[[[ """) }', expected: 2 },
    { source: '# {{{{{{\n{ a }', expected: 1 },
    { source: `{ nodes(ids: ${'['.repeat(5000)}"x"${']'.repeat(5000)}) { id } }`, expected: 5002 },
    { source: '"""never closed {{{{', expected: 0 },
  ];
  for (const { source, expected } of cases) {
    test(source.length > 60 ? `${source.slice(0, 60)}…` : source || '(empty)', () => assert.equal(documentNesting(source), expected));
  }
});

describe('pathTooDeep', () => {
  const nest = (levels: number, leaf: unknown = 1): unknown => {
    let value = leaf;
    for (let i = 0; i < levels; i++) value = { a: value };
    return value;
  };
  test('flat and shallow values pass', () => {
    for (const value of [null, 1, 'x', [], {}, { a: [1, { b: 2 }] }, nest(MAX_JSON_DEPTH - 1)]) assert.equal(pathTooDeep(value), null);
  });
  test('the path to where it went too deep', () => {
    assert.deepEqual(pathTooDeep({ payload: nest(5) }, 3), ['payload', 'a', 'a']);
    assert.deepEqual(pathTooDeep({ list: [[[[1]]]] }, 3), ['list', '0', '0']);
    assert.equal(pathTooDeep({ ok: nest(2), fine: [1, 2] }, 3), null);
  });
  test('a value deep enough to overflow a recursive walk is answered, not thrown', () => {
    const path = pathTooDeep({ payload: nest(200_000) });
    assert.equal(path?.length, MAX_JSON_DEPTH);
    assert.equal(path?.[0], 'payload');
  });
});
