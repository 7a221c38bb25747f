// Retry timing with an injected clock: every attempt happens when it is due and not a moment
// before, the default schedule and endpoint policies are honoured, and an endpoint failing for too
// long is disabled. Nothing here waits for real time to pass.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { DEFAULT_SCHEDULE_MS, JITTER_RATIO } from '../../src/webhook/schedule.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import {
  createHook,
  readDelivery,
  sendEvent,
  setup,
  waitForDelivery,
  waitUntil,
  type DeliveryView,
  type Setup,
} from '../helpers/fixtures.js';
import { ok, startReceiver, status, type Receiver } from '../helpers/receiver.js';

const T0 = Date.UTC(2026, 0, 1, 12);
const fail500 = status(500, {}, 'down');
const ms = (iso: string | null): number => {
  assert.ok(iso, 'expected a time');
  return Date.parse(iso);
};

/**
 * Harness around one app on a ManualClock. `proveNothingDue()` shows that a look at the queue at
 * the current clock time sends nothing for the watched receiver: a canary event (another tenant,
 * another receiver) is sent and delivered, which means a claim ran at this clock time; any due
 * delivery would have been taken by that same claim. Then the dispatcher must be idle.
 */
class Harness {
  canary!: Setup;
  canaryReceiver!: Receiver;
  private canaries = 0;

  constructor(
    readonly t: TestApp,
    readonly clock: ManualClock,
  ) {}

  async init(): Promise<void> {
    this.canaryReceiver = await startReceiver();
    this.canary = await setup(this.t, `${this.canaryReceiver.url}/canary`);
  }

  wake(): void {
    this.t.app.dispatcher.wake();
  }

  async idle(): Promise<void> {
    await waitUntil(() => this.t.app.dispatcher.load === 0, { timeoutMs: 5_000, what: 'dispatcher idle' });
  }

  async proveNothingDue(): Promise<void> {
    this.wake();
    const sent = await sendEvent(this.t, this.canary.tenantId, { canary: ++this.canaries });
    await waitForDelivery(this.t, (d) => d.event_id === sent.event.id, 'SUCCEEDED', 5_000);
    await this.idle();
  }

  async close(): Promise<void> {
    await this.canaryReceiver.close();
  }
}

/**
 * Drives one delivery through `delays` (element i = the scheduled delay before attempt i+1, the
 * first one 0) with a receiver that always fails: checks each nextAttemptAt is the scheduled delay
 * ± 20 %, that nothing is sent 1 ms before it, and that the attempt is sent exactly when due.
 * Returns the delivery as it ends (FAILED) and the delays observed.
 */
