// An attempt's row is written once, with its outcome. A worker that stops (or loses its lease)
// between the claim and the outcome leaves no row: the claim that takes the delivery over records
// that attempt as INTERRUPTED, and if the first worker still finishes, its real outcome replaces
// that row. Driven step by step through the claim, job preparation and the outcome writer, with
// the times passed in, so a lease expires exactly when the test says.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { claimDue } from '../../src/modules/deliveries/delivery.claim.js';
import { newChangeLog } from '../../src/modules/deliveries/delivery.effects.js';
import { prepareJobs, type Job } from '../../src/dispatch/job-preparation.js';
import { writeOutcomes } from '../../src/dispatch/outcome-writer.js';
import type { Completion } from '../../src/dispatch/completion.js';
import { startTestApp, TEST_DIALECTS, type TestApp } from '../helpers/app.js';
import { sendEvent, setup } from '../helpers/fixtures.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const LEASE_MS = 1_000;

for (const dialect of TEST_DIALECTS) {
  describe(`lost attempts (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    before(async () => {
      t = await startTestApp({ dialect });
      receiver = await startReceiver();
      // Nothing but this test claims: the dispatcher would send the deliveries itself.
      await t.app.dispatcher.stop();
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    const claim = (now: number) =>
      t.app.services.store.writes.run(async (trx) => {
        const claimed = await claimDue(trx, { now, limit: 10, leaseMs: LEASE_MS, perEndpoint: 10, excludeEndpoints: [] });
        return prepareJobs(trx, claimed, now, newChangeLog());
      });
    const succeeded = (job: Job, finishedAt: number): Completion => ({
      job,
      sent: null,
      response: null,
      summary: { status: 200, errorClass: null, errorMessage: null, retryAfter: null },
      decision: { kind: 'succeeded' },
      finishedAt,
    });
    const finish = (completion: Completion, now: number) =>
      t.app.services.store.writes.run((trx) =>
        writeOutcomes({ trx, dialect: t.app.services.store.dialect }, [completion], { now, autoDisableAfterMs: 86_400_000, failingAfterAttempts: 5, log: newChangeLog(), schemas: t.app.services.jsonSchemas }),
      );
    const attemptsOf = async (deliveryId: string) =>
      (await t.app.services.db.selectFrom('attempts').select(['number', 'outcome', 'error_class']).where('delivery_id', '=', deliveryId).orderBy('number').execute()).map(
        (row) => `${row.number}:${row.outcome}`,
      );

    test('no row while in flight; the take-over records it interrupted; the late outcome replaces that row', async () => {
      const s = await setup(t, `${receiver.url}/hook`);
      const sent = await sendEvent(t, s.tenantId, { n: 1 });
      const start = Date.now() + 1_000;

      const [first] = (await claim(start)).filter((job) => job.event.id === sent.event.id);
      assert.ok(first, 'the first claim takes the delivery');
      assert.equal(first.attempt.outcome, 'IN_FLIGHT');
      assert.deepEqual(await attemptsOf(first.delivery.id), [], 'an attempt in flight has no row yet');

      // The first worker's lease expires: the next claim takes the delivery over.
      const [second] = (await claim(start + LEASE_MS + 1)).filter((job) => job.event.id === sent.event.id);
      assert.ok(second, 'the delivery is claimed again once the lease expired');
      assert.equal(second.attempt.number, 2);
      assert.deepEqual(await attemptsOf(first.delivery.id), ['1:INTERRUPTED'], 'the lost attempt is recorded as interrupted');

      // The first worker finishes after all: its lease is gone, its attempt's real outcome is kept.
      const [late] = await finish(succeeded(first, start + LEASE_MS + 5), start + LEASE_MS + 5);
      assert.equal(late?.delivery.status, 'SENDING', 'the delivery stays with its new holder');
      assert.deepEqual(await attemptsOf(first.delivery.id), ['1:SUCCEEDED']);

      await finish(succeeded(second, start + LEASE_MS + 10), start + LEASE_MS + 10);
      assert.deepEqual(await attemptsOf(first.delivery.id), ['1:SUCCEEDED', '2:SUCCEEDED']);
      const delivery = await t.app.services.db.selectFrom('deliveries').select(['status', 'attempt_count']).where('id', '=', first.delivery.id).executeTakeFirstOrThrow();
      assert.deepEqual(delivery, { status: 'SUCCEEDED', attempt_count: 2 });
    });

    test('a retried delivery whose previous attempt ended is not given an interrupted row', async () => {
      const s = await setup(t, `${receiver.url}/hook`);
      const sent = await sendEvent(t, s.tenantId, { n: 2 });
      const start = Date.now() + 10_000;
      const [first] = (await claim(start)).filter((job) => job.event.id === sent.event.id);
      assert.ok(first);
      const failed: Completion = {
        ...succeeded(first, start + 5),
        summary: { status: 500, errorClass: 'http_status', errorMessage: 'the receiver answered 500', retryAfter: null },
        decision: { kind: 'retry', delayMs: 10, reason: 'HTTP 500' },
      };
      await finish(failed, start + 5);
      const [retried] = (await claim(start + 100)).filter((job) => job.event.id === sent.event.id);
      assert.ok(retried, 'the retry is claimed when due');
      assert.deepEqual(await attemptsOf(first.delivery.id), ['1:FAILED']);
    });
  });
}
