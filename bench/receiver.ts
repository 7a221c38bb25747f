// The webhook receiver, in its own process: answers every request 200 "ok" as soon as its body is
// read. Optionally records when each request's head arrived (shared monotonic clock), keyed by its
// `webhook-event-id` (Switchyard) or `x-bench-id` (ceilings), so send → first byte is measured across processes.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exitHandler, hrMs, serveCommands } from './lib/ipc.js';

const MAX_RECORDED = 400_000;
let count = 0;
let recording = false;
const arrivals = new Map<string, number>();

const server = createServer((req, res) => {
  const at = hrMs();
  count++;
  if (recording && arrivals.size < MAX_RECORDED) {
    // the event's id: what sendEvent answers (`webhook-id` names the delivery)
    const id = req.headers['webhook-event-id'] ?? req.headers['x-bench-id'];
    if (typeof id === 'string') arrivals.set(id, at);
  }
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
  req.resume();
});
// Longer than every client's keep-alive, so no pooled socket is closed under a request between rounds.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

serveCommands({
  ...exitHandler(),
  url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  count: () => count,
  record: ({ on }: { on: boolean }) => {
    recording = on;
    if (on) arrivals.clear();
  },
  /** arrival times (ms, shared monotonic clock) of the given ids; NaN for one not (yet) seen */
  arrivals: ({ ids }: { ids: string[] }) => Float64Array.from(ids, (id) => arrivals.get(id) ?? NaN),
  cpu: () => process.cpuUsage(),
  connections: () => new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n))),
});
