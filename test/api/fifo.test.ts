// FIFO hooks: 500 events through one hook whose receiver fails one request in five arrive in event
// order, on each dialect, and with two workers on PostgreSQL; FIFO_HOLD holds the rest behind a
// delivery that failed for good until it is retried; FIFO lets the next go.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, ensureEventType, waitUntil } from '../helpers/fixtures.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { countQueuedByStatus } from '../../src/modules/deliveries/delivery.repository.js';
import { AFTER_CANCELLED_REQUEST_REASON } from '../../src/modules/deliveries/delivery.fifo.js';

const EVENTS = 500;
/** quick retries, so a test waits milliseconds on each failure, not the default schedule's seconds */
const QUICK_RETRIES = { scheduleMs: [0, 10, 10, 10, 10, 10, 10, 10] };

/** Fails every fifth request it sees with 500; remembers the `n` of each event it answered 200, in arrival order. */
function oneInFiveFails(accepted: number[]) {
  let seen = 0;
  return (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    seen++;
    if (seen % 5 === 0) {
      res.writeHead(500).end('try again');
      return;
    }
    accepted.push((JSON.parse(body.toString('utf8')) as { data: { n: number } }).data.n);
    res.writeHead(200).end('ok');
  };
}

/**
 * A receiver behaviour that holds each request at a gate (closed at first unless `open` is passed),
 * counting the requests in flight (from arrival, also while held), the most at once and those held
 * now; once through, `respond` reads the body and answers with the status to send.
 */
function gated(respond: (body: Buffer) => number | Promise<number>, { open = false } = {}) {
  let release = () => {};
  let gate: Promise<void> = Promise.resolve();
  const receiver = {
    inFlight: 0,
    mostInFlight: 0,
    held: 0,
    close() {
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    open() {
      release();
    },
    behaviour: async (_req: IncomingMessage, res: ServerResponse, body: Buffer) => {
      receiver.inFlight++;
      receiver.mostInFlight = Math.max(receiver.mostInFlight, receiver.inFlight);
      receiver.held++;
      await gate;
      receiver.held--;
      const status = await respond(body);
      receiver.inFlight--;
      res.writeHead(status).end();
    },
  };
  if (!open) receiver.close();
  return receiver;
}

async function sendInOrder(t: TestApp, tenantId: string, type: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 100) {
    const events = Array.from({ length: Math.min(100, count - start) }, (_, i) => ({ tenantId, type, payload: { n: start + i } }));
    const sent = await t.ok(`mutation($input: SendEventsInput!) { sendEvents(input: $input) { __typename } }`, { input: { events } });
    assert.equal(sent.sendEvents.__typename, 'SendEventsPayload', JSON.stringify(sent));
  }
}

