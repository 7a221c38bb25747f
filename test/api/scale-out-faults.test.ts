// Faults on the scale-out path (PostgreSQL + Redis): a worker killed with SIGKILL under load while
// another runs on (nothing lost, its leases taken over, duplicates counted), and Redis going away for
// a while (deliveries go on, live events come back when it does, nothing crashes). Redis here is a
// server of the test's own on a free port, so stopping it touches no other test.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup, waitUntil } from '../helpers/fixtures.js';
import { delayed, ok, startReceiver, type Receiver } from '../helpers/receiver.js';
import { spawnChild, stopChild, type Child } from '../helpers/child.js';

const redisUrl = process.env.SWITCHYARD_TEST_REDIS_URL;
const pgUrl = process.env.SWITCHYARD_TEST_DATABASE_URL;
const skip = !redisUrl || !pgUrl ? 'needs SWITCHYARD_TEST_DATABASE_URL and SWITCHYARD_TEST_REDIS_URL' : false;

const LEASE_MS = 1_500;

/** The event a request at the receiver delivers (`webhook-id` names the delivery). */
function eventIdOf(headers: Record<string, string | string[] | undefined>): string {
  return String(headers['webhook-event-id']);
}

async function succeededDeliveries(api: TestApp, tenantId: string): Promise<{ id: string; attemptCount: number; event: { id: string } }[]> {
  const data = await api.ok(
    `query($tenantId: ID!) { deliveries(first: 100, filter: {tenantId: $tenantId, statuses: [SUCCEEDED]}) { nodes { id attemptCount event { id } } } }`,
    { tenantId },
  );
  return data.deliveries.nodes;
}

async function attemptsOf(api: TestApp, tenantId: string): Promise<{ deliveryId: string; number: number; outcome: string }[]> {
  const found: { deliveryId: string; number: number; outcome: string }[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10; page++) {
    const data: any = await api.ok(
      `query($tenantId: ID!, $after: String) { deliveryAttempts(first: 100, after: $after, filter: {tenantId: $tenantId}) {
        nodes { deliveryId number outcome } pageInfo { hasNextPage endCursor } } }`,
      { tenantId, after: cursor },
    );
    found.push(...data.deliveryAttempts.nodes);
    if (!data.deliveryAttempts.pageInfo.hasNextPage) return found;
    cursor = data.deliveryAttempts.pageInfo.endCursor;
  }
  throw new Error('more than 1000 attempts');
}

