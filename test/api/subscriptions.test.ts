import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN, TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, ensureEventType, sendEvent, setup } from '../helpers/fixtures.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { wsClient } from '../helpers/ws.js';

const ATTEMPTS = `subscription($filter: AttemptSubscriptionFilter) {
  deliveryAttempts(filter: $filter) {
    id number outcome trigger errorClass eventId endpointId
    response { status }
    delivery { id status eventType }
  }
}`;

/** Collects `count` results of a subscription, then ends it. */
function collect<T>(client: Client, query: string, variables: Record<string, unknown>, count: number, timeoutMs = 10_000) {
  const items: T[] = [];
  let ready!: () => void;
  const subscribed = new Promise<void>((resolve) => (ready = resolve));
  const done = new Promise<T[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${items.length} of ${count} messages`)), timeoutMs);
    const stop = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) {
            clearTimeout(timer);
            reject(new Error(JSON.stringify(value.errors)));
            return;
          }
          items.push(value.data as T);
          if (items.length >= count) {
            clearTimeout(timer);
            stop();
            resolve(items);
          }
        },
        error: (error) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        },
        complete: () => {},
      },
    );
    client.on('connected', () => ready());
  });
  return { subscribed, done, items };
}

for (const dialect of TEST_DIALECTS) {
  describe(`live subscriptions (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    before(async () => {
      t = await startTestApp({ dialect, env: { SWITCHYARD_WS_INIT_TIMEOUT_MS: '300', SWITCHYARD_WS_MAX_BUFFERED_BYTES: '65536' } });
      receiver = await startReceiver();
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    test('graphql-ws: attempts stream as they start and finish, in order, with their delivery', async () => {
      const s = await setup(t, `${receiver.url}/live`);
      const client = wsClient(t, ADMIN_TOKEN);
      const live = collect<any>(client, ATTEMPTS, { filter: { tenantId: s.tenantId, includeStarted: true } }, 2);
      await live.subscribed;
      // a subscription is registered right after the connection is acknowledged; give it one round trip
      await t.ok('{ viewer { kind } }');
      const sent = await sendEvent(t, s.tenantId, { id: 'in_live', amount: 1 });
      const [started, finished] = await live.done;
      assert.equal(started.deliveryAttempts.outcome, 'IN_FLIGHT');
      assert.equal(finished.deliveryAttempts.outcome, 'SUCCEEDED');
      assert.equal(finished.deliveryAttempts.id, started.deliveryAttempts.id);
      assert.equal(finished.deliveryAttempts.eventId, sent.event.id);
      assert.equal(finished.deliveryAttempts.response.status, 200);
      assert.equal(finished.deliveryAttempts.delivery.status, 'SUCCEEDED');
      assert.equal(finished.deliveryAttempts.delivery.eventType, 'invoice.paid');
      await client.dispose();
    });

    test('tenant isolation: a tenant token never sees another tenant, even when it asks', async () => {
      await ensureEventType(t, 'invoice.paid');
      const a = await createTenant(t, 'A');
      const b = await createTenant(t, 'B');
      const epA = await createEndpoint(t, a, `${receiver.url}/a`);
      const epB = await createEndpoint(t, b, `${receiver.url}/b`);
      await createHook(t, a, epA.endpointId);
      await createHook(t, b, epB.endpointId);
      const minted = await t.ok(
        `mutation($t: ID!) { createTenantToken(input: {tenantId: $t, scopes: [READ]}) { ... on CreateTenantTokenPayload { secret } } }`,
        { t: a },
      );
      const client = wsClient(t, minted.createTenantToken.secret);
      // asks for tenant B explicitly; must still only get A's attempts
      const live = collect<any>(client, ATTEMPTS, { filter: { tenantId: b } }, 1);
      await live.subscribed;
      await t.ok('{ viewer { kind } }');
      await sendEvent(t, b, { from: 'b' });
      const sentA = await sendEvent(t, a, { from: 'a' });
      const [only] = await live.done;
      assert.equal(only.deliveryAttempts.eventId, sentA.event.id);
      assert.equal(only.deliveryAttempts.endpointId, epA.endpointId);
      await client.dispose();
    });

    test('a bad token closes the socket with 4403; over SSE it answers 401', async () => {
      const closed = new Promise<number>((resolve) => {
        const client = wsClient(t, 'sy_wrong_token', {
          on: { closed: (event) => resolve((event as { code: number }).code) },
        });
        client.subscribe({ query: ATTEMPTS }, { next: () => {}, error: () => {}, complete: () => {} });
      });
      assert.equal(await closed, 4403);
      const response = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: 'Bearer sy_wrong' },
        body: JSON.stringify({ query: ATTEMPTS }),
      });
      assert.equal(response.status, 401);
      await response.body?.cancel();
    });

    test('a connection that never sends connection_init is closed with 4408', async () => {
      const socket = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      const code = await new Promise<number>((resolve) => socket.on('close', (c) => resolve(c)));
      assert.equal(code, 4408);
    });

    test('SSE: the same subscription streams over text/event-stream', async () => {
      const s = await setup(t, `${receiver.url}/sse`);
      const controller = new AbortController();
      const response = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        signal: controller.signal,
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: ATTEMPTS, variables: { filter: { tenantId: s.tenantId } } }),
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      const sent = await sendEvent(t, s.tenantId, { id: 'sse' });
      let buffer = '';
      let data: any = null;
      for (let reads = 0; reads < 50 && !data; reads++) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        const line = buffer.split('\n').find((l) => l.startsWith('data: ') && l.includes('deliveryAttempts'));
        if (line) data = JSON.parse(line.slice(6));
      }
      controller.abort();
      assert.equal(data?.data?.deliveryAttempts?.eventId, sent.event.id);
      assert.equal(data.data.deliveryAttempts.outcome, 'SUCCEEDED');
    });

    test('deliveryUpdated and endpointUpdated stream state changes', async () => {
      const s = await setup(t, `${receiver.url}/states`);
      const client = wsClient(t, ADMIN_TOKEN);
      const deliveries = collect<any>(
        client,
        `subscription($f: DeliverySubscriptionFilter) { deliveryUpdated(filter: $f) { id status } }`,
        { f: { endpointId: s.endpointId } },
        3,
      );
      const endpoints = collect<any>(
        client,
        `subscription($f: EndpointSubscriptionFilter) { endpointUpdated(filter: $f) { id enabled disabledReason } }`,
        { f: { endpointId: s.endpointId } },
        1,
      );
      await deliveries.subscribed;
      await t.ok('{ viewer { kind } }');
      await sendEvent(t, s.tenantId, { id: 'states' });
      const states = (await deliveries.done).map((d) => d.deliveryUpdated.status);
      assert.deepEqual(states, ['PENDING', 'SENDING', 'SUCCEEDED']);
      await t.ok(`mutation($id: ID!) { disableEndpoint(input: {id: $id}) { __typename } }`, { id: s.endpointId });
      const [endpoint] = await endpoints.done;
      assert.deepEqual(endpoint.endpointUpdated, { id: s.endpointId, enabled: false, disabledReason: 'MANUAL' });
      await client.dispose();
    });

    test('a slow subscriber is dropped with 4413 and the others keep receiving', async () => {
      const s = await setup(t, `${receiver.url}/slow`);
      const endpoint = await t.app.services.db.selectFrom('endpoints').selectAll().where('id', '=', s.endpointId).executeTakeFirstOrThrow();
      const slow = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      await new Promise((resolve) => slow.once('open', resolve));
      slow.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
      await new Promise((resolve) => slow.once('message', resolve));
      slow.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: `subscription { endpointUpdated { id url description metadata headers } }` },
        }),
      );
      const closed = new Promise<number>((resolve) => slow.once('close', (code) => resolve(code)));
      await t.ok('{ viewer { kind } }');
      // stop reading: the server's send buffer for this socket can only grow
      (slow as unknown as { _socket: { pause(): void } })._socket.pause();

      const healthy = wsClient(t, ADMIN_TOKEN);
      const healthyLive = collect<any>(healthy, `subscription { endpointUpdated { id } }`, {}, 1);
      await healthyLive.subscribed;
      await t.ok('{ viewer { kind } }');
      const big = { ...endpoint, description: 'x'.repeat(2000) };
      for (let published = 0; published < 20_000; published++) {
        t.app.services.bus.publish('endpoint', { endpoint: big });
        if (published % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      // read again: what was buffered drains, then the close frame the server sent arrives
      (slow as unknown as { _socket: { resume(): void } })._socket.resume();
      assert.equal(await closed, 4413);
      const [received] = await healthyLive.done;
      assert.equal(received.endpointUpdated.id, s.endpointId);
      slow.terminate();
      await healthy.dispose();
    });

    test('stop() closes open subscriptions cleanly', async () => {
      const own = await startTestApp({ dialect });
      const client = wsClient(own, ADMIN_TOKEN);
      const code = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
      client.subscribe({ query: ATTEMPTS }, { next: () => {}, error: () => {}, complete: () => {} });
      await new Promise<void>((resolve) => client.on('connected', () => resolve()));
      await own.stop();
      assert.equal(await code, 1001);
    });
  });
}
