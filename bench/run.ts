// `npm run bench`: Switchyard against the physical ceiling of this machine, measured in the same run.
//
// Every role runs in its own process (receiver, Switchyard, ceilings, subscribers); this one only
// orchestrates, drives HTTP load and prints ONE table (stdout) plus bench/results/<date>.json.
// Progress goes to stderr. Only 127.0.0.1. Every loop is bounded in count and in time, and a
// watchdog ends the run (with what it has) past BENCH_DEADLINE_S.
//
// Sizes (env): BENCH_QUICK=1 for a ~60 s smoke run; BENCH_ROUNDS, BENCH_E2E_N, BENCH_MAX_IN_FLIGHT,
// BENCH_ENDPOINTS, BENCH_API_MS, BENCH_API_CLIENTS, BENCH_BATCH_CLIENTS, BENCH_PROBES, BENCH_LOAD_MS,
// BENCH_SUBSCRIBERS, BENCH_SUB_MS, BENCH_RSS_N, BENCH_RSS_SETTLE_MS, BENCH_DEADLINE_S, BENCH_ONLY
// (comma list of e2e,metrics,api,latency,subs,peers,scaleout,rss), BENCH_PEERS (comma list of figure (6)'s
// sqlite,postgres,bullmq,pgboss), BENCH_PROFILE (comma list of e2e,api,latency,subs,peers: CPU
// profiles of the Switchyard process during those measured windows only, in bench/results/profiles;
// summarise with `tsx bench/profile-summary.ts <files…>`).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient as createWsClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { Agent, Pool, request } from 'undici';
import { buildChildren, compiledChild } from './lib/build.js';
import { hrMs, killAllChildren, startChild, type Child } from './lib/ipc.js';
import { fmtMs, fmtNum, fmtRounds, paced, percentiles, rounds, type Percentiles, type Rounds } from './lib/stats.js';
import { DEFAULT_CONNECTIONS_PER_ORIGIN } from '../src/dispatch/http-exchange.js';
import { BENCH_ADMIN_TOKEN } from './lib/constants.js';

// ---------------------------------------------------------------------------------------------
// Configuration

const QUICK = process.env.BENCH_QUICK === '1';
function envInt(name: string, full: number, quick: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return QUICK ? quick : full;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

const config = {
  quick: QUICK,
  rounds: envInt('BENCH_ROUNDS', 3, 3),
  /** deliveries per round; by default sized from the warm-up rate so a Switchyard round lasts ~3 s (5k–30k) */
  e2eDeliveries: process.env.BENCH_E2E_N ? envInt('BENCH_E2E_N', 0, 0) : null,
  e2eRoundTargetMs: QUICK ? 1_500 : 3_000,
  maxInFlight: envInt('BENCH_MAX_IN_FLIGHT', 256, 256),
  endpoints: envInt('BENCH_ENDPOINTS', 8, 8),
  /** Switchyard's one undici Agent keeps this many sockets per origin; the raw ceiling uses the same pool */
  connectionsPerOrigin: DEFAULT_CONNECTIONS_PER_ORIGIN,
  apiRoundMs: envInt('BENCH_API_MS', 3_000, 1_000),
  apiClients: envInt('BENCH_API_CLIENTS', 50, 50),
  batchClients: envInt('BENCH_BATCH_CLIENTS', 50, 50),
  batchSize: 100,
  probes: envInt('BENCH_PROBES', 200, 80),
  probeGapMs: 20,
  loadWindowMs: envInt('BENCH_LOAD_MS', 6_000, 2_500),
  loadBatch: 20,
  subscribers: envInt('BENCH_SUBSCRIBERS', 100, 100),
  subRates: [200, 500],
  subWindowMs: envInt('BENCH_SUB_MS', 5_000, 1_500),
  rssDeliveries: envInt('BENCH_RSS_N', 1_000_000, 100_000),
  rssFanout: 10,
  rssSettleMs: envInt('BENCH_RSS_SETTLE_MS', 5_000, 3_000),
  deadlineS: envInt('BENCH_DEADLINE_S', 290, 150),
  only: new Set((process.env.BENCH_ONLY ?? 'e2e,metrics,api,latency,subs,peers,scaleout,rss').split(',').map((s) => s.trim())),
  /** which of figure (6)'s workers run: sqlite,postgres,bullmq,pgboss */
  peers: new Set((process.env.BENCH_PEERS ?? 'sqlite,postgres,bullmq,pgboss').split(',').map((s) => s.trim())),
  /** deliveries per round of figure (6), for Switchyard and each peer; by default sized from (1)'s warm-up rate (3k–10k) */
  peerDeliveries: process.env.BENCH_PEER_N ? envInt('BENCH_PEER_N', 0, 0) : null,
  peerRounds: envInt('BENCH_PEER_ROUNDS', 2, 1),
  /** deliveries per round of figure (7); by default sized from (1)'s warm-up rate (3k–6k) */
  scaleOutDeliveries: process.env.BENCH_SCALEOUT_N ? envInt('BENCH_SCALEOUT_N', 0, 0) : null,
  pgBossWorkers: envInt('BENCH_PGBOSS_WORKERS', 4, 4),
  pgBossBatch: envInt('BENCH_PGBOSS_BATCH', 500, 500),
  databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  profile: process.env.BENCH_PROFILE ?? '',
};

const EVENT_TYPE = 'bench.event';
/** ~300 bytes, an ordinary webhook payload */
const PAYLOAD = {
  invoice: {
    id: 'inv_0001',
    amount: 4200,
    currency: 'EUR',
    customer: { id: 'cus_123', email: 'billing@example.com', name: 'Acme Inc.' },
    lines: [
      { sku: 'plan-pro', quantity: 1, amount: 3900 },
      { sku: 'seat', quantity: 3, amount: 100 },
    ],
    paidAt: '2025-01-01T00:00:00.000Z',
  },
};
const SUBSCRIPTION = `subscription($filter: AttemptSubscriptionFilter) {
  deliveryAttempts(filter: $filter) {
    id number outcome trigger errorClass errorMessage eventId endpointId durationMs startedAt finishedAt
    response { status }
    delivery { id status eventType attemptCount }
  }
}`;
const SUBSCRIPTION_VARIABLES = { filter: { eventTypes: ['bench.*'] } };

const started = performance.now();
const log = (message: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Results

interface Row {
  figure: string;
  switchyard: string;
  ceiling: string;
  ratio: string;
  target: string;
  pass: 'PASS' | 'FAIL' | '—' | 'ERROR';
}
const rows: Row[] = [];
const notes: string[] = [];
const results: Record<string, unknown> = {};

// ---------------------------------------------------------------------------------------------
// Helpers: processes, GraphQL, setup

const tmpRoot = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
const children: Child[] = [];

async function spawn(name: string, file: string): Promise<Child> {
  const child = await startChild(name, compiledChild(file), { env: { NODE_ENV: 'production' } });
  children.push(child);
  return child;
}

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const profileDir = join(resultsDir, 'profiles');
const profiled = new Set(config.profile.split(',').map((s) => s.trim()).filter(Boolean));
/** Runs `window` with the Switchyard process's CPU profiler on when BENCH_PROFILE names `figure`. */
async function withProfile<T>(server: Child, figure: string, label: string, window: () => Promise<T>): Promise<T> {
  if (!profiled.has(figure)) return window();
  await server.call('profile', { action: 'start' });
  try {
    return await window();
  } finally {
    const file = join(profileDir, `${new Date().toISOString().slice(0, 10)}-${label}.cpuprofile`);
    await server.call('profile', { action: 'stop', file });
    log(`  profile: ${file}`);
  }
}

async function startSwitchyard(name: string, dataDir: string, role: 'api' | 'all', env: Record<string, string> = {}): Promise<{ child: Child; url: string }> {
  const child = await spawn(name, './server.ts');
  const { url } = await child.call<{ url: string }>(
    'start',
    {
      dataDir,
      role,
      env: {
        SWITCHYARD_MAX_IN_FLIGHT: String(config.maxInFlight),
        SWITCHYARD_MAX_IN_FLIGHT_PER_ENDPOINT: String(Math.max(1, Math.ceil(config.maxInFlight / config.endpoints))),
        ...env,
      },
    },
    60_000,
  );
  return { child, url };
}

const gqlAgent = new Agent({ connections: 4, keepAliveTimeout: 30_000 });
async function gql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await request(`${url}/graphql`, {
    dispatcher: gqlAgent,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const body = (await response.body.json()) as { data?: T; errors?: unknown[] };
  if (body.errors || !body.data) throw new Error(`GraphQL ${response.statusCode}: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

/** One tenant per endpoint, each endpoint on the shared receiver with one hook for bench.event: one event → one delivery. */
async function setupTenants(url: string, receiverUrl: string): Promise<{ tenantIds: string[]; endpointUrls: string[] }> {
  await gql(url, `mutation($n: String!) { createEventType(input: {name: $n}) { __typename } }`, { n: EVENT_TYPE });
  const tenantIds: string[] = [];
  const endpointUrls: string[] = [];
  for (let i = 0; i < config.endpoints; i++) {
    const tenant = await gql(url, `mutation($n: String!) { createTenant(input: {name: $n}) { __typename ... on TenantPayload { tenant { id } } } }`, {
      n: `bench-${i}`,
    });
    const tenantId = tenant.createTenant.tenant.id as string;
    const endpointUrl = `${receiverUrl}/ep/${i}`;
    const endpoint = await gql(
      url,
      `mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) { __typename ... on CreateEndpointPayload { endpoint { id } } ... on Error { message } } }`,
      { input: { tenantId, url: endpointUrl } },
    );
    if (endpoint.createEndpoint.__typename !== 'CreateEndpointPayload') throw new Error(`createEndpoint: ${JSON.stringify(endpoint)}`);
    const hook = await gql(
      url,
      `mutation($input: CreateHookInput!) { createHook(input: $input) { __typename ... on Error { message } } }`,
      { input: { tenantId, endpointId: endpoint.createEndpoint.endpoint.id, name: `bench-${i}`, eventTypes: [EVENT_TYPE] } },
    );
    if (hook.createHook.__typename !== 'HookPayload') throw new Error(`createHook: ${JSON.stringify(hook)}`);
    tenantIds.push(tenantId);
    endpointUrls.push(endpointUrl);
  }
  return { tenantIds, endpointUrls };
}

/**
 * `clients` concurrent loops over one undici Pool (one connection each), for `durationMs` and at
 * most `maxRequests`; `check` validates each answer. Returns completed requests per second.
 */
async function drive(origin: string, args: { clients: number; durationMs: number; maxRequests: number; body: () => string; check: (text: string) => boolean; token?: string }) {
  const pool = new Pool(origin, { connections: args.clients, keepAliveTimeout: 30_000 });
  const deadline = performance.now() + args.durationMs;
  let issued = 0;
  let ok = 0;
  let failed = 0;
  let firstFailure: string | null = null;
  const t0 = performance.now();
  const worker = async () => {
    while (performance.now() < deadline && issued < args.maxRequests) {
      issued++;
      try {
        const response = await pool.request({
          path: '/graphql',
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${args.token ?? BENCH_ADMIN_TOKEN}` },
          body: args.body(),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        const text = await response.body.text();
        if (response.statusCode === 200 && args.check(text)) ok++;
        else {
          failed++;
          firstFailure ??= `${response.statusCode} ${text.slice(0, 300)}`;
        }
      } catch (error) {
        failed++;
        firstFailure ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: args.clients }, worker));
  const ms = performance.now() - t0;
  await pool.close();
  if (firstFailure) log(`  ${failed} failed requests, first: ${firstFailure}`);
  return { perSecond: (ok * 1000) / ms, ok, failed, ms };
}

