// Outbound requests on a thread of their own. undici's per-request work (request set-up, response
// parsing, socket writes, timers) was a large share of what a delivery cost the main thread, which
// also runs SQLite (whose commits block it for the fsync) and GraphQL; that capped deliveries per
// second at what one core does. Here the exchanges run on a worker thread with the very same code
// (the guarded exchanger of http-client.ts), and the main thread only posts requests and reads
// results, a few of each per message. A concurrency gate on the thread (overall and per key) lets
// the dispatcher hand over more than may run at once: the next request starts the moment one ends.
//
// Requests are built (body, signature) on the main thread: measured, building them on this one cost
// more in all than it saved there (a bigger message each way, and the thread's own slower turns).
//
// Nothing here is a library's: worker_threads gives a message port, not a request/response client.
import { Worker } from 'node:worker_threads';
import { storedResponse, type StoredResponse, type StoringHttpClient } from './deliverer.js';
import type { OutboundRequest, OutboundResult } from './http-exchange.js';

export interface ThreadedHttpClientOptions {
  /** CIDRs the SSRF guard allows besides public addresses (the policy is rebuilt on the thread from these). */
  allowPrivateCidrs: readonly string[];
  /** Same as HttpClientOptions.connectTimeoutMs. */
  connectTimeoutMs?: number;
  /** Same as HttpClientOptions.maxResponseBodyBytes. */
  maxResponseBodyBytes?: number;
  /** Same as HttpClientOptions.keepAliveTimeoutMs. */
  keepAliveTimeoutMs?: number;
  /** Same as HttpClientOptions.connectionsPerOrigin. */
  connectionsPerOrigin?: number;
  /** Same as HttpClientOptions.userAgent. */
  userAgent?: string;
  /**
   * Requests the thread runs at once; further ones wait in the thread, in order, and start the
   * moment one ends, without a round trip through the caller's thread. Default: no bound.
   */
  maxConcurrent?: number;
  /** Requests of one `key` (OutboundRequest.key) the thread runs at once; the rest of that key wait. Default: no bound. */
  maxConcurrentPerKey?: number;
  /** The thread's module (default: ./http-thread-worker): tests wrap it to make the thread die on cue. */
  threadEntry?: URL;
}

/** What the thread's client is built from: plain data, since functions do not cross threads. */
export type ThreadInit = Omit<ThreadedHttpClientOptions, 'threadEntry'>;

export interface WireRequest {
  id: number;
  /** `send`: answer with the OutboundResult; `store`: with the StoredResponse (made on the thread) */
  kind: 'send' | 'store';
  method: OutboundRequest['method'];
  url: string;
  headers: Record<string, string>;
  /**
   * The body as text when the caller has it (a string crosses as a plain copy; bytes need an
   * ArrayBuffer of their own on each side), else a copy of exactly its bytes (a pooled Buffer
   * would drag its whole slab across).
   */
  body: string | Uint8Array | null;
  timeoutMs: number | undefined;
  key: string | undefined;
}

export interface WireError {
  name: string;
  message: string;
  code: string | undefined;
}

export interface WireResult {
  id: number;
  /** a `send`'s result */
  result?: Omit<OutboundResult, 'body'> & { body: Uint8Array };
  /** a `store`'s response: plain strings cross cheaply */
  stored?: StoredResponse;
  /** rejected: rebuilt as an Error of the same name, message and code */
  error?: WireError;
}

export type ToThread =
  | { type: 'send'; requests: WireRequest[] }
  | { type: 'abort'; ids: number[] }
  | { type: 'close' };

export type FromThread = { type: 'ready' } | { type: 'results'; results: WireResult[] };

interface Pending {
  kind: WireRequest['kind'];
  resolve: (value: OutboundResult | StoredResponse) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
}

