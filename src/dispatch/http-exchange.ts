// One request and its answer over the shared undici Agent: a hard deadline over the whole
// exchange, a capped never-decompressed body, and every network-level failure as a result.
import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher } from 'undici';
import type { AddressPolicy } from '../webhook/address-policy.js';
import { createGuardedConnector } from './guarded-connector.js';
import { CALLER_ERROR_CODES, classifyError, DeadlineExceededError, describeError, errorCode, type ErrorClass } from './http-errors.js';

export type { ErrorClass } from './http-errors.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_RESPONSE_BODY_BYTES = 64 * 1024;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 64;

// undici's headersTimeout/bodyTimeout are idle timers (and coarse: undici's fast timers tick
// far less often than a millisecond). They stay this far behind our own deadline so they never fire first with a class
// and message that do not say "deadline".
const UNDICI_TIMEOUT_MARGIN_MS = 1_000;
export interface HttpClientOptions {
  /** Decides which addresses may be connected to; checked on every DNS answer and on every connected socket. */
  policy: AddressPolicy;
  /**
   * Time allowed for DNS + TCP connect + TLS handshake. Default 5000 ms. When it passes the attempt
   * fails with errorClass 'connect' (or 'timeout' if the request deadline passes first).
   */
  connectTimeoutMs?: number;
  /**
   * Bytes of response body kept; the rest is not read, the connection is closed instead.
   * Default 65536. A longer body sets `bodyTruncated`, it is not a failure.
   */
  maxResponseBodyBytes?: number;
  /**
   * How long an idle connection is kept for reuse by the same origin (also caps the receiver's
   * `Keep-Alive: timeout` hint). Default 30000 ms.
   */
  keepAliveTimeoutMs?: number;
  /** Maximum concurrent sockets per origin; further requests queue. Default 64. */
  connectionsPerOrigin?: number;
  /** `user-agent` sent when the request has none. Default: none is added. */
  userAgent?: string;
}

export interface OutboundRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute http: or https: URL. */
  url: string;
  headers: Record<string, string>;
  body: Buffer | null;
  /**
   * Deadline over the WHOLE request (connect + headers + body), not an idle timeout: a receiver
   * that keeps dripping bytes is still cut off. Default 15000 ms. Passing it → errorClass 'timeout'.
   */
  timeoutMs?: number;
  /**
   * Requests with the same key (the dispatcher uses the endpoint id) count together against a
   * client's per-key concurrency, where it has one (the threaded client's `maxConcurrentPerKey`).
   */
  key?: string;
}

export interface OutboundResult {
  /** Status of the response, or null when no response head arrived. */
  status: number | null;
  /** Lower-cased names; multi-valued headers joined with ", ". Null when no response head arrived. */
  headers: Record<string, string> | null;
  /** At most maxResponseBodyBytes, exactly as received: never decompressed. */
  body: Buffer;
  bodyTruncated: boolean;
  /** Start of the exchange → end (body read or failure); a wait for a free slot (`waitedMs`) is not in it. */
  durationMs: number;
  /** How long the request waited in the client for a free slot before it started (the threaded client's gate); 0 otherwise. */
  waitedMs: number;
  /** Start of send → response head received; null when none arrived. */
  timeToFirstByteMs: number | null;
  /**
   * Set when the exchange failed. It wins over `status`: a response head can have arrived
   * (status set) and the body then time out or be cut off.
   */
  errorClass: ErrorClass | null;
  /** Human-readable, e.g. "deadline of 15000 ms exceeded", "connect ECONNREFUSED 127.0.0.1:1". */
  errorMessage: string | null;
}

export interface HttpClient {
  /**
   * Sends one request and never follows redirects. Every network-level failure resolves as a
   * result with an `errorClass`. Rejects only when the caller is at fault: `signal` aborted
   * (with its reason), an invalid URL/scheme/header, or a closed client.
   */
  send(request: OutboundRequest, signal?: AbortSignal): Promise<OutboundResult>;
  /** Closes idle connections and waits for in-flight requests. Further sends reject. */
  close(): Promise<void>;
}

