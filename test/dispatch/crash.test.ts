// kill -9 with deliveries in flight: a child process running Switchyard accepts events, is killed
// while its requests are at a slow receiver, and a new process on the same store finishes the job.
// Every accepted event ends delivered; the attempts that were in flight are marked INTERRUPTED;
// there is exactly one attempt row per claim.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openStore } from '../../src/db/connect.js';
import { ADMIN_TOKEN, TEST_DIALECTS, createPgSchema, startTestApp, type TestApp, type TestDialect } from '../helpers/app.js';
import { readDelivery, sendEvent, setup, waitForDelivery, waitUntil } from '../helpers/fixtures.js';
import { delayed, ok, startReceiver, type Behaviour } from '../helpers/receiver.js';
import { clientOf, spawnChild, stopChild } from '../helpers/child.js';

const EVENTS = 50;
const LEASE_MS = 1_500;
const RECEIVER_DELAY_MS = 300;
const PER_ENDPOINT = 10;
interface AttemptNode {
  id: string;
  deliveryId: string;
  number: number;
  outcome: string;
  errorClass: string | null;
  finishedAt: string | null;
}

async function allAttempts(client: TestApp, tenantId: string): Promise<AttemptNode[]> {
  const found: AttemptNode[] = [];
  let after: string | null = null;
  for (let page = 0; page < 20; page++) {
    const data: any = await client.ok(
      `query($tenantId: ID!, $after: String) { deliveryAttempts(first: 100, after: $after, filter: {tenantId: $tenantId}) {
        nodes { id deliveryId number outcome errorClass finishedAt } pageInfo { hasNextPage endCursor } } }`,
      { tenantId, after },
    );
    found.push(...data.deliveryAttempts.nodes);
    if (!data.deliveryAttempts.pageInfo.hasNextPage) return found;
    after = data.deliveryAttempts.pageInfo.endCursor;
  }
  throw new Error('more than 2000 attempts');
}
/**
 * A child accepts EVENTS events to a receiver answering 200 after 300 ms, is killed with SIGKILL
 * while a wave of requests is at the receiver, and a second child on the same store finishes.
 */
