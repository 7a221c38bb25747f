// Peer (a): what a team would build on BullMQ instead of Switchyard, in its own process. Events are
// accepted with `addBulk` (each job retried 5 times with exponential backoff, kept after it ends);
// a Worker with the bench's concurrency signs and POSTs each one (signed-post.ts) and returns the
// attempt (status, duration), which BullMQ stores with the job as it moves it to `completed`: the
// attempt record and the final state. Written the way BullMQ's guide recommends for throughput:
// one Worker with a high `concurrency`, bulk adds, an ioredis connection with
// `maxRetriesPerRequest: null`. (The machine's Redis keeps nothing on disk, so its "durable" is
// memory only: a head start over Switchyard's fsynced SQLite.)
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { exitHandler, serveCommands } from '../lib/ipc.js';
import { deliveryJobs, signedPoster, type DeliveryJob } from './signed-post.js';

const ADD_CHUNK = 1_000;
let redis: Redis | null = null;
let queue: Queue | null = null;
let pending = 0;
let round = 0;

serveCommands({
  async enqueue(args: { redisUrl: string; n: number; urls: string[]; type: string; payload: unknown }) {
    redis ??= new Redis(args.redisUrl, { maxRetriesPerRequest: null });
    if (queue) await queue.obliterate({ force: true });
    queue = new Queue(`bench-${process.pid}-${++round}`, { connection: redis });
    const jobs = deliveryJobs({ ...args, runId: `bull${round}` });
    const started = performance.now();
    for (let start = 0; start < jobs.length; start += ADD_CHUNK) {
      await queue.addBulk(
        jobs.slice(start, start + ADD_CHUNK).map((job) => ({
          name: 'deliver',
          data: job,
          opts: { attempts: 5, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: false, removeOnFail: false },
        })),
      );
    }
    pending = jobs.length;
    return { ms: performance.now() - started };
  },

  async run(args: { concurrency: number; connections: number; timeoutMs: number }) {
    if (!queue || !redis) throw new Error('enqueue first');
    const poster = signedPoster(args.connections);
    let completed = 0;
    let failed = 0;
    const started = performance.now();
    const cpu = process.cpuUsage();
    const worker = new Worker<DeliveryJob>(queue.name, (job) => poster.post(job.data), {
      connection: redis.duplicate({ maxRetriesPerRequest: null }),
      concurrency: args.concurrency,
    });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, args.timeoutMs);
      worker.on('completed', () => {
        if (++completed >= pending) {
          clearTimeout(timer);
          resolve();
        }
      });
      worker.on('failed', () => failed++);
    });
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    await worker.close();
    await poster.close();
    return { ms, completed, failed, timedOut: completed < pending, processCpuMs: (used.user + used.system) / 1000 };
  },

  cleanup,
  ...exitHandler(cleanup),
});

async function cleanup() {
  if (queue) await queue.obliterate({ force: true });
  await queue?.close();
  redis?.disconnect();
  queue = null;
  redis = null;
}
