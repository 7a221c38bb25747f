// Response capture (issue 14): a hook keeps what it needs of the receiver's answer, and the hooks
// that run after it for the same event read it, e.g. the id a remote system assigned on create,
// which the follow-up's DELETE /documents/{id} needs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'graphql-ws';
import { MAX_CAPTURE_CHAIN } from '../../src/webhook/capture.js';
import { ADMIN_TOKEN, TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, ensureEventType, sendEvent, waitForDelivery } from '../helpers/fixtures.js';
import { startReceiver, type Receiver, type ReceivedRequest } from '../helpers/receiver.js';
import { serverSubscribed, wsClient } from '../helpers/ws.js';

const DELIVERY = `query($id: ID!) { node(id: $id) { ... on Delivery { id status captured captureError lastStatusCode } } }`;
const CREATE = `mutation($input: CreateHookInput!) { createHook(input: $input) {
  __typename ... on HookPayload { hook { id capture } } ... on ValidationError { problems { path message } } } }`;

/** The first `count` deliveryUpdated messages of a subscription; `ready` once the server has it live. */
function collect(t: TestApp, client: Client, variables: Record<string, unknown>, count: number) {
  const received: any[] = [];
  const ready = serverSubscribed(t, 'delivery');
  const done = new Promise<any[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${count} messages`)), 10_000);
    const dispose = client.subscribe(
      { query: `subscription($f: DeliverySubscriptionFilter) { deliveryUpdated(filter: $f) { id status captured captureError } }`, variables },
      {
        next: (message) => {
          received.push(message.data?.deliveryUpdated);
          if (received.length === count) {
            clearTimeout(timer);
            dispose();
            resolve(received);
          }
        },
        error: reject,
        complete: () => undefined,
      },
    );
  });
  return { ready, done };
}

for (const dialect of TEST_DIALECTS) {
  describe(`response capture (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;

    before(async () => {
      t = await startTestApp({ dialect });
      receiver = await startReceiver();
      receiver.setDefault((req, res) => {
        if (req.method === 'POST' && req.url?.endsWith('/documents')) {
          res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', location: '/documents/R-1' }).end('{"remote_id":"R-1"}');
        } else if (req.url?.endsWith('/text')) {
          res.writeHead(202, { 'content-type': 'text/plain', 'x-remote-id': 'T-7' }).end('queued');
        } else if (req.url?.endsWith('/broken')) {
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"remote_id":"never"}');
        } else {
          res.writeHead(204).end();
        }
      });
      await ensureEventType(t, 'doc.created');
      await ensureEventType(t, 'doc.indexed', { type: 'object', required: ['remote_id'], properties: { remote_id: { type: 'string' } } });
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    const requestsTo = (predicate: (r: ReceivedRequest) => boolean) => receiver.requests.filter(predicate);
    async function requestTo(predicate: (r: ReceivedRequest) => boolean): Promise<ReceivedRequest> {
      for (;;) {
        const found = requestsTo(predicate)[0];
        if (found) return found;
        await receiver.waitFor(receiver.requests.length + 1);
      }
    }

    /** A tenant with one endpoint at `path` on the receiver. */
    async function tenantWithEndpoint(name: string, path = '') {
      const tenantId = await createTenant(t, name);
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/${name}${path}`);
      return { tenantId, endpointId };
    }

    const delivered = (hookId: string, eventId: string) => (d: { hook_id: string | null; event_id: string }) => d.hook_id === hookId && d.event_id === eventId;

    test('publish → 201 with an id → captured → the follow-up DELETE /documents/{captured id} reaches the receiver', async () => {
      const { tenantId, endpointId } = await tenantWithEndpoint('invenio');
      const create = await createHook(t, tenantId, endpointId, {
        name: 'create',
        eventTypes: ['doc.created'],
        path: '/documents',
        capture: '{"remote_id": response.body.remote_id}',
      });
      const remove = await createHook(t, tenantId, endpointId, {
        name: 'delete',
        eventTypes: ['doc.created'],
        runAfter: [create],
        method: 'DELETE',
        path: '/documents/{captures.create.remote_id}',
        headers: { 'x-remote-id': '{{captures.create.remote_id}}' },
      });
      // by id, in a transform
      const byId = await createHook(t, tenantId, endpointId, {
        name: 'audit',
        eventTypes: ['doc.created'],
        runAfter: [create],
        path: '/audit',
        transform: `{"remote": $lookup(captures, "${create}").remote_id, "doc": data.id}`,
      });

      const client = wsClient(t, ADMIN_TOKEN);
      const updates = collect(t, client, { f: { hookId: create } }, 3);
      await updates.ready;
      const sent = await sendEvent(t, tenantId, { id: 'doc-1' }, { type: 'doc.created' });

      const deletion = await requestTo((r) => r.method === 'DELETE' && r.url.startsWith('/invenio/'));
      assert.equal(deletion.url, '/invenio/documents/R-1');
      assert.equal(deletion.headers['x-remote-id'], 'R-1');
      const audit = await requestTo((r) => r.url === '/invenio/audit');
      assert.deepEqual(JSON.parse(audit.body.toString('utf8')), { remote: 'R-1', doc: 'doc-1' });

      const createDelivery = await waitForDelivery(t, delivered(create, sent.event.id), 'SUCCEEDED');
      const read = (await t.ok(DELIVERY, { id: createDelivery.id })).node;
      assert.deepEqual(read, { id: createDelivery.id, status: 'SUCCEEDED', captured: { remote_id: 'R-1' }, captureError: null, lastStatusCode: 201 });
      for (const hookId of [remove, byId]) await waitForDelivery(t, delivered(hookId, sent.event.id), 'SUCCEEDED');

      const states = await updates.done;
      assert.deepEqual(
        states.map((d) => [d.status, d.captured]),
        [
          ['PENDING', null],
          ['SENDING', null],
          ['SUCCEEDED', { remote_id: 'R-1' }],
        ],
      );
      await client.dispose();
    });

    test('a capture reads the response headers, a text body, the status and the event', async () => {
      const { tenantId, endpointId } = await tenantWithEndpoint('headers', '/text');
      const hookId = await createHook(t, tenantId, endpointId, {
        eventTypes: ['doc.created'],
        capture: '{"id": response.headers."x-remote-id", "body": response.body, "status": response.status, "type": event.type, "doc": data.id}',
      });
      const sent = await sendEvent(t, tenantId, { id: 'doc-2' }, { type: 'doc.created' });
      const delivery = await waitForDelivery(t, delivered(hookId, sent.event.id), 'SUCCEEDED');
      const read = (await t.ok(DELIVERY, { id: delivery.id })).node;
      assert.deepEqual(read.captured, { id: 'T-7', body: 'queued', status: 202, type: 'doc.created', doc: 'doc-2' });
      assert.equal(read.captureError, null);
    });

    test('a capture that throws, or whose result is over the cap, is recorded as such; the delivery still SUCCEEDED', async () => {
      const { tenantId, endpointId } = await tenantWithEndpoint('failing', '/documents');
      const throwing = await createHook(t, tenantId, endpointId, { name: 'throws', eventTypes: ['doc.created'], capture: '$error("no id in " & response.body.remote_id)' });
      const huge = await createHook(t, tenantId, endpointId, { name: 'huge', eventTypes: ['doc.created'], capture: '$pad("", 20000, "x")' });
      const nothing = await createHook(t, tenantId, endpointId, { name: 'nothing', eventTypes: ['doc.created'], capture: 'response.body.missing' });
      // Its dependency captured nothing: its path has no value, and it fails as a request that cannot be built.
      const follower = await createHook(t, tenantId, endpointId, {
        name: 'follower',
        eventTypes: ['doc.created'],
        runAfter: [throwing],
        method: 'DELETE',
        path: '/{captures.throws.remote_id}',
        retryPolicy: { maxAttempts: 1 },
      });
      const sent = await sendEvent(t, tenantId, { id: 'doc-3' }, { type: 'doc.created' });
      const expected: [string, RegExp][] = [
        [throwing, /^capture failed.*no id in R-1/],
        [huge, /^capture result is larger than 16384 bytes/],
        [nothing, /^capture produced no value/],
      ];
      for (const [hookId, error] of expected) {
        const delivery = await waitForDelivery(t, delivered(hookId, sent.event.id), 'SUCCEEDED');
        const read = (await t.ok(DELIVERY, { id: delivery.id })).node;
        assert.equal(read.status, 'SUCCEEDED');
        assert.equal(read.captured, null);
        assert.match(read.captureError, error);
      }
      const followed = await waitForDelivery(t, delivered(follower, sent.event.id), 'FAILED');
      assert.match(followed.last_error ?? '', /captures\.throws\.remote_id.*has no value/);
    });

    test('a capture runs after a 2xx only', async () => {
      const { tenantId, endpointId } = await tenantWithEndpoint('non2xx', '/broken');
      const hookId = await createHook(t, tenantId, endpointId, {
        eventTypes: ['doc.created'],
        capture: '$error("must not run")',
        retryPolicy: { maxAttempts: 1 },
      });
      const sent = await sendEvent(t, tenantId, { id: 'doc-4' }, { type: 'doc.created' });
      const delivery = await waitForDelivery(t, delivered(hookId, sent.event.id), 'FAILED');
      const read = (await t.ok(DELIVERY, { id: delivery.id })).node;
      assert.deepEqual(read, { id: delivery.id, status: 'FAILED', captured: null, captureError: null, lastStatusCode: 500 });
    });

    test('a capture is read back, changed and removed; an invalid one is refused at its field', async () => {
      const { tenantId, endpointId } = await tenantWithEndpoint('save');
      const input = { tenantId, endpointId, name: 'save', eventTypes: ['doc.created'] };
      const created = (await t.ok(CREATE, { input: { ...input, capture: 'response.body.id' } })).createHook;
      assert.deepEqual(created.hook.capture, 'response.body.id');
      const UPDATE = `mutation($input: UpdateHookInput!) { updateHook(input: $input) {
        __typename ... on HookPayload { hook { capture } } ... on ValidationError { problems { path message } } } }`;
      assert.equal((await t.ok(UPDATE, { input: { id: created.hook.id, capture: 'response.status' } })).updateHook.hook.capture, 'response.status');
      assert.equal((await t.ok(UPDATE, { input: { id: created.hook.id, capture: ' ' } })).updateHook.hook.capture, null);

      for (const capture of ['response.(', '$match(response.body, /(a+)+\\1/)']) {
        const refused = (await t.ok(CREATE, { input: { ...input, capture } })).createHook;
        assert.equal(refused.__typename, 'ValidationError', JSON.stringify(refused));
        assert.deepEqual(refused.problems.map((p: { path: string[] }) => p.path), [['input', 'capture']]);
        assert.match(refused.problems[0].message, /is not a valid JSONata expression/);
      }
      const oversized = (await t.ok(CREATE, { input: { ...input, capture: `"${'x'.repeat(65 * 1024)}"` } })).createHook;
      assert.deepEqual(oversized.problems, [{ path: ['input', 'capture'], message: 'must be at most 65536 bytes' }]);
      // `captures` is a root the path and body templates know, and the dry run at save leaves a transform reading it alone
      const reader = (await t.ok(CREATE, {
        input: { ...input, path: '/x/{captures.save.id}', transform: '{"id": captures.save.id}', testPayload: { id: 1 } },
      })).createHook;
      assert.equal(reader.__typename, 'HookPayload', JSON.stringify(reader));
    });

    test('captureEvent sends the result as an event of its type, which starts the next hook; a result its schema refuses sends nothing', async () => {
      const { tenantId, endpointId } = await tenantWithEndpoint('chain', '/documents');
      const indexer = await createHook(t, tenantId, endpointId, {
        name: 'indexer',
        eventTypes: ['doc.created'],
        capture: '{"remote_id": response.body.remote_id}',
        captureEvent: { type: 'doc.indexed' },
      });
      const wrong = await createHook(t, tenantId, endpointId, {
        name: 'wrong',
        eventTypes: ['doc.created'],
        capture: '{"remote_id": response.status}',
        captureEvent: { type: 'doc.indexed' },
      });
      const { endpointId: nextEndpoint } = await createEndpoint(t, tenantId, `${receiver.url}/chain-next`);
      await createHook(t, tenantId, nextEndpoint, { name: 'next', eventTypes: ['doc.indexed'], method: 'PUT', path: '/indexed/{data.remote_id}' });
      const sent = await sendEvent(t, tenantId, { id: 'doc-5' }, { type: 'doc.created' });

      const next = await requestTo((r) => r.url.startsWith('/chain-next/'));
      assert.equal(next.url, '/chain-next/indexed/R-1');
      assert.equal(next.method, 'PUT');
      const delivery = await waitForDelivery(t, delivered(wrong, sent.event.id), 'SUCCEEDED');
      const read = (await t.ok(DELIVERY, { id: delivery.id })).node;
      assert.deepEqual(read.captured, { remote_id: 201 });
      assert.match(read.captureError, /^captureEvent: no doc\.indexed event sent: the result does not match its schema \(remote_id must be string\)/);
      await waitForDelivery(t, delivered(indexer, sent.event.id), 'SUCCEEDED');
      const indexed = await t.app.services.db.selectFrom('events').select(['payload', 'capture_depth']).where('tenant_id', '=', tenantId).where('type', '=', 'doc.indexed').execute();
      assert.deepEqual(indexed, [{ payload: '{"remote_id":"R-1"}', capture_depth: 1 }]);
    });

    test('hooks whose captures feed each other stop after the bounded chain', async () => {
      await ensureEventType(t, 'doc.ping');
      await ensureEventType(t, 'doc.pong');
      const { tenantId, endpointId } = await tenantWithEndpoint('pingpong', '/documents');
      await createHook(t, tenantId, endpointId, { name: 'ping', eventTypes: ['doc.ping'], capture: '{"n": data.n + 1}', captureEvent: { type: 'doc.pong' } });
      await createHook(t, tenantId, endpointId, { name: 'pong', eventTypes: ['doc.pong'], capture: '{"n": data.n + 1}', captureEvent: { type: 'doc.ping' } });
      await sendEvent(t, tenantId, { n: 0 }, { type: 'doc.ping' });
      const last = await waitForDelivery(t, (d) => d.tenant_id === tenantId && d.capture_error !== null, 'SUCCEEDED');
      assert.match(last.capture_error ?? '', /captures deep already/);
      const events = await t.app.services.db.selectFrom('events').select(['type', 'capture_depth', 'payload']).where('tenant_id', '=', tenantId).orderBy('id').execute();
      assert.equal(events.length, 1 + MAX_CAPTURE_CHAIN);
      assert.deepEqual(events.at(-1), { type: MAX_CAPTURE_CHAIN % 2 === 0 ? 'doc.ping' : 'doc.pong', capture_depth: MAX_CAPTURE_CHAIN, payload: `{"n":${MAX_CAPTURE_CHAIN}}` });
    });

    test('captureEvent is checked at save', async () => {
      const { tenantId, endpointId } = await tenantWithEndpoint('event-save');
      const input = { tenantId, endpointId, name: 'event-save', eventTypes: ['doc.created'], capture: 'response.body' };
      const cases: [Record<string, unknown>, string[], RegExp][] = [
        [{ captureEvent: { type: 'doc.unknown' } }, ['input', 'captureEvent', 'type'], /does not exist/],
        [{ captureEvent: { type: 'doc.created' } }, ['input', 'captureEvent', 'type'], /receives doc\.created itself/],
        [{ captureEvent: { type: 'switchyard.endpoint.disabled' } }, ['input', 'captureEvent', 'type'], /Switchyard's own/],
        [{ capture: null, captureEvent: { type: 'doc.indexed' } }, ['input', 'captureEvent'], /needs a capture/],
      ];
      for (const [extra, path, message] of cases) {
        const refused = (await t.ok(CREATE, { input: { ...input, ...extra } })).createHook;
        assert.equal(refused.__typename, 'ValidationError', JSON.stringify(refused));
        assert.deepEqual(refused.problems.map((p: { path: string[] }) => p.path), [path]);
        assert.match(refused.problems[0].message, message);
      }
      const created = (await t.ok(CREATE, { input: { ...input, captureEvent: { type: 'doc.indexed' } } })).createHook;
      assert.equal(created.__typename, 'HookPayload', JSON.stringify(created));
      const UPDATE = `mutation($input: UpdateHookInput!) { updateHook(input: $input) {
        __typename ... on HookPayload { hook { capture captureEvent { type } } } ... on ValidationError { problems { path message } } } }`;
      const dropped = (await t.ok(UPDATE, { input: { id: created.hook.id, capture: null } })).updateHook;
      assert.deepEqual(dropped.problems?.map((p: { path: string[] }) => p.path), [['input', 'captureEvent']]);
      const cleared = (await t.ok(UPDATE, { input: { id: created.hook.id, capture: null, captureEvent: null } })).updateHook;
      assert.deepEqual(cleared.hook, { capture: null, captureEvent: null });
    });
  });
}