function pass(ok: boolean | null): Row['pass'] {
  return ok === null ? '—' : ok ? 'PASS' : 'FAIL';
}

/** Median (min–max) of round-by-round ratios a[i] / b[i]. */
function pairedRatio(a: readonly number[], b: readonly number[]): Rounds {
  return rounds(a.map((value, i) => value / (b[i] ?? NaN)).filter(Number.isFinite));
}

function fmtRatio(r: Rounds): string {
  return Number.isFinite(r.median) ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : 'n/a';
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}

const MB = 1024 * 1024;

/**
 * CPU ticks used by the whole machine and by this run (this process, its reaped children, its live
 * children), from /proc: the difference is what other processes took while a figure was measured.
 */
function cpuTicks(): { busy: number; ours: number; at: number } {
  const ticks = (pid: number | 'self', withChildren: boolean): number => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
      // after the command: state(0) … utime(11) stime(12) cutime(13) cstime(14)
      return fields[11]! + fields[12]! + (withChildren ? fields[13]! + fields[14]! : 0);
    } catch {
      return 0;
    }
  };
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = cpu[0]! + cpu[1]! + cpu[2]! + cpu[5]! + cpu[6]! + (cpu[7] ?? 0);
  let ours = ticks('self', true);
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) ours += ticks(child.pid, false);
  return { busy, ours, at: performance.now() };
}
const TICKS_PER_S = 100; // USER_HZ
const busySections: string[] = [];
const cpuBySection: Record<string, { seconds: number; ownCores: number; otherCores: number }> = {};
results.cpu = cpuBySection;

// ---------------------------------------------------------------------------------------------
// Figures

let receiver!: Child;
let receiverUrl = '';
/** (1)'s warm-up rate: how fast this machine delivers today, to size the fixed-count figures by */
let e2eWarmRate: number | null = null;

/**
 * Deliveries a round of (6) or (7) when the knob leaves it open: what (1)'s warm-up delivered in
 * `seconds`, within [min, max]. On a machine running at half its usual speed fixed counts took the
 * run past its deadline; a figure's rounds stay about as long as their own noise needs.
 */
function roundSize(fixed: number | null, seconds: number, min: number, max: number): number {
  if (fixed !== null) return fixed;
  if (config.quick) return min;
  if (e2eWarmRate === null || !Number.isFinite(e2eWarmRate)) return max;
  return Math.min(max, Math.max(min, Math.round((e2eWarmRate * seconds) / 1000) * 1000));
}

/** A warm-up round (JIT, connections, caches): half a measured round is enough, and it is not counted. */
const warmUpSize = (n: number) => Math.max(1_000, Math.round(n / 2 / 1000) * 1000);
let serverA: { child: Child; url: string } | null = null;
let tenantsA: { tenantIds: string[]; endpointUrls: string[] } | null = null;
let e2eMax = NaN;

async function ensureServerA() {
  if (serverA && tenantsA) return { server: serverA, tenants: tenantsA };
  const dir = join(tmpRoot, 'a');
  serverA = await startSwitchyard('switchyard', dir, 'api');
  tenantsA = await setupTenants(serverA.url, receiverUrl);
  return { server: serverA, tenants: tenantsA };
}

/** ≥ 1,000/s or the round is reported as timed out */
const drainTimeout = (count: number) => Math.max(30_000, count);

/** One round of (1): `count` events accepted through the sendEvents service, then drained to the receiver. */
async function drainRound(server: { child: Child }, tenants: { tenantIds: string[] }, count: number, label?: string) {
  const before = await receiver.call<number>('count');
  const inserted = await server.child.call<{ ms: number; deliveries: number }>(
    'insertEvents',
    { n: count, batch: config.batchSize, tenantIds: tenants.tenantIds, type: EVENT_TYPE, payload: PAYLOAD },
    120_000,
  );
  if (inserted.deliveries !== count) throw new Error(`expected ${count} deliveries, sendEvents made ${inserted.deliveries}`);
  const drain = () =>
    server.child.call<{ ms: number; succeeded: number; failed: number; retrying: number; timedOut: boolean; commits: number; unitsPerCommit: number }>(
      'drain',
      { expected: count, timeoutMs: drainTimeout(count) },
      drainTimeout(count) + 30_000,
    );
  await server.child.call('loop', { reset: true });
  const ticksBefore = processTicks([server.child.pid]);
  const drained = label ? await withProfile(server.child, 'e2e', label, drain) : await drain();
  const cpuUsPerDelivery = (((processTicks([server.child.pid]) - ticksBefore) / TICKS_PER_S) * 1e6) / Math.max(1, drained.succeeded);
  const loop = await server.child.call<{ p50: number; p99: number; max: number }>('loop', { reset: true });
  const received = (await receiver.call<number>('count')) - before;
  return { inserted, drained, received, loop, cpuUsPerDelivery };
}

/** (1) deliveries/s end to end vs raw undici POSTs. */
async function figureE2E() {
  log('(1) end-to-end deliveries/s vs raw undici');
  const { server, tenants } = await ensureServerA();
  const raws: number[] = [];
  const e2e: number[] = [];
  const inserts: number[] = [];
  const roundsDetail: unknown[] = [];
  const rawArgs = (count: number) => ({
    urls: tenants.endpointUrls,
    n: count,
    concurrency: config.maxInFlight,
    connections: config.connectionsPerOrigin,
    type: EVENT_TYPE,
    payload: PAYLOAD,
    timeoutMs: 60_000,
  });
  const switchyardRound = (count: number, label?: string) => drainRound(server, tenants, count, label);
  // Warm-up (JIT, page cache, sockets), not counted; it also sizes the rounds.
  const rawWarm = await server.child.call<{ ms: number; ok: number }>('raw', rawArgs(5_000), 60_000);
  // Raw rounds last about as long as Switchyard's, so both see the same noise (the count differs, the bodies do not).
  const rawN = Math.min(100_000, Math.max(5_000, Math.round((((rawWarm.ok * 1000) / rawWarm.ms) * config.e2eRoundTargetMs) / 1000 / 1000) * 1000));
  // Two warm-ups: the first also starts the HTTP thread's connections and JIT, and sized from it
  // alone the rounds came out at less than half their target length (so ramp-up weighed in them).
  await switchyardRound(3_000);
  const warm = await switchyardRound(5_000);
  const warmRate = (warm.drained.succeeded * 1000) / warm.drained.ms;
  e2eWarmRate = warmRate;
  const n = config.e2eDeliveries ?? Math.min(30_000, Math.max(5_000, Math.round((warmRate * config.e2eRoundTargetMs) / 1000 / 1000) * 1000));
  log(`  warm-up ${fmtNum(warmRate)}/s → ${fmtNum(n)} deliveries per round (raw ${fmtNum(rawN)})`);
  const bares: number[] = [];
  const cpuPerDelivery: number[] = [];
  for (let round = 0; round < config.rounds; round++) {
    const r = await server.child.call<{ ms: number; ok: number; errors: number }>('raw', rawArgs(rawN), 90_000);
    const rawRate = (r.ok * 1000) / r.ms;
    const bare = await server.child.call<{ ms: number; ok: number; errors: number; commits: number }>(
      'bareDurable',
      { ...rawArgs(n), dir: join(tmpRoot, 'a') },
      90_000,
    );
    const bareRate = (bare.ok * 1000) / bare.ms;
    bares.push(bareRate);
    const s = await switchyardRound(n, `e2e-drain-r${round + 1}`);
    const rate = s.drained.timedOut ? NaN : (s.drained.succeeded * 1000) / s.drained.ms;
    raws.push(rawRate);
    e2e.push(rate);
    cpuPerDelivery.push(s.cpuUsPerDelivery);
    inserts.push((n * 1000) / s.inserted.ms);
    roundsDetail.push({ raw: r, bareDurable: bare, switchyard: s });
    log(
      `  round ${round + 1}: raw ${fmtNum(rawRate)}/s (${r.errors} errors) · bare durable loop ${fmtNum(bareRate)}/s ` +
        `(${bare.errors} errors, ${fmtNum(bare.commits)} commits) · Switchyard ${fmtNum(rate)}/s ` +
        `(${s.drained.succeeded} succeeded, ${s.drained.failed} failed, ${s.drained.retrying} retrying, receiver saw ${s.received}; ` +
        `event-loop delay max ${fmtMs(s.loop.max)}; ${fmtNum(s.drained.commits)} commits, ` +
        `${fmtNum(s.drained.succeeded / Math.max(1, s.drained.commits))} deliveries and ${s.drained.unitsPerCommit.toFixed(1)} units per commit) · ` +
        `insert via sendEvents service ${fmtNum((n * 1000) / s.inserted.ms)} events/s`,
    );
  }
  const statuses = await server.child.call('statusCounts');
  const rawR = rounds(raws);
  const e2eR = rounds(e2e);
  e2eMax = Math.max(...e2e.filter(Number.isFinite));
  const bareR = rounds(bares);
  results.e2e = {
    pairedRatio: pairedRatio(e2e, raws),
    bareDurablePairedRatio: pairedRatio(bares, raws),
    switchyardToBareDurable: pairedRatio(e2e, bares),
    deliveriesPerRound: n,
    rawRequestsPerRound: rawN,
    raw: rawR,
    bareDurable: bareR,
    switchyard: e2eR,
    cpuUsPerDelivery: rounds(cpuPerDelivery),
    insertViaService: rounds(inserts),
    statuses,
    rounds: roundsDetail,
  };
  // Each Switchyard round is paired with the raw round just before it, so noise that drifts
  // between rounds (a shared machine) cancels out of the ratio.
  const e2eRatio = pairedRatio(e2e, raws);
  const ok = Number.isFinite(e2eRatio.median) && e2eRatio.median >= 0.5;
  rows.push({
    figure: `(1) deliveries/s end to end (SQLite FULL, ${config.maxInFlight} in flight, ${config.endpoints} endpoints, ${fmtNum(n)}/round)`,
    switchyard: `${fmtRounds(e2eR)} · ${fmtNum(rounds(cpuPerDelivery).median)} CPU µs/delivery`,
    ceiling: `raw undici ${fmtRounds(rawR)}`,
    ratio: fmtRatio(e2eRatio),
    target: '≥ 0.5× raw',
    pass: pass(ok),
  });
  const toBare = pairedRatio(e2e, bares);
  rows.push({
    figure: `(1') the least a durable delivery costs here: pending row → signed POST → attempt row, one commit per batch (bench/server.ts bareDurable)`,
    switchyard: `Switchyard ${fmtRatio(toBare)} of the bare loop (bare loop ${fmtRatio(pairedRatio(bares, raws))} of raw)`,
    ceiling: `bare loop ${fmtRounds(bareR)}`,
    ratio: fmtRatio(toBare),
    target: '≥ 0.9× the bare loop',
    pass: pass(Number.isFinite(toBare.median) && toBare.median >= 0.9),
  });
}