async function countByStatus(t: TestApp, hookId: string): Promise<Record<string, number>> {
  const rows = await t.app.services.db
    .selectFrom('deliveries')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('hook_id', '=', hookId)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

function assertInOrder(accepted: readonly number[], count: number): void {
  assert.equal(accepted.length, count, `the receiver accepted ${accepted.length} of ${count}`);
  for (let i = 0; i < accepted.length; i++) assert.equal(accepted[i], i, `position ${i} got event ${accepted[i]}: ${accepted.slice(Math.max(0, i - 3), i + 3).join(', ')}`);
}

for (const dialect of TEST_DIALECTS) {
  describe(`FIFO hooks (${dialect})`, { timeout: 240_000 }, () => {
    let t: TestApp;
    let receiver: Receiver;
    let tenantId: string;
    before(async () => {
      t = await startTestApp({ dialect });
      receiver = await startReceiver();
      tenantId = await createTenant(t, 'Ordered');
      for (const type of ['fifo.stream', 'fifo.hold', 'fifo.go']) await ensureEventType(t, type);
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    test(`${EVENTS} events through one FIFO hook, one request in five failing, arrive in event order`, async () => {
      const accepted: number[] = [];
      receiver.setDefault(oneInFiveFails(accepted));
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/stream`, { retryPolicy: QUICK_RETRIES });
      const hookId = await createHook(t, tenantId, endpointId, { eventTypes: ['fifo.stream'], ordering: 'FIFO' });
      const started = performance.now();
      await sendInOrder(t, tenantId, 'fifo.stream', EVENTS);
      await waitUntil(async () => ((await countByStatus(t, hookId)).SUCCEEDED ?? 0) === EVENTS, {
        timeoutMs: 180_000,
        intervalMs: 100,
        what: `all ${EVENTS} FIFO deliveries SUCCEEDED`,
      });
      const seconds = (performance.now() - started) / 1000;
      assertInOrder(accepted, EVENTS);
      console.log(`# [${dialect}] one FIFO hook: ${EVENTS} events in ${seconds.toFixed(1)} s (${(EVENTS / seconds).toFixed(0)} deliveries/s, one request in five failing)`);
    });

    test('with two workers on PostgreSQL the order holds', { skip: dialect !== 'postgres' || !process.env.SWITCHYARD_TEST_REDIS_URL ? 'PostgreSQL and Redis only' : false }, async () => {
      const prefix = `sy-fifo-${process.pid}-${Date.now()}:`;
      // both nodes on one database and one Redis: this app's dispatcher and a second worker's
      const api = await startTestApp({ dialect: 'postgres', env: { SWITCHYARD_REDIS_URL: process.env.SWITCHYARD_TEST_REDIS_URL!, SWITCHYARD_REDIS_PREFIX: prefix } });
      const worker = await startTestApp({
        env: {
          SWITCHYARD_ROLE: 'worker',
          SWITCHYARD_DATABASE_URL: api.config.databaseUrl!,
          SWITCHYARD_REDIS_URL: process.env.SWITCHYARD_TEST_REDIS_URL!,
          SWITCHYARD_REDIS_PREFIX: prefix,
          SWITCHYARD_ENCRYPTION_KEY: api.config.encryptionKey!,
        },
      });
      try {
        const accepted: number[] = [];
        receiver.setDefault(oneInFiveFails(accepted));
        const tenant = await createTenant(api, 'Two workers');
        await ensureEventType(api, 'fifo.stream');
        const { endpointId } = await createEndpoint(api, tenant, `${receiver.url}/two`, { retryPolicy: QUICK_RETRIES });
        const hookId = await createHook(api, tenant, endpointId, { eventTypes: ['fifo.stream'], ordering: 'FIFO' });
        const started = performance.now();
        await sendInOrder(api, tenant, 'fifo.stream', EVENTS);
        await waitUntil(async () => ((await countByStatus(api, hookId)).SUCCEEDED ?? 0) === EVENTS, {
          timeoutMs: 180_000,
          intervalMs: 100,
          what: `all ${EVENTS} FIFO deliveries SUCCEEDED with two workers`,
        });
        const seconds = (performance.now() - started) / 1000;
        assertInOrder(accepted, EVENTS);
        const byWorker = await api.app.services.db
          .selectFrom('attempts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('endpoint_id', '=', endpointId)
          .executeTakeFirstOrThrow();
        console.log(`# [postgres] one FIFO hook, two workers: ${EVENTS} events in ${seconds.toFixed(1)} s, ${byWorker.n} attempts`);
      } finally {
        await worker.stop();
        await api.stop();
      }
    });

    test('FIFO_HOLD: a delivery that fails for good holds the rest until it is retried; FIFO lets the next go', async () => {
      let failing = true;
      const heldOrder: number[] = [];
      const goOrder: number[] = [];
      receiver.setDefault((req, res, body) => {
        const { n } = (JSON.parse(body.toString('utf8')) as { data: { n: number } }).data;
        const order = req.url === '/hold' ? heldOrder : goOrder;
        if (n === 0 && failing) {
          res.writeHead(500).end('no');
          return;
        }
        order.push(n);
        res.writeHead(200).end('ok');
      });
      const once = { maxAttempts: 1 };
      const { endpointId: holdEndpoint } = await createEndpoint(t, tenantId, `${receiver.url}/hold`, { retryPolicy: once });
      const { endpointId: goEndpoint } = await createEndpoint(t, tenantId, `${receiver.url}/go`, { retryPolicy: once });
      const holdHook = await createHook(t, tenantId, holdEndpoint, { eventTypes: ['fifo.hold'], ordering: 'FIFO_HOLD' });
      const goHook = await createHook(t, tenantId, goEndpoint, { eventTypes: ['fifo.go'], ordering: 'FIFO' });
      await sendInOrder(t, tenantId, 'fifo.hold', 3);
      await sendInOrder(t, tenantId, 'fifo.go', 3);

      // FIFO: the first fails for good, the other two go on, in order
      await waitUntil(async () => ((await countByStatus(t, goHook)).SUCCEEDED ?? 0) === 2, { timeoutMs: 20_000, intervalMs: 50, what: 'FIFO went on past the failure' });
      assert.deepEqual(goOrder, [1, 2]);
      // FIFO_HOLD: the first fails for good, the others wait
      await waitUntil(async () => (await countByStatus(t, holdHook)).FAILED === 1, { timeoutMs: 20_000, intervalMs: 50, what: 'the first FIFO_HOLD delivery FAILED' });
      const hook = await t.ok(`query($id: ID!) { node(id: $id) { ... on Hook { ordering heldBy } } }`, { id: holdHook });
      assert.equal(hook.node.ordering, 'FIFO_HOLD');
      assert.match(hook.node.heldBy ?? '', /^dlv_/);
      assert.deepEqual(await countByStatus(t, holdHook), { FAILED: 1, BLOCKED: 2 });
      assert.deepEqual(heldOrder, []);

      // a new event waits too, while the hold lasts
      await sendInOrder(t, tenantId, 'fifo.hold', 1);
      assert.deepEqual(await countByStatus(t, holdHook), { FAILED: 1, BLOCKED: 3 });

      failing = false;
      const retried = await t.ok(`mutation($id: ID!) { retryDelivery(input: {id: $id}) { __typename } }`, { id: hook.node.heldBy });
      assert.equal(retried.retryDelivery.__typename, 'DeliveryPayload', JSON.stringify(retried));
      await waitUntil(async () => ((await countByStatus(t, holdHook)).SUCCEEDED ?? 0) === 4, { timeoutMs: 20_000, intervalMs: 50, what: 'the held queue delivered after the retry' });
      assert.deepEqual(heldOrder, [0, 1, 2, 0]);
    });

    test('a retry, a replay and recovering the endpoint wait their turn: never two requests of a FIFO hook at once', async () => {
      let failing = false;
      const arrived: number[] = [];
      const gate = gated(
        async (body) => {
          await new Promise((resolve) => setTimeout(resolve, 15));
          arrived.push((JSON.parse(body.toString('utf8')) as { data: { n: number } }).data.n);
          return failing ? 500 : 200;
        },
        { open: true },
      );
      receiver.setDefault(gate.behaviour);
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/manual`, { retryPolicy: { maxAttempts: 1 } });
      await ensureEventType(t, 'fifo.manual');
      const hookId = await createHook(t, tenantId, endpointId, { eventTypes: ['fifo.manual'], ordering: 'FIFO' });
      await sendInOrder(t, tenantId, 'fifo.manual', 2);
      await waitUntil(async () => (await countByStatus(t, hookId)).SUCCEEDED === 2, { timeoutMs: 20_000, intervalMs: 20, what: 'the first two delivered' });
      const deliveries = await t.app.services.db.selectFrom('deliveries').select(['id', 'event_id']).where('hook_id', '=', hookId).orderBy('id').execute();

      // the head (n = 2) is held at the receiver: a retry of n = 0 and a replay of n = 1 wait behind it
      gate.close();
      await t.ok(`mutation($t: ID!) { sendEvent(input: {tenantId: $t, type: "fifo.manual", payload: {n: 2}}) { __typename } }`, { t: tenantId });
      await waitUntil(() => gate.held === 1, { timeoutMs: 20_000, intervalMs: 10, what: 'the third request held' });
      const retried = await t.ok(`mutation($id: ID!) { retryDelivery(input: {id: $id}) { ... on DeliveryPayload { delivery { status } } } }`, { id: deliveries[0]!.id });
      assert.equal(retried.retryDelivery.delivery.status, 'BLOCKED');
      const replayed = await t.ok(`mutation($id: ID!) { replayEvent(input: {id: $id}) { ... on ReplayEventPayload { deliveries { status } } } }`, { id: deliveries[1]!.event_id });
      assert.deepEqual(replayed.replayEvent.deliveries.map((d: { status: string }) => d.status), ['BLOCKED']);
      assert.equal((await countQueuedByStatus(t.app.services.db)).get('BLOCKED'), 2, 'the queue gauge counts the waiting ones');
      gate.open();
      // four rows: the retried one is the same delivery again, the replay a new one
      await waitUntil(async () => (await countByStatus(t, hookId)).SUCCEEDED === 4, { timeoutMs: 20_000, intervalMs: 20, what: 'the retry and the replay delivered' });
      // the retried delivery is the oldest, so it goes first; the replay's is the newest
      assert.deepEqual(arrived, [0, 1, 2, 0, 1]);

      // two fail for good (FIFO lets the next go), then recovering the endpoint resends them one at a time
      failing = true;
      await sendInOrder(t, tenantId, 'fifo.manual', 2);
      await waitUntil(async () => (await countByStatus(t, hookId)).FAILED === 2, { timeoutMs: 20_000, intervalMs: 20, what: 'two FAILED' });
      failing = false;
      arrived.length = 0;
      const recovered = await t.ok(`mutation($id: ID!) { recoverEndpoint(input: {id: $id, since: "2000-01-01T00:00:00Z"}) { ... on RecoverEndpointPayload { recovered } } }`, { id: endpointId });
      assert.equal(recovered.recoverEndpoint.recovered, 2);
      await waitUntil(async () => (await countByStatus(t, hookId)).SUCCEEDED === 6, { timeoutMs: 20_000, intervalMs: 20, what: 'the recovered two delivered' });
      assert.deepEqual(arrived, [0, 1], 'in event order');
      assert.equal(gate.mostInFlight, 1, 'never two requests of the hook at once');
    });

    test('operational events to a FIFO operations hook wait their turn: one request at a time, in the order raised', async () => {
      // a tenant of its own, so no other test's operational events reach this hook
      const opsTenant = await createTenant(t, 'Ordered operations');
      await ensureEventType(t, 'fifo.exhausted');
      const target = await startReceiver();
      const ops = await startReceiver();
      try {
        target.setDefault((_req, res) => void res.writeHead(503).end('down'));
        const { endpointId } = await createEndpoint(t, opsTenant, `${target.url}/down`, { retryPolicy: { maxAttempts: 1 } });
        await createHook(t, opsTenant, endpointId, { eventTypes: ['fifo.exhausted'] });
        const arrived: string[] = [];
        const gate = gated((body) => {
          arrived.push((JSON.parse(body.toString('utf8')) as { data: { id: string } }).data.id);
          return 204;
        });
        ops.setDefault(gate.behaviour);
        const { endpointId: opsEndpointId } = await createEndpoint(t, opsTenant, `${ops.url}/ops`);
        const opsHookId = await createHook(t, opsTenant, opsEndpointId, { eventTypes: ['switchyard.delivery.exhausted'], ordering: 'FIFO' });

        // three deliveries fail for good: three delivery.exhausted events; the first is held at the receiver
        await sendInOrder(t, opsTenant, 'fifo.exhausted', 3);
        await waitUntil(async () => gate.held === 1 && (await countByStatus(t, opsHookId)).BLOCKED === 2, {
          timeoutMs: 20_000,
          intervalMs: 10,
          what: 'the first operational event held at the receiver, the other two waiting behind it',
        });
        gate.open();
        await waitUntil(async () => (await countByStatus(t, opsHookId)).SUCCEEDED === 3, { timeoutMs: 20_000, intervalMs: 20, what: 'all three delivered' });
        const raised = await t.app.services.db.selectFrom('operational_events').select('id').where('tenant_id', '=', opsTenant).where('kind', '=', 'delivery.exhausted').orderBy('id').execute();
        assert.deepEqual(arrived, raised.map((row) => row.id), 'in the order they were raised');
        assert.equal(gate.mostInFlight, 1, 'never two requests of the hook at once');
      } finally {
        await Promise.all([target.close(), ops.close()]);
      }
    });

    test('a FIFO hook made UNORDERED lets its waiting deliveries go; made FIFO again, it queues the events after the change', async () => {
      const gate = gated(() => 200);
      receiver.setDefault(gate.behaviour);
      await ensureEventType(t, 'fifo.switch');
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/switch`);
      const hookId = await createHook(t, tenantId, endpointId, { eventTypes: ['fifo.switch'], ordering: 'FIFO' });
      const setOrdering = async (ordering: string) => {
        const updated = await t.ok(`mutation($input: UpdateHookInput!) { updateHook(input: $input) { __typename } }`, { input: { id: hookId, ordering } });
        assert.equal(updated.updateHook.__typename, 'HookPayload', JSON.stringify(updated));
      };
      await sendInOrder(t, tenantId, 'fifo.switch', 3);
      await waitUntil(async () => gate.held === 1 && (await countByStatus(t, hookId)).BLOCKED === 2, { timeoutMs: 20_000, intervalMs: 10, what: 'one held, two waiting' });

      await setOrdering('UNORDERED');
      // no longer ordered: the two waiting go at once, beside the one still held
      await waitUntil(() => gate.held === 3, { timeoutMs: 20_000, intervalMs: 10, what: 'all three at the receiver' });
      assert.equal((await countByStatus(t, hookId)).BLOCKED ?? 0, 0);
      gate.open();
      await waitUntil(async () => (await countByStatus(t, hookId)).SUCCEEDED === 3, { timeoutMs: 20_000, intervalMs: 20, what: 'all three delivered' });

      // made FIFO while two unordered requests are held: those are in no queue; the events after the change are
      gate.close();
      await sendInOrder(t, tenantId, 'fifo.switch', 2);
      await waitUntil(() => gate.held === 2, { timeoutMs: 20_000, intervalMs: 10, what: 'two unordered requests held' });
      await setOrdering('FIFO');
      await sendInOrder(t, tenantId, 'fifo.switch', 2);
      await waitUntil(async () => gate.held === 3 && (await countByStatus(t, hookId)).BLOCKED === 1, { timeoutMs: 20_000, intervalMs: 10, what: 'FIFO again: the first new one held, the second waiting' });
      gate.open();
      await waitUntil(async () => (await countByStatus(t, hookId)).SUCCEEDED === 7, { timeoutMs: 20_000, intervalMs: 20, what: 'all seven delivered, none left waiting' });
    });

    test('cancelling a delivery whose request is in flight: the next waits for that request to end, also when it is cancelled in turn', async () => {
      const arrived: number[] = [];
      const gate = gated((body) => {
        arrived.push((JSON.parse(body.toString('utf8')) as { data: { n: number } }).data.n);
        return 200;
      });
      receiver.setDefault(gate.behaviour);
      await ensureEventType(t, 'fifo.cancel');
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/cancel`);
      const hookId = await createHook(t, tenantId, endpointId, { eventTypes: ['fifo.cancel'], ordering: 'FIFO' });
      await sendInOrder(t, tenantId, 'fifo.cancel', 3);
      await waitUntil(async () => gate.held === 1 && (await countByStatus(t, hookId)).BLOCKED === 2, { timeoutMs: 20_000, intervalMs: 10, what: 'the first held, two waiting' });
      const [first, second, third] = await t.app.services.db.selectFrom('deliveries').select(['id', 'status']).where('hook_id', '=', hookId).orderBy('id').execute();
      assert.equal(first!.status, 'SENDING');
      const cancel = async (id: string) => {
        const cancelled = await t.ok(`mutation($id: ID!) { cancelDelivery(input: {id: $id}) { ... on DeliveryPayload { delivery { status } } } }`, { id });
        assert.equal(cancelled.cancelDelivery.delivery.status, 'CANCELLED');
      };
      const waitingForTheRequest = async (id: string) => {
        const next = await t.app.services.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        assert.equal(next.status, 'PENDING');
        assert.equal(next.status_reason, AFTER_CANCELLED_REQUEST_REASON);
        assert.ok(next.due_at !== null && next.due_at > Date.now() + t.config.leaseMs / 2, `due at the lease's end, not now (${next.due_at})`);
      };

      // the first request is still at the receiver: the next is due only when that attempt's lease ends
      await cancel(first!.id);
      await waitingForTheRequest(second!.id);
      // cancelling that one too hands its wait on: the third does not go beside the first request either
      await cancel(second!.id);
      await waitingForTheRequest(third!.id);
      assert.equal(gate.inFlight, 1);

      // the cancelled request ends: its attempt is recorded, and the next goes at once (long before the lease's end)
      const startedAt = Date.now();
      gate.open();
      await waitUntil(async () => (await countByStatus(t, hookId)).SUCCEEDED === 1, { timeoutMs: 20_000, intervalMs: 20, what: 'the third delivered' });
      assert.ok(Date.now() - startedAt < t.config.leaseMs / 2, 'not by waiting for the lease');
      assert.deepEqual(arrived, [0, 2]);
      assert.equal(gate.mostInFlight, 1, 'never two requests of the hook at once');
      const attempts = await t.app.services.db.selectFrom('attempts').select('outcome').where('delivery_id', '=', first!.id).execute();
      assert.deepEqual(attempts.map((a) => a.outcome), ['SUCCEEDED'], "the cancelled delivery's attempt is recorded as it ended");
      const firstNow = await t.app.services.db.selectFrom('deliveries').select('status').where('id', '=', first!.id).executeTakeFirstOrThrow();
      assert.equal(firstNow.status, 'CANCELLED');
    });

    test("a delivery's end that deadlocks over its FIFO hook is run again at once, not left to its lease", { skip: dialect !== 'postgres' ? 'PostgreSQL only' : false }, async () => {
      const gate = gated(() => 200);
      receiver.setDefault(gate.behaviour);
      await ensureEventType(t, 'fifo.deadlock');
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/deadlock`);
      const hookId = await createHook(t, tenantId, endpointId, { eventTypes: ['fifo.deadlock'], ordering: 'FIFO' });
      await sendInOrder(t, tenantId, 'fifo.deadlock', 2);
      await waitUntil(() => gate.held === 1, { timeoutMs: 20_000, intervalMs: 10, what: 'the first request held' });
      const [first] = await t.app.services.db.selectFrom('deliveries').select('id').where('hook_id', '=', hookId).orderBy('id').execute();
      const { databaseUrl } = t.config;
      assert.ok(databaseUrl, 'on PostgreSQL');
      const other = new pg.Client({ connectionString: databaseUrl });
      await other.connect();
      try {
        // Another transaction holds the hook's row; the first delivery's end writes its own row, then waits for the hook's.
        await other.query('begin');
        await other.query('select id from hooks where id = $1 for update', [hookId]);
        gate.open();
        const waitingForUs = async () => (await other.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where pg_backend_pid() = any(pg_blocking_pids(pid))')).rows[0]!.n;
        await waitUntil(async () => (await waitingForUs()) > 0, { timeoutMs: 20_000, intervalMs: 10, what: "the delivery's end waiting for the hook's lock" });
        // ...and now this one waits for the delivery's row: a deadlock, which the server ends by rolling the end back
        await other.query('update deliveries set updated_at = updated_at where id = $1', [first!.id]);
        await other.query('commit');
      } finally {
        await other.end();
      }
      const startedAt = Date.now();
      await waitUntil(async () => (await countByStatus(t, hookId)).SUCCEEDED === 2, { timeoutMs: 20_000, intervalMs: 20, what: 'both delivered' });
      assert.ok(Date.now() - startedAt < t.config.leaseMs / 2, 'run again at once, not after the lease expired');
      assert.equal(gate.mostInFlight, 1);
      const attempts = await t.app.services.db.selectFrom('attempts').select('outcome').where('delivery_id', '=', first!.id).execute();
      assert.deepEqual(attempts.map((a) => a.outcome), ['SUCCEEDED'], 'one attempt, recorded once');
    });

    test('a FIFO hook cannot also runAfter other hooks: a ValidationError at ordering', async () => {
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/mixed`);
      const other = await createHook(t, tenantId, endpointId, { eventTypes: ['fifo.go'] });
      const refused = await t.ok(
        `mutation($input: CreateHookInput!) { createHook(input: $input) { __typename ... on ValidationError { problems { path message } } } }`,
        { input: { tenantId, endpointId, name: 'mixed', eventTypes: ['fifo.go'], ordering: 'FIFO', runAfter: [other] } },
      );
      assert.equal(refused.createHook.__typename, 'ValidationError');
      assert.deepEqual(refused.createHook.problems.map((p: { path: string[] }) => p.path.join('.')), ['input.ordering']);
    });
  });
}

for (const dialect of TEST_DIALECTS) {
  describe(`FIFO hooks: a cancelled request's lease running out (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let tenantId: string;
    before(async () => {
      // a short lease: the cancelled request outlives it
      t = await startTestApp({ dialect, env: { SWITCHYARD_LEASE_MS: '1000' } });
      receiver = await startReceiver();
      tenantId = await createTenant(t);
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    test('the next delivery, due when that lease ends, is sent with no reason left from its wait', async () => {
      const gate = gated(() => 200);
      receiver.setDefault(gate.behaviour);
      await ensureEventType(t, 'fifo.lease');
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/lease`);
      const hookId = await createHook(t, tenantId, endpointId, { eventTypes: ['fifo.lease'], ordering: 'FIFO' });
      await sendInOrder(t, tenantId, 'fifo.lease', 2);
      await waitUntil(() => gate.held === 1, { timeoutMs: 10_000, intervalMs: 10, what: 'the first request held' });
      const { db } = t.app.services;
      const [first, second] = await db.selectFrom('deliveries').select('id').where('hook_id', '=', hookId).orderBy('id').execute();
      const cancelled = await t.ok(`mutation($id: ID!) { cancelDelivery(input: {id: $id}) { ... on DeliveryPayload { delivery { status } } } }`, { id: first!.id });
      assert.equal(cancelled.cancelDelivery.delivery.status, 'CANCELLED');
      const row = () => db.selectFrom('deliveries').select(['status', 'status_reason']).where('id', '=', second!.id).executeTakeFirstOrThrow();
      assert.deepEqual(await row(), { status: 'PENDING', status_reason: AFTER_CANCELLED_REQUEST_REASON });
      // the cancelled request is still at the receiver when its lease ends: then the next goes
      await waitUntil(() => gate.held === 2, { timeoutMs: 10_000, intervalMs: 10, what: 'the next sent once the lease ran out' });
      assert.deepEqual(await row(), { status: 'SENDING', status_reason: null }, 'no longer waiting, and not said to be');
      gate.open();
      await waitUntil(async () => (await countByStatus(t, hookId)).SUCCEEDED === 1, { timeoutMs: 10_000, intervalMs: 20, what: 'the next delivered' });
    });
  });
}