async function killAndRestart(dialect: TestDialect): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-crash-'));
  const pgSchema = dialect === 'postgres' ? await createPgSchema() : null;
  const env: Record<string, string> = {
    SWITCHYARD_PORT: '0',
    SWITCHYARD_HOST: '127.0.0.1',
    SWITCHYARD_DATA_DIR: dir,
    SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
    SWITCHYARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SWITCHYARD_ALLOW_HTTP: 'true',
    SWITCHYARD_ALLOW_PRIVATE_CIDRS: '127.0.0.1/32',
    SWITCHYARD_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SWITCHYARD_LEASE_MS: String(LEASE_MS),
    SWITCHYARD_MAX_IN_FLIGHT_PER_ENDPOINT: String(PER_ENDPOINT),
    ...(pgSchema ? { SWITCHYARD_DATABASE_URL: pgSchema.url } : {}),
  };
  const receiver = await startReceiver();
  /** webhook-ids whose response the receiver has sent */
  const answered: string[] = [];
  // 200 after 300 ms: requests stay in flight long enough to be cut by the kill.
  const slowOk: Behaviour = (req, res) => {
    const timer = setTimeout(() => {
      answered.push(String(req.headers['webhook-id']));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }, RECEIVER_DELAY_MS);
    res.on('close', () => clearTimeout(timer));
  };
  receiver.setDefault(slowOk);
  const first = spawnChild(env);
  // The restart is loaded meanwhile and held; it opens the store only after the kill.
  const second = spawnChild(env, { held: true });
  const children = [first, second];
  try {
    const client1 = clientOf(await first.listening());
    await second.ready();
    const s = await setup(client1, `${receiver.url}/crash`, { endpoint: { timeoutMs: 5_000 } });

    const sent = await client1.ok(
      `mutation($input: SendEventsInput!) { sendEvents(input: $input) { __typename ... on SendEventsPayload { results { event { id } } } } }`,
      { input: { events: Array.from({ length: EVENTS }, (_, n) => ({ tenantId: s.tenantId, type: 'invoice.paid', payload: { n } })) } },
    );
    const eventIds: string[] = sent.sendEvents.results.map((r: { event: { id: string } }) => r.event.id);
    assert.equal(new Set(eventIds).size, EVENTS, 'all events accepted');

    // The first wave has been answered, the second is at the receiver: kill now.
    await receiver.waitFor(PER_ENDPOINT + 5, 10_000);
    first.process.kill('SIGKILL');
    await first.exited;
    const seenAtKill = receiver.requests.length;
    const answeredAtKill = answered.length;

    // What the store holds after the crash (read directly; nothing runs on it now).
    const store = openStore({ url: env.SWITCHYARD_DATABASE_URL ?? join(dir, 'switchyard.db') });
    let inFlightAtKill: string[];
    try {
      // An attempt's row is written with its outcome: one in flight is a leased delivery whose
      // current attempt number has no row yet.
      const leased = await store.db.selectFrom('deliveries').select(['id', 'attempt_count']).where('tenant_id', '=', s.tenantId).where('status', '=', 'SENDING').execute();
      const recorded = new Set(
        (await store.db.selectFrom('attempts').select(['delivery_id', 'number']).where('tenant_id', '=', s.tenantId).execute()).map((row) => `${row.delivery_id}:${row.number}`),
      );
      inFlightAtKill = leased.map((row) => `${row.id}:${row.attempt_count}`).filter((key) => !recorded.has(key));
      const deliveries = await store.db.selectFrom('deliveries').select('status').where('tenant_id', '=', s.tenantId).execute();
      assert.equal(deliveries.length, EVENTS, 'every accepted event has its delivery');
    } finally {
      await store.close();
    }
    assert.ok(inFlightAtKill.length > 0, 'some attempts were in flight when the process died');

    const restartedAt = performance.now();
    const client2 = clientOf(await second.go());
    const succeeded = await waitUntil(
      async () => {
        const data = await client2.ok(
          `query($tenantId: ID!) { deliveries(first: 100, filter: {tenantId: $tenantId, statuses: [SUCCEEDED]}) { nodes { id attemptCount event { id } } } }`,
          { tenantId: s.tenantId },
        );
        const nodes = data.deliveries.nodes as { id: string; attemptCount: number; event: { id: string } }[];
        return nodes.length === EVENTS ? nodes : null;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `all ${EVENTS} deliveries SUCCEEDED after the restart` },
    );
    const recoveredIn = performance.now() - restartedAt;

    // None lost: every event reached the receiver at least once.
    assert.deepEqual(new Set(succeeded.map((d) => d.event.id)), new Set(eventIds));
    const received = new Set(receiver.requests.map((r) => r.headers['webhook-event-id']));
    for (const id of eventIds) assert.ok(received.has(id), `the receiver never saw ${id}`);

    // Exactly one attempt row per claim, numbered 1..attemptCount; only the last one succeeded.
    const attempts = await allAttempts(client2, s.tenantId);
    const byDelivery = new Map<string, AttemptNode[]>();
    for (const attempt of attempts) byDelivery.set(attempt.deliveryId, [...(byDelivery.get(attempt.deliveryId) ?? []), attempt]);
    assert.equal(byDelivery.size, EVENTS);
    for (const delivery of succeeded) {
      const rows = (byDelivery.get(delivery.id) ?? []).sort((a, b) => a.number - b.number);
      assert.deepEqual(
        rows.map((a) => a.number),
        Array.from({ length: delivery.attemptCount }, (_, i) => i + 1),
        `delivery ${delivery.id}: attempts ${JSON.stringify(rows)} for attemptCount ${delivery.attemptCount}`,
      );
      assert.equal(rows.at(-1)?.outcome, 'SUCCEEDED');
      for (const earlier of rows.slice(0, -1)) {
        assert.equal(earlier.outcome, 'INTERRUPTED', `delivery ${delivery.id} attempt ${earlier.number}`);
        assert.equal(earlier.errorClass, 'INTERRUPTED');
        assert.ok(earlier.finishedAt, 'an interrupted attempt is closed');
      }
    }
    assert.ok(attempts.every((a) => a.outcome !== 'IN_FLIGHT'), 'no attempt is left in flight');

    // The attempts in flight at the kill are exactly the interrupted ones.
    const interrupted = attempts.filter((a) => a.outcome === 'INTERRUPTED').map((a) => `${a.deliveryId}:${a.number}`);
    assert.deepEqual(new Set(interrupted), new Set(inFlightAtKill));

    const duplicates = receiver.requests.length - new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size;
    console.log(
      `[${dialect}] kill -9 after ${seenAtKill} requests (${answeredAtKill} answered): ${inFlightAtKill.length} attempts in flight → INTERRUPTED; ` +
        `all ${EVENTS} delivered ${recoveredIn.toFixed(0)} ms after the restart (lease ${LEASE_MS} ms); ` +
        `${receiver.requests.length} requests in all, ${duplicates} redelivered webhook-id(s)`,
    );
  } finally {
    for (const child of children) await stopChild(child);
    await receiver.close();
    await pgSchema?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One worker, a lease of 1 s, a receiver that takes 1.6 s: the worker must not race itself. */
async function requestOutlastsLease(dialect: TestDialect): Promise<void> {
  const t = await startTestApp({ dialect, env: { SWITCHYARD_LEASE_MS: '1000' } });
  const receiver = await startReceiver();
  try {
    receiver.setDefault(delayed(1_600, ok));
    const s = await setup(t, `${receiver.url}/slow`, { endpoint: { timeoutMs: 3_000 } });
    const sent = await sendEvent(t, s.tenantId, { id: 'in_1' });
    // One request takes 1.6 s; allow it a margin to be recorded. The margin only bounds the wait:
    // this suite runs its scenarios side by side, and on a loaded machine recording took past 3 s
    // with everything right. What matters is checked below: one request, one attempt.
    const ended = await waitForDelivery(t, (d) => d.event_id === sent.event.id, ['SUCCEEDED', 'RETRYING', 'FAILED'], 8_000).catch(() => null);
    const [row] = await t.app.services.db.selectFrom('deliveries').select('id').where('event_id', '=', sent.event.id).execute();
    const delivery = await readDelivery(t, row!.id);
    const attempts = JSON.stringify(delivery.attempts.nodes.map((a) => [a.number, a.outcome]));
    assert.ok(
      ended,
      `not recorded after 8 s: status ${delivery.status}, attemptCount ${delivery.attemptCount}, ` +
        `${receiver.requests.length} requests at the receiver, attempts ${attempts}`,
    );
    await waitUntil(() => t.app.dispatcher.load === 0, { timeoutMs: 5_000, what: 'dispatcher idle' });
    assert.deepEqual(
      receiver.requests.map((r) => r.headers['webhook-event-id']),
      [sent.event.id],
      `the worker still holding the request claimed it again when its own lease expired: ${attempts}`,
    );
    assert.equal(delivery.status, 'SUCCEEDED');
    assert.equal(delivery.attemptCount, 1);
    assert.deepEqual(
      delivery.attempts.nodes.map((a) => a.outcome),
      ['SUCCEEDED'],
    );
  } finally {
    await receiver.close();
    await t.stop();
  }
}

// Everything runs side by side: each scenario has its own store, receiver and processes, and most
// of the time goes to starting child processes and waiting on leases.
describe('crashes and leases', { concurrency: true }, () => {
  for (const dialect of TEST_DIALECTS) {
    test(`(${dialect}) kill -9 with deliveries in flight: every accepted event is delivered after a restart, in-flight attempts INTERRUPTED`, { timeout: 180_000 }, () =>
      killAndRestart(dialect),
    );
    test(`(${dialect}) a request that outlasts the lease is not sent a second time by the same worker`, { timeout: 120_000 }, () =>
      requestOutlastsLease(dialect),
    );
  }
});
