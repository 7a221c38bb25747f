// Peer (b): what a team would build on pg-boss instead of Switchyard, in its own process, on the
// machine's PostgreSQL. Events are accepted with `insert` (bulk; each job retried 5 times with
// backoff); workers fetch batches, sign and POST each job (signed-post.ts), at most the bench's
// concurrency at once over all workers, and pg-boss completes the batch (its rows' final state,
// with the handler's result as their output) or fails it, so its jobs are retried. Written the way
// pg-boss's docs recommend for throughput: several `work` calls with a `batchSize`, the shortest
// polling interval it allows, a pool of 10 connections.
import pg from 'pg';
import PgBoss from 'pg-boss';
import { exitHandler, serveCommands } from '../lib/ipc.js';
import { deliveryJobs, signedPoster, type DeliveryJob } from './signed-post.js';

const INSERT_CHUNK = 1_000;
const schema = `bench_pgboss_${process.pid}`;
let boss: PgBoss | null = null;
let databaseUrl = '';
let queueName = '';
let pending = 0;
let round = 0;

/** At most `limit` of the returned function's calls run at once. */
function limiter(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

async function completedCount(): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query(`select count(*)::int as n from ${schema}.job where name = $1 and state = 'completed'`, [queueName]);
    return result.rows[0].n as number;
  } finally {
    await client.end();
  }
}

serveCommands({
  async enqueue(args: { databaseUrl: string; n: number; urls: string[]; type: string; payload: unknown }) {
    databaseUrl = args.databaseUrl;
    if (!boss) {
      boss = new PgBoss({ connectionString: databaseUrl, schema, max: 10, supervise: false, schedule: false });
      boss.on('error', (error) => process.stderr.write(`pg-boss: ${String(error)}\n`));
      await boss.start();
    }
    queueName = `bench-${++round}`;
    await boss.createQueue(queueName, { name: queueName, retryLimit: 5, retryDelay: 1, retryBackoff: true });
    const jobs = deliveryJobs({ ...args, runId: `boss${round}` });
    const started = performance.now();
    for (let start = 0; start < jobs.length; start += INSERT_CHUNK) {
      await boss.insert(jobs.slice(start, start + INSERT_CHUNK).map((job) => ({ name: queueName, data: job, retryLimit: 5, retryDelay: 1, retryBackoff: true })));
    }
    pending = jobs.length;
    return { ms: performance.now() - started };
  },

  async run(args: { workers: number; batchSize: number; concurrency: number; connections: number; timeoutMs: number }) {
    if (!boss) throw new Error('enqueue first');
    const poster = signedPoster(args.connections);
    const limit = limiter(args.concurrency);
    let handled = 0;
    const started = performance.now();
    const cpu = process.cpuUsage();
    const ids: string[] = [];
    for (let w = 0; w < args.workers; w++) {
      ids.push(
        await boss.work<DeliveryJob>(queueName, { batchSize: args.batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
          const attempts = await Promise.all(jobs.map((job) => limit(() => poster.post(job.data))));
          handled += jobs.length;
          return { attempts: attempts.length };
        }),
      );
    }
    const deadline = started + args.timeoutMs;
    // The handler returning is not yet the completion written: count rows in their final state.
    let completed = 0;
    while (performance.now() < deadline) {
      if (handled >= pending && (completed = await completedCount()) >= pending) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    for (const id of ids) await boss.offWork({ id });
    await poster.close();
    return { ms, completed, timedOut: completed < pending, processCpuMs: (used.user + used.system) / 1000 };
  },

  cleanup,
  ...exitHandler(cleanup),
});

async function cleanup() {
  await boss?.stop({ graceful: false, wait: true });
  boss = null;
  if (!databaseUrl) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
}
