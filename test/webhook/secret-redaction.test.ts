// The attempt log keeps no value of a hook's secrets, in any spelling it takes in a request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, redactValues, secretValues } from '../../src/webhook/secret-redaction.js';

test('secretValues: every string and number among the values, nested too, longest first; short ones left', () => {
  assert.deepEqual(secretValues({ token: 'tok_abcdef', nested: { pin: 123456, list: ['alpha-key'] }, short: 'ab', flag: true }), [
    'tok_abcdef',
    'alpha-key',
    '123456',
  ]);
  assert.deepEqual(secretValues({}), []);
});

const cases: [name: string, text: string, values: string[], expected: string][] = [
  ['as is, in a header value', 'Bearer tok_abcdef', ['tok_abcdef'], `Bearer ${REDACTED}`],
  ['every occurrence', 'tok_abcdef/tok_abcdef', ['tok_abcdef'], `${REDACTED}/${REDACTED}`],
  ['percent-encoded in a path', '/x/p%40ss%20word', ['p@ss word'], `/x/${REDACTED}`],
  ['JSON-escaped in a body', '{"k":"a\\"b\\\\c"}', ['a"b\\c'], `{"k":"${REDACTED}"}`],
  ['a value inside a longer one: the longer first', 'key-123456-long', ['key-123456-long', '123456'], REDACTED],
  ['nothing to redact', 'plain text', ['tok_abcdef'], 'plain text'],
];
for (const [name, text, values, expected] of cases) {
  test(`redactValues: ${name}`, () => assert.equal(redactValues(text, values), expected));
}