const METRICS_TOKEN = 'bench-metrics-token-0123456789';

/**
 * (1m) what metrics cost: the rounds of (1) on a server with /metrics on and scraped every second,
 * alternated with rounds on one with metrics off, same count and receiver.
 */
async function figureMetricsCost() {
  log('(1m) end to end with metrics on (scraped every second) against off');
  // Two fresh processes, set up and warmed alike, so neither has run longer than the other.
  const offServer = await startSwitchyard('switchyard-metrics-off', join(tmpRoot, 'm-off'), 'api');
  const on = await startSwitchyard('switchyard-metrics-on', join(tmpRoot, 'm-on'), 'api', { SWITCHYARD_METRICS_TOKEN: METRICS_TOKEN });
  const off = { server: offServer, tenants: await setupTenants(offServer.url, receiverUrl) };
  const onTenants = await setupTenants(on.url, receiverUrl);
  // rounds of about a second: the figure is a ratio of alternated rounds, and the whole bench has a time bound
  const n = Math.max(5_000, Math.round((Number.isFinite(e2eMax) ? e2eMax : 10_000) / 1000) * 1000);
  const scrape = async () => {
    const response = await request(`${on.url}/metrics`, { method: 'GET', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`);
  };
  for (const warmUp of [n]) {
    await drainRound(off.server, off.tenants, warmUp);
    await drainRound(on, onTenants, warmUp);
  }
  const rates = { on: [] as number[], off: [] as number[] };
  const cpu = { on: [] as number[], off: [] as number[] };
  let scrapes = 0;
  for (let round = 0; round < config.rounds; round++) {
    const runOff = () => drainRound(off.server, off.tenants, n);
    const runOn = () => {
      const scraper = setInterval(() => void scrape().then(() => scrapes++, (error: unknown) => log(`  scrape failed: ${String(error)}`)), 1_000);
      return drainRound(on, onTenants, n).finally(() => clearInterval(scraper));
    };
    // each goes first in turn: the round after another finds the receiver and the disk busier
    const [a, b] = round % 2 === 0 ? [await runOff(), await runOn()] : await runOn().then(async (onRound) => [await runOff(), onRound] as const);
    rates.off.push((a.drained.succeeded * 1000) / a.drained.ms);
    rates.on.push((b.drained.succeeded * 1000) / b.drained.ms);
    cpu.off.push(a.cpuUsPerDelivery);
    cpu.on.push(b.cpuUsPerDelivery);
    log(`  round ${round + 1}: off ${fmtNum(rates.off.at(-1)!)}/s · ${fmtNum(a.cpuUsPerDelivery)} µs, on ${fmtNum(rates.on.at(-1)!)}/s · ${fmtNum(b.cpuUsPerDelivery)} µs`);
  }
  await Promise.all([on.child.exit(), offServer.child.exit()]);
  const rateRatio = pairedRatio(rates.on, rates.off);
  const cpuRatio = pairedRatio(cpu.on, cpu.off);
  results.metricsCost = { deliveriesPerRound: n, rates, cpuUsPerDelivery: cpu, scrapes, rateRatio, cpuRatio };
  rows.push({
    figure: `(1m) end to end with /metrics on and scraped every second, against off (${fmtNum(n)}/round, rounds alternated)`,
    switchyard: `on ${fmtRounds(rounds(rates.on))} · ${fmtNum(rounds(cpu.on).median)} CPU µs/delivery`,
    ceiling: `off ${fmtRounds(rounds(rates.off))} · ${fmtNum(rounds(cpu.off).median)} CPU µs/delivery`,
    ratio: `${fmtRatio(rateRatio)} rate, ${fmtRatio(cpuRatio)} CPU`,
    // CPU per delivery, not the rate: it moves far less with the machine's other work
    target: '≤ 1.03× CPU',
    pass: pass(Number.isFinite(cpuRatio.median) && cpuRatio.median <= 1.03),
  });
}

/** CPU ticks (user + system) of these processes, and of every process whose command is one of `commands`. */
function processTicks(pids: readonly number[], commands: readonly string[] = []): number {
  let total = 0;
  const read = (pid: string): void => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!pids.includes(Number(pid)) && !commands.includes(command)) return;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
      total += fields[11]! + fields[12]!;
    } catch {
      // the process ended meanwhile
    }
  };
  for (const pid of readdirSync('/proc')) if (/^\d+$/.test(pid)) read(pid);
  return total;
}

/** Deliveries/s and CPU µs per delivery of one way of delivering, over rounds of `n`. */
interface PeerFigure {
  rates: number[];
  cpuUsPerDelivery: number[];
  timedOut: boolean;
}

async function measurePeer(label: string, roundsCount: number, round: () => Promise<{ ms: number; delivered: number; timedOut: boolean }>, pids: () => number[], commands: readonly string[]): Promise<PeerFigure> {
  const figure: PeerFigure = { rates: [], cpuUsPerDelivery: [], timedOut: false };
  for (let r = 0; r < roundsCount; r++) {
    const before = processTicks(pids(), commands);
    const serverBefore = processTicks([], commands);
    const result = await round();
    const cpuUs = ((processTicks(pids(), commands) - before) / TICKS_PER_S) * 1e6;
    const serverUs = ((processTicks([], commands) - serverBefore) / TICKS_PER_S) * 1e6;
    const rate = (result.delivered * 1000) / result.ms;
    const perDelivery = (us: number) => fmtNum(us / Math.max(1, result.delivered));
    figure.rates.push(result.timedOut ? NaN : rate);
    figure.cpuUsPerDelivery.push(cpuUs / Math.max(1, result.delivered));
    figure.timedOut ||= result.timedOut;
    const split = commands.length > 0 ? ` (${perDelivery(serverUs)} of them ${commands.join(', ')})` : '';
    log(`  ${label} round ${r + 1}: ${fmtNum(rate)}/s, ${perDelivery(cpuUs)} CPU µs per delivery${split}${result.timedOut ? ' (TIMED OUT)' : ''}`);
  }
  return figure;
}

/** Switchyard on PostgreSQL: one process on a schema of its own in the bench database (its dispatcher started by each drain, as for SQLite). */
async function startSwitchyardOnPostgres(databaseUrl: string): Promise<{ child: Child; url: string; schema: string }> {
  const schema = `bench_switchyard_${process.pid}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade; create schema ${schema}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const child = await spawn('switchyard-postgres', './server.ts');
  const started = await child.call<{ url: string }>(
    'start',
    {
      dataDir: join(tmpRoot, 'pg'),
      role: 'api',
      env: {
        SWITCHYARD_DATABASE_URL: url.toString(),
        SWITCHYARD_MAX_IN_FLIGHT: String(config.maxInFlight),
        SWITCHYARD_MAX_IN_FLIGHT_PER_ENDPOINT: String(Math.max(1, Math.ceil(config.maxInFlight / config.endpoints))),
      },
    },
    60_000,
  );
  return { child, url: started.url, schema };
}

async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
}

/** (6) peers: the same job done with BullMQ and with pg-boss, against Switchyard on SQLite and on PostgreSQL. */
async function figurePeers() {
  const n = roundSize(config.peerDeliveries, 2, 3_000, 10_000);
  log(`(6) peers: ${fmtNum(n)} deliveries a round, ${config.peerRounds} rounds each`);
  const jobArgs = (count: number, urls: string[]) => ({ n: count, urls, type: EVENT_TYPE, payload: PAYLOAD });
  const drainTimeout = Math.max(60_000, n * 2);
  const switchyardRound = (server: { child: Child }, tenants: { tenantIds: string[] }) => async (count = n) => {
    await server.child.call('insertEvents', { n: count, batch: config.batchSize, tenantIds: tenants.tenantIds, type: EVENT_TYPE, payload: PAYLOAD }, 120_000);
    const drained = await server.child.call<{ ms: number; succeeded: number; timedOut: boolean }>('drain', { expected: count, timeoutMs: drainTimeout }, drainTimeout + 30_000);
    return { ms: drained.ms, delivered: drained.succeeded, timedOut: drained.timedOut };
  };
  const figures: Record<string, PeerFigure | string> = {};

  const { server, tenants } = await ensureServerA();
  if (config.peers.has('sqlite')) {
    await switchyardRound(server, tenants)(warmUpSize(n));
    figures.sqlite = await measurePeer('Switchyard on SQLite', config.peerRounds, () => switchyardRound(server, tenants)(), () => [server.child.pid], []);
  }

  const endpointUrls = tenants.endpointUrls;
  if (config.peers.has('postgres')) try {
    const onPg = await startSwitchyardOnPostgres(config.databaseUrl);
    try {
      log('  Switchyard on PostgreSQL started');
      const pgTenants = await setupTenants(onPg.url, receiverUrl);
      log('  Switchyard on PostgreSQL set up; warming up');
      await switchyardRound(onPg, pgTenants)(warmUpSize(n));
      figures.postgres = await withProfile(onPg.child, 'peers', 'peers-postgres', () =>
        measurePeer('Switchyard on PostgreSQL', config.peerRounds, () => switchyardRound(onPg, pgTenants)(), () => [onPg.child.pid], ['postgres']),
      );
    } finally {
      await onPg.child.exit(15_000);
      await dropSchema(config.databaseUrl, onPg.schema);
    }
  } catch (error) {
    figures.postgres = `not measured: ${(error as Error).message}`;
  }

  const peer = async (name: string, file: string, enqueueArgs: Record<string, unknown>, runArgs: Record<string, unknown>, commands: string[]) => {
    const child = await spawn(name, file);
    try {
      const round = async (count = n) => {
        await child.call('enqueue', { ...enqueueArgs, ...jobArgs(count, endpointUrls) }, 120_000);
        const ran = await child.call<{ ms: number; completed: number; timedOut: boolean }>('run', { ...runArgs, timeoutMs: drainTimeout }, drainTimeout + 30_000);
        return { ms: ran.ms, delivered: ran.completed, timedOut: ran.timedOut };
      };
      await round(warmUpSize(n));
      return await measurePeer(name, config.peerRounds, () => round(), () => [child.pid], commands);
    } catch (error) {
      return `not measured: ${(error as Error).message.split('\n')[0]}`;
    } finally {
      await child.call('cleanup', {}, 30_000).catch(() => undefined);
      await child.exit(10_000);
    }
  };
  const connections = config.connectionsPerOrigin;
  if (config.peers.has('bullmq')) figures.bullmq = await peer('BullMQ', './peers/bullmq.ts', { redisUrl: config.redisUrl }, { concurrency: config.maxInFlight, connections }, ['redis-server']);
  if (config.peers.has('pgboss')) figures.pgBoss = await peer(
    'pg-boss',
    './peers/pg-boss.ts',
    { databaseUrl: config.databaseUrl },
    { workers: config.pgBossWorkers, batchSize: config.pgBossBatch, concurrency: config.maxInFlight, connections },
    ['postgres'],
  );
  results.peers = figures;

  const show = (figure: PeerFigure | string | undefined) =>
    typeof figure === 'object' ? `${fmtRounds(rounds(figure.rates))}/s · ${fmtNum(rounds(figure.cpuUsPerDelivery).median)} CPU µs/delivery` : (figure ?? 'not measured');
  const against = (ours: PeerFigure | string | undefined, theirs: PeerFigure | string | undefined, target: number, label: string) => {
    const measured = typeof ours === 'object' && typeof theirs === 'object';
    const r = measured ? pairedRatio(ours.rates, theirs.rates) : null;
    rows.push({
      figure: `(6) ${label}: Switchyard against the peer doing the same job (${fmtNum(n)} deliveries/round, ${config.maxInFlight} in flight, same receiver)`,
      switchyard: show(ours),
      ceiling: show(theirs),
      ratio: r ? fmtRatio(r) : '—',
      target: `≥ ${target}× the peer`,
      pass: pass(r ? r.median >= target : null),
    });
  };
  against(figures.sqlite, figures.bullmq, 2, 'SQLite vs BullMQ on Redis');
  against(figures.postgres, figures.pgBoss, 1.5, 'PostgreSQL vs pg-boss');
}

/**
 * (7) scale-out: one API process and one, then two, worker processes on PostgreSQL + Redis. Events
 * are accepted through the API process first; then the workers' dispatchers start and the round
 * lasts until a graphql-ws subscriber on the API process has seen every attempt succeed (the
 * workers' attempts reach it over Redis).
 */
async function figureScaleOut() {
  const n = roundSize(config.scaleOutDeliveries, 1.2, 3_000, 6_000);
  log(`(7) scale-out on PostgreSQL + Redis: ${fmtNum(n)} deliveries a round, 1 then 2 workers`);
  const schema = `bench_scaleout_${process.pid}`;
  const admin = new pg.Client({ connectionString: config.databaseUrl });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade; create schema ${schema}`);
  await admin.end();
  const databaseUrl = new URL(config.databaseUrl);
  databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
  const env = {
    SWITCHYARD_DATABASE_URL: databaseUrl.toString(),
    SWITCHYARD_REDIS_URL: config.redisUrl,
    // one key for every process: the workers decrypt the secrets the API process stored
    SWITCHYARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SWITCHYARD_MAX_IN_FLIGHT: String(config.maxInFlight),
    SWITCHYARD_MAX_IN_FLIGHT_PER_ENDPOINT: String(Math.max(1, Math.ceil(config.maxInFlight / config.endpoints))),
  };
  const processes: Child[] = [];
  const startProcess = async (name: string) => {
    const child = await spawn(name, './server.ts');
    processes.push(child);
    const started = await child.call<{ url: string }>('start', { dataDir: join(tmpRoot, name), role: 'api', env }, 60_000);
    return { child, url: started.url };
  };
  const figures: { workers: number; rates: number[]; seen: number; cpuUsPerDelivery: number[] }[] = [];
  try {
    const api = await startProcess('scale-api');
    const tenants = await setupTenants(api.url, receiverUrl);
    const workers: Child[] = [];
    for (const count of [1, 2]) {
      while (workers.length < count) workers.push((await startProcess(`scale-worker-${workers.length + 1}`)).child);
      const figure = { workers: count, rates: [] as number[], seen: 0, cpuUsPerDelivery: [] as number[] };
      for (let round = 0; round <= config.peerRounds; round++) {
        const size = round === 0 ? warmUpSize(n) : n;
        await api.child.call('insertEvents', { n: size, batch: config.batchSize, tenantIds: tenants.tenantIds, type: EVENT_TYPE, payload: PAYLOAD }, 120_000);
        const succeeded = new Set<string>();
        let allSeen!: () => void;
        const seen = new Promise<void>((resolve) => (allSeen = resolve));
        const client = createWsClient({ url: `${api.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` }, retryAttempts: 0 });
        const stop = client.subscribe<{ deliveryAttempts: { id: string; outcome: string } }>(
          { query: SUBSCRIPTION, variables: SUBSCRIPTION_VARIABLES },
          {
            next: ({ data }) => {
              if (data?.deliveryAttempts.outcome === 'SUCCEEDED') succeeded.add(data.deliveryAttempts.id);
              if (succeeded.size >= size) allSeen();
            },
            error: () => allSeen(),
            complete: () => {},
          },
        );
        // A query answered on the same socket after the subscribe: the subscription is set up by then.
        await new Promise<void>((resolve, reject) => client.subscribe({ query: '{ __typename }' }, { next: () => {}, error: reject, complete: resolve }));
        const pids = () => [api.child.pid, ...workers.map((worker) => worker.pid)];
        const before = processTicks(pids(), ['postgres', 'redis-server']);
        const started = performance.now();
        await Promise.all(workers.map((worker) => worker.call('dispatcher', { on: true })));
        // cleared once seen: a pending timer kept the run alive for its whole length after the table
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(60_000, size * 2))));
        const outcome = await Promise.race([seen.then(() => 'seen'), timeout]);
        clearTimeout(timer);
        const ms = performance.now() - started;
        const cpuUs = ((processTicks(pids(), ['postgres', 'redis-server']) - before) / TICKS_PER_S) * 1e6;
        await Promise.all(workers.map((worker) => worker.call('dispatcher', { on: false }, 60_000)));
        stop();
        await client.dispose();
        const rate = outcome === 'seen' ? (size * 1000) / ms : NaN;
        log(`  ${count} worker(s), round ${round}${round === 0 ? ' (warm-up)' : ''}: ${fmtNum(rate)}/s, subscriber saw ${succeeded.size} of ${size}, ${fmtNum(cpuUs / size)} CPU µs per delivery`);
        if (round === 0) continue;
        figure.rates.push(rate);
        figure.cpuUsPerDelivery.push(cpuUs / size);
        figure.seen = Math.min(figure.seen || Infinity, succeeded.size);
      }
      figures.push(figure);
    }
  } finally {
    for (const child of processes) await child.exit(15_000);
    await dropSchema(config.databaseUrl, schema);
  }
  results.scaleOut = figures;
  const one = figures.find((figure) => figure.workers === 1);
  for (const figure of figures) {
    rows.push({
      figure: `(7) scale-out: 1 API process + ${figure.workers} worker process(es), PostgreSQL + Redis, ${fmtNum(n)} deliveries/round; the API's graphql-ws subscriber saw every attempt`,
      switchyard: `${fmtRounds(rounds(figure.rates))}/s · ${fmtNum(rounds(figure.cpuUsPerDelivery).median)} CPU µs/delivery · subscriber saw ${fmtNum(figure.seen)} of ${fmtNum(n)}`,
      ceiling: figure.workers === 1 || !one ? '—' : `1 worker ${fmtRounds(rounds(one.rates))}/s`,
      ratio: figure.workers === 1 || !one ? '—' : fmtRatio(pairedRatio(figure.rates, one.rates)),
      target: '— (reported)',
      pass: figure.seen >= n ? '—' : 'FAIL',
    });
  }
}

