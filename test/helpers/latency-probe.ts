// Times GET requests to a URL from a thread of its own, so what the test's main thread does (building
// fuzz documents, parsing answers) never counts as the server's latency.
import { Worker } from 'node:worker_threads';

export interface LatencyProbe {
  /** Resolves once the thread is warm and its counted probes have begun. */
  readonly ready: Promise<void>;
  /** Ends the probing; answers the slowest request, the 95th percentile and how many were made. */
  stop(): Promise<{ slowestMs: number; p95Ms: number; probes: number }>;
}

export function startLatencyProbe(url: string): LatencyProbe {
  const worker = new Worker(new URL('./latency-probe-thread.mjs', import.meta.url), { workerData: { url } });
  let warm = () => {};
  const ready = new Promise<void>((resolve) => (warm = resolve));
  const finished = new Promise<{ slowestMs: number; p95Ms: number; probes: number }>((resolve, reject) => {
    worker.on('message', (message: 'ready' | { slowestMs: number; p95Ms: number; probes: number }) => (message === 'ready' ? warm() : resolve(message)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the latency probe exited (${code}) before it answered`)));
  });
  finished.catch(() => undefined);
  return {
    ready,
    async stop() {
      worker.postMessage('stop');
      const result = await finished;
      await worker.terminate();
      return result;
    },
  };
}
