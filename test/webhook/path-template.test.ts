// The RFC 6570 module on its own: the grammar check hooks are saved with, and the expansion every request uses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathTemplateProblems, resolvePathTemplate } from '../../src/webhook/path-template.js';
import { RequestBuildError } from '../../src/webhook/request-error.js';
import type { TemplateScope } from '../../src/webhook/template-scope.js';

const scope: TemplateScope = {
  event: { id: 'msg_1', type: 'doc.created', channels: [], occurredAt: '2026-01-01T00:00:00.000Z', createdAt: '2026-01-01T00:00:00.000Z' },
  data: { id: 42, name: 'a b', tags: ['x', 'y'], nested: { deep: { no: 1 } }, empty: '' },
  settings: { prefix: 'p' },
  secrets: {},
  hook: { id: 'hook_1', name: 'h' },
  tenant: { id: 'tnt_1', name: 't' },
  captures: { create: { remote_id: 'R-1' } },
};

describe('pathTemplateProblems', () => {
  const cases: [string, string, RegExp | null][] = [
    ['a plain path', '/documents', null],
    ['a variable', '/documents/{data.id}', null],
    ['a capture of a hook run before', '/documents/{captures.create.remote_id}', null],
    ['a query expression', '/d{?settings.prefix,data.id}', null],
    ['a modifier and an explode', '/d/{data.name:3}/{/data.tags*}', null],
    ['an unclosed expression', '/d/{data.id', /not closed/],
    ['a stray brace', '/d}/x', /unexpected "}"/],
    ['a variable outside the scope', '/d/{secret}', /must start with one of data\./],
    ['a bad variable name', '/d/{data.a-b}', /not a variable name/],
    ['a bad modifier', '/d/{data.id:0}', /not a modifier/],
    ['a reserved operator', '/d/{=data.id}', /reserved/],
    ['an expression without a variable', '/d/{+}', /names no variable/],
    ['a forbidden literal', '/d/a b', /percent-encode/],
    ['a bare percent', '/d/%zz', /percent-encoded byte/],
    ['an absolute URL', 'https://evil.test/{data.id}', /scheme, host or port/],
    ['a network-path reference', '//evil.test/x', /scheme, host or port/],
  ];
  for (const [name, source, expected] of cases) {
    it(name, () => {
      const problems = pathTemplateProblems(source);
      if (expected === null) assert.deepEqual(problems, []);
      else assert.ok(problems.some((p) => expected.test(p)), `${JSON.stringify(problems)} should match ${expected}`);
    });
  }
});

describe('resolvePathTemplate', () => {
  const cases: [string, string, string, string | RegExp][] = [
    ['appends to the endpoint path', 'https://x.test/hooks', '/documents/{data.id}', 'https://x.test/hooks/documents/42'],
    ['percent-encodes a value', 'https://x.test/', '/n/{data.name}', 'https://x.test/n/a%20b'],
    ['keeps the endpoint query first', 'https://x.test/h?a=1', '/d{?data.id}', 'https://x.test/h/d?a=1&data.id=42'],
    ['omits an empty optional variable', 'https://x.test/h', '/d{?data.empty}', 'https://x.test/h/d'],
    ['drops a fragment', 'https://x.test/h', '/d{#data.id}', 'https://x.test/h/d'],
    ['refuses an empty required variable', 'https://x.test/h', '/d/{data.empty}', /has no value/],
    ['refuses a nested object', 'https://x.test/h', '/d/{data.nested}', /nested object/],
    ['reads a capture', 'https://x.test/h', '/documents/{captures.create.remote_id}', 'https://x.test/h/documents/R-1'],
    ['refuses a capture that is absent', 'https://x.test/h', '/documents/{captures.other.remote_id}', /has no value/],
    ['refuses a prototype lookup', 'https://x.test/h', '/d/{data.constructor}', /has no value/],
    ['refuses a dot-dot segment', 'https://x.test/h', '/{+data.name}/../x', /"\." or "\.\."/],
    ['refuses an encoded dot-dot segment', 'https://x.test/h', '/%2e%2e/x', /"\." or "\.\."/],
  ];
  for (const [name, endpointUrl, source, expected] of cases) {
    it(name, () => {
      if (typeof expected === 'string') {
        assert.equal(resolvePathTemplate(source, endpointUrl, scope), expected);
      } else {
        assert.throws(() => resolvePathTemplate(source, endpointUrl, scope), (error: unknown) => {
          assert.ok(error instanceof RequestBuildError);
          assert.equal(error.stage, 'path');
          assert.match(error.message, expected);
          return true;
        });
      }
    });
  }
});