/** (2) events accepted/s through GraphQL vs a bare Yoga `{ __typename }`. */
async function figureAPI() {
  log('(2) events accepted/s through GraphQL (dispatcher off) vs bare Yoga { __typename }');
  // (2c) measures what a request with a tenant's token costs, not how many that token may send
  const server = await startSwitchyard('switchyard-api', join(tmpRoot, 'b'), 'api', { SWITCHYARD_TOKEN_REQUESTS_PER_SECOND: '1000000', SWITCHYARD_TOKEN_REQUEST_BURST: '1000000' });
  const { tenantIds } = await setupTenants(server.url, receiverUrl);
  // (2c) asks as a console or frontend does: with a tenant's token, which is looked up in the store
  const tenantToken = (
    await gql(server.url, 'mutation($input: CreateTenantTokenInput!) { createTenantToken(input: $input) { ... on CreateTenantTokenPayload { secret } } }', {
      input: { tenantId: tenantIds[0], name: 'bench frontend' },
    })
  ).createTenantToken.secret as string;
  const ceilings = await spawn('ceilings', './ceilings.ts');
  const yogaUrl = await ceilings.call<string>('startYoga');
  const bareCeilings = await spawn('ceilings-no-body-limit', './ceilings.ts');
  const bareYogaUrl = await bareCeilings.call<string>('startYoga', { bodyLimit: false });
  const sendEventCeilings = await spawn('ceilings-send-event', './ceilings.ts');
  const sendEventYogaUrl = await sendEventCeilings.call<string>('startYoga', { sendEvent: true });
  let k = 0;
  const single = () =>
    JSON.stringify({
      query: 'mutation($input: SendEventInput!) { sendEvent(input: $input) { __typename ... on SendEventPayload { deliveryCount } } }',
      variables: { input: { tenantId: tenantIds[k++ % tenantIds.length], type: EVENT_TYPE, payload: PAYLOAD } },
    });
  const batch = () =>
    JSON.stringify({
      query: 'mutation($input: SendEventsInput!) { sendEvents(input: $input) { __typename ... on SendEventsPayload { results { deliveryCount } } } }',
      variables: {
        input: { events: Array.from({ length: config.batchSize }, () => ({ tenantId: tenantIds[k++ % tenantIds.length], type: EVENT_TYPE, payload: PAYLOAD })) },
      },
    });
  const typename = JSON.stringify({ query: '{ __typename }' });
  const checks = {
    typename: (text: string) => text.includes('"__typename":"Query"'),
    single: (text: string) => text.includes('"__typename":"SendEventPayload","deliveryCount":1'),
    batch: (text: string) => text.includes('"__typename":"SendEventsPayload"'),
  };
  const ceiling: number[] = [];
  const bareCeiling: number[] = [];
  const sendEventCeiling: number[] = [];
  const query: number[] = [];
  const sendEvent: number[] = [];
  const sendEvents: number[] = [];
  /** CPU µs per request (per event for sendEvents) of the process that answered, by figure */
  const cpu = { typename: [] as number[], typenameNoBodyLimit: [] as number[], sendEventCeiling: [] as number[], query: [] as number[], sendEvent: [] as number[], sendEvents: [] as number[] };
  /** `run`, and the CPU time `pid` spent during it per answered request */
  const withCpu = async (pid: number, run: () => ReturnType<typeof drive>) => {
    const before = processTicks([pid]);
    const result = await run();
    const cpuUs = ((processTicks([pid]) - before) / TICKS_PER_S) * 1e6;
    return { ...result, cpuUsPerRequest: cpuUs / Math.max(1, result.ok) };
  };
  const maxRequests = 2_000_000;
  const durationMs = config.apiRoundMs;
  // Warm-up, not counted.
  const warmMs = QUICK ? 600 : 1_000;
  await drive(yogaUrl, { clients: config.apiClients, durationMs: warmMs, maxRequests, body: () => typename, check: checks.typename });
  await drive(bareYogaUrl, { clients: config.apiClients, durationMs: warmMs, maxRequests, body: () => typename, check: checks.typename });
  await drive(sendEventYogaUrl, { clients: config.apiClients, durationMs: warmMs, maxRequests, body: single, check: checks.single });
  await drive(server.url, { clients: config.apiClients, durationMs: warmMs, maxRequests, body: single, check: checks.single });
  await drive(server.url, { clients: config.batchClients, durationMs: warmMs, maxRequests, body: batch, check: checks.batch });
  for (let round = 0; round < config.rounds; round++) {
    const c = await withCpu(ceilings.pid, () => drive(yogaUrl, { clients: config.apiClients, durationMs, maxRequests, body: () => typename, check: checks.typename }));
    const bare = await withCpu(bareCeilings.pid, () =>
      drive(bareYogaUrl, { clients: config.apiClients, durationMs, maxRequests, body: () => typename, check: checks.typename }),
    );
    const sc = await withCpu(sendEventCeilings.pid, () => drive(sendEventYogaUrl, { clients: config.apiClients, durationMs, maxRequests, body: single, check: checks.single }));
    const q = await withCpu(server.child.pid, () =>
      drive(server.url, { clients: config.apiClients, durationMs, maxRequests, body: () => typename, check: checks.typename, token: tenantToken }),
    );
    type CommitStats = { commits: number; units: number };
    const before = await server.child.call<CommitStats>('commits');
    const s = await withProfile(server.child, 'api', `api-sendEvent-r${round + 1}`, () =>
      withCpu(server.child.pid, () => drive(server.url, { clients: config.apiClients, durationMs, maxRequests, body: single, check: checks.single })),
    );
    const after = await server.child.call<CommitStats>('commits');
    const commitsPerSecond = ((after.commits - before.commits) * 1000) / durationMs;
    const b = await withProfile(server.child, 'api', `api-sendEvents-r${round + 1}`, () =>
      withCpu(server.child.pid, () => drive(server.url, { clients: config.batchClients, durationMs, maxRequests, body: batch, check: checks.batch })),
    );
    ceiling.push(c.perSecond);
    bareCeiling.push(bare.perSecond);
    sendEventCeiling.push(sc.perSecond);
    query.push(q.perSecond);
    cpu.query.push(q.cpuUsPerRequest);
    cpu.typename.push(c.cpuUsPerRequest);
    cpu.typenameNoBodyLimit.push(bare.cpuUsPerRequest);
    cpu.sendEventCeiling.push(sc.cpuUsPerRequest);
    cpu.sendEvent.push(s.cpuUsPerRequest);
    cpu.sendEvents.push(b.cpuUsPerRequest / config.batchSize);
    sendEvent.push(s.perSecond);
    sendEvents.push(b.perSecond * config.batchSize);
    log(
      `  round ${round + 1}: { __typename } ${fmtNum(c.perSecond)} req/s (without the body limit ${fmtNum(bare.perSecond)}; ${fmtNum(bare.cpuUsPerRequest)} CPU µs each) · ` +
        `sendEvent answered at once ${fmtNum(sc.perSecond)} req/s (${fmtNum(sc.cpuUsPerRequest)} µs) · Switchyard { __typename } ${fmtNum(q.perSecond)} req/s (${fmtNum(q.cpuUsPerRequest)} µs) · sendEvent ${fmtNum(s.perSecond)} events/s (${fmtNum(s.cpuUsPerRequest)} µs) ` +
        `(${fmtNum(commitsPerSecond)} commits/s, ${(s.perSecond / Math.max(1, commitsPerSecond)).toFixed(1)} events each) · ` +
        `sendEvents ${fmtNum(b.perSecond * config.batchSize)} events/s (${fmtNum(b.perSecond)} req/s)`,
    );
  }
  await ceilings.exit();
  await bareCeilings.exit();
  await sendEventCeilings.exit();
  await server.child.exit();
  const c = rounds(ceiling);
  const bare = rounds(bareCeiling);
  const answeredAtOnce = rounds(sendEventCeiling);
  const bareRatio = pairedRatio(sendEvent, bareCeiling);
  const atOnceRatio = pairedRatio(sendEvent, sendEventCeiling);
  const queryRatio = pairedRatio(query, bareCeiling);
  const s = rounds(sendEvent);
  const b = rounds(sendEvents);
  const sendEventRatio = pairedRatio(sendEvent, ceiling);
  const cpuMedians = Object.fromEntries(Object.entries(cpu).map(([figure, values]) => [figure, rounds(values).median])) as Record<keyof typeof cpu, number>;
  const cpuNote = (figure: keyof typeof cpu, unit = 'request') => `${fmtNum(cpuMedians[figure])} CPU µs/${unit}`;
  results.api = {
    sendEventPairedRatio: sendEventRatio,
    sendEventPairedRatioNoBodyLimit: bareRatio,
    sendEventPairedRatioAnsweredAtOnce: atOnceRatio,
    typename: c,
    typenameNoBodyLimit: bare,
    sendEventAnsweredAtOnce: answeredAtOnce,
    query: rounds(query),
    queryPairedRatioNoBodyLimit: queryRatio,
    sendEvent: s,
    sendEvents: b,
    cpuUsPerRequest: cpu,
    clients: config.apiClients,
    batchClients: config.batchClients,
    roundMs: durationMs,
  };
  rows.push({
    figure: `(2a) sendEvent events/s (1 per request, ${config.apiClients} clients, dispatcher off)`,
    switchyard: `${fmtRounds(s)} · ${cpuNote('sendEvent', 'event')}`,
    ceiling: `Yoga { __typename } ${fmtRounds(c)} · ${cpuNote('typename')}`,
    ratio: fmtRatio(sendEventRatio),
    target: '≥ 0.5× { __typename }',
    pass: pass(sendEventRatio.median >= 0.5),
  });
  rows.push({
    figure: `(2a') the same sendEvent against Yoga as Switchyard runs it: its request-body limit off (Switchyard checks sizes before Yoga)`,
    switchyard: `${fmtRounds(s)} · ${cpuNote('sendEvent', 'event')}`,
    ceiling: `Yoga { __typename }, no body limit ${fmtRounds(bare)} · ${cpuNote('typenameNoBodyLimit')}`,
    ratio: fmtRatio(bareRatio),
    target: '≥ 0.5× Yoga as run',
    pass: pass(bareRatio.median >= 0.5),
  });
  rows.push({
    figure: `(2a'') the same sendEvent against that Yoga executing the same operation, its resolver answering at once (what GraphQL alone costs for the request)`,
    switchyard: `${fmtRounds(s)} · ${cpuNote('sendEvent', 'event')}`,
    ceiling: `Yoga sendEvent answered at once ${fmtRounds(answeredAtOnce)} · ${cpuNote('sendEventCeiling')}`,
    ratio: fmtRatio(atOnceRatio),
    target: '— (reported)',
    pass: '—',
  });
  rows.push({
    figure: `(2c) { __typename } through Switchyard with a tenant's token: its look-up, document limits, cost and time budgets (req/s)`,
    switchyard: `${fmtRounds(rounds(query))} · ${cpuNote('query')}`,
    ceiling: `Yoga { __typename }, no body limit ${fmtRounds(bare)} · ${cpuNote('typenameNoBodyLimit')}`,
    ratio: fmtRatio(queryRatio),
    target: '— (reported)',
    pass: '—',
  });
  rows.push({
    figure: `(2b) sendEvents events/s (${config.batchSize} per request, ${config.batchClients} clients, dispatcher off)`,
    switchyard: `${fmtRounds(b)} · ${cpuNote('sendEvents', 'event')}`,
    ceiling: `Yoga { __typename } ${fmtRounds(c)} req/s`,
    ratio: '—',
    target: '≥ 25,000/s',
    pass: pass(b.median >= 25_000),
  });
}

