// Endpoints do not hurt each other: a dead endpoint does not delay a healthy one, a rate limit
// spreads requests out, and sequential requests to one origin reuse a kept-alive connection.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import {
  createEndpoint,
  createHook,
  createTenant,
  ensureEventType,
  readDelivery,
  sendEvent,
  setup,
  waitForDeliveries,
  waitForDelivery,
} from '../helpers/fixtures.js';
import { hang, ok, startReceiver, type Receiver } from '../helpers/receiver.js';

/** Sends `count` events in one sendEvents call; returns their ids. */
async function sendBurst(t: TestApp, tenantId: string, count: number): Promise<string[]> {
  const data = await t.ok(
    `mutation($input: SendEventsInput!) { sendEvents(input: $input) { __typename ... on SendEventsPayload { results { event { id } } } } }`,
    { input: { events: Array.from({ length: count }, (_, n) => ({ tenantId, type: 'invoice.paid', payload: { n } })) } },
  );
  assert.equal(data.sendEvents.__typename, 'SendEventsPayload', JSON.stringify(data));
  return data.sendEvents.results.map((r: { event: { id: string } }) => r.event.id);
}

for (const dialect of TEST_DIALECTS) {
  describe(`a slow endpoint does not delay the others (${dialect})`, () => {
    let t: TestApp;
    let slow: Receiver;
    let healthy: Receiver;
    before(async () => {
      t = await startTestApp({ dialect, env: { SWITCHYARD_MAX_IN_FLIGHT_PER_ENDPOINT: '2' } });
      slow = await startReceiver();
      slow.setDefault(hang);
      healthy = await startReceiver();
    });
    after(async () => {
      // Closing the hanging receiver first ends its requests, so stopping the app does not wait on them.
      await slow.close();
      await healthy.close();
      await t.stop();
    });

    test('20 events to a hanging endpoint and a healthy one: the healthy deliveries all succeed before any hanging one times out', async () => {
      const tenantId = await createTenant(t, 'isolation');
      await ensureEventType(t, 'invoice.paid');
      const slowEndpoint = await createEndpoint(t, tenantId, `${slow.url}/slow`, { timeoutMs: 2_000 });
      const healthyEndpoint = await createEndpoint(t, tenantId, `${healthy.url}/healthy`, { timeoutMs: 2_000 });
      await createHook(t, tenantId, slowEndpoint.endpointId);
      await createHook(t, tenantId, healthyEndpoint.endpointId);

      const started = performance.now();
      const eventIds = await sendBurst(t, tenantId, 20);
      // All of them well before the hanging requests reach their 2 s deadline (about 0.1–0.6 s here,
      // depending on the machine's load); the bound is the slow endpoint's deadline itself.
      const succeeded = await waitForDeliveries(t, (d) => d.endpoint_id === healthyEndpoint.endpointId, 'SUCCEEDED', 20, 1_900);
      const elapsed = performance.now() - started;
      assert.equal(succeeded.length, 20);
      assert.deepEqual(new Set(succeeded.map((d) => d.event_id)), new Set(eventIds));
      assert.equal(healthy.requests.length, 20);

      // Meanwhile the slow endpoint holds exactly its concurrency bound, and none of its requests has ended.
      assert.equal(slow.requests.length, 2, 'the per-endpoint bound (2) holds for the hanging endpoint');
      const slowRows = await t.app.services.db
        .selectFrom('deliveries')
        .select(['status', 'attempt_count'])
        .where('endpoint_id', '=', slowEndpoint.endpointId)
        .execute();
      assert.equal(slowRows.length, 20);
      const claimed = slowRows.filter((d) => d.status === 'SENDING').length;
      assert.equal(claimed + slowRows.filter((d) => d.status === 'PENDING').length, 20, 'no hanging request has ended yet');
      // claimed: the 2 in flight, and at most as many again waiting in the HTTP thread for their slot
      assert.ok(claimed >= 2 && claimed <= 4, `${claimed} claimed`);
      const lastHealthy = Math.max(...healthy.requests.map((r) => r.receivedAt)) - started;
      console.log(
        `[${dialect}] 20 healthy deliveries next to a hanging endpoint: all succeeded ${elapsed.toFixed(0)} ms after the send ` +
          `(last request at the receiver after ${lastHealthy.toFixed(0)} ms)`,
      );

      // And the slow ones do time out on their own deadline, one bounded batch at a time.
      const timedOut = await waitForDelivery(t, (d) => d.endpoint_id === slowEndpoint.endpointId, 'RETRYING', 5_000);
      const delivery = await readDelivery(t, timedOut.id);
      assert.equal(delivery.attempts.nodes[0]?.errorClass, 'TIMEOUT');
      assert.ok((delivery.attempts.nodes[0]?.durationMs ?? 0) >= 1_990);
    });
  });

  describe(`rate limit and connection reuse (${dialect})`, () => {
    let t: TestApp;
    const receivers: Receiver[] = [];
    before(async () => {
      t = await startTestApp({ dialect });
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await t.stop();
    });

    async function newReceiver(): Promise<Receiver> {
      const receiver = await startReceiver();
      receivers.push(receiver);
      return receiver;
    }

    test('rateLimitPerSecond 5: 10 deliveries are spread over ≥ 1.6 s, never more than 5 in any second', async () => {
      const receiver = await newReceiver();
      const s = await setup(t, `${receiver.url}/limited`, { endpoint: { rateLimitPerSecond: 5 } });
      const started = performance.now();
      await sendBurst(t, s.tenantId, 10);
      const requests = await receiver.waitFor(10, 5_000);
      await waitForDeliveries(t, (d) => d.endpoint_id === s.endpointId, 'SUCCEEDED', 10, 5_000);
      const times = requests.map((r) => r.receivedAt - started).sort((a, b) => a - b);
      console.log(`[${dialect}] rate limit 5/s, requests at (ms after send): ${times.map((x) => x.toFixed(0)).join(', ')}`);
      const spread = times[9]! - times[0]!;
      assert.ok(spread >= 1_600, `10 requests at 5/s spread over only ${spread.toFixed(0)} ms`);
      // "At most this many requests per second" (the API's own words): any 6 consecutive requests
      // span at least a second (small tolerance for timer slack).
      const windows = times.slice(5).map((time, i) => time - times[i]!);
      assert.ok(
        windows.every((span) => span >= 950),
        `more than 5 requests within one second: spans of 6 consecutive requests ${windows.map((x) => x.toFixed(0)).join(', ')} ms`,
      );
    });

    test('keep-alive: 10 sequential deliveries to one endpoint reuse one connection', async () => {
      const receiver = await newReceiver();
      receiver.setDefault(ok);
      const s = await setup(t, `${receiver.url}/keepalive`);
      for (let n = 0; n < 10; n++) {
        const sent = await sendEvent(t, s.tenantId, { n });
        await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'SUCCEEDED', 5_000);
      }
      assert.equal(receiver.requests.length, 10);
      console.log(`[${dialect}] keep-alive: 10 sequential deliveries used ${receiver.connections} connection(s)`);
      assert.ok(receiver.connections <= 2, `${receiver.connections} connections for 10 sequential requests`);
    });
  });
}
