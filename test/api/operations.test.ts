// What users do to deliveries, against a real receiver: retry, cancel, recover an endpoint, replay
// an event, test a hook; endpoint health; and tenant isolation of all of them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import {
  createEndpoint,
  createHook,
  createTenantToken,
  ensureEventType,
  sendEvent,
  setup,
  storedCounts,
  waitForDelivery,
} from '../helpers/fixtures.js';
import { ok, startReceiver, status, type Receiver } from '../helpers/receiver.js';

const HOUR = 3_600_000;

const RESULT_FIELDS = `__typename ... on Error { code message } ... on ValidationError { problems { path message } }`;
const RETRY = `mutation($id: ID!) { retryDelivery(input: {id: $id}) { ${RESULT_FIELDS} ... on DeliveryPayload { delivery { id status } } } }`;
const CANCEL = `mutation($id: ID!) { cancelDelivery(input: {id: $id}) { ${RESULT_FIELDS} ... on DeliveryPayload { delivery { id status statusReason nextAttemptAt finishedAt } } } }`;
const RECOVER = `mutation($id: ID!, $since: DateTime!, $until: DateTime) {
  recoverEndpoint(input: {id: $id, since: $since, until: $until}) { ${RESULT_FIELDS} ... on RecoverEndpointPayload { recovered endpoint { id } } }
}`;
const REPLAY = `mutation($id: ID!) { replayEvent(input: {id: $id}) { ${RESULT_FIELDS} ... on ReplayEventPayload { event { id } deliveries { id status hook { id } } } } }`;
const TEST_HOOK = `mutation($id: ID!, $payload: JSON, $eventType: String) {
  testHook(input: {id: $id, payload: $payload, eventType: $eventType}) {
    ${RESULT_FIELDS}
    ... on TestHookPayload {
      attempt {
        number trigger outcome durationMs errorClass finishedAt
        request { method url body }
        response { status body }
        delivery { status attemptCount event { type payload } }
      }
    }
  }
}`;
const ATTEMPTS = `query($id: ID!) { delivery(id: $id) { status attemptCount attempts { nodes { number trigger outcome } } } }`;

const iso = (ms: number) => new Date(ms).toISOString();

// One clock for the file, only moved forward (ids are time-ordered; see events.test.ts).
const clock = new ManualClock(Date.now());