/** Sequential sendEvent probes; returns send → first byte at the receiver (ms) and the GraphQL answer times. */
async function probe(url: string, tenantIds: string[], count: number, gapMs: number, untilMs: number) {
  const sent: { id: string; t0: number }[] = [];
  const answered: number[] = [];
  const deadline = performance.now() + untilMs;
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const t0 = hrMs();
    const data = await gql(
      url,
      'mutation($input: SendEventInput!) { sendEvent(input: $input) { ... on SendEventPayload { event { id } } } }',
      { input: { tenantId: tenantIds[i % tenantIds.length], type: EVENT_TYPE, payload: PAYLOAD } },
    );
    answered.push(hrMs() - t0);
    sent.push({ id: data.sendEvent.event.id, t0 });
    if (gapMs > 0) await sleep(gapMs);
  }
  return { sent, answered };
}

async function arrivalsFor(sent: { id: string; t0: number }[], timeoutMs: number): Promise<{ latencies: number[]; missing: number }> {
  const deadline = performance.now() + timeoutMs;
  let arrivals: Float64Array = new Float64Array(0);
  for (;;) {
    arrivals = await receiver.call<Float64Array>('arrivals', { ids: sent.map((s) => s.id) });
    const missing = arrivals.filter((a) => Number.isNaN(a)).length;
    if (missing === 0 || performance.now() > deadline) break;
    await sleep(100);
  }
  const latencies: number[] = [];
  let missing = 0;
  sent.forEach((s, i) => {
    const at = arrivals[i]!;
    if (Number.isNaN(at)) missing++;
    else latencies.push(at - s.t0);
  });
  return { latencies, missing };
}

