// The one JSONata error decoder, as the request builder and hook validation both use it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJsonataError, describeJsonataFailure, type JsonataFailure } from '../../src/webhook/jsonata-error.js';
import { transformSyntaxFailure } from '../../src/webhook/transform.js';

describe('decodeJsonataError', () => {
  const cases: [string, unknown, JsonataFailure][] = [
    ['a JSONata error object', { code: 'S0202', position: 7, token: ')', message: 'Expected "]"' }, { message: 'Expected "]"', code: 'S0202', position: 7 }],
    ['an Error from a host function', new Error('boom'), { message: 'boom', code: undefined, position: undefined }],
    ['an object with odd field types', { code: 1, position: '2', message: 3 }, { message: '[object Object]', code: undefined, position: undefined }],
    ['a string', 'plain', { message: 'plain', code: undefined, position: undefined }],
    ['null', null, { message: 'null', code: undefined, position: undefined }],
  ];
  for (const [name, error, expected] of cases) {
    it(name, () => assert.deepEqual(decodeJsonataError(error), expected));
  }
});

describe('describeJsonataFailure', () => {
  const cases: [JsonataFailure, string][] = [
    [{ message: 'm', code: 'T2001', position: 3 }, 'x at position 3 (T2001): m'],
    [{ message: 'm', code: undefined, position: 3 }, 'x at position 3: m'],
    [{ message: 'm', code: 'T2001', position: undefined }, 'x (T2001): m'],
    [{ message: 'm', code: undefined, position: undefined }, 'x: m'],
  ];
  for (const [failure, expected] of cases) {
    it(expected, () => assert.equal(describeJsonataFailure('x', failure), expected));
  }
});

describe('transformSyntaxFailure', () => {
  it('is null for a valid expression', () => assert.equal(transformSyntaxFailure('{"id": data.id}'), null));
  it('decodes a syntax error with its code and position', () => {
    const failure = transformSyntaxFailure('{"a": $foo(');
    assert.ok(failure);
    assert.match(failure.code ?? '', /^S0\d{3}$/);
    assert.equal(typeof failure.position, 'number');
  });
});