for (const dialect of TEST_DIALECTS) {
  describe(`delivery operations (${dialect})`, () => {
    let t: TestApp;
    const receivers: Receiver[] = [];

    before(async () => {
      t = await startTestApp({ dialect, clock });
      await ensureEventType(t, 'invoice.paid');
    });
    after(async () => {
      await t.stop();
      await Promise.all(receivers.map((r) => r.close()));
    });

    async function receiver(): Promise<Receiver> {
      const r = await startReceiver();
      receivers.push(r);
      return r;
    }

    test('retryDelivery of a SUCCEEDED delivery makes a second, MANUAL attempt', async () => {
      const r = await receiver();
      const s = await setup(t, `${r.url}/retry`);
      const sent = await sendEvent(t, s.tenantId, { n: 1 });
      const delivered = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'SUCCEEDED');

      const retried = await t.ok(RETRY, { id: delivered.id });
      assert.equal(retried.retryDelivery.__typename, 'DeliveryPayload', JSON.stringify(retried));
      assert.ok(['PENDING', 'SENDING', 'SUCCEEDED'].includes(retried.retryDelivery.delivery.status));

      const requests = await r.waitFor(2);
      await waitForDelivery(t, (d) => d.id === delivered.id && d.attempt_count === 2, 'SUCCEEDED');
      assert.equal(requests[1]!.headers['webhook-id'], delivered.id, 'the same webhook-id (the delivery id), so receivers can de-duplicate');
      assert.equal(requests[1]!.headers['webhook-event-id'], sent.event.id);
      const read = await t.ok(ATTEMPTS, { id: delivered.id });
      assert.equal(read.delivery.status, 'SUCCEEDED');
      assert.equal(read.delivery.attemptCount, 2);
      assert.deepEqual(read.delivery.attempts.nodes, [
        { number: 2, trigger: 'MANUAL', outcome: 'SUCCEEDED' },
        { number: 1, trigger: 'SCHEDULED', outcome: 'SUCCEEDED' },
      ]);
    });

    test('cancelDelivery: a RETRYING delivery is CANCELLED; a SUCCEEDED or cancelled one is a ConflictError', async () => {
      const r = await receiver();
      r.setDefault(status(500));
      const s = await setup(t, `${r.url}/cancel`, { endpoint: { retryPolicy: { scheduleMs: [0, HOUR] } } });
      const sent = await sendEvent(t, s.tenantId, { n: 1 });
      const retrying = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'RETRYING');
      assert.equal(retrying.attempt_count, 1);

      const cancelled = await t.ok(CANCEL, { id: retrying.id });
      assert.equal(cancelled.cancelDelivery.__typename, 'DeliveryPayload', JSON.stringify(cancelled));
      assert.equal(cancelled.cancelDelivery.delivery.status, 'CANCELLED');
      assert.equal(cancelled.cancelDelivery.delivery.nextAttemptAt, null);
      assert.ok(cancelled.cancelDelivery.delivery.statusReason);
      const stored = await t.app.services.db.selectFrom('deliveries').selectAll().where('id', '=', retrying.id).executeTakeFirstOrThrow();
      assert.equal(stored.status, 'CANCELLED');
      assert.equal(stored.due_at, null, 'no longer in the queue');

      // the retry would have been due by now: nothing is sent
      clock.advance(2 * HOUR);
      t.app.dispatcher.wake();
      const ok2 = await receiver();
      const other = await setup(t, `${ok2.url}/after-cancel`);
      const probe = await sendEvent(t, other.tenantId, {});
      await waitForDelivery(t, (d) => d.event_id === probe.event.id, 'SUCCEEDED');
      assert.equal(r.requests.length, 1);

      const again = await t.ok(CANCEL, { id: retrying.id });
      assert.equal(again.cancelDelivery.__typename, 'ConflictError');
      assert.equal(again.cancelDelivery.code, 'CONFLICT');

      const done = await waitForDelivery(t, (d) => d.event_id === probe.event.id, 'SUCCEEDED');
      const conflict = await t.ok(CANCEL, { id: done.id });
      assert.equal(conflict.cancelDelivery.__typename, 'ConflictError');
      assert.match(conflict.cancelDelivery.message, /SUCCEEDED/);
      const unchanged = await t.app.services.db.selectFrom('deliveries').select('status').where('id', '=', done.id).executeTakeFirstOrThrow();
      assert.equal(unchanged.status, 'SUCCEEDED');

      const missing = await t.ok(CANCEL, { id: 'dlv_00000000000000000000000000' });
      assert.equal(missing.cancelDelivery.__typename, 'NotFoundError');
    });

    test('recoverEndpoint resends every FAILED delivery in [since, until), and only those', async () => {
      const r = await receiver();
      r.setDefault(status(500));
      const s = await setup(t, `${r.url}/recover`, { endpoint: { retryPolicy: { scheduleMs: [0] } } });
      const failedOnce = async (payload: unknown) => {
        const sent = await sendEvent(t, s.tenantId, payload);
        const delivery = await waitForDelivery(t, (d) => d.event_id === sent.event.id, ['FAILED', 'SUCCEEDED']);
        return { eventId: sent.event.id, delivery };
      };

      const before = await failedOnce({ n: 'before' });
      assert.equal(before.delivery.status, 'FAILED', 'scheduleMs [0]: one failure is final');
      clock.advance(HOUR);
      const since = clock.now();
      const inside1 = await failedOnce({ n: 'inside-1' });
      const inside2 = await failedOnce({ n: 'inside-2' });
      r.enqueue(ok);
      const succeeded = await failedOnce({ n: 'succeeded' });
      assert.equal(succeeded.delivery.status, 'SUCCEEDED');
      clock.advance(HOUR);
      const until = clock.now();
      const afterUntil = await failedOnce({ n: 'after' });
      assert.equal(afterUntil.delivery.status, 'FAILED');
      assert.equal(r.requests.length, 5);

      const invalid = await t.ok(RECOVER, { id: s.endpointId, since: iso(until), until: iso(since) });
      assert.equal(invalid.recoverEndpoint.__typename, 'ValidationError');
      assert.deepEqual(invalid.recoverEndpoint.problems.map((p: { path: string[] }) => p.path), [['input', 'until']]);

      r.setDefault(ok);
      const recovered = await t.ok(RECOVER, { id: s.endpointId, since: iso(since), until: iso(until) });
      assert.equal(recovered.recoverEndpoint.__typename, 'RecoverEndpointPayload', JSON.stringify(recovered));
      assert.equal(recovered.recoverEndpoint.recovered, 2);

      const resent = await r.waitFor(7);
      assert.deepEqual(resent.slice(5).map((q) => q.headers['webhook-id']).sort(), [inside1.delivery.id, inside2.delivery.id].sort());
      for (const item of [inside1, inside2]) {
        await waitForDelivery(t, (d) => d.id === item.delivery.id && d.attempt_count === 2, 'SUCCEEDED');
        const read = await t.ok(ATTEMPTS, { id: item.delivery.id });
        assert.deepEqual(read.delivery.attempts.nodes.map((a: { trigger: string; outcome: string }) => [a.trigger, a.outcome]), [
          ['MANUAL', 'SUCCEEDED'],
          ['SCHEDULED', 'FAILED'],
        ]);
      }
      for (const item of [before, afterUntil]) {
        const row = await t.app.services.db.selectFrom('deliveries').selectAll().where('id', '=', item.delivery.id).executeTakeFirstOrThrow();
        assert.equal(row.status, 'FAILED');
        assert.equal(row.attempt_count, 1);
      }

      // without `until`: up to now, so the one after the old `until` too
      const rest = await t.ok(RECOVER, { id: s.endpointId, since: iso(since) });
      assert.equal(rest.recoverEndpoint.recovered, 1);
      await waitForDelivery(t, (d) => d.id === afterUntil.delivery.id && d.attempt_count === 2, 'SUCCEEDED');
      assert.equal(r.requests.length, 8);
    });

    test('replayEvent creates new manual deliveries; the receiver gets the event again under a new webhook-id and the same webhook-event-id', async () => {
      const r = await receiver();
      const s = await setup(t, `${r.url}/replay`);
      const sent = await sendEvent(t, s.tenantId, { n: 'replay' });
      const original = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'SUCCEEDED');

      const replayed = await t.ok(REPLAY, { id: sent.event.id });
      assert.equal(replayed.replayEvent.__typename, 'ReplayEventPayload', JSON.stringify(replayed));
      const [fresh] = replayed.replayEvent.deliveries;
      assert.equal(replayed.replayEvent.deliveries.length, 1);
      assert.notEqual(fresh.id, original.id);
      assert.equal(fresh.hook.id, s.hookId);

      const [first, second] = await r.waitFor(2);
      // A replay is a new delivery the receiver is meant to act on, not a duplicate to drop.
      assert.equal(first!.headers['webhook-id'], original.id);
      assert.equal(second!.headers['webhook-id'], fresh.id);
      assert.equal(second!.headers['webhook-event-id'], sent.event.id);
      assert.equal(second!.headers['webhook-event-id'], first!.headers['webhook-event-id']);
      assert.deepEqual(JSON.parse(second!.body.toString()).data, { n: 'replay' });
      await waitForDelivery(t, (d) => d.id === fresh.id, 'SUCCEEDED');
      const read = await t.ok(ATTEMPTS, { id: fresh.id });
      assert.deepEqual(read.delivery.attempts.nodes, [{ number: 1, trigger: 'MANUAL', outcome: 'SUCCEEDED' }]);
      const all = await t.ok(`query($id: ID!) { event(id: $id) { deliveries { nodes { id } } } }`, { id: sent.event.id });
      assert.equal(all.event.deliveries.nodes.length, 2);

      const missing = await t.ok(REPLAY, { id: 'msg_00000000000000000000000000' });
      assert.equal(missing.replayEvent.__typename, 'NotFoundError');
    });

    test('testHook returns the finished attempt synchronously, with the test payload, a given one, or a ValidationError', async () => {
      await ensureEventType(t, 'order.shipped', {
        type: 'object',
        required: ['orderId'],
        properties: { orderId: { type: 'string' } },
      });
      const r = await receiver();
      const s = await setup(t, `${r.url}/test-hook`);
      const hookId = await createHook(t, s.tenantId, s.endpointId, { eventTypes: ['order.shipped'], testPayload: { orderId: 'T-1' } });

      r.enqueue(status(202, { 'content-type': 'text/plain' }, 'accepted'));
      const saved = await t.ok(TEST_HOOK, { id: hookId });
      assert.equal(saved.testHook.__typename, 'TestHookPayload', JSON.stringify(saved));
      const attempt = saved.testHook.attempt;
      assert.equal(r.requests.length, 1, 'the request was made before the mutation answered');
      assert.equal(attempt.trigger, 'TEST');
      assert.equal(attempt.number, 1);
      assert.equal(attempt.outcome, 'SUCCEEDED');
      assert.deepEqual(attempt.response, { status: 202, body: 'accepted' });
      assert.equal(attempt.errorClass, null);
      assert.ok(attempt.finishedAt);
      assert.equal(typeof attempt.durationMs, 'number');
      assert.equal(attempt.request.method, 'POST');
      assert.deepEqual(JSON.parse(attempt.request.body).data, { orderId: 'T-1' });
      assert.deepEqual(JSON.parse(r.requests[0]!.body.toString()).data, { orderId: 'T-1' });
      assert.equal(JSON.parse(r.requests[0]!.body.toString()).type, 'order.shipped');
      assert.deepEqual(attempt.delivery.event, { type: 'order.shipped', payload: { orderId: 'T-1' } });

      const given = await t.ok(TEST_HOOK, { id: hookId, payload: { orderId: 'T-2' } });
      assert.equal(given.testHook.attempt.outcome, 'SUCCEEDED');
      assert.equal(r.requests.length, 2);
      assert.deepEqual(JSON.parse(r.requests[1]!.body.toString()).data, { orderId: 'T-2' });

      const eventsBefore = (await storedCounts(t, s.tenantId)).events;
      const invalid = await t.ok(TEST_HOOK, { id: hookId, payload: { orderId: 5 } });
      assert.equal(invalid.testHook.__typename, 'ValidationError');
      assert.deepEqual(invalid.testHook.problems.map((p: { path: string[] }) => p.path), [['input', 'payload', 'orderId']]);
      assert.equal(r.requests.length, 2, 'nothing was sent');
      assert.equal((await storedCounts(t, s.tenantId)).events, eventsBefore, 'nothing was written');

      // a failing receiver: the attempt says so, and a test is never retried
      r.enqueue(status(500, {}, 'boom'));
      const failing = await t.ok(TEST_HOOK, { id: hookId });
      assert.equal(failing.testHook.attempt.outcome, 'FAILED');
      assert.deepEqual(failing.testHook.attempt.response, { status: 500, body: 'boom' });
      assert.equal(failing.testHook.attempt.errorClass, 'HTTP_STATUS');
      assert.equal(failing.testHook.attempt.delivery.status, 'FAILED');

      const missing = await t.ok(TEST_HOOK, { id: 'hook_00000000000000000000000000' });
      assert.equal(missing.testHook.__typename, 'NotFoundError');
    });

    test('testHook on an inactive hook or a disabled endpoint is a ConflictError and writes nothing', async () => {
      const r = await receiver();
      const s = await setup(t, `${r.url}/test-off`);
      const inactive = await createHook(t, s.tenantId, s.endpointId, { active: false });
      const answer = await t.ok(TEST_HOOK, { id: inactive });
      assert.equal(answer.testHook.__typename, 'ConflictError', JSON.stringify(answer));
      assert.match(answer.testHook.message, /inactive/);

      const { endpointId: off } = await createEndpoint(t, s.tenantId, `${r.url}/off`);
      const onDisabled = await createHook(t, s.tenantId, off);
      await t.ok(`mutation($id: ID!) { disableEndpoint(input: {id: $id}) { __typename } }`, { id: off });
      const disabled = await t.ok(TEST_HOOK, { id: onDisabled });
      assert.equal(disabled.testHook.__typename, 'ConflictError', JSON.stringify(disabled));
      assert.match(disabled.testHook.message, /disabled/);

      assert.equal(r.requests.length, 0);
      assert.deepEqual(await storedCounts(t, s.tenantId), { events: 0, deliveries: 0, attempts: 0 }, 'a refused test leaves no event or delivery behind');
    });

    test('Endpoint.health after successes and failures', async () => {
      const r = await receiver();
      const s = await setup(t, `${r.url}/health`, { endpoint: { retryPolicy: { scheduleMs: [0] } } });
      const HEALTH = `query($id: ID!) { endpoint(id: $id) { health {
        attemptsCounted successRate p50LatencyMs p95LatencyMs consecutiveFailures lastSuccessAt lastFailureAt failingSince
      } } }`;
      const empty = (await t.ok(HEALTH, { id: s.endpointId })).endpoint.health;
      assert.deepEqual(empty, {
        attemptsCounted: 0,
        successRate: null,
        p50LatencyMs: null,
        p95LatencyMs: null,
        consecutiveFailures: 0,
        lastSuccessAt: null,
        lastFailureAt: null,
        failingSince: null,
      });

      const outcomes: [string, number][] = [];
      for (const code of [200, 200, 500, 200, 503, 500]) {
        clock.advance(1_000);
        r.enqueue(status(code));
        const sent = await sendEvent(t, s.tenantId, { code });
        await waitForDelivery(t, (d) => d.event_id === sent.event.id, ['SUCCEEDED', 'FAILED']);
        outcomes.push([code === 200 ? 'ok' : 'fail', clock.now()]);
      }
      const health = (await t.ok(HEALTH, { id: s.endpointId })).endpoint.health;
      assert.equal(health.attemptsCounted, 6);
      assert.equal(health.successRate, 0.5);
      assert.equal(typeof health.p50LatencyMs, 'number');
      assert.equal(typeof health.p95LatencyMs, 'number');
      assert.ok(health.p50LatencyMs >= 0 && health.p95LatencyMs >= health.p50LatencyMs);
      assert.equal(health.consecutiveFailures, 2);
      assert.equal(health.lastSuccessAt, iso(outcomes[3]![1]));
      assert.equal(health.lastFailureAt, iso(outcomes[5]![1]));
      assert.equal(health.failingSince, iso(outcomes[4]![1]), 'failing since the first failure after the last success');
    });

    test("a tenant token cannot act on another tenant's deliveries, events, endpoints or hooks (NOT_FOUND)", async () => {
      const r = await receiver();
      const victim = await setup(t, `${r.url}/victim`);
      const sent = await sendEvent(t, victim.tenantId, { n: 1 });
      const delivery = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'SUCCEEDED');
      const attacker = await setup(t, `${r.url}/attacker`);
      const token = await createTenantToken(t, attacker.tenantId, ['READ', 'MANAGE']);

      const checks: [string, string, Record<string, unknown>][] = [
        ['retryDelivery', RETRY, { id: delivery.id }],
        ['cancelDelivery', CANCEL, { id: delivery.id }],
        ['replayEvent', REPLAY, { id: sent.event.id }],
        ['recoverEndpoint', RECOVER, { id: victim.endpointId, since: iso(0) }],
        ['testHook', TEST_HOOK, { id: victim.hookId }],
      ];
      for (const [name, document, variables] of checks) {
        const answer = await t.ok(document, variables, token);
        assert.equal(answer[name].__typename, 'NotFoundError', `${name}: ${JSON.stringify(answer)}`);
        assert.equal(answer[name].code, 'NOT_FOUND');
      }
      const read = await t.ok(`query($id: ID!) { delivery(id: $id) { id } node(id: $id) { id } }`, { id: delivery.id }, token);
      assert.deepEqual(read, { delivery: null, node: null });
      assert.equal(r.requests.length, 1, 'nothing was sent again');
      const row = await t.app.services.db.selectFrom('deliveries').selectAll().where('event_id', '=', sent.event.id).execute();
      assert.equal(row.length, 1);
      assert.equal(row[0]!.status, 'SUCCEEDED');
      assert.equal(row[0]!.attempt_count, 1);

      // its own delivery: allowed with MANAGE, forbidden with READ only
      const own = await sendEvent(t, attacker.tenantId, { n: 2 });
      const ownDelivery = await waitForDelivery(t, (d) => d.event_id === own.event.id, 'SUCCEEDED');
      const reader = await createTenantToken(t, attacker.tenantId, ['READ']);
      const forbidden = await t.gql(RETRY, { id: ownDelivery.id }, reader);
      assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      const allowed = await t.ok(RETRY, { id: ownDelivery.id }, token);
      assert.equal(allowed.retryDelivery.__typename, 'DeliveryPayload');
      await waitForDelivery(t, (d) => d.id === ownDelivery.id && d.attempt_count === 2, 'SUCCEEDED');
    });
  });
}
