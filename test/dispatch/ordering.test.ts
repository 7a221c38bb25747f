// runAfter ordering: a hook waits (BLOCKED) for the same event's deliveries to the hooks it runs
// after, goes once they succeeded, and is SKIPPED with the reason when one of them fails.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import {
  createEndpoint,
  createHook,
  createTenant,
  ensureEventType,
  readDelivery,
  readEventDeliveries,
  sendEvent,
  waitForDelivery,
  waitUntil,
  type DeliveryView,
} from '../helpers/fixtures.js';
import { byPath, gate, ok, startReceiver, status, type Receiver } from '../helpers/receiver.js';

for (const dialect of TEST_DIALECTS) {
  describe(`runAfter ordering (${dialect})`, () => {
    let t: TestApp;
    const receivers: Receiver[] = [];

    before(async () => {
      t = await startTestApp({ dialect });
      await ensureEventType(t, 'invoice.paid');
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

    /** One tenant, one endpoint at `url`, and one hook per path, each running after the previous one. */
    async function chain(url: string, paths: string[], endpoint: Record<string, unknown> = {}) {
      const tenantId = await createTenant(t, `ordering-${paths.join('')}`);
      const { endpointId } = await createEndpoint(t, tenantId, url, endpoint);
      const hookIds: string[] = [];
      for (const path of paths) {
        const runAfter = hookIds.length > 0 ? [hookIds[hookIds.length - 1]] : [];
        hookIds.push(await createHook(t, tenantId, endpointId, { name: `hook${path.replace('/', '-')}`, path, runAfter }));
      }
      return { tenantId, endpointId, hookIds };
    }

    const byHook = (deliveries: DeliveryView[], hookId: string, rows: { id: string; hook_id: string | null }[]): DeliveryView => {
      const row = rows.find((r) => r.hook_id === hookId);
      assert.ok(row, `a delivery for hook ${hookId}`);
      const delivery = deliveries.find((d) => d.id === row.id);
      assert.ok(delivery);
      return delivery;
    };

    async function deliveryRows(eventId: string) {
      return t.app.services.db.selectFrom('deliveries').select(['id', 'hook_id', 'status']).where('event_id', '=', eventId).execute();
    }

    test('B waits BLOCKED until A succeeded, then goes: the receiver sees A before B', async () => {
      const receiver = await newReceiver();
      const holdA = gate(ok);
      receiver.setDefault(byPath({ '/a': holdA.behaviour }, ok));
      const { tenantId, hookIds } = await chain(receiver.url, ['/a', '/b']);
      const [hookA, hookB] = hookIds as [string, string];

      const sent = await sendEvent(t, tenantId, { id: 'in_1' });
      assert.equal(sent.deliveryCount, 2);
      const rows = await deliveryRows(sent.event.id);
      const idA = rows.find((r) => r.hook_id === hookA)!.id;
      const idB = rows.find((r) => r.hook_id === hookB)!.id;

      // A is in flight and held by the receiver: B must still be waiting.
      await waitUntil(() => holdA.held === 1, { timeoutMs: 5_000, what: "A's request at the receiver" });
      const blocked = await readDelivery(t, idB);
      assert.equal(blocked.status, 'BLOCKED');
      assert.equal(blocked.attemptCount, 0);
      assert.deepEqual(blocked.attempts.nodes, []);
      assert.equal((await readDelivery(t, idA)).status, 'SENDING');
      assert.deepEqual(receiver.requests.map((r) => r.url), ['/a']);

      const released = waitForDelivery(t, (d) => d.id === idB, 'PENDING', 5_000);
      holdA.open();
      await waitForDelivery(t, (d) => d.id === idA, 'SUCCEEDED', 5_000);
      const pending = await released;
      assert.equal(pending.status, 'PENDING', 'B is released once A succeeded');
      await waitForDelivery(t, (d) => d.id === idB, 'SUCCEEDED', 5_000);

      assert.deepEqual(receiver.requests.map((r) => r.url), ['/a', '/b']);
      assert.ok(receiver.requests[0]!.receivedAt < receiver.requests[1]!.receivedAt);
      const b = await readDelivery(t, idB);
      assert.equal(b.status, 'SUCCEEDED');
      assert.equal(b.attemptCount, 1);
      assert.equal(b.attempts.nodes[0]?.outcome, 'SUCCEEDED');
      assert.equal(b.attempts.nodes[0]?.request.url, `${receiver.url}/b`);
      // Same event, two deliveries: one webhook-event-id, two webhook-ids.
      assert.equal(receiver.requests[0]!.headers['webhook-event-id'], receiver.requests[1]!.headers['webhook-event-id']);
      assert.notEqual(receiver.requests[0]!.headers['webhook-id'], receiver.requests[1]!.headers['webhook-id']);
    });

    test('B is released only after A is retried to success (A fails first)', async () => {
      const receiver = await newReceiver();
      receiver.enqueue(status(500));
      receiver.setDefault(ok);
      const { tenantId, hookIds } = await chain(receiver.url, ['/a', '/b'], { retryPolicy: { scheduleMs: [0, 100] } });
      const [hookA, hookB] = hookIds as [string, string];
      const sent = await sendEvent(t, tenantId, { id: 'in_2' });
      const rows = await deliveryRows(sent.event.id);
      const idA = rows.find((r) => r.hook_id === hookA)!.id;
      const idB = rows.find((r) => r.hook_id === hookB)!.id;
      await waitForDelivery(t, (d) => d.id === idA && d.attempt_count === 1, 'RETRYING', 5_000);
      assert.equal((await readDelivery(t, idB)).status, 'BLOCKED', 'a failed attempt of A that will be retried keeps B waiting');
      await waitForDelivery(t, (d) => d.id === idB, 'SUCCEEDED', 5_000);
      assert.deepEqual(receiver.requests.map((r) => r.url), ['/a', '/a', '/b']);
      assert.equal((await readDelivery(t, idA)).attemptCount, 2);
    });

    test('when A fails for good, B is SKIPPED with a reason naming A, and never sent', async () => {
      const receiver = await newReceiver();
      receiver.setDefault(byPath({ '/a': status(500) }, ok));
      const { tenantId, hookIds } = await chain(receiver.url, ['/a', '/b'], { retryPolicy: { scheduleMs: [0] } });
      const [hookA, hookB] = hookIds as [string, string];
      const sent = await sendEvent(t, tenantId, { id: 'in_3' });
      const rows = await deliveryRows(sent.event.id);
      const idB = rows.find((r) => r.hook_id === hookB)!.id;
      await waitForDelivery(t, (d) => d.id === idB, 'SKIPPED', 5_000);
      await waitUntil(() => t.app.dispatcher.load === 0, { what: 'dispatcher idle' });

      const deliveries = await readEventDeliveries(t, sent.event.id);
      const a = byHook(deliveries, hookA, rows);
      const b = byHook(deliveries, hookB, rows);
      assert.equal(a.status, 'FAILED');
      assert.equal(a.attemptCount, 1);
      assert.equal(a.lastStatusCode, 500);
      assert.equal(a.attempts.nodes[0]?.errorClass, 'HTTP_STATUS');
      assert.equal(b.status, 'SKIPPED');
      assert.equal(b.attemptCount, 0);
      assert.deepEqual(b.attempts.nodes, []);
      assert.ok(b.statusReason?.includes(hookA), `reason names A (${hookA}): ${b.statusReason}`);
      assert.ok(b.finishedAt);
      assert.deepEqual(receiver.requests.map((r) => r.url), ['/a']);
    });

    test('chain A → B → C where A fails: B and C are both SKIPPED', async () => {
      const receiver = await newReceiver();
      const holdA = gate(status(500));
      receiver.setDefault(byPath({ '/a': holdA.behaviour }, ok));
      const { tenantId, hookIds } = await chain(receiver.url, ['/a', '/b', '/c'], { retryPolicy: { scheduleMs: [0] } });
      const [hookA, hookB, hookC] = hookIds as [string, string, string];
      const sent = await sendEvent(t, tenantId, { id: 'in_4' });
      assert.equal(sent.deliveryCount, 3);
      await waitUntil(() => holdA.held === 1, { timeoutMs: 5_000, what: "A's request at the receiver" });
      const rows = await deliveryRows(sent.event.id);
      assert.deepEqual(
        hookIds.map((id) => rows.find((r) => r.hook_id === id)?.status),
        ['SENDING', 'BLOCKED', 'BLOCKED'],
      );
      holdA.open();
      const idC = rows.find((r) => r.hook_id === hookC)!.id;
      await waitForDelivery(t, (d) => d.id === idC, 'SKIPPED', 5_000);
      await waitUntil(() => t.app.dispatcher.load === 0, { what: 'dispatcher idle' });

      const deliveries = await readEventDeliveries(t, sent.event.id);
      const [a, b, c] = hookIds.map((id) => byHook(deliveries, id, rows)) as [DeliveryView, DeliveryView, DeliveryView];
      assert.equal(a.status, 'FAILED');
      assert.equal(b.status, 'SKIPPED');
      assert.equal(c.status, 'SKIPPED');
      assert.ok(b.statusReason?.includes(hookA), `B's reason names A: ${b.statusReason}`);
      assert.ok(c.statusReason?.includes(hookB), `C's reason names B: ${c.statusReason}`);
      assert.equal(b.attemptCount + c.attemptCount, 0);
      assert.deepEqual(receiver.requests.map((r) => r.url), ['/a']);
    });
  });
}