describe('scale-out faults: a worker killed under load', { skip, timeout: 180_000 }, () => {
  const EVENTS = 100;
  let api: TestApp;
  let receiver: Receiver;
  const workers: Child[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-workers-'));
  before(async () => {
    const prefix = `sy-test-${randomBytes(4).toString('hex')}:`;
    api = await startTestApp({
      dialect: 'postgres',
      env: { SWITCHYARD_ROLE: 'api', SWITCHYARD_REDIS_URL: redisUrl!, SWITCHYARD_REDIS_PREFIX: prefix, SWITCHYARD_LEASE_MS: String(LEASE_MS) },
    });
    receiver = await startReceiver();
    // 200 after 200 ms: each worker holds a wave of requests when one of them is killed
    receiver.setDefault(delayed(200, ok));
    for (const name of ['a', 'b']) {
      workers.push(
        spawnChild({
          SWITCHYARD_ROLE: 'worker',
          SWITCHYARD_PORT: '0',
          SWITCHYARD_HOST: '127.0.0.1',
          SWITCHYARD_DATA_DIR: join(dir, name),
          SWITCHYARD_DATABASE_URL: api.config.databaseUrl!,
          SWITCHYARD_REDIS_URL: redisUrl!,
          SWITCHYARD_REDIS_PREFIX: prefix,
          SWITCHYARD_ENCRYPTION_KEY: api.config.encryptionKey!,
          SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
          SWITCHYARD_ALLOW_HTTP: 'true',
          SWITCHYARD_ALLOW_PRIVATE_CIDRS: '127.0.0.1/32',
          SWITCHYARD_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
          SWITCHYARD_LEASE_MS: String(LEASE_MS),
          SWITCHYARD_MAX_IN_FLIGHT_PER_ENDPOINT: '10',
        }),
      );
    }
    for (const worker of workers) await worker.listening();
  });
  after(async () => {
    for (const worker of workers) await stopChild(worker);
    await receiver?.close();
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('nothing accepted is lost, the killed worker’s leases are taken over, duplicates are counted', async () => {
    const s = await setup(api, `${receiver.url}/workers`, { endpoint: { timeoutMs: 5_000 } });
    const sent = await api.ok(
      `mutation($input: SendEventsInput!) { sendEvents(input: $input) { __typename ... on SendEventsPayload { results { event { id } } } } }`,
      { input: { events: Array.from({ length: EVENTS }, (_, n) => ({ tenantId: s.tenantId, type: 'invoice.paid', payload: { n } })) } },
    );
    const eventIds: string[] = sent.sendEvents.results.map((result: { event: { id: string } }) => result.event.id);
    await receiver.waitFor(25, 20_000);
    workers[0]!.process.kill('SIGKILL');
    await workers[0]!.exited;
    const killedAt = performance.now();

    const succeeded = await waitUntil(
      async () => {
        const nodes = await succeededDeliveries(api, s.tenantId);
        return nodes.length === EVENTS ? nodes : null;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `all ${EVENTS} deliveries SUCCEEDED with one worker left` },
    );
    const tookOverIn = performance.now() - killedAt;
    assert.deepEqual(new Set(succeeded.map((delivery) => delivery.event.id)), new Set(eventIds));
    const received = new Set(receiver.requests.map((request) => eventIdOf(request.headers)));
    for (const id of eventIds) assert.ok(received.has(id), `the receiver never saw ${id}`);

    const attempts = await attemptsOf(api, s.tenantId);
    assert.ok(attempts.every((attempt) => attempt.outcome !== 'IN_FLIGHT'), 'no attempt is left in flight');
    const interrupted = attempts.filter((attempt) => attempt.outcome === 'INTERRUPTED');
    assert.ok(interrupted.length > 0, 'the killed worker held leases, and they were taken over');
    for (const attempt of interrupted) {
      const later = attempts.find((other) => other.deliveryId === attempt.deliveryId && other.number > attempt.number && other.outcome === 'SUCCEEDED');
      assert.ok(later, `delivery ${attempt.deliveryId}: its interrupted attempt ${attempt.number} was followed by a success`);
    }
    const duplicates = receiver.requests.length - received.size;
    console.log(
      `# kill -9 of one of two workers: ${interrupted.length} leases taken over, all ${EVENTS} delivered ${tookOverIn.toFixed(0)} ms after the kill ` +
        `(lease ${LEASE_MS} ms); ${receiver.requests.length} requests, ${duplicates} duplicate(s) at the receiver`,
    );
  });
});

/** A port free right now on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitUntil(() => answers(port), { timeoutMs: 10_000, intervalMs: 50, what: `redis-server on port ${port}` });
  return server;
}

async function stopRedis(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGKILL');
  await exited;
}

describe('scale-out faults: Redis away for a while', { skip, timeout: 120_000 }, () => {
  let port = 0;
  let redis: ChildProcess;
  let api: TestApp;
  let worker: TestApp;
  let receiver: Receiver;
  let client: Client;
  before(async () => {
    port = await freePort();
    redis = await startRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    api = await startTestApp({ dialect: 'postgres', env: { SWITCHYARD_ROLE: 'api', SWITCHYARD_REDIS_URL: url } });
    worker = await startTestApp({
      env: { SWITCHYARD_ROLE: 'worker', SWITCHYARD_DATABASE_URL: api.config.databaseUrl!, SWITCHYARD_REDIS_URL: url, SWITCHYARD_ENCRYPTION_KEY: api.config.encryptionKey! },
    });
    receiver = await startReceiver();
    client = createClient({ url: `${api.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` }, retryAttempts: 0 });
  });
  after(async () => {
    await client?.dispose();
    await worker?.stop();
    await api?.stop();
    await receiver?.close();
    if (redis) await stopRedis(redis);
  });

  test('deliveries go on while Redis is down, live events resume when it is back, nothing crashes', async () => {
    const s = await setup(api, `${receiver.url}/redis`);
    const seen = new Map<string, (value: unknown) => void>();
    const seenEvents = new Set<string>();
    const waitForLive = (eventId: string, timeoutMs: number) =>
      seenEvents.has(eventId)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no live attempt for ${eventId} on the API node in ${timeoutMs} ms`)), timeoutMs);
            seen.set(eventId, () => {
              clearTimeout(timer);
              resolve();
            });
          });
    client.subscribe<{ deliveryAttempts: { eventId: string; outcome: string } }>(
      { query: `subscription($f: AttemptSubscriptionFilter) { deliveryAttempts(filter: $f) { eventId outcome } }`, variables: { f: { tenantId: s.tenantId } } },
      {
        next: ({ data }) => {
          if (data?.deliveryAttempts.outcome !== 'SUCCEEDED') return;
          seenEvents.add(data.deliveryAttempts.eventId);
          seen.get(data.deliveryAttempts.eventId)?.(null);
        },
        error: () => {},
        complete: () => {},
      },
    );
    await new Promise<void>((resolve, reject) => client.subscribe({ query: '{ __typename }' }, { next: () => {}, error: reject, complete: resolve }));

    const before = await sendEvent(api, s.tenantId, { phase: 'before' });
    await waitForLive(before.event.id, 10_000);

    await stopRedis(redis);
    const during = await sendEvent(api, s.tenantId, { phase: 'during' });
    await waitUntil(() => receiver.requests.some((request) => eventIdOf(request.headers) === during.event.id), {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: 'the worker delivered an event accepted while Redis was down',
    });
    for (const node of [api, worker]) assert.equal((await fetch(`${node.url}/healthz`)).status, 200);

    redis = await startRedis(port);
    // Live events come back once both nodes have reconnected: keep sending until one is seen.
    await waitUntil(
      async () => {
        const after = await sendEvent(api, s.tenantId, { phase: 'after' });
        return waitForLive(after.event.id, 3_000).then(
          () => true,
          () => false,
        );
      },
      { timeoutMs: 45_000, intervalMs: 100, what: 'a live attempt on the API node after Redis came back' },
    );
    for (const node of [api, worker]) assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
  });
});

/** A PostgreSQL cluster of the test's own (initdb, then pg_ctl as the postgres user), so restarting it touches no other test. */
async function privatePostgres(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void>; remove(): Promise<void> }> {
  const bin = '/usr/lib/postgresql/15/bin';
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-pg-'));
  const port = await freePort();
  const run = (command: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('runuser', ['-u', 'postgres', '--', `${bin}/${command}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr}`))));
    });
  await new Promise<void>((resolve, reject) => spawn('chown', ['postgres', dir]).once('exit', (code) => (code === 0 ? resolve() : reject(new Error('chown failed')))));
  await run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
  const start = () => run('pg_ctl', ['-D', join(dir, 'data'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-l', join(dir, 'log'), '-w', 'start']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    // immediate: the server goes away as in a crash, connections cut without a goodbye
    stop: () => run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']),
    remove: async () => {
      await run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const canRunPostgres = process.getuid?.() === 0 && !skip ? false : 'needs root (to run a private PostgreSQL as the postgres user) and the test services';

describe('scale-out faults: PostgreSQL restarted under load', { skip: canRunPostgres, timeout: 120_000 }, () => {
  const EVENTS = 40;
  let database: Awaited<ReturnType<typeof privatePostgres>>;
  let api: TestApp;
  let worker: TestApp;
  let receiver: Receiver;
  before(async () => {
    database = await privatePostgres();
    const prefix = `sy-test-${randomBytes(4).toString('hex')}:`;
    const shared = { SWITCHYARD_DATABASE_URL: database.url, SWITCHYARD_REDIS_URL: redisUrl!, SWITCHYARD_REDIS_PREFIX: prefix, SWITCHYARD_LEASE_MS: String(LEASE_MS) };
    api = await startTestApp({ env: { ...shared, SWITCHYARD_ROLE: 'api' } });
    worker = await startTestApp({ env: { ...shared, SWITCHYARD_ROLE: 'worker', SWITCHYARD_ENCRYPTION_KEY: api.config.encryptionKey! } });
    receiver = await startReceiver();
    receiver.setDefault(delayed(100, ok));
  });
  after(async () => {
    await worker?.stop();
    await api?.stop();
    await receiver?.close();
    await database?.remove();
  });

  test('a clear error while it is down, both nodes reconnect, nothing accepted is lost', async () => {
    const s = await setup(api, `${receiver.url}/restart`, { endpoint: { timeoutMs: 5_000 } });
    const accepted: string[] = [];
    for (let n = 0; n < EVENTS / 2; n++) accepted.push((await sendEvent(api, s.tenantId, { n })).event.id);
    await receiver.waitFor(5, 20_000);

    await database.stop();
    const refused = await api.gql(`mutation($i: SendEventInput!) { sendEvent(input: $i) { __typename } }`, { i: { tenantId: s.tenantId, type: 'invoice.paid', payload: { down: true } } });
    assert.ok(refused.status < 500, `HTTP ${refused.status} while the database is down`);
    assert.equal(refused.errors?.[0]?.extensions?.code, 'STORE_UNAVAILABLE', JSON.stringify(refused.errors));
    for (const node of [api, worker]) assert.equal((await fetch(`${node.url}/healthz`)).status, 200, 'liveness holds while the database is down');

    await database.start();
    // The first statements after the restart may still meet a connection the server cut.
    await waitUntil(
      async () => {
        const sent = await api.gql(`mutation($i: SendEventInput!) { sendEvent(input: $i) { ... on SendEventPayload { event { id } } } }`, {
          i: { tenantId: s.tenantId, type: 'invoice.paid', payload: { n: 'first after the restart' } },
        });
        const id = sent.data?.sendEvent?.event?.id as string | undefined;
        if (id) accepted.push(id);
        return id !== undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'sendEvent accepted again after the restart' },
    );
    while (accepted.length < EVENTS + 1) accepted.push((await sendEvent(api, s.tenantId, { n: accepted.length })).event.id);

    const succeeded = await waitUntil(
      async () => {
        const nodes = await succeededDeliveries(api, s.tenantId);
        return nodes.length === accepted.length ? nodes : null;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `every accepted event delivered after the restart` },
    );
    assert.deepEqual(new Set(succeeded.map((delivery) => delivery.event.id)), new Set(accepted));
  });
});
