// The worker side of src/dispatch/http-thread.ts: the in-process exchanger, fed and read over the
// port, behind a concurrency gate (overall and per key) so a request that waits starts the moment a
// slot frees here, not after the news has travelled to the main thread and a new request back.
import { parentPort, workerData } from 'node:worker_threads';
import { createAddressPolicy } from '../webhook/address-policy.js';
import { storedResponse } from './deliverer.js';
import { createExchanger } from './http-exchange.js';
import {
  ownBytes,
  toWireError,
  type FromThread,
  type ThreadInit,
  type ToThread,
  type WireRequest,
  type WireResult,
} from './http-thread.js';

const port = parentPort;
if (port === null) throw new Error('http-thread-worker runs only as a worker thread');
const init = workerData as ThreadInit;
const exchanger = createExchanger({
  policy: createAddressPolicy(init.allowPrivateCidrs),
  ...(init.connectTimeoutMs !== undefined ? { connectTimeoutMs: init.connectTimeoutMs } : {}),
  ...(init.maxResponseBodyBytes !== undefined ? { maxResponseBodyBytes: init.maxResponseBodyBytes } : {}),
  ...(init.keepAliveTimeoutMs !== undefined ? { keepAliveTimeoutMs: init.keepAliveTimeoutMs } : {}),
  ...(init.connectionsPerOrigin !== undefined ? { connectionsPerOrigin: init.connectionsPerOrigin } : {}),
  ...(init.userAgent !== undefined ? { userAgent: init.userAgent } : {}),
});
const maxConcurrent = init.maxConcurrent ?? Infinity;
const maxPerKey = init.maxConcurrentPerKey ?? Infinity;
const NO_KEY = '';

interface Queued {
  request: WireRequest;
  /** set while it waits for a slot, for the result's waitedMs */
  arrivedAt: number | null;
}

const running = new Map<number, { key: string; cancel: (reason: unknown) => void }>();
const runningByKey = new Map<string, number>();
/** waiting requests per key; the Map keeps keys in the order they last got a slot (round robin) */
const waiting = new Map<string, Queued[]>();
let waitingCount = 0;
let outbox: WireResult[] = [];
let flushScheduled = false;
let closing = false;

function flush(): void {
  flushScheduled = false;
  const results = outbox;
  outbox = [];
  if (results.length > 0) port!.postMessage({ type: 'results', results } satisfies FromThread);
}

function answer(result: WireResult): void {
  outbox.push(result);
  if (!flushScheduled) {
    flushScheduled = true;
    // The results of this turn of the event loop travel as one message.
    setImmediate(flush);
  }
}

function timeout(request: WireRequest): { timeoutMs?: number } {
  return request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs };
}

function start({ request, arrivedAt }: Queued): void {
  const key = request.key ?? NO_KEY;
  const waitedMs = arrivedAt === null ? 0 : performance.now() - arrivedAt;
  const sent = request.body;
  const body = sent === null ? null : typeof sent === 'string' ? Buffer.from(sent, 'utf8') : Buffer.from(sent.buffer, sent.byteOffset, sent.byteLength);
  let cancel: (reason: unknown) => void;
  try {
    cancel = exchanger.start({ method: request.method, url: request.url, headers: request.headers, body, ...timeout(request) }, (outcome) => {
      if (!release(request.id)) return; // cancelled: the caller has already given up on it
      if (!outcome.ok) answer({ id: request.id, error: toWireError(outcome.error) });
      else if (request.kind === 'store') answer({ id: request.id, stored: storedResponse({ ...outcome.result, waitedMs }) });
      else {
        const { body: received, ...rest } = outcome.result;
        // a copy of exactly its bytes: a pooled Buffer would drag its whole slab across
        answer({ id: request.id, result: { ...rest, waitedMs, body: ownBytes(received) } });
      }
    });
  } catch (error) {
    // refused before anything was sent (bad URL, scheme or header): the caller's error
    answer({ id: request.id, error: toWireError(error) });
    return;
  }
  running.set(request.id, { key, cancel });
  runningByKey.set(key, (runningByKey.get(key) ?? 0) + 1);
}

/** Frees the slot of a running exchange; false if it was not running (already released). */
function release(id: number): boolean {
  const entry = running.get(id);
  if (entry === undefined) return false;
  running.delete(id);
  const left = (runningByKey.get(entry.key) ?? 1) - 1;
  if (left > 0) runningByKey.set(entry.key, left);
  else runningByKey.delete(entry.key);
  startWaiting();
  if (closing && running.size === 0 && waitingCount === 0) void finishClosing();
  return true;
}

function canStart(key: string): boolean {
  return running.size < maxConcurrent && (runningByKey.get(key) ?? 0) < maxPerKey;
}

/** Starts waiting requests while slots are free: keys in turn, each key's requests in order. */
function startWaiting(): void {
  for (const [key, queue] of waiting) {
    if (running.size >= maxConcurrent || waitingCount === 0) return;
    if (!canStart(key)) continue;
    const next = queue.shift()!;
    waitingCount--;
    // to the back of the line: the next free slot goes to another key first
    waiting.delete(key);
    if (queue.length > 0) waiting.set(key, queue);
    start(next);
  }
}

function dropWaiting(id: number): void {
  for (const [key, queue] of waiting) {
    const index = queue.findIndex((queued) => queued.request.id === id);
    if (index < 0) continue;
    queue.splice(index, 1);
    waitingCount--;
    if (queue.length === 0) waiting.delete(key);
    return;
  }
}

let closed: Promise<void> | null = null;
function finishClosing(): Promise<void> {
  closed ??= exchanger.close().then(() => {
    flush();
    // the port was the last thing keeping the thread: it exits, which the main side waits for
    port!.close();
  });
  return closed;
}

port.postMessage({ type: 'ready' } satisfies FromThread);

port.on('message', (message: ToThread) => {
  switch (message.type) {
    case 'send':
      for (const request of message.requests) {
        const queued: Queued = { request, arrivedAt: null };
        const key = request.key ?? NO_KEY;
        const queue = waiting.get(key);
        if (queue === undefined && canStart(key)) {
          start(queued);
          continue;
        }
        queued.arrivedAt = performance.now();
        if (queue === undefined) waiting.set(key, [queued]);
        else queue.push(queued);
        waitingCount++;
      }
      break;
    case 'abort':
      for (const id of message.ids) {
        const entry = running.get(id);
        if (entry === undefined) {
          dropWaiting(id);
          continue;
        }
        release(id);
        entry.cancel(new Error('aborted by the caller'));
      }
      break;
    case 'close':
      closing = true;
      if (running.size === 0 && waitingCount === 0) void finishClosing();
      break;
  }
});
