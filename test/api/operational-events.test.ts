// Operational events through the public API: raised by real deliveries to a real receiver, stored
// and listed with filters and cursors, pushed on a subscription, and delivered as signed
// `switchyard.*` webhooks to a hook that asks for them; their own deliveries raise none.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'graphql-ws';
import { Webhook } from 'standardwebhooks';
import WebSocket from 'ws';
import { ManualClock } from '../../src/clock.js';
import type { OperationalEventRow } from '../../src/db/schema.js';
import { ADMIN_TOKEN, TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, createTenantToken, ensureEventType, sendEvent, waitForDelivery } from '../helpers/fixtures.js';
import { startReceiver, status, type Receiver } from '../helpers/receiver.js';

const LIST = `query($filter: OperationalEventFilter, $first: Int, $after: String) {
  operationalEvents(filter: $filter, first: $first, after: $after) {
    nodes { id kind eventType tenantId endpointId deliveryId eventId data createdAt }
    pageInfo { hasNextPage endCursor }
  }
}`;
const RETRY = `mutation($id: ID!) { retryDelivery(input: {id: $id}) { __typename } }`;
const DISABLE = `mutation($id: ID!) { disableEndpoint(input: {id: $id, message: "maintenance"}) { __typename } }`;
const ENABLE = `mutation($id: ID!) { enableEndpoint(input: {id: $id}) { __typename } }`;

const ONE_ATTEMPT = { retryPolicy: { maxAttempts: 1 } };