interface LoadedProbe {
  targetRate: number;
  achieved: number;
  acceptedRate: number;
  windowMs: number;
  firstQuarter: number;
  lastQuarter: number;
  saturated: boolean;
  loop: { p50: number; p99: number; max: number };
  timeline: { atMs: number; delivered: number; accepted: number }[];
  firstByte: Percentiles;
  answered: Percentiles;
  missing: number;
  series: number[];
  skippedBusy: number;
  loadFailures: number;
}

/**
 * sendEvents batches through GraphQL at `targetRate` events/s (one delivery each) with the
 * dispatcher running in the same process, sequential sendEvent probes in between; then waits for
 * the backlog to drain. Saturated: the backlog grew during the window.
 */
async function loadedProbe(
  server: { child: Child; url: string },
  tenants: { tenantIds: string[] },
  targetRate: number,
  label: string,
  profileLabel: string,
): Promise<LoadedProbe> {
  await receiver.call('record', { on: true });
  let inFlight = 0;
  let accepted = 0;
  let loadFailures = 0;
  let skippedBusy = 0;
  let k = 0;
  const loadAgent = new Agent({ connections: 16, keepAliveTimeout: 30_000 });
  const loadBody = () =>
    JSON.stringify({
      query: 'mutation($input: SendEventsInput!) { sendEvents(input: $input) { __typename } }',
      variables: { input: { events: Array.from({ length: config.loadBatch }, () => ({ tenantId: tenants.tenantIds[k++ % tenants.tenantIds.length], type: EVENT_TYPE, payload: PAYLOAD })) } },
    });
  const windowStart = performance.now();
  const load = paced(targetRate / config.loadBatch, config.loadWindowMs, () => {
    if (inFlight >= 16) {
      skippedBusy++;
      return;
    }
    inFlight++;
    void request(`${server.url}/graphql`, {
      dispatcher: loadAgent,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
      body: loadBody(),
    })
      .then(async (response) => {
        const text = await response.body.text();
        if (text.includes('SendEventsPayload')) accepted += config.loadBatch;
        else loadFailures++;
      })
      .catch(() => loadFailures++)
      .finally(() => inFlight--);
  });
  // Let the load settle (JIT of the batch path, the first claims) before probing.
  const settleMs = Math.min(QUICK ? 1_000 : 1_500, config.loadWindowMs / 3);
  await sleep(settleMs);
  const steadyStart = performance.now();
  const steadyCount = await receiver.call<number>('count');
  const steadyAccepted = accepted;
  await server.child.call('loop', { reset: true });
  // Deliveries per 250 ms through the window, to tell a stall from a steady shortfall.
  const timeline: { atMs: number; delivered: number; accepted: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    let last = steadyCount;
    let lastAccepted = accepted;
    for (let i = 0; sampling && i < 400; i++) {
      await sleep(250);
      const count = await receiver.call<number>('count');
      timeline.push({ atMs: Math.round(performance.now() - steadyStart), delivered: count - last, accepted: accepted - lastAccepted });
      last = count;
      lastAccepted = accepted;
    }
  })();
  const loaded = await withProfile(server.child, 'latency', profileLabel, () =>
    probe(server.url, tenants.tenantIds, config.probes, 20, config.loadWindowMs - settleMs - 200),
  );
  const paceResult = await load;
  sampling = false;
  await sampler;
  const loadedLoop = await server.child.call<{ p50: number; p99: number; max: number }>('loop', { reset: true });
  const steadyMs = performance.now() - steadyStart;
  const achieved = (((await receiver.call<number>('count')) - steadyCount) * 1000) / steadyMs;
  const acceptedRate = ((accepted - steadyAccepted) * 1000) / steadyMs;
  const windowMs = performance.now() - windowStart;
  const loadedArrivals = await arrivalsFor(loaded.sent, 15_000);
  const loadedP = percentiles(loadedArrivals.latencies);
  // A rate the process sustains leaves no queue behind: deliveries keep up with the offer, the
  // probes' latency does not grow through the window, and half of them arrive within 50 ms. Past
  // that, the percentiles depend on the window's length, not on the system.
  const quarter = Math.max(1, Math.floor(loadedArrivals.latencies.length / 4));
  const firstQuarter = percentiles(loadedArrivals.latencies.slice(0, quarter)).p50;
  const lastQuarter = percentiles(loadedArrivals.latencies.slice(-quarter)).p50;
  const saturated = lastQuarter > 2 * firstQuarter + 5 || achieved < 0.95 * targetRate || loadedP.p50 > 50;
  log(
    `  ${label}: target ${fmtNum(targetRate)} deliveries/s, accepted ${fmtNum(acceptedRate)}/s, delivered ${fmtNum(achieved)}/s; ` +
      `probe p50 first quarter ${fmtMs(firstQuarter)}, last quarter ${fmtMs(lastQuarter)}${saturated ? ' → SATURATED (backlog grew)' : ''}; ` +
      `server event-loop delay p99 ${fmtMs(loadedLoop.p99)} max ${fmtMs(loadedLoop.max)}; ` +
      `p50 ${fmtMs(loadedP.p50)} p99 ${fmtMs(loadedP.p99)} (${loaded.sent.length} probes, ${loadedArrivals.missing} missing, ` +
      `${skippedBusy} batches skipped as 16 were in flight, ${loadFailures} failed, ${paceResult.skipped} ticks late)`,
  );
  await loadAgent.close();
  // Let the backlog drain, then stop the dispatcher so figure (4) measures fan-out alone.
  const drainDeadline = performance.now() + 30_000;
  for (;;) {
    const counts = await server.child.call<Record<string, number>>('statusCounts');
    const open = (counts.PENDING ?? 0) + (counts.SENDING ?? 0) + (counts.RETRYING ?? 0);
    if (open === 0 || performance.now() > drainDeadline) break;
    await sleep(200);
  }

  return {
    targetRate,
    achieved,
    acceptedRate,
    windowMs,
    firstQuarter,
    lastQuarter,
    saturated,
    loop: loadedLoop,
    timeline,
    firstByte: loadedP,
    answered: percentiles(loaded.answered),
    missing: loadedArrivals.missing,
    series: loadedArrivals.latencies.map((l) => Math.round(l * 100) / 100),
    skippedBusy,
    loadFailures,
  };
}