async function driveSchedule(
  h: Harness,
  receiver: Receiver,
  tenantId: string,
  delays: readonly number[],
): Promise<{ delivery: DeliveryView; observed: number[] }> {
  const { t, clock } = h;
  const before = receiver.requests.length;
  const sent = await sendEvent(t, tenantId, { n: 1 });
  await receiver.waitFor(before + 1, 5_000);
  let row = await waitForDelivery(t, (d) => d.event_id === sent.event.id && d.attempt_count === 1, ['RETRYING', 'FAILED'], 5_000);
  const observed: number[] = [];
  for (let attempt = 1; attempt < delays.length; attempt++) {
    const delivery = await readDelivery(t, row.id);
    assert.equal(delivery.status, 'RETRYING', `after attempt ${attempt}`);
    assert.equal(delivery.attemptCount, attempt);
    const last = delivery.attempts.nodes[0];
    assert.equal(last?.number, attempt);
    assert.equal(last?.errorClass, 'HTTP_STATUS');
    const due = ms(delivery.nextAttemptAt);
    const delay = due - ms(last.finishedAt);
    observed.push(delay);
    const scheduled = delays[attempt]!;
    assert.ok(
      delay >= Math.floor(scheduled * (1 - JITTER_RATIO)) && delay <= Math.ceil(scheduled * (1 + JITTER_RATIO)),
      `delay before attempt ${attempt + 1}: ${delay} ms, scheduled ${scheduled} ms ± 20 %`,
    );

    // Just before it is due: a look at the queue sends nothing.
    clock.set(due - 1);
    await h.proveNothingDue();
    assert.equal(receiver.requests.length, before + attempt, `attempt ${attempt + 1} was sent before it was due`);
    const still = await readDelivery(t, row.id);
    assert.equal(still.status, 'RETRYING');
    assert.equal(still.attemptCount, attempt);

    // Due now: it goes at once.
    clock.set(due);
    h.wake();
    await receiver.waitFor(before + attempt + 1, 5_000);
    const final = attempt + 1 === delays.length;
    row = await waitForDelivery(t, (d) => d.id === row.id && d.attempt_count === attempt + 1, final ? 'FAILED' : 'RETRYING', 5_000);
  }
  await h.idle();
  const delivery = await readDelivery(t, row.id);
  assert.equal(delivery.status, 'FAILED');
  assert.equal(delivery.attemptCount, delays.length);
  assert.equal(delivery.nextAttemptAt, null);
  assert.match(delivery.statusReason ?? '', /no retry left/);
  assert.deepEqual(
    delivery.attempts.nodes.map((a) => a.number),
    Array.from({ length: delays.length }, (_, i) => delays.length - i),
    'one attempt row per attempt, newest first',
  );
  assert.ok(delivery.attempts.nodes.every((a) => a.outcome === 'FAILED' && a.errorClass === 'HTTP_STATUS' && a.response?.status === 500));
  assert.equal(receiver.requests.length, before + delays.length);
  // Every request of the delivery carries the same webhook-id.
  assert.equal(new Set(receiver.requests.slice(before).map((r) => r.headers['webhook-id'])).size, 1);
  // Nothing more is ever sent: a day later the queue has nothing for it.
  clock.advance(86_400_000);
  await h.proveNothingDue();
  assert.equal(receiver.requests.length, before + delays.length);
  return { delivery, observed };
}