function integerOption(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Parsed once per distinct URL: endpoint URLs repeat, and `new URL` costs more than the rest of the set-up. */
interface Target {
  origin: string;
  path: string;
}
const MAX_CACHED_TARGETS = 2_000;

/** Ends the read of a capped body (the socket is closed, not drained); never reported as a failure. */
const BODY_CAP_REACHED = new Error('response body cap reached');

/**
 * Answers are handed out in one setImmediate for all the exchanges that finished in a turn: undici
 * returns a finished keep-alive socket to its pool only in a setImmediate it schedules right after
 * telling the handler (client-h1 onMessageComplete), and answering before that would make a send
 * that follows at once see the connection busy and open a second one to the same origin. Scheduled
 * from a microtask, ours comes after undici's.
 */
let deferred: (() => void)[] = [];
function defer(callback: () => void): void {
  if (deferred.length === 0) queueMicrotask(scheduleDeferred);
  deferred.push(callback);
}
function scheduleDeferred(): void {
  setImmediate(runDeferred);
}
function runDeferred(): void {
  const callbacks = deferred;
  deferred = [];
  for (const callback of callbacks) callback();
}

/** How an exchange ends: a result (every network-level outcome) or a rejection (the caller's fault or abort). */
export type ExchangeDone = (outcome: { ok: true; result: OutboundResult } | { ok: false; error: unknown }) => void;

/** Callback-level client: what HttpClient is built on, and what the HTTP thread drives without promises or signals. */
export interface Exchanger {
  /**
   * Starts one exchange; `done` is called exactly once, in a later turn of the event loop. Throws
   * (synchronously) for a caller error found before anything is sent: a closed client, an invalid
   * URL or scheme, an invalid timeout. Returns `cancel`: `done` then gets `{ ok: false, error: reason }` and
   * the connection is closed whatever phase the exchange is in.
   */
  start(request: OutboundRequest, done: ExchangeDone): (reason: unknown) => void;
  /** Closes idle connections and waits for exchanges in flight. Further starts throw. */
  close(): Promise<void>;
}

/**
 * Creates the exchanger and its one undici Agent (keep-alive pool per origin, guarded connect,
 * no redirects, no decompression). Throws a RangeError for a non-integer or out-of-range option.
 *
 * It speaks undici's dispatch handler API rather than `undici.request`: no response stream, async
 * iterator, AbortController or per-request promise chain, which is most of what a request costs
 * the sender.
 */
export function createExchanger(options: HttpClientOptions): Exchanger {
  const connectTimeoutMs = integerOption('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
  const maxBodyBytes = integerOption(
    'maxResponseBodyBytes',
    options.maxResponseBodyBytes,
    DEFAULT_MAX_RESPONSE_BODY_BYTES,
    0,
  );
  const keepAliveTimeoutMs = integerOption(
    'keepAliveTimeoutMs',
    options.keepAliveTimeoutMs,
    DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  );
  const connections = integerOption(
    'connectionsPerOrigin',
    options.connectionsPerOrigin,
    DEFAULT_CONNECTIONS_PER_ORIGIN,
  );
  const { userAgent } = options;

  const agent = new Agent({
    connect: createGuardedConnector(options.policy, connectTimeoutMs),
    keepAliveTimeout: keepAliveTimeoutMs,
    keepAliveMaxTimeout: keepAliveTimeoutMs,
    connections,
  });
  let closed = false;
  const targets = new Map<string, Target>();

  const targetOf = (raw: string): Target => {
    const cached = targets.get(raw);
    if (cached !== undefined) return cached;
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`unsupported URL scheme ${url.protocol} (only http: and https:)`);
    }
    if (targets.size >= MAX_CACHED_TARGETS) targets.clear();
    const target = { origin: url.origin, path: `${url.pathname}${url.search}` };
    targets.set(raw, target);
    return target;
  };

  function start(request: OutboundRequest, done: ExchangeDone): (reason: unknown) => void {
    if (closed) throw new Error('the HTTP client is closed');
    const target = targetOf(request.url);
    const timeoutMs = integerOption('timeoutMs', request.timeoutMs, DEFAULT_REQUEST_TIMEOUT_MS);

    let headers = request.headers;
    if (userAgent !== undefined && !hasHeader(headers, 'user-agent')) headers = { ...headers, 'user-agent': userAgent };

    const started = performance.now();
    let status: number | null = null;
    let responseHeaders: Record<string, string> | null = null;
    let timeToFirstByteMs: number | null = null;
    const chunks: Buffer[] = [];
    let received = 0;
    let bodyTruncated = false;
    let controller: Dispatcher.DispatchController | null = null;
    /** set once the outcome is decided (by undici, the deadline or the caller); later news is ignored */
    let settled = false;

    const result = (errorClass: ErrorClass | null, errorMessage: string | null): OutboundResult => ({
      status,
      headers: responseHeaders,
      body: Buffer.concat(chunks, received),
      bodyTruncated,
      durationMs: performance.now() - started,
      waitedMs: 0,
      timeToFirstByteMs,
      errorClass,
      errorMessage,
    });
    const finish = (outcome: Parameters<ExchangeDone>[0]) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      defer(() => done(outcome));
    };
    // Ends the exchange now, whatever phase it is in; undici destroys the socket once it has one.
    const end = (reason: Error) => {
      if (controller !== null) controller.abort(reason);
    };

    const deadline = setTimeout(() => {
      const error = new DeadlineExceededError(timeoutMs);
      finish({ ok: true, result: result('timeout', error.message) });
      end(error);
    }, timeoutMs);

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(requestController) {
        controller = requestController;
        // ended (deadline or caller) while it waited for a connection
        if (settled) requestController.abort(new Error('the exchange had already ended'));
      },
      onResponseStart(_controller, statusCode, rawHeaders) {
        if (statusCode < 200) return; // 1xx informational: the final answer is still to come
        timeToFirstByteMs = performance.now() - started;
        status = statusCode;
        responseHeaders = flattenHeaders(rawHeaders as Record<string, string | string[] | undefined>);
      },
      onResponseData(responseController, chunk) {
        const room = maxBodyBytes - received;
        if (chunk.length > room) {
          if (room > 0) chunks.push(chunk.subarray(0, room));
          received += room;
          bodyTruncated = true;
          finish({ ok: true, result: result(null, null) });
          // Stop reading: the rest is never drained, the connection is closed instead.
          responseController.abort(BODY_CAP_REACHED);
          return;
        }
        chunks.push(chunk);
        received += chunk.length;
      },
      onResponseEnd() {
        finish({ ok: true, result: result(null, null) });
      },
      onResponseError(_controller, error) {
        // the deadline, the caller or the body cap ended it, and said so already
        if (settled) return;
        if (CALLER_ERROR_CODES.has(errorCode(error))) return finish({ ok: false, error });
        finish({ ok: true, result: result(classifyError(error), describeError(error)) });
      },
    };

    try {
      agent.dispatch(
        {
          origin: target.origin,
          path: target.path,
          method: request.method,
          headers,
          body: request.body ?? null,
          // undici's own idle timers stay behind our deadline (see UNDICI_TIMEOUT_MARGIN_MS).
          headersTimeout: timeoutMs + UNDICI_TIMEOUT_MARGIN_MS,
          bodyTimeout: timeoutMs + UNDICI_TIMEOUT_MARGIN_MS,
        },
        handler,
      );
    } catch (error) {
      // invalid method or header: the caller built a bad request
      clearTimeout(deadline);
      throw error;
    }

    return (reason: unknown) => {
      if (settled) return;
      finish({ ok: false, error: reason });
      end(reason instanceof Error ? reason : new Error(String(reason)));
    };
  }

  return {
    start,
    async close() {
      closed = true;
      await agent.close();
    },
  };
}

function hasHeader(headers: Record<string, string>, lowerCaseName: string): boolean {
  if (lowerCaseName in headers) return true;
  for (const name in headers) if (name.toLowerCase() === lowerCaseName) return true;
  return false;
}

