// Switchyard in its own process, driven by bench/run.ts over IPC: start the real app (buildApp, the
// same path as `npm start`), fill the queue through the real `sendEvents` service, start the
// dispatcher and time the drain, publish synthetic attempts on the live bus, read RSS. The raw
// undici ceiling of figure (1) runs here too, so it gets the same process and core as the dispatcher.
import type { AttemptRow, DeliveryRow } from '../src/db/schema.js';
import { createHmac, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { Agent, request } from 'undici';
import { buildApp, type App } from '../src/app.js';
import { SYSTEM_ACTOR } from '../src/auth/actor.js';
import { newId } from '../src/db/ids.js';
import { loadConfig } from '../src/env.js';
import { createLogger } from '../src/log.js';
import { sendEvents, type SendEventInput } from '../src/modules/events/event.service.js';
import { exitHandler, hrMs, serveCommands } from './lib/ipc.js';
import { profile } from './lib/profiler.js';
import { paced } from './lib/stats.js';

import { BENCH_ADMIN_TOKEN } from './lib/constants.js';

// Event-loop stalls of this process (better-sqlite3 and fsync run on the loop): reported per measured window.
const LOOP_RESOLUTION_MS = 5;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loopDelay.enable();

let app: App | null = null;
const need = (): App => {
  if (!app) throw new Error('the app is not started');
  return app;
};

interface StartArgs {
  dataDir: string;
  role: 'api' | 'all';
  env?: Record<string, string>;
}

async function start({ dataDir, role, env }: StartArgs): Promise<{ url: string; pid: number }> {
  const config = loadConfig({
    NODE_ENV: 'production',
    SWITCHYARD_HOST: '127.0.0.1',
    SWITCHYARD_PORT: '0',
    SWITCHYARD_ROLE: role,
    SWITCHYARD_DATA_DIR: dataDir,
    SWITCHYARD_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    SWITCHYARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SWITCHYARD_ALLOW_HTTP: 'true',
    SWITCHYARD_ALLOW_PRIVATE_CIDRS: '127.0.0.1/32',
    SWITCHYARD_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ...env,
  });
  app = await buildApp({ config, log: createLogger(config.logLevel), announce: () => {} });
  await app.start();
  return { url: app.url, pid: process.pid };
}

/** A batch of events, round-robin over the tenants (each tenant has one hook for `type`). */
function inputs(count: number, offset: number, tenantIds: string[], type: string, payload: unknown): SendEventInput[] {
  return Array.from({ length: count }, (_, i) => ({ tenantId: tenantIds[(offset + i) % tenantIds.length]!, type, payload }));
}

async function insertEvents(args: { n: number; batch: number; tenantIds: string[]; type: string; payload: unknown }) {
  const { services } = need();
  const started = performance.now();
  let deliveries = 0;
  for (let done = 0; done < args.n; ) {
    const size = Math.min(args.batch, args.n - done);
    const results = await sendEvents(services, SYSTEM_ACTOR, inputs(size, done, args.tenantIds, args.type, args.payload));
    for (const result of results) deliveries += result.deliveries.length;
    done += size;
  }
  return { ms: performance.now() - started, events: args.n, deliveries };
}

/** Starts the dispatcher and resolves once `expected` deliveries reached SUCCEEDED (seen on the bus, published after commit). */
async function drain({ expected, timeoutMs }: { expected: number; timeoutMs: number }) {
  const { services, dispatcher } = need();
  let succeeded = 0;
  let failed = 0;
  let retrying = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const unsubscribe = services.bus.subscribe('delivery', ({ delivery }) => {
    if (delivery.status === 'SUCCEEDED' && ++succeeded >= expected) resolveDone();
    else if (delivery.status === 'FAILED') failed++;
    else if (delivery.status === 'RETRYING') retrying++;
  });
  const timer = setTimeout(resolveDone, timeoutMs);
  const before = services.store.writes.stats();
  const started = performance.now();
  dispatcher.start();
  await done;
  const ms = performance.now() - started;
  const after = services.store.writes.stats();
  clearTimeout(timer);
  unsubscribe();
  await dispatcher.stop();
  const commits = after.commits - before.commits;
  return { ms, succeeded, failed, retrying, timedOut: succeeded < expected, commits, unitsPerCommit: commits ? (after.units - before.units) / commits : 0 };
}

async function statusCounts(): Promise<Record<string, number>> {
  const rows = await need()
    .services.db.selectFrom('deliveries')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

/**
 * The ceiling of figure (1): the same bodies (Standard Webhooks envelope, same header set) POSTed
 * with undici to the same receiver, with the dispatcher's concurrency and socket pool, nothing persisted.
 */
async function raw(args: { urls: string[]; n: number; concurrency: number; connections: number; type: string; payload: unknown; timeoutMs: number }) {
  const agent = new Agent({ connections: args.connections, keepAliveTimeout: 30_000 });
  const data = JSON.stringify(args.payload);
  const deadline = performance.now() + args.timeoutMs;
  let next = 0;
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  // As lean as the client can be with the same bytes on the wire: ids and signature of the real
  // lengths, the envelope rebuilt only when its timestamp changes.
  const signature = `v1,${randomBytes(32).toString('base64')}`;
  const idPrefix = newId('delivery').slice(0, 14);
  const eventIdPrefix = newId('event').slice(0, 14);
  let second = -1;
  let body = '';
  let timestamp = '';
  const worker = async () => {
    while (performance.now() < deadline) {
      const index = next++;
      if (index >= args.n) return;
      const now = Date.now();
      if (Math.floor(now / 1000) !== second) {
        second = Math.floor(now / 1000);
        timestamp = String(second);
        body = `{"type":${JSON.stringify(args.type)},"timestamp":"${new Date(now).toISOString()}","data":${data}}`;
      }
      try {
        const response = await request(args.urls[index % args.urls.length]!, {
          dispatcher: agent,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Switchyard/0.1.0',
            'webhook-id': `${idPrefix}${String(index).padStart(16, '0')}`,
            'webhook-event-id': `${eventIdPrefix}${String(index).padStart(16, '0')}`,
            'webhook-timestamp': timestamp,
            'webhook-signature': signature,
          },
          body,
        });
        await response.body.arrayBuffer();
        if (response.statusCode === 200) ok++;
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const ms = performance.now() - started;
  await agent.close();
  return { ms, ok, errors };
}

/**
 * A second ceiling for figure (1): the least a durable delivery loop can do on this machine, the
 * loop the issue's prototype describes. Pending rows in a SQLite file (WAL, synchronous=FULL, the
 * same page cache as Switchyard) → claimed in batches (one UPDATE … RETURNING and a commit) → signed
 * POST with the same headers and concurrency as `raw` → an attempt row (with the response) and the
 * row's final state, all the completions of a turn in one commit. No lease renewal, fencing token,
 * retries, routing, hooks, per-endpoint bounds, secondary indexes or live updates: what is left is
 * the storage and HTTP a durable delivery cannot avoid.
 */
async function bareDurable(args: { dir: string; urls: string[]; n: number; concurrency: number; connections: number; type: string; payload: unknown; timeoutMs: number }) {
  const path = join(args.dir, 'bare-durable.db');
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  const db = new SQLite(path);
  db.pragma('page_size = 8192'); // the storage settings of Switchyard's own store (src/db/connect.ts)
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('cache_size = -32768');
  db.exec(`create table queue (id integer primary key, url text not null, payload text not null, status text not null, due_at integer);
           create index queue_due on queue (due_at) where due_at is not null;
           create table attempts (id integer primary key, queue_id integer not null, status integer, response text, started_at integer, finished_at integer)`);
  const data = JSON.stringify(args.payload);
  const insert = db.prepare('insert into queue (id, url, payload, status, due_at) values (?, ?, ?, ?, ?)');
  const created = Date.now();
  db.transaction(() => {
    for (let i = 1; i <= args.n; i++) insert.run(i, args.urls[i % args.urls.length], data, 'PENDING', created);
  })();
  const claim = db.prepare(
    `update queue set status = 'SENDING', due_at = ? where id in (select id from queue where due_at <= ? order by due_at limit ?) returning id, url, payload`,
  );
  const attempt = db.prepare('insert into attempts (queue_id, status, response, started_at, finished_at) values (?, ?, ?, ?, ?)');
  const finish = db.prepare(`update queue set status = ?, due_at = null where id = ?`);
  const key = randomBytes(32);
  const agent = new Agent({ connections: args.connections, keepAliveTimeout: 30_000 });
  const deadline = performance.now() + args.timeoutMs;
  const started = performance.now();
  let inFlight = 0;
  let ok = 0;
  let errors = 0;
  let commits = 0;
  let done = 0;
  let pending: { id: number; status: number; response: string; startedAt: number; finishedAt: number }[] = [];
  let flushScheduled = false;
  return new Promise<{ ms: number; ok: number; errors: number; commits: number }>((resolve) => {
    const finishRun = () => {
      void agent.close();
      db.close();
      resolve({ ms: performance.now() - started, ok, errors, commits });
    };
    const flush = () => {
      flushScheduled = false;
      const batch = pending;
      pending = [];
      db.transaction(() => {
        for (const item of batch) {
          attempt.run(item.id, item.status, item.response, item.startedAt, item.finishedAt);
          finish.run(item.status === 200 ? 'SUCCEEDED' : 'FAILED', item.id);
        }
      })();
      commits++;
      done += batch.length;
      if (done >= args.n || performance.now() > deadline) finishRun();
      else refill();
    };
    const send = (row: { id: number; url: string; payload: string }) => {
      inFlight++;
      const startedAt = Date.now();
      const timestamp = String(Math.floor(startedAt / 1000));
      const body = `{"type":${JSON.stringify(args.type)},"timestamp":"${new Date(startedAt).toISOString()}","data":${row.payload}}`;
      const id = `msg_${String(row.id).padStart(26, '0')}`;
      const signature = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
      const settle = (status: number, response: string) => {
        inFlight--;
        pending.push({ id: row.id, status, response, startedAt, finishedAt: Date.now() });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      };
      request(row.url, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Switchyard/0.1.0', 'webhook-id': id, 'webhook-event-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature },
        body,
      }).then(
        async (response) => {
          const text = await response.body.text();
          if (response.statusCode === 200) ok++;
          else errors++;
          settle(response.statusCode, text);
        },
        (error: unknown) => {
          errors++;
          settle(0, String(error));
        },
      );
    };
    const refill = () => {
      const free = args.concurrency - inFlight;
      // claim in batches, as the dispatcher does (a quarter of the window at least)
      if (free < args.concurrency / 4 && inFlight > 0) return;
      const now = Date.now();
      const rows = db.transaction(() => claim.all(now + 60_000, now, free) as { id: number; url: string; payload: string }[])();
      commits++;
      for (const row of rows) send(row);
    };
    refill();
  });
}

/**
 * Figure (4): synthetic finished attempts published on the live bus at a fixed rate, each a fresh
 * object (the shared execution caches per message) carrying its publish time in error_message.
 */
async function publishAttempts(args: { rate: number; durationMs: number; tenantId: string }) {
  const { services } = need();
  const now = Date.now();
  const delivery: DeliveryRow = {
    id: newId('delivery', now),
    tenant_id: args.tenantId,
    event_id: newId('event', now),
    hook_id: newId('hook', now),
    endpoint_id: newId('endpoint', now),
    event_type: 'bench.event',
    status: 'SUCCEEDED',
    attempt_count: 1,
    due_at: null,
    next_attempt_at: null,
    lease_token: 1,
    next_trigger: 'SCHEDULED',
    last_status_code: 200,
    last_error: null,
    status_reason: null,
    captured: null,
    capture_error: null,
    fifo_hook_id: null,
    created_at: now,
    updated_at: now,
    finished_at: now,
  };
  const result = await paced(args.rate, args.durationMs, () => {
    const at = Date.now();
    const attempt: AttemptRow = {
      id: newId('attempt', at),
      delivery_id: delivery.id,
      tenant_id: delivery.tenant_id,
      event_id: delivery.event_id,
      endpoint_id: delivery.endpoint_id,
      hook_id: delivery.hook_id,
      number: 1,
      trigger: 'SCHEDULED',
      outcome: 'SUCCEEDED',
      request_method: 'POST',
      request_url: 'http://127.0.0.1/bench',
      request_headers: '{}',
      request_body: null,
      response_status: 200,
      response_headers: '{"content-type":"text/plain"}',
      response_body: 'ok',
      response_body_encoding: 'utf8',
      response_body_truncated: 0,
      duration_ms: 0.5,
      error_class: null,
      error_message: `t=${hrMs()}`,
      started_at: at,
      finished_at: at,
    };
    services.bus.publish('attempt', { phase: 'finished', attempt, delivery: { ...delivery, updated_at: at } });
  });
  return result;
}

/**
 * Figure (5): fills the store of a stopped app with `n` PENDING deliveries due far in the future
 * (events fanned out to every hook), with prepared inserts in transactions of 10k rows.
 */
async function seed(args: { n: number; dueInMs: number; type: string; payload: unknown }) {
  const current = need();
  const { services } = current;
  const hooks = await services.db.selectFrom('hooks').select(['id', 'tenant_id', 'endpoint_id']).execute();
  const dbFile = services.config.databaseUrl ?? `${services.config.dataDir}/switchyard.db`;
  await current.stop();
  app = null;
  if (hooks.length === 0) throw new Error('seed: no hooks');
  const sqlite = new SQLite(dbFile);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = OFF'); // seeding is not what is measured
  sqlite.pragma('foreign_keys = ON');
  const insertEvent = sqlite.prepare(
    'insert into events (id, tenant_id, type, payload, channels, idempotency_key, occurred_at, created_at) values (?, ?, ?, ?, ?, null, ?, ?)',
  );
  const insertDelivery = sqlite.prepare(
    `insert into deliveries (id, tenant_id, event_id, hook_id, endpoint_id, event_type, status, attempt_count, due_at,
       next_attempt_at, lease_token, next_trigger, last_status_code, last_error, status_reason, created_at, updated_at, finished_at)
     values (?, ?, ?, ?, ?, ?, 'PENDING', 0, ?, ?, 0, 'SCHEDULED', null, null, null, ?, ?, null)`,
  );
  const payload = JSON.stringify(args.payload);
  const byTenant = new Map<string, typeof hooks>();
  for (const hook of hooks) byTenant.set(hook.tenant_id, [...(byTenant.get(hook.tenant_id) ?? []), hook]);
  const tenants = [...byTenant.entries()];
  const started = performance.now();
  const CHUNK = 10_000;
  let written = 0;
  let eventIndex = 0;
  const chunk = sqlite.transaction((limit: number) => {
    let rows = 0;
    while (rows < limit) {
      const [tenantId, tenantHooks] = tenants[eventIndex++ % tenants.length]!;
      const now = Date.now();
      const due = now + args.dueInMs;
      const eventId = newId('event', now);
      insertEvent.run(eventId, tenantId, args.type, payload, '[]', now, now);
      for (const hook of tenantHooks) {
        insertDelivery.run(newId('delivery', now), tenantId, eventId, hook.id, hook.endpoint_id, args.type, due, due, now, now);
        rows++;
      }
    }
    return rows;
  });
  let lastReport = performance.now();
  while (written < args.n) {
    written += chunk(Math.min(CHUNK, args.n - written));
    if (performance.now() - lastReport > 5_000) {
      lastReport = performance.now();
      process.stderr.write(`  seeded ${written.toLocaleString('en-US')} deliveries\n`);
    }
  }
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
  return { ms: performance.now() - started, deliveries: written, events: eventIndex };
}

serveCommands({
  profile,
  ...exitHandler(async () => {
    await app?.stop();
  }),
  start,
  insertEvents,
  drain,
  statusCounts,
  raw,
  bareDurable,
  publishAttempts,
  seed,
  dispatcher: async ({ on }: { on: boolean }) => {
    if (on) need().dispatcher.start();
    else await need().dispatcher.stop();
  },
  memory: () => process.memoryUsage(),
  /** commits and units of the group commit so far */
  commits: () => need().services.store.writes.stats(),
  /** event-loop delay since the last reset, in ms */
  loop: ({ reset }: { reset: boolean }) => {
    // The histogram holds whole timer intervals: the delay is what exceeds the resolution.
    const delay = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
    const result = { p50: delay(loopDelay.percentile(50)), p99: delay(loopDelay.percentile(99)), max: delay(loopDelay.max) };
    if (reset) loopDelay.reset();
    return result;
  },
  stop: async () => {
    await app?.stop();
    app = null;
  },
});