for (const dialect of TEST_DIALECTS) {
  describe(`operational events (${dialect})`, () => {
    let t: TestApp;
    let target: Receiver;
    let ops: Receiver;
    let tenantId: string;
    let endpointId: string;
    let opsEndpointId: string;
    let opsSecret: string;
    const raised: OperationalEventRow[] = [];
    const waiters: { kind: string; resolve: (row: OperationalEventRow) => void }[] = [];
    const clock = new ManualClock(Date.now());

    /** Resolves with the next operational event of `kind` (ask before acting: it waits for a new one). */
    function next(kind: string): Promise<OperationalEventRow> {
      return new Promise((resolve) => waiters.push({ kind, resolve }));
    }

    before(async () => {
      t = await startTestApp({ dialect, clock, env: { SWITCHYARD_FAILING_AFTER_ATTEMPTS: '2' } });
      t.app.services.bus.subscribe('operational', ({ event }) => {
        raised.push(event);
        for (const waiter of waiters.filter((w) => w.kind === event.kind)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      });
      target = await startReceiver();
      ops = await startReceiver();
      ops.setDefault(status(204));
      target.setDefault(status(503));
      tenantId = await createTenant(t, 'Ops');
      await ensureEventType(t, 'invoice.paid');
      ({ endpointId } = await createEndpoint(t, tenantId, `${target.url}/in`, ONE_ATTEMPT));
      await createHook(t, tenantId, endpointId);
      ({ endpointId: opsEndpointId, secret: opsSecret } = await createEndpoint(t, tenantId, `${ops.url}/ops`, ONE_ATTEMPT));
      await createHook(t, tenantId, opsEndpointId, { eventTypes: ['switchyard.*'] });
    });
    after(async () => {
      await t.stop();
      await Promise.all([target.close(), ops.close()]);
    });

    test('the reserved types are in the catalog, and no producer creates or sends one', async () => {
      const types = await t.ok(`{ eventTypes(first: 100) { nodes { name } } }`);
      const names = types.eventTypes.nodes.map((n: { name: string }) => n.name);
      for (const kind of ['endpoint.disabled', 'endpoint.enabled', 'endpoint.failing', 'endpoint.recovered', 'delivery.exhausted', 'delivery.recovered']) {
        assert.ok(names.includes(`switchyard.${kind}`), kind);
      }
      const created = await t.ok(`mutation { createEventType(input: {name: "switchyard.mine"}) { __typename ... on ValidationError { problems { path } } } }`);
      assert.equal(created.createEventType.__typename, 'ValidationError');
      const sent = await t.ok(
        `mutation($t: ID!) { sendEvent(input: {tenantId: $t, type: "switchyard.endpoint.failing", payload: {}}) { __typename ... on ValidationError { problems { path } } } }`,
        { t: tenantId },
      );
      assert.equal(sent.sendEvent.__typename, 'ValidationError');
      assert.deepEqual(sent.sendEvent.problems[0].path, ['input', 'type']);
    });

    test('a delivery failing for good raises delivery.exhausted, delivered as a signed switchyard.* webhook and streamed', async () => {
      const ws = createClient({
        url: `${t.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
        retryAttempts: 0,
      });
      const streamed = new Promise<any>((resolve, reject) => {
        setTimeout(() => reject(new Error('nothing streamed')), 10_000).unref();
        ws.subscribe(
          { query: `subscription($t: ID) { operationalEvents(filter: {tenantId: $t, kinds: ["delivery.exhausted"]}) { id kind deliveryId data } }`, variables: { t: tenantId } },
          { next: (value) => resolve(value.data?.operationalEvents), error: reject, complete: () => undefined },
        );
      });
      // operations on one socket start in order: once a later query has answered, the subscription listens
      await new Promise<void>((resolve, reject) => {
        ws.subscribe({ query: '{ __typename }' }, { next: () => undefined, error: reject, complete: resolve });
      });
      const exhausted = next('delivery.exhausted');
      const sent = await sendEvent(t, tenantId, { n: 1 });
      const row = await exhausted;
      const failed = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'FAILED');
      assert.equal(row.delivery_id, failed.id);
      assert.equal(row.endpoint_id, endpointId);
      const data = JSON.parse(row.data);
      assert.equal(data.eventId, sent.event.id);
      assert.equal(data.lastStatusCode, 503);
      assert.match(data.lastError, /503/);

      const pushed = await streamed;
      assert.equal(pushed.id, row.id);
      assert.equal(pushed.kind, 'delivery.exhausted');
      await ws.dispose();

      const [request] = await ops.waitFor(1);
      const body = request!.body.toString('utf8');
      new Webhook(opsSecret).verify(body, request!.headers);
      const envelope = JSON.parse(body);
      assert.equal(envelope.type, 'switchyard.delivery.exhausted');
      assert.equal(envelope.data.id, row.id);
      assert.equal(envelope.data.deliveryId, failed.id);
      assert.ok(row.event_id?.startsWith('msg_'), 'the row names the event that carries it');
    });

    test('failures in a row raise endpoint.failing once; a manual retry that succeeds raises delivery.recovered and endpoint.recovered', async () => {
      const failing = next('endpoint.failing');
      await sendEvent(t, tenantId, { n: 2 });
      const row = await failing;
      assert.equal(row.endpoint_id, endpointId);
      assert.equal(JSON.parse(row.data).consecutiveFailures, 2);

      const again = raised.length;
      const third = await sendEvent(t, tenantId, { n: 3 });
      await waitForDelivery(t, (d) => d.event_id === third.event.id, 'FAILED');
      assert.equal(raised.slice(again).filter((e) => e.kind === 'endpoint.failing').length, 0, 'announced once per streak');

      target.setDefault(status(204));
      const first = raised.find((e) => e.kind === 'delivery.exhausted')!;
      const deliveryRecovered = next('delivery.recovered');
      const endpointRecovered = next('endpoint.recovered');
      assert.equal((await t.ok(RETRY, { id: first.delivery_id })).retryDelivery.__typename, 'DeliveryPayload');
      assert.equal((await deliveryRecovered).delivery_id, first.delivery_id);
      assert.equal((await endpointRecovered).endpoint_id, endpointId);
    });

    test('disabling and enabling by hand raise endpoint.disabled (MANUAL) and endpoint.enabled', async () => {
      const disabled = next('endpoint.disabled');
      await t.ok(DISABLE, { id: endpointId });
      const row = await disabled;
      assert.deepEqual(JSON.parse(row.data), { reason: 'MANUAL', message: 'maintenance' });
      const enabled = next('endpoint.enabled');
      await t.ok(ENABLE, { id: endpointId });
      assert.equal((await enabled).endpoint_id, endpointId);
    });

    test('deliveries of operational events raise no operational events themselves', async () => {
      ops.setDefault(status(500));
      target.setDefault(status(503));
      const exhausted = next('delivery.exhausted');
      const sent = await sendEvent(t, tenantId, { n: 4 });
      const row = await exhausted;
      assert.equal(JSON.parse(row.data).eventId, sent.event.id);
      // the webhook carrying it fails for good too, and says nothing about itself
      const opsDelivery = await waitForDelivery(t, (d) => d.event_id === row.event_id, 'FAILED');
      assert.equal(opsDelivery.endpoint_id, opsEndpointId);
      const listed = await t.ok(LIST, { filter: { deliveryId: opsDelivery.id } });
      assert.deepEqual(listed.operationalEvents.nodes, []);
      assert.equal(raised.filter((e) => e.endpoint_id === opsEndpointId).length, 0);
    });

    test('the list: newest first, filtered by kind, paged by cursor; an unknown kind is a ValidationError; tenants see their own', async () => {
      const all = await t.ok(LIST, { filter: { tenantId }, first: 100 });
      const ids = all.operationalEvents.nodes.map((n: { id: string }) => n.id);
      assert.deepEqual(ids, [...ids].sort().reverse(), 'newest first');
      assert.equal(ids.length, raised.length);

      const failing = await t.ok(LIST, { filter: { kinds: ['endpoint.failing'] } });
      assert.deepEqual(failing.operationalEvents.nodes.map((n: { kind: string }) => n.kind), ['endpoint.failing']);

      const page1 = await t.ok(LIST, { filter: { tenantId }, first: 2 });
      assert.equal(page1.operationalEvents.pageInfo.hasNextPage, true);
      const page2 = await t.ok(LIST, { filter: { tenantId }, first: 2, after: page1.operationalEvents.pageInfo.endCursor });
      assert.deepEqual(page2.operationalEvents.nodes.map((n: { id: string }) => n.id), ids.slice(2, 4));

      const unknown = await t.gql(LIST, { filter: { kinds: ['endpoint.failing', 'endpoint.exploded'] } });
      assert.equal(unknown.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED');
      assert.deepEqual(unknown.errors?.[0]?.extensions?.problems?.[0]?.path, ['filter', 'kinds', '1']);

      const other = await createTenant(t, 'Other');
      const token = await createTenantToken(t, other, ['READ']);
      const theirs = await t.ok(LIST, {}, token);
      assert.deepEqual(theirs.operationalEvents.nodes, []);
      const mine = await t.ok(LIST, { first: 100 }, await createTenantToken(t, tenantId, ['READ']));
      assert.equal(mine.operationalEvents.nodes.length, ids.length);
    });
  });
}