/** (3) send → first byte at the receiver, idle and at 50 % of the path's sustained max, vs raw undici round trip. */
async function figureLatency() {
  log('(3) send → first byte at the receiver');
  const { server, tenants } = await ensureServerA();
  // Ceiling: raw undici round trip (request → response body read) to the same receiver, sequential.
  const rawAgent = new Agent({ connections: 1, keepAliveTimeout: 30_000 });
  const body = `{"type":"${EVENT_TYPE}","timestamp":"${new Date().toISOString()}","data":${JSON.stringify(PAYLOAD)}}`;
  const rtt: number[] = [];
  const rawSent: { id: string; t0: number }[] = [];
  await receiver.call('record', { on: true });
  for (let i = 0; i < config.probes + 20; i++) {
    const id = `raw_${i}`;
    const t0 = hrMs();
    const response = await request(`${tenants.endpointUrls[0]}`, {
      dispatcher: rawAgent,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-bench-id': id },
      body,
    });
    await response.body.arrayBuffer();
    if (i >= 20) {
      rtt.push(hrMs() - t0);
      rawSent.push({ id, t0 });
    }
  }
  await rawAgent.close();
  const rawFirstByte = await arrivalsFor(rawSent, 2_000);
  const rttP = percentiles(rtt);
  const rawFbP = percentiles(rawFirstByte.latencies);

  await server.child.call('dispatcher', { on: true });
  // Idle: sequential sends with a gap, so each one finds the system idle.
  await probe(server.url, tenants.tenantIds, 20, config.probeGapMs, 5_000); // warm-up
  await receiver.call('record', { on: true });
  await server.child.call('loop', { reset: true });
  const idle = await withProfile(server.child, 'latency', 'latency-idle', () =>
    probe(server.url, tenants.tenantIds, config.probes, config.probeGapMs, 30_000),
  );
  const idleLoop = await server.child.call<{ p50: number; p99: number; max: number }>('loop', { reset: true });
  const idleArrivals = await arrivalsFor(idle.sent, 5_000);
  const idleP = percentiles(idleArrivals.latencies);
  const idleAnswer = percentiles(idle.answered);
  log(`  idle: p50 ${fmtMs(idleP.p50)} p99 ${fmtMs(idleP.p99)} (sendEvent answered p50 ${fmtMs(idleAnswer.p50)}), ${idleArrivals.missing} missing`);

  // Loaded. "Max throughput" for this path is what one process sustains while it accepts events
  // over GraphQL and delivers them: (1) measures delivery alone, and accepting costs CPU on the same
  // event loop. Offer 60, 50, 40, 33 and 25 % of (1)'s best round until the backlog stops growing;
  // the highest such rate is the path's sustained max. Then probe at 50 % of that, and report the
  // probe at 50 % of (1) as well.
  const dispatchMax = Number.isFinite(e2eMax) ? e2eMax : 4_000;
  const steps: LoadedProbe[] = [];
  let sustained: LoadedProbe | null = null;
  for (const share of [0.6, 0.5, 0.4, 0.33, 0.25]) {
    const percent = Math.round(share * 100);
    const step = await loadedProbe(server, tenants, Math.round(dispatchMax * share), `at ${percent} % of (1)`, `latency-step-${percent}`);
    steps.push(step);
    if (!step.saturated && step.missing === 0) {
      sustained = step;
      break;
    }
  }
  const pathMax = sustained ? sustained.targetRate : Math.round(dispatchMax * 0.2);
  const atHalfPath = await loadedProbe(server, tenants, Math.round(pathMax / 2), 'at 50 % of the sustained max', 'latency-loaded');
  const atHalfDispatch = steps.find((step) => step.targetRate === Math.round(dispatchMax * 0.5)) ?? null;
  await server.child.call('dispatcher', { on: false }, 30_000);
  await receiver.call('record', { on: false });

  results.latency = {
    rawRoundTrip: rttP,
    rawFirstByte: rawFbP,
    idle: { firstByte: idleP, sendEventAnswered: idleAnswer, missing: idleArrivals.missing, serverEventLoopDelayMs: idleLoop },
    sustainedMax: { deliveriesPerSecond: pathMax, found: sustained !== null, steps },
    loaded: atHalfPath,
    atHalfOfDispatchMax: atHalfDispatch,
  };
  rows.push({
    figure: `(3a) send → first byte at receiver, idle (${idleP.count} sequential sendEvent)`,
    switchyard: `p50 ${fmtMs(idleP.p50)} · p99 ${fmtMs(idleP.p99)} (acked p50 ${fmtMs(idleAnswer.p50)})`,
    ceiling: `raw round trip p50 ${fmtMs(rttP.p50)} · p99 ${fmtMs(rttP.p99)}`,
    ratio: ratio(idleP.p50, rttP.p50),
    target: 'p50 ≤ 3 ms',
    pass: pass(idleP.p50 <= 3 && idleArrivals.missing === 0),
  });
  const loadedRow = (figure: string, probe: LoadedProbe, must: boolean): Row => ({
    figure:
      `${figure} (${fmtNum(probe.targetRate)}/s via sendEvents, delivered ${fmtNum(probe.achieved)}/s)` +
      (probe.saturated ? ' SATURATED: backlog grew' : ''),
    switchyard: `p50 ${fmtMs(probe.firstByte.p50)} · p99 ${fmtMs(probe.firstByte.p99)}`,
    ceiling: `raw round trip p50 ${fmtMs(rttP.p50)} · p99 ${fmtMs(rttP.p99)}`,
    ratio: ratio(probe.firstByte.p50, rttP.p50),
    target: must ? 'must not saturate' : '—',
    pass: !must ? '—' : probe.missing > 0 || probe.saturated ? 'FAIL' : 'PASS',
  });
  rows.push(
    loadedRow(
      `(3b) send → first byte at 50 % of max: one process accepting and delivering sustains ${fmtNum(pathMax)}/s` +
        (sustained ? '' : ' (none of the steps held; 20 % of (1) assumed)'),
      atHalfPath,
      true,
    ),
  );
  if (atHalfDispatch) rows.push(loadedRow('(3c) send → first byte at 50 % of (1), delivery alone', atHalfDispatch, false));
}

interface SubStats {
  latency: Percentiles;
  received: number;
  perClientMin: number;
  perClientMax: number;
  errors: string[];
  closes: number[];
  sample: unknown;
}

/** (4) attempt published → received by each of N graphql-ws subscribers, vs a bare ws broadcast. */
async function figureSubscribers() {
  log(`(4) attempt published → ${config.subscribers} graphql-ws subscribers`);
  const { server, tenants } = await ensureServerA();
  const subs = await spawn('subscribers', './subscribers.ts');
  const wsUrl = `${server.url.replace('http', 'ws')}/graphql`;
  const measure = async (
    label: string,
    publish: (rate: number, durationMs: number) => Promise<{ sent: number; elapsedMs: number; skipped: number }>,
    profileTarget: Child,
    profileLabel: string,
  ) => {
    // Warm-up doubles as the check that every subscriber is live before measuring.
    const warmDeadline = performance.now() + 10_000;
    let warm: SubStats;
    do {
      await subs.call('reset');
      await publish(50, 500);
      await sleep(200);
      warm = await subs.call<SubStats>('stats');
    } while (warm.perClientMin === 0 && performance.now() < warmDeadline);
    if (warm.perClientMin === 0) throw new Error(`${label}: some subscribers never received a message (${JSON.stringify(warm.errors)})`);
    const byRate: Record<number, { published: { sent: number; elapsedMs: number; skipped: number }; stats: SubStats }> = {};
    for (const rate of config.subRates) {
      await subs.call('reset');
      const published = await withProfile(profileTarget, 'subs', `${profileLabel}-${rate}`, () => publish(rate, config.subWindowMs));
      await sleep(500); // the tail
      const stats = await subs.call<SubStats>('stats');
      byRate[rate] = { published, stats };
      const expected = published.sent * config.subscribers;
      log(
        `  ${label} ${rate}/s: published ${published.sent} (${fmtNum((published.sent * 1000) / published.elapsedMs)}/s), ` +
          `received ${stats.received}/${expected}, p50 ${fmtMs(stats.latency.p50)} p99 ${fmtMs(stats.latency.p99)} max ${fmtMs(stats.latency.max)}` +
          (stats.closes.length ? `, closes ${stats.closes.join(',')}` : '') +
          (stats.errors.length ? `, errors ${stats.errors[0]}` : ''),
      );
    }
    return { byRate, sample: warm.sample };
  };

  await subs.call('connect', { url: wsUrl, token: BENCH_ADMIN_TOKEN, n: config.subscribers, query: SUBSCRIPTION, variables: SUBSCRIPTION_VARIABLES, timeoutMs: 20_000 }, 30_000);
  const switchyard = await measure('Switchyard', (rate, durationMs) =>
    server.child.call('publishAttempts', { rate, durationMs, tenantId: tenants.tenantIds[0] }, durationMs + 30_000),
    server.child,
    'subs-switchyard',
  );
  await subs.call('close', null, 30_000);

  const ceilings = await spawn('ceilings-ws', './ceilings.ts');
  const bareUrl = await ceilings.call<string>('startWs');
  await subs.call(
    'connect',
    { url: `${bareUrl.replace('http', 'ws')}/graphql`, token: BENCH_ADMIN_TOKEN, n: config.subscribers, query: SUBSCRIPTION, variables: SUBSCRIPTION_VARIABLES, timeoutMs: 20_000 },
    30_000,
  );
  const template = switchyard.sample as { deliveryAttempts: Record<string, unknown> };
  const bare = await measure('bare ws', (rate, durationMs) => ceilings.call('broadcast', { rate, durationMs, template }, durationMs + 30_000), ceilings, 'subs-bare');
  await subs.exit();
  await ceilings.exit();

  results.subscribers = { subscribers: config.subscribers, windowMs: config.subWindowMs, switchyard: switchyard.byRate, bareWs: bare.byRate, message: template };
  for (const rate of config.subRates) {
    const s = switchyard.byRate[rate]!;
    const c = bare.byRate[rate]!;
    const complete = s.stats.received === s.published.sent * config.subscribers;
    const lost = s.published.sent * config.subscribers - s.stats.received;
    const achieved = (s.published.sent * 1000) / s.published.elapsedMs;
    const achievedBare = (c.published.sent * 1000) / c.published.elapsedMs;
    rows.push({
      figure:
        `(4) attempt → ${config.subscribers} subscribers at ${rate}/s (synthetic, on the bus; published ${fmtNum(achieved)}/s, bare ${fmtNum(achievedBare)}/s)` +
        (complete ? '' : ` — ${lost} not received`),
      switchyard: `p50 ${fmtMs(s.stats.latency.p50)} · p99 ${fmtMs(s.stats.latency.p99)}`,
      ceiling: `bare ws p50 ${fmtMs(c.stats.latency.p50)} · p99 ${fmtMs(c.stats.latency.p99)}`,
      ratio: ratio(s.stats.latency.p99, c.stats.latency.p99),
      target: rate === 500 ? 'p99 ≤ 15 ms' : '— (reported)',
      pass: rate === 500 ? pass(s.stats.latency.p99 <= 15 && complete && achieved >= 0.95 * rate) : complete ? '—' : 'FAIL',
    });
  }
}

