import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyTemplateProblems, fillBodyTemplate } from '../../src/webhook/body-template.js';
import { buildRequest, RequestBuildError, type RequestContext } from '../../src/webhook/request.js';
import type { TemplateScope } from '../../src/webhook/template-scope.js';

const SCOPE: TemplateScope = {
  event: { id: 'msg_1', type: 'invoice.paid', channels: ['eu'], occurredAt: '2026-01-01T00:00:00.000Z', createdAt: '2026-01-01T00:00:00.000Z' },
  data: { id: 'in_1', amount: 4.5, paid: true, none: null, lines: [{ sku: 'a' }] },
  settings: { folder: 'inbox' },
  secrets: {},
  hook: { id: 'hook_1', name: 'Invoices' },
  tenant: { id: 'tnt_1', name: 'Acme' },
  captures: {},
};

describe('fillBodyTemplate', () => {
  it('keeps the type of a whole-string placeholder, and reads array indices', () => {
    const { text, contentType } = fillBodyTemplate(
      { kind: 'JSON', body: { a: '{{data.amount}}', b: '{{data.paid}}', c: '{{data.none}}', d: '{{data.lines.0.sku}}', e: '{{data.lines}}' } },
      SCOPE,
    );
    assert.equal(contentType, 'application/json');
    assert.deepEqual(JSON.parse(text), { a: 4.5, b: true, c: null, d: 'a', e: [{ sku: 'a' }] });
  });

  it('stringifies inside text: strings as they are, the rest as JSON', () => {
    const { text } = fillBodyTemplate({ kind: 'TEXT', body: '{{data.id}} {{data.amount}} {{data.none}} {{data.lines}}' }, SCOPE);
    assert.equal(text, 'in_1 4.5 null [{"sku":"a"}]');
  });

  it('refuses a placeholder without a value, and does not reach prototypes', () => {
    for (const body of ['{{data.missing}}', '{{data.constructor}}', '{{data.id.length}}']) {
      assert.throws(() => fillBodyTemplate({ kind: 'JSON', body }, SCOPE), (error: unknown) => error instanceof RequestBuildError && error.stage === 'template');
    }
  });

  it('refuses a result over the body bound', () => {
    const big = { ...SCOPE, data: { text: 'x'.repeat(3 * 1024 * 1024) } };
    assert.throws(() => fillBodyTemplate({ kind: 'TEXT', body: '{{data.text}}' }, big), /larger than/);
  });
});

describe('bodyTemplateProblems', () => {
  it('names the place of each problem inside the body', () => {
    const problems = bodyTemplateProblems({ kind: 'JSON', body: { a: ['ok {{data.id}}', '{{ nope.x }}'], b: { c: '{{data.id' } } });
    assert.deepEqual(
      problems.map((p) => p.path.join('.')),
      ['a.1', 'b.c'],
    );
  });

  it('accepts literal text and every scope root', () => {
    assert.deepEqual(bodyTemplateProblems({ kind: 'TEXT', body: 'plain {{event.id}}{{data}}{{settings.folder}}{{hook.name}}{{tenant.id}}' }), []);
  });
});

describe('buildRequest with a text template in CloudEvents structured mode', () => {
  it('sends the text as the string data under its own datacontenttype', async () => {
    const context: RequestContext = {
      event: { id: 'msg_1', type: 'invoice.paid', payload: SCOPE.data, payloadJson: JSON.stringify(SCOPE.data), channels: [], occurredAt: new Date(0), createdAt: new Date(0) },
      hook: { id: 'hook_1', name: 'Invoices', method: 'POST', path: null, format: 'CLOUDEVENTS', transform: null, template: { kind: 'TEXT', body: 'id {{data.id}}' }, settings: {}, secrets: {}, headers: {} },
      endpoint: { id: 'ep_1', url: 'https://receiver.test/x', auth: { type: 'NONE' }, headers: {}, secrets: [Buffer.alloc(32, 1)] },
      tenant: { id: 'tnt_1', name: 'Acme' },
      deliveryId: 'dlv_1',
      timestamp: 1,
      userAgent: 'Switchyard/test',
    };
    const request = await buildRequest(context);
    const event = JSON.parse(request.bodyText ?? '');
    assert.equal(request.headers['content-type'], 'application/cloudevents+json');
    assert.equal(event.datacontenttype, 'text/plain; charset=utf-8');
    assert.equal(event.data, 'id in_1');
  });
});
