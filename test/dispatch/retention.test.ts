// Retention: events, attempts and operational events older than the retention period are purged in small batches;
// newer ones stay, and an old event that is still being delivered is kept.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { purgeOnce } from '../../src/dispatch/retention.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, ensureEventType, sendEvent, setup, waitForDelivery } from '../helpers/fixtures.js';
import { startReceiver, status, type Receiver } from '../helpers/receiver.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;

// One clock for the file, only moved forward (ids are time-ordered; see test/api/events.test.ts).
const clock = new ManualClock(Date.now());

for (const dialect of TEST_DIALECTS) {
  describe(`retention (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let failing: Receiver;
    before(async () => {
      // A month-long jump must not auto-disable the failing endpoint: that would end its open delivery.
      t = await startTestApp({ dialect, clock, env: { SWITCHYARD_AUTO_DISABLE_AFTER_MS: String(365 * DAY) } });
      receiver = await startReceiver();
      failing = await startReceiver();
      failing.setDefault(status(500));
    });
    after(async () => {
      await t.stop();
      await receiver.close();
      await failing.close();
    });

    test('events and attempts older than 30 days are purged; newer ones and open deliveries stay', async () => {
      assert.equal(t.config.retentionDays, 30);
      const { db } = t.app.services;
      const s = await setup(t, `${receiver.url}/ok`);
      await ensureEventType(t, 'order.placed');
      const { endpointId: failingEndpoint } = await createEndpoint(t, s.tenantId, `${failing.url}/down`, {
        retryPolicy: { scheduleMs: [0, WEEK, WEEK, WEEK, WEEK, WEEK, WEEK] },
      });
      await createHook(t, s.tenantId, failingEndpoint, { eventTypes: ['order.placed'] });

      const old: string[] = [];
      for (let i = 0; i < 5; i++) {
        const sent = await sendEvent(t, s.tenantId, { n: i });
        await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'SUCCEEDED');
        old.push(sent.event.id);
      }
      const open = await sendEvent(t, s.tenantId, { order: 1 }, { type: 'order.placed' });
      const retrying = await waitForDelivery(t, (d) => d.event_id === open.event.id, 'RETRYING');
      const [firstAttempt] = await db.selectFrom('attempts').select('id').where('delivery_id', '=', retrying.id).execute();
      assert.ok(firstAttempt);

      clock.advance(31 * DAY);
      // The open delivery's retry is overdue now: let it run (and fail again) before purging, so the
      // purge does not race the dispatcher.
      t.app.dispatcher.wake();
      await waitForDelivery(t, (d) => d.id === retrying.id && d.attempt_count === 2, 'RETRYING');
      const fresh = await sendEvent(t, s.tenantId, { n: 'fresh' });
      await waitForDelivery(t, (d) => d.event_id === fresh.event.id, 'SUCCEEDED');

      // small batches, repeated until nothing old is left
      let events = 0;
      let rounds = 0;
      for (;;) {
        const result = await purgeOnce(t.app.services, 2);
        assert.ok(result.events <= 2 && result.attempts <= 2, JSON.stringify(result));
        rounds++;
        events += result.events;
        if (result.events === 0 && result.attempts === 0) break;
        assert.ok(rounds < 20, 'purging converges');
      }
      assert.equal(events, 5);
      assert.ok(rounds >= 3, 'five old events in batches of two take three rounds');

      const eventIds = (await db.selectFrom('events').select('id').where('tenant_id', '=', s.tenantId).execute()).map((r) => r.id);
      assert.deepEqual(eventIds.sort(), [open.event.id, fresh.event.id].sort());
      const deliveries = await db.selectFrom('deliveries').select(['event_id', 'status']).where('tenant_id', '=', s.tenantId).execute();
      assert.deepEqual(
        deliveries.map((d) => [d.event_id, d.status]).sort(),
        [
          [open.event.id, 'RETRYING'],
          [fresh.event.id, 'SUCCEEDED'],
        ].sort(),
      );
      const cutoff = clock.now() - 30 * DAY;
      // the only old attempt left belongs to the delivery still under way: its log stays whole
      const oldAttempts = await db.selectFrom('attempts').select('event_id').where('started_at', '<', cutoff).execute();
      assert.deepEqual(oldAttempts, [{ event_id: open.event.id }], 'old attempts are purged unless their delivery is open');
      const attempts = await db.selectFrom('attempts').select(['event_id', 'number']).where('tenant_id', '=', s.tenantId).execute();
      assert.deepEqual(
        attempts.map((a) => [a.event_id, a.number]).sort(),
        [
          [open.event.id, 1],
          [open.event.id, 2],
          [fresh.event.id, 1],
        ].sort(),
      );

      const read = await t.ok(`query($old: ID!, $open: ID!, $fresh: ID!) { old: event(id: $old) { id } open: event(id: $open) { id } fresh: event(id: $fresh) { id } }`, {
        old: old[0],
        open: open.event.id,
        fresh: fresh.event.id,
      });
      assert.deepEqual(read, { old: null, open: { id: open.event.id }, fresh: { id: fresh.event.id } });

      assert.deepEqual(await purgeOnce(t.app.services), { events: 0, attempts: 0, operational: 0 }, 'nothing left to purge');
    });

    test('an old event whose delivery is still open is purged once the delivery ends and it is old', async () => {
      const { db } = t.app.services;
      const s = await setup(t, `${failing.url}/later`, { endpoint: { retryPolicy: { scheduleMs: [0, WEEK] } } });
      const sent = await sendEvent(t, s.tenantId, {});
      const delivery = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'RETRYING');
      clock.advance(31 * DAY);
      assert.equal((await db.selectFrom('events').select('id').where('id', '=', sent.event.id).execute()).length, 1);
      t.app.dispatcher.wake();
      await waitForDelivery(t, (d) => d.id === delivery.id, 'FAILED');
      await purgeOnce(t.app.services);
      assert.deepEqual(await db.selectFrom('events').select('id').where('id', '=', sent.event.id).execute(), []);
      assert.deepEqual(await db.selectFrom('deliveries').select('id').where('id', '=', delivery.id).execute(), []);
      assert.deepEqual(await db.selectFrom('attempts').select('id').where('delivery_id', '=', delivery.id).execute(), []);
    });

    test('operational events older than 30 days are purged; newer ones stay', async () => {
      const { db } = t.app.services;
      const s = await setup(t, `${receiver.url}/operations`);
      const kinds = async () =>
        (await db.selectFrom('operational_events').select('kind').where('endpoint_id', '=', s.endpointId).orderBy('id').execute()).map((row) => row.kind);
      await t.ok(`mutation($id: ID!) { disableEndpoint(input: {id: $id}) { __typename } }`, { id: s.endpointId });
      assert.deepEqual(await kinds(), ['endpoint.disabled']);
      clock.advance(31 * DAY);
      await t.ok(`mutation($id: ID!) { enableEndpoint(input: {id: $id}) { __typename } }`, { id: s.endpointId });
      assert.ok((await purgeOnce(t.app.services)).operational >= 1);
      assert.deepEqual(await kinds(), ['endpoint.enabled']);
    });
  });
}
