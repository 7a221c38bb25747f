// Body templates through the public API: what the receiver gets for each kind, what is refused at
// save, and transforms or templates that parse but fail when run on the hook's known payloads.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifyWebhook } from '../../sdk/src/index.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createTenant, sendEvent } from '../helpers/fixtures.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const CREATE = `mutation($input: CreateHookInput!) { createHook(input: $input) {
  __typename
  ... on HookPayload { hook { id template { kind body contentType } transform } }
  ... on ValidationError { problems { path message } }
  ... on Error { message }
} }`;

const UPDATE = `mutation($input: UpdateHookInput!) { updateHook(input: $input) {
  __typename
  ... on HookPayload { hook { id template { kind body } transform } }
  ... on ValidationError { problems { path message } }
  ... on Error { message }
} }`;

interface Problem {
  path: string[];
  message: string;
}

function problemAt(result: { __typename: string; problems?: Problem[] }, path: string[]): Problem {
  assert.equal(result.__typename, 'ValidationError', JSON.stringify(result));
  const found = result.problems?.find((p) => JSON.stringify(p.path) === JSON.stringify(path));
  assert.ok(found, `a problem at ${path.join('.')}: ${JSON.stringify(result.problems)}`);
  return found;
}

for (const dialect of TEST_DIALECTS) {
  describe(`hook body templates (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let tenantId: string;
    let endpointId: string;
    let secret: string;

    const create = async (input: Record<string, unknown>) =>
      (await t.ok(CREATE, { input: { tenantId, endpointId, name: 'templated', eventTypes: ['tpl.sent'], ...input } })).createHook;

    /** Creates the hook, sends one event to it alone and returns the request the receiver got. */
    async function deliver(hook: Record<string, unknown>, payload: unknown) {
      const created = await create({ eventTypes: ['tpl.sent'], ...hook });
      assert.equal(created.__typename, 'HookPayload', JSON.stringify(created));
      const before = receiver.requests.length;
      await sendEvent(t, tenantId, payload, { type: 'tpl.sent' });
      const [request] = (await receiver.waitFor(before + 1)).slice(before);
      assert.ok(request);
      verifyWebhook({ secret, headers: request.headers, body: request.body });
      // one hook at a time: the next case's event must not reach this one
      await t.ok(`mutation($id: ID!) { deleteHook(input: {id: $id}) { __typename } }`, { id: created.hook.id });
      return request;
    }

    before(async () => {
      t = await startTestApp({ dialect });
      receiver = await startReceiver();
      tenantId = await createTenant(t, 'Acme');
      for (const name of ['tpl.sent', 'tpl.example']) {
        const examples = name === 'tpl.example' ? [{ id: 'in_1' }] : [];
        await t.ok(`mutation($n: String!, $e: [JSON!]) { createEventType(input: {name: $n, examples: $e}) { __typename } }`, { n: name, e: examples });
      }
      ({ endpointId, secret } = await createEndpoint(t, tenantId, `${receiver.url}/in`));
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    test('JSON: a whole-string placeholder keeps its type, one inside text is stringified', async () => {
      const body = {
        id: '{{data.id}}',
        amount: '{{ data.amount }}',
        lines: '{{data.lines}}',
        note: 'paid {{data.amount}} by {{tenant.name}} ({{data.lines}})',
        context: ['{{event.type}}', '{{settings.folder}}', 'literal', 3],
      };
      const request = await deliver({ template: { body }, settings: { folder: 'inbox' } }, { id: 'in_1', amount: 42, lines: [1, 2] });
      assert.equal(request.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(request.body.toString('utf8')), {
        id: 'in_1',
        amount: 42,
        lines: [1, 2],
        note: 'paid 42 by Acme ([1,2])',
        context: ['tpl.sent', 'inbox', 'literal', 3],
      });
    });

    test('JSON: a "__proto__" key stays a key of the body', async () => {
      const request = await deliver({ template: { body: JSON.parse('{"__proto__": "{{data.id}}"}') } }, { id: 'in_9' });
      assert.equal(request.body.toString('utf8'), '{"__proto__":"in_9"}');
    });

    test('FORM and TEXT: their content types; form values are form-encoded', async () => {
      const form = await deliver({ template: { kind: 'FORM', body: 'id={{data.id}}&who={{data.who}}' } }, { id: 'in_2', who: 'a b&c=d' });
      assert.equal(form.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(form.body.toString('utf8'), 'id=in_2&who=a+b%26c%3Dd');
      assert.equal(new URLSearchParams(form.body.toString('utf8')).get('who'), 'a b&c=d');

      const text = await deliver({ template: { kind: 'TEXT', body: 'Invoice {{data.id}}: {{data.total}}' } }, { id: 'in_3', total: { eur: 5 } });
      assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(text.body.toString('utf8'), 'Invoice in_3: {"eur":5}');
    });

    test('the template reads back as saved, with its content type', async () => {
      const created = await create({ template: { kind: 'TEXT', body: 'hi {{data.id}}' } });
      assert.deepEqual(created.hook.template, { kind: 'TEXT', body: 'hi {{data.id}}', contentType: 'text/plain; charset=utf-8' });
      const cleared = (await t.ok(UPDATE, { input: { id: created.hook.id, template: null } })).updateHook;
      assert.equal(cleared.hook.template, null);
    });

    test('refused at save at the field: unknown roots, bad placeholders, a non-string text template, template with a transform', async () => {
      const unknown = await create({ template: { body: { a: { b: ['x', '{{payload.id}}'] } } } });
      assert.match(problemAt(unknown, ['input', 'template', 'body', 'a', 'b', '1']).message, /must start with one of data\./);
      const unclosed = await create({ template: { kind: 'TEXT', body: 'id={{data.id' } });
      assert.match(problemAt(unclosed, ['input', 'template', 'body']).message, /not closed/);
      const notPath = await create({ template: { body: '{{data.id | upper}}' } });
      problemAt(notPath, ['input', 'template', 'body']);
      const notString = await create({ template: { kind: 'FORM', body: { a: 1 } } });
      assert.match(problemAt(notString, ['input', 'template', 'body']).message, /is a string/);
      const both = await create({ template: { body: '{{data}}' }, transform: 'data' });
      assert.match(problemAt(both, ['input', 'template']).message, /not both/);
    });

    test('a transform that parses but fails when run is refused, on the test payload or the examples', async () => {
      const onTestPayload = await create({ transform: '$nosuchfunction(data.id)', testPayload: { id: 'x' } });
      assert.match(problemAt(onTestPayload, ['input', 'transform']).message, /fails on the test payload/);
      const onExample = await create({ eventTypes: ['tpl.example'], transform: '{"n": data.id.$nosuch()}' });
      assert.match(problemAt(onExample, ['input', 'transform']).message, /fails on example 1 of tpl\.example/);
      const templateOnExample = await create({ eventTypes: ['tpl.example'], template: { body: { total: '{{data.total}}' } } });
      assert.match(problemAt(templateOnExample, ['input', 'template']).message, /example 1 of tpl\.example: .*\{\{data\.total\}\} has no value/);
      // Nothing known to run it on: saved (it would fail per event, visibly, in the attempt log).
      const unknown = await create({ transform: '$nosuchfunction(data.id)' });
      assert.equal(unknown.__typename, 'HookPayload', JSON.stringify(unknown));

      // On update too: the hook as it will be is tried.
      const good = await create({ eventTypes: ['tpl.example'], template: { body: { id: '{{data.id}}' } } });
      assert.equal(good.__typename, 'HookPayload', JSON.stringify(good));
      const broken = (await t.ok(UPDATE, { input: { id: good.hook.id, template: { body: '{{data.missing}}' } } })).updateHook;
      problemAt(broken, ['input', 'template']);
    });
  });
}