/** (5) RSS with N pending deliveries queued (not yet due) vs the idle server, each in a fresh process after the same preparation. */
async function figureRSS() {
  const n = config.rssDeliveries;
  log(`(5) RSS with ${fmtNum(n)} pending deliveries vs idle`);
  const prepare = async (name: string, dir: string, count: number) => {
    const prep = await startSwitchyard(`${name}-prepare`, dir, 'api');
    await setupTenantsFanout(prep.url);
    const seeded = await prep.child.call<{ ms: number; deliveries: number; events: number }>(
      'seed',
      { n: count, dueInMs: 30 * 86_400_000, type: EVENT_TYPE, payload: PAYLOAD },
      240_000,
    );
    await prep.child.exit();
    return seeded;
  };
  const measure = async (name: string, dir: string) => {
    const before = await receiver.call<number>('count');
    const t0 = performance.now();
    const server = await startSwitchyard(name, dir, 'all');
    const startMs = performance.now() - t0;
    const samples: number[] = [];
    const deadline = performance.now() + config.rssSettleMs;
    while (performance.now() < deadline) {
      samples.push(rssOf(server.child.pid));
      await sleep(250);
    }
    const memory = await server.child.call<NodeJS.MemoryUsage>('memory');
    const sentMeanwhile = (await receiver.call<number>('count')) - before;
    await server.child.exit();
    return { final: samples[samples.length - 1]!, max: Math.max(...samples), startMs, memory, sentMeanwhile };
  };
  // Fan-out: rssFanout hooks per tenant, so each event makes rssFanout deliveries.
  const setupTenantsFanout = async (url: string) => {
    await gql(url, `mutation($n: String!) { createEventType(input: {name: $n}) { __typename } }`, { n: EVENT_TYPE });
    const tenant = await gql(url, `mutation { createTenant(input: {name: "bench-rss"}) { ... on TenantPayload { tenant { id } } } }`);
    const tenantId = tenant.createTenant.tenant.id as string;
    for (let i = 0; i < config.rssFanout; i++) {
      const endpoint = await gql(
        url,
        `mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) { ... on CreateEndpointPayload { endpoint { id } } } }`,
        { input: { tenantId, url: `${receiverUrl}/rss/${i}` } },
      );
      await gql(url, `mutation($input: CreateHookInput!) { createHook(input: $input) { __typename } }`, {
        input: { tenantId, endpointId: endpoint.createEndpoint.endpoint.id, name: `rss-${i}`, eventTypes: [EVENT_TYPE] },
      });
    }
  };
  const idleDir = join(tmpRoot, 'rss-idle');
  const fullDir = join(tmpRoot, 'rss-full');
  await prepare('rss-idle', idleDir, 0);
  const idle = await measure('rss-idle', idleDir);
  const seeded = await prepare('rss-full', fullDir, n);
  log(`  seeded ${fmtNum(seeded.deliveries)} deliveries (${fmtNum(seeded.events)} events) in ${(seeded.ms / 1000).toFixed(1)} s`);
  const full = await measure('rss-full', fullDir);
  rmSync(fullDir, { recursive: true, force: true });
  const delta = full.max - idle.max;
  log(`  idle ${fmtNum(idle.max / MB)} MB, with ${fmtNum(n)} pending ${fmtNum(full.max / MB)} MB (sent meanwhile: ${full.sentMeanwhile})`);
  results.rss = { pending: n, seeded, idle, full, deltaBytes: delta, settleMs: config.rssSettleMs };
  rows.push({
    figure: `(5) RSS with ${fmtNum(n)} pending deliveries (due in 30 days), dispatcher running ${config.rssSettleMs / 1000} s`,
    switchyard: `${fmtNum(full.max / MB)} MB`,
    ceiling: `idle server ${fmtNum(idle.max / MB)} MB`,
    ratio: `${delta >= 0 ? '+' : '−'}${fmtNum(Math.abs(delta) / MB)} MB`,
    target: n >= 1_000_000 ? '≤ idle + 100 MB' : `≤ idle + 100 MB (only ${fmtNum(n)} queued)`,
    pass: pass(delta <= 100 * MB && full.sentMeanwhile === 0),
  });
}

// ---------------------------------------------------------------------------------------------
// Main

function printTable(): string {
  const header: Row = { figure: 'figure', switchyard: 'Switchyard', ceiling: 'ceiling (same run)', ratio: 'ratio', target: 'target', pass: 'PASS' };
  const all = [header, ...rows];
  const keys = ['figure', 'switchyard', 'ceiling', 'ratio', 'target', 'pass'] as const;
  const widths = keys.map((key) => Math.max(...all.map((row) => row[key].length)));
  const line = (row: Row) => `| ${keys.map((key, i) => row[key].padEnd(widths[i]!)).join(' | ')} |`;
  const text = [
    line({ ...header, pass: 'pass' as Row['pass'] }),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
    ...notes.map((note) => `  ${note}`),
  ].join('\n');
  return text;
}

/** The code measured: commit, and whether src/ differed from it (read-only git calls). */
function codeVersion(): { commit: string | null; srcChanges: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const srcChanges = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    return { commit, srcChanges };
  } catch {
    return { commit: null, srcChanges: [] };
  }
}
const measuredCode = codeVersion();

function writeResults(status: string): string {
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(resultsDir, { recursive: true });
  // Only a complete run writes <date>.json; quick and partial runs keep their own files.
  const all = ['e2e', 'metrics', 'api', 'latency', 'subs', 'peers', 'scaleout', 'rss'];
  const partial = all.some((name) => !config.only.has(name)) ? `-only-${all.filter((name) => config.only.has(name)).join('-')}` : '';
  const file = join(resultsDir, `${date}${QUICK ? '-quick' : ''}${partial}.json`);
  const document = {
    date: new Date().toISOString(),
    status,
    durationS: (performance.now() - started) / 1000,
    code: measuredCode,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryMB: Math.round(totalmem() / MB), node: process.version, platform: process.platform },
    config: { ...config, only: [...config.only] },
    table: rows,
    notes,
    results,
  };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}

async function cleanup() {
  await Promise.allSettled(children.map((child) => child.exit(5_000)));
  await gqlAgent.close().catch(() => {});
  rmSync(tmpRoot, { recursive: true, force: true });
}

// Before the watchdog starts: compiling is not part of the run it bounds.
const buildStarted = performance.now();
buildChildren();
log(`compiled the bench's processes in ${((performance.now() - buildStarted) / 1000).toFixed(1)} s`);

const watchdog = setTimeout(() => {
  log(`watchdog: the run passed ${config.deadlineS} s; stopping with what it has`);
  killAllChildren();
  rows.push({ figure: 'run stopped by the watchdog', switchyard: '', ceiling: '', ratio: '', target: '', pass: 'ERROR' });
  process.stdout.write(`${printTable()}\n`);
  const file = writeResults('watchdog');
  log(`results: ${file}`);
  rmSync(tmpRoot, { recursive: true, force: true });
  process.exit(2);
}, config.deadlineS * 1000);
watchdog.unref();

async function section(name: string, figure: () => Promise<void>) {
  if (!config.only.has(name)) return;
  const before = cpuTicks();
  try {
    await figure();
    const after = cpuTicks();
    const seconds = (after.at - before.at) / 1000;
    const foreign = Math.max(0, after.busy - before.busy - (after.ours - before.ours)) / TICKS_PER_S / seconds;
    const own = (after.ours - before.ours) / TICKS_PER_S / seconds;
    cpuBySection[name] = { seconds, ownCores: own, otherCores: foreign };
    log(`  ${name}: ${seconds.toFixed(1)} s, this run used ${own.toFixed(2)} cores, other processes ${foreign.toFixed(2)} cores`);
    if (foreign > 0.25) busySections.push(`${name} ${foreign.toFixed(2)}`);
  } catch (error) {
    log(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    rows.push({ figure: `${name}: failed (see stderr / JSON)`, switchyard: '', ceiling: '', ratio: '', target: '', pass: 'ERROR' });
    results[`${name}Error`] = String(error);
  }
}

try {
  log(`mode ${QUICK ? 'QUICK' : 'full'}; ${cpus().length} cores; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  results.loadAverageAtStart = loadavg();
  log(`code ${measuredCode.commit?.slice(0, 7) ?? '(no git)'}${measuredCode.srcChanges.length ? ` + ${measuredCode.srcChanges.length} uncommitted change(s) in src/` : ''}`);
  receiver = await spawn('receiver', './receiver.ts');
  receiverUrl = await receiver.call<string>('url');
  await section('e2e', figureE2E);
  await section('api', figureAPI);
  await section('latency', figureLatency);
  await section('subs', figureSubscribers);
  await section('peers', figurePeers);
  await section('scaleout', figureScaleOut);
  const last = serverA as { child: Child } | null;
  if (last) {
    await last.child.exit(15_000);
    serverA = null;
  }
  await section('rss', figureRSS);
  // last: its two extra processes and their writes would otherwise weigh on the figures the
  // starting commit's bench also has, and the comparison with it is run by run
  await section('metrics', figureMetricsCost);
  if (busySections.length > 0) {
    notes.push(`NOISY: other processes used CPU during the measurement (cores: ${busySections.join(', ')}); compare ratios, not absolutes.`);
  }
  notes.push(
    `Code ${measuredCode.commit?.slice(0, 7) ?? '(no git)'}${measuredCode.srcChanges.length ? ` with ${measuredCode.srcChanges.length} uncommitted src/ change(s)` : ''}. ` +
    'Medians of rounds with min–max; ratios against ceilings measured in this run. Receiver, Switchyard, ceilings and subscribers each run in their own process; latencies use the shared monotonic clock.',
  );
  process.stdout.write(`${printTable()}\n`);
  const file = writeResults('complete');
  log(`results: ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