/**
 * How to start the thread: its module (by default the worker next to this module, with this module's
 * extension: dist/…/http-thread-worker.js when compiled, src/…/http-thread-worker.ts under tsx) and,
 * for a TypeScript module, the flags that let the thread load it. A thread does not inherit the main
 * thread's loader hooks on Node 20, and tsx's own `--import tsx` registers its hooks on the main
 * thread only; so a .ts thread first imports a preload (a real file beside this one) that registers
 * tsx in the thread itself. Its URL is absolute, so it works from any working directory. Compiled,
 * nothing is needed: the thread inherits the process's flags as usual.
 */
function threadLaunch(entry?: URL): { entry: URL; execArgv: string[] | undefined } {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const url = entry ?? new URL(`./http-thread-worker${extension}`, import.meta.url);
  if (!url.pathname.endsWith('.ts')) return { entry: url, execArgv: undefined };
  return { entry: url, execArgv: ['--import', new URL('./register-tsx.mjs', import.meta.url).href] };
}

/** Exactly these bytes in a buffer of their own: a small Buffer is a view into a shared 8 KiB slab, which a copy would drag along whole. */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export function toWireError(error: unknown): WireError {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, code: typeof code === 'string' ? code : undefined };
}

function rebuildError(error: WireError): Error {
  const rebuilt = error.name === 'TypeError' ? new TypeError(error.message) : error.name === 'RangeError' ? new RangeError(error.message) : new Error(error.message);
  if (error.code !== undefined) Object.assign(rebuilt, { code: error.code });
  return rebuilt;
}

export interface ThreadedHttpClient extends StoringHttpClient {
  /**
   * Resolves once the thread has started and loaded its code (slower under tsx, which compiles it first): await it
   * before the first delivery so that one is not the one that waits. Rejects if the thread failed
   * to start; requests then still work, each starting a new thread.
   */
  readonly ready: Promise<void>;
  /** requests handed to the thread and not yet answered (running there, or waiting there for a slot) */
  readonly inFlight: number;
}

/**
 * Creates an HttpClient whose requests are exchanged on one worker thread, started at once. Same
 * contract as createHttpClient. If the thread dies, the requests it held resolve as `network`
 * failures (they are retried like any other) and the next request starts a new thread.
 */
