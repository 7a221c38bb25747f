// The thread of test/helpers/latency-probe.ts: GETs workerData.url every 20 ms until told to stop,
// then answers the slowest, the 95th percentile and the count. Plain JavaScript, so the thread needs no TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';

const PROBE_GAP_MS = 20;
let stopping = false;
parentPort.once('message', () => (stopping = true));
// The thread's first requests load and compile its HTTP client and open the connection: not the
// server's latency, so they are not counted.
const WARM_UP_PROBES = 3;
let slowestMs = 0;
let probes = 0;
const timings = [];
for (let i = 0; i < WARM_UP_PROBES; i++) await (await fetch(workerData.url)).arrayBuffer();
parentPort.postMessage('ready');
while (!stopping) {
  const started = performance.now();
  const response = await fetch(workerData.url);
  await response.arrayBuffer();
  const ms = performance.now() - started;
  slowestMs = Math.max(slowestMs, ms);
  timings.push(ms);
  probes++;
  await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
}
timings.sort((a, b) => a - b);
const p95Ms = timings[Math.min(timings.length - 1, Math.floor(timings.length * 0.95))] ?? 0;
parentPort.postMessage({ slowestMs, p95Ms, probes });
