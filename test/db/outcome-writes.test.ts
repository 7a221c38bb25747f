// Outcomes of a batch written together (finishOutcomes: one statement per table on PostgreSQL, one
// per row on SQLite): every attempt's one row gets its own values, and a delivery is written only
// under its lease's fencing token, the answer saying which were.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/db/ids.js';
import type { AttemptRow, DeliveryRow } from '../../src/db/schema.js';
import { finishOutcomes, leaseForImmediateAttempt, type AttemptOutcome } from '../../src/modules/deliveries/attempt.repository.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup } from '../helpers/fixtures.js';

for (const dialect of TEST_DIALECTS) {
  describe(`outcome writes (${dialect})`, () => {
    let t: TestApp;
    let leased: DeliveryRow[] = [];
    let attempts: AttemptRow[] = [];
    const now = Date.now();

    before(async () => {
      // No dispatcher: the deliveries stay PENDING until this test leases them.
      t = await startTestApp({ dialect, env: { SWITCHYARD_ROLE: 'api' } });
      const { tenantId } = await setup(t, 'http://127.0.0.1:9/hook');
      for (let i = 0; i < 3; i++) await sendEvent(t, tenantId, { n: i });
      const { db } = t.app.services;
      const ids = (await db.selectFrom('deliveries').select('id').orderBy('id').execute()).map((row) => row.id);
      assert.equal(ids.length, 3);
      leased = (await leaseForImmediateAttempt(db, ids, now, now + 30_000)).sort((a, b) => a.id.localeCompare(b.id));
      attempts = leased.map((delivery) => ({
        id: newId('attempt', now), delivery_id: delivery.id, tenant_id: delivery.tenant_id, event_id: delivery.event_id,
        endpoint_id: delivery.endpoint_id, hook_id: delivery.hook_id, number: delivery.attempt_count, trigger: 'SCHEDULED',
        outcome: 'IN_FLIGHT', request_method: 'POST', request_url: 'http://127.0.0.1:9/hook', request_headers: '{}', request_body: null,
        response_status: null, response_headers: null, response_body: null, response_body_encoding: 'utf8', response_body_truncated: 0,
        duration_ms: null, error_class: null, error_message: null, started_at: now, finished_at: null,
      }));
    });
    after(() => t.stop());

    test('each row its own values; a delivery whose lease was taken over keeps its state', async () => {
      const outcomes: AttemptOutcome[] = leased.map((delivery, index) => ({
        attempt: {
          ...attempts[index]!,
          outcome: index === 2 ? 'FAILED' : 'SUCCEEDED', request_method: 'POST', request_url: 'http://127.0.0.1:9/hook',
          request_headers: `{"n":"${index}"}`, request_body: `{"quote":"\\"","n":${index}}`, response_status: index === 2 ? 500 : 200,
          response_headers: '{}', response_body: index === 2 ? 'boom\nline two' : 'ok', response_body_encoding: 'utf8',
          response_body_truncated: 0, duration_ms: 1.5 + index, error_class: null, error_message: null, started_at: now, finished_at: now + 10,
        },
        capture: null,
        // the second delivery's lease was taken over: its token moved on
        delivery: { id: delivery.id, lease_token: index === 1 ? delivery.lease_token - 1 : delivery.lease_token },
        deliveryChanges: {
          status: index === 2 ? 'RETRYING' : 'SUCCEEDED', due_at: index === 2 ? now + 60_000 : null, next_attempt_at: index === 2 ? now + 60_000 : null,
          next_trigger: 'SCHEDULED', last_status_code: index === 2 ? 500 : 200, last_error: index === 2 ? 'HTTP 500' : null, status_reason: null,
          finished_at: index === 2 ? null : now + 10, updated_at: now + 10,
        },
      }));
      const held = await t.app.services.store.writes.run((trx) => finishOutcomes(trx, outcomes));
      assert.deepEqual(held, [true, false, true]);

      const { db } = t.app.services;
      const deliveries = await db.selectFrom('deliveries').selectAll().orderBy('id').execute();
      assert.deepEqual(
        deliveries.map((row) => [row.status, row.last_status_code, row.due_at === null ? null : Number(row.due_at)]),
        [['SUCCEEDED', 200, null], ['SENDING', null, now + 30_000], ['RETRYING', 500, now + 60_000]],
      );
      const written = await db.selectFrom('attempts').selectAll().where('id', 'in', attempts.map((a) => a.id)).execute();
      const byDelivery = new Map(written.map((row) => [row.delivery_id, row]));
      leased.forEach((delivery, index) => {
        const row = byDelivery.get(delivery.id)!;
        assert.equal(row.outcome, outcomes[index]!.attempt.outcome);
        assert.equal(row.request_headers, `{"n":"${index}"}`);
        assert.equal(row.request_body, `{"quote":"\\"","n":${index}}`);
        assert.equal(row.response_body, index === 2 ? 'boom\nline two' : 'ok');
        assert.equal(Number(row.duration_ms), 1.5 + index);
        assert.equal(Number(row.finished_at), now + 10);
      });
    });

    test('no outcomes: nothing written, nothing answered', async () => {
      assert.deepEqual(await t.app.services.store.writes.run((trx) => finishOutcomes(trx, [])), []);
    });
  });
}