export function createThreadedHttpClient(options: ThreadedHttpClientOptions): ThreadedHttpClient {
  const { threadEntry, ...threadOptions } = options;
  const init: ThreadInit = { ...threadOptions, allowPrivateCidrs: [...options.allowPrivateCidrs] };
  let worker: Worker | null = null;
  let nextId = 1;
  let outbox: WireRequest[] = [];
  let flushScheduled = false;
  let closed = false;
  const pending = new Map<number, Pending>();
  // One abort listener per signal, not per request: the dispatcher passes the same stop signal to all.
  const bySignal = new WeakMap<AbortSignal, Set<number>>();
  // Idle, the thread must not keep the process alive; busy or closing, it must (someone waits on it).
  const holdProcess = () => {
    if (closed || pending.size > 0) worker?.ref();
    else worker?.unref();
  };

  const settle = (id: number): Pending | undefined => {
    const entry = pending.get(id);
    if (entry === undefined) return undefined;
    pending.delete(id);
    if (entry.signal) bySignal.get(entry.signal)?.delete(id);
    if (pending.size === 0) holdProcess();
    return entry;
  };

  const failAll = (message: string) => {
    outbox = [];
    for (const id of [...pending.keys()]) {
      const entry = settle(id)!;
      const result: OutboundResult = {
        status: null,
        headers: null,
        body: Buffer.alloc(0),
        bodyTruncated: false,
        durationMs: 0,
        waitedMs: 0,
        timeToFirstByteMs: null,
        errorClass: 'network',
        errorMessage: message,
      };
      entry.resolve(entry.kind === 'send' ? result : storedResponse(result));
    }
  };

  const spawn = (): Worker => {
    const { entry, execArgv } = threadLaunch(threadEntry);
    const thread = new Worker(entry, { ...(execArgv ? { execArgv } : {}), workerData: init, name: 'switchyard-http' });
    thread.on('message', (message: FromThread) => {
      if (message.type !== 'results') return;
      for (const wire of message.results) {
        const entry = settle(wire.id);
        if (entry === undefined) continue; // aborted meanwhile: already rejected
        if (wire.error) entry.reject(rebuildError(wire.error));
        else if (wire.stored) entry.resolve(wire.stored);
        else if (wire.result) {
          const { body, ...rest } = wire.result;
          entry.resolve({ ...rest, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) });
        }
      }
    });
    thread.on('error', (error) => {
      if (worker === thread) worker = null;
      failAll(`the HTTP thread failed: ${error.message}`);
    });
    thread.on('exit', (code) => {
      if (worker === thread) worker = null;
      if (pending.size > 0) failAll(`the HTTP thread exited (code ${code})`);
    });
    // Starting, it keeps the process alive (someone may be awaiting `ready`); then only while busy.
    thread.once('message', () => holdProcess());
    return thread;
  };

  const flush = () => {
    flushScheduled = false;
    if (outbox.length === 0) return;
    const requests = outbox;
    outbox = [];
    worker ??= spawn();
    holdProcess();
    worker.postMessage({ type: 'send', requests } satisfies ToThread);
  };

  const onAbort = (signal: AbortSignal) => {
    const ids = bySignal.get(signal);
    if (!ids || ids.size === 0) return;
    const aborted = new Set(ids);
    ids.clear();
    // Not yet posted: dropped here; posted: the thread ends them and closes their connections.
    outbox = outbox.filter((request) => !aborted.has(request.id));
    for (const id of aborted) settle(id)?.reject(signal.reason);
    worker?.postMessage({ type: 'abort', ids: [...aborted] } satisfies ToThread);
  };

  const enqueue = <T extends OutboundResult | StoredResponse>(
    kind: WireRequest['kind'],
    request: OutboundRequest,
    signal: AbortSignal | undefined,
    bodyText?: string | null,
  ): Promise<T> => {
    if (closed) return Promise.reject(new Error('the HTTP client is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      worker ??= spawn();
      pending.set(id, { kind, resolve: resolve as (value: OutboundResult | StoredResponse) => void, reject, signal });
      if (pending.size === 1) holdProcess();
      if (signal) {
        let ids = bySignal.get(signal);
        if (ids === undefined) {
          ids = new Set();
          bySignal.set(signal, ids);
          signal.addEventListener('abort', () => onAbort(signal), { once: true });
        }
        ids.add(id);
      }
      outbox.push({
        id,
        kind,
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body === null ? null : typeof bodyText === 'string' ? bodyText : ownBytes(request.body),
        timeoutMs: request.timeoutMs,
        key: request.key,
      });
      if (!flushScheduled) {
        flushScheduled = true;
        // The requests made in this run of the event loop's callbacks (the dispatcher starts a whole
        // claim's worth in one synchronous pass) travel as one message, posted without waiting for
        // the loop's next turn: idle, that turn is latency nobody needs.
        queueMicrotask(flush);
      }
    });
  };

  worker = spawn();
  const first = worker;
  const ready = new Promise<void>((resolve, reject) => {
    first.on('message', (message: FromThread) => {
      if (message.type === 'ready') resolve();
    });
    first.once('error', reject);
    first.once('exit', (code) => reject(new Error(`the HTTP thread exited (code ${code}) before it was ready`)));
  });
  // A failed start is reported to whoever awaits `ready`; nobody awaiting it must not crash the process.
  ready.catch(() => undefined);

  return {
    ready,
    get inFlight() {
      return pending.size;
    },
    send: (request, signal) => enqueue<OutboundResult>('send', request, signal),
    sendAndStore: (request, signal, bodyText) => enqueue<StoredResponse>('store', request, signal, bodyText),
    async close() {
      closed = true;
      flush();
      const thread = worker;
      if (thread === null) return;
      const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
      holdProcess();
      thread.postMessage({ type: 'close' } satisfies ToThread);
      await exited;
    },
  };
}