for (const dialect of TEST_DIALECTS) {
  describe(`retry timing (${dialect})`, () => {
    let t: TestApp;
    let h: Harness;
    const clock = new ManualClock(T0);
    const receivers: Receiver[] = [];

    before(async () => {
      t = await startTestApp({ dialect, clock });
      h = new Harness(t, clock);
      await h.init();
    });
    after(async () => {
      await h.close();
      await Promise.all(receivers.map((r) => r.close()));
      await t.stop();
    });

    async function failingEndpoint(endpoint: Record<string, unknown> = {}): Promise<{ receiver: Receiver; s: Setup }> {
      const receiver = await startReceiver();
      receivers.push(receiver);
      receiver.setDefault(fail500);
      const s = await setup(t, `${receiver.url}/hook`, { endpoint });
      return { receiver, s };
    }

    test('default schedule: 8 attempts, each exactly when due (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h ± 20 %), then FAILED', async () => {
      const { receiver, s } = await failingEndpoint();
      const { observed } = await driveSchedule(h, receiver, s.tenantId, DEFAULT_SCHEDULE_MS);
      console.log(`[${dialect}] default schedule, observed delays (ms): ${observed.join(', ')}`);
    });

    test('an endpoint scheduleMs [0, 1000, 2000] is honoured: 3 attempts', async () => {
      const { receiver, s } = await failingEndpoint({ retryPolicy: { scheduleMs: [0, 1000, 2000] } });
      const { observed } = await driveSchedule(h, receiver, s.tenantId, [0, 1000, 2000]);
      console.log(`[${dialect}] scheduleMs [0, 1000, 2000], observed delays (ms): ${observed.join(', ')}`);
    });

    test('an exponential policy (4 attempts, 1 s × 3) is honoured: 0, 1 s, 3 s, 9 s', async () => {
      const { receiver, s } = await failingEndpoint({ retryPolicy: { maxAttempts: 4, initialDelayMs: 1000, backoffMultiplier: 3 } });
      const { observed } = await driveSchedule(h, receiver, s.tenantId, [0, 1000, 3000, 9000]);
      console.log(`[${dialect}] exponential 1 s × 3, observed delays (ms): ${observed.join(', ')}`);
    });

    test('the exponential policy is capped by maxDelayMs', async () => {
      const policy = { maxAttempts: 4, initialDelayMs: 1000, backoffMultiplier: 10, maxDelayMs: 5000 };
      const { receiver, s } = await failingEndpoint({ retryPolicy: policy });
      await driveSchedule(h, receiver, s.tenantId, [0, 1000, 5000, 5000]);
    });
  });

  describe(`endpoint auto-disable after failing continuously (${dialect})`, () => {
    let t: TestApp;
    let h: Harness;
    const clock = new ManualClock(T0);
    const receivers: Receiver[] = [];

    before(async () => {
      t = await startTestApp({ dialect, clock, env: { SWITCHYARD_AUTO_DISABLE_AFTER_MS: '60000' } });
      h = new Harness(t, clock);
      await h.init();
    });
    after(async () => {
      await h.close();
      await Promise.all(receivers.map((r) => r.close()));
      await t.stop();
    });

    async function newReceiver(): Promise<Receiver> {
      const receiver = await startReceiver();
      receivers.push(receiver);
      receiver.setDefault(fail500);
      return receiver;
    }

    /** Sends an event and waits for its attempt `number` to be recorded. */
    async function sendAndSettle(s: Setup, payload: unknown): Promise<string> {
      const sent = await sendEvent(t, s.tenantId, payload);
      const row = await waitForDelivery(t, (d) => d.event_id === sent.event.id && d.attempt_count === 1, ['RETRYING', 'SUCCEEDED', 'FAILED'], 5_000);
      await h.idle();
      return row.id;
    }

    async function runDue(deliveryId: string, attemptCount: number): Promise<DeliveryView> {
      const delivery = await readDelivery(t, deliveryId);
      clock.set(ms(delivery.nextAttemptAt));
      h.wake();
      await waitForDelivery(t, (d) => d.id === deliveryId && d.attempt_count === attemptCount, ['RETRYING', 'SUCCEEDED', 'FAILED'], 5_000);
      await h.idle();
      return readDelivery(t, deliveryId);
    }

    async function readEndpoint(id: string) {
      const data = await t.ok(`query($id: ID!) { endpoint(id: $id) { enabled disabledReason disabledMessage } }`, { id });
      return data.endpoint as { enabled: boolean; disabledReason: string | null; disabledMessage: string | null };
    }

    test('failing for longer than the limit disables the endpoint (FAILING) and fails its open deliveries', async () => {
      clock.set(T0);
      const receiver = await newReceiver();
      const s = await setup(t, `${receiver.url}/hook`);
      // A second hook on the same endpoint for another event type: its delivery stays open (RETRYING).
      await t.ok(`mutation { createEventType(input: {name: "invoice.voided"}) { __typename } }`);
      await createHook(t, s.tenantId, s.endpointId, { eventTypes: ['invoice.voided'] });

      const first = await sendAndSettle(s, { n: 1 }); // fails at T0: the endpoint starts failing
      const second = await runDue(first, 2); // ≈ T0 + 5 s: still under the limit
      assert.equal(second.status, 'RETRYING');
      assert.ok((await readEndpoint(s.endpointId)).enabled);

      const voided = await sendEvent(t, s.tenantId, { n: 2 }, { type: 'invoice.voided' });
      const voidedRow = await waitForDelivery(t, (d) => d.event_id === voided.event.id && d.attempt_count === 1, 'RETRYING', 5_000);
      await h.idle();
      assert.equal((await runDue(voidedRow.id, 2)).status, 'RETRYING'); // ≈ T0 + 10 s; next try minutes away

      // 61 s after the first failure, nothing due yet (next retries are minutes away): a new event fails.
      clock.set(T0 + 61_000);
      const third = await sendEvent(t, s.tenantId, { n: 3 });
      const thirdRow = await waitForDelivery(t, (d) => d.event_id === third.event.id, ['FAILED'], 5_000);
      await h.idle();

      const endpoint = await readEndpoint(s.endpointId);
      assert.equal(endpoint.enabled, false);
      assert.equal(endpoint.disabledReason, 'FAILING');
      for (const id of [first, voidedRow.id, thirdRow.id]) {
        const delivery = await readDelivery(t, id);
        assert.equal(delivery.status, 'FAILED', `delivery ${id}`);
        assert.match(delivery.statusReason ?? '', /endpoint (is )?disabled/, `delivery ${id}: ${delivery.statusReason}`);
        assert.equal(delivery.nextAttemptAt, null);
      }
      // The attempt that crossed the line is recorded as the failure it was.
      const crossing = await readDelivery(t, thirdRow.id);
      assert.equal(crossing.attemptCount, 1);
      assert.equal(crossing.attempts.nodes[0]?.errorClass, 'HTTP_STATUS');
      // Later events are not routed to it, and nothing more is sent even long after.
      const later = await sendEvent(t, s.tenantId, { n: 4 });
      assert.equal(later.deliveryCount, 0);
      const sentSoFar = receiver.requests.length;
      clock.advance(86_400_000);
      await h.proveNothingDue();
      assert.equal(receiver.requests.length, sentSoFar);
    });

    test('deliveries attempted together with the one that crosses the limit end FAILED too, not RETRYING', async () => {
      clock.set(T0 + 5 * 86_400_000);
      const start = clock.now();
      const receiver = await newReceiver();
      const s = await setup(t, `${receiver.url}/hook`);
      const first = await sendAndSettle(s, { n: 1 }); // the endpoint starts failing
      assert.equal((await runDue(first, 2)).status, 'RETRYING'); // ≈ start + 5 s; next try minutes away

      // Past the limit, three events at once: they are claimed together and all fail.
      clock.set(start + 61_000);
      const results = await t.ok(
        `mutation($input: SendEventsInput!) { sendEvents(input: $input) { __typename ... on SendEventsPayload { results { event { id } } } } }`,
        { input: { events: [1, 2, 3].map((n) => ({ tenantId: s.tenantId, type: 'invoice.paid', payload: { n } })) } },
      );
      const eventIds = new Set<string>(results.sendEvents.results.map((r: { event: { id: string } }) => r.event.id));
      assert.equal(eventIds.size, 3);
      await receiver.waitFor(2 + 3, 5_000);
      await waitUntil(
        async () => {
          const rows = await t.app.services.db.selectFrom('deliveries').select('status').where('endpoint_id', '=', s.endpointId).execute();
          return rows.every((row) => row.status !== 'SENDING' && row.status !== 'PENDING');
        },
        { timeoutMs: 5_000, what: 'every attempt recorded' },
      );
      await h.idle();
      assert.equal((await readEndpoint(s.endpointId)).disabledReason, 'FAILING');
      const data = await t.ok(
        `query($id: ID!) { deliveries(first: 100, filter: {endpointId: $id}) { nodes { id status statusReason nextAttemptAt } } }`,
        { id: s.endpointId },
      );
      const open = data.deliveries.nodes.filter((d: { status: string }) => d.status !== 'FAILED');
      assert.deepEqual(open, [], 'a disabled endpoint keeps no delivery RETRYING');
    });

    test('a success in between resets the failing clock', async () => {
      clock.set(T0 + 10 * 86_400_000);
      const start = clock.now();
      const receiver = await newReceiver();
      const s = await setup(t, `${receiver.url}/hook`);

      const first = await sendAndSettle(s, { n: 1 }); // fails at start
      receiver.enqueue(ok);
      const retried = await runDue(first, 2); // ≈ start + 5 s: succeeds, the endpoint is healthy again
      assert.equal(retried.status, 'SUCCEEDED');

      // 65 s after the first failure: a failure now is the first of a new run, not 65 s of failing.
      clock.set(start + 65_000);
      const second = await sendAndSettle(s, { n: 2 });
      assert.equal((await readDelivery(t, second)).status, 'RETRYING');
      assert.ok((await readEndpoint(s.endpointId)).enabled, 'the success reset the failing clock');

      // But failing on for more than the limit from there does disable it.
      assert.equal((await runDue(second, 2)).status, 'RETRYING'); // ≈ start + 70 s; next try minutes away
      clock.set(start + 65_000 + 61_000);
      const third = await sendEvent(t, s.tenantId, { n: 3 });
      await waitForDelivery(t, (d) => d.event_id === third.event.id, 'FAILED', 5_000);
      await h.idle();
      const endpoint = await readEndpoint(s.endpointId);
      assert.equal(endpoint.enabled, false);
      assert.equal(endpoint.disabledReason, 'FAILING');
      assert.equal((await readDelivery(t, second)).status, 'FAILED');
    });
  });
}
