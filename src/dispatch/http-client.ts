// The one way Switchyard talks to receivers: a single undici Agent behind an SSRF-guarded connect,
// a hard deadline over the whole exchange, and a capped, never-decompressed response body.
import * as dns from 'node:dns';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, buildConnector, errors as undiciErrors, request as undiciRequest } from 'undici';
import { type AddressPolicy, isIpLiteral, type PolicyVerdict } from './guard.js';

/**
 * Why an exchange failed:
 * - `timeout`: the request deadline passed (the receiver was too slow, even if it kept sending);
 * - `connect`: no TCP connection (refused, unreachable, connect timeout);
 * - `dns`: the host name did not resolve;
 * - `tls`: the TLS handshake failed (certificate, protocol);
 * - `blocked`: the SSRF guard refused the address (see AddressPolicy);
 * - `network`: the connection was reset or closed mid-exchange, or the response was malformed.
 */
export type ErrorClass = 'timeout' | 'connect' | 'dns' | 'tls' | 'blocked' | 'network';

export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_RESPONSE_BODY_BYTES = 64 * 1024;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 64;

// undici's headersTimeout/bodyTimeout are idle timers (and coarse: its fast timers tick every
// ~500 ms). They stay this far behind our own deadline so they never fire first with a class
// and message that do not say "deadline".
const UNDICI_TIMEOUT_MARGIN_MS = 1_000;
// Same as undici's own connector: TCP keep-alive probes on idle pooled sockets.
const TCP_KEEP_ALIVE_INITIAL_DELAY_MS = 60_000;

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
}

export interface OutboundResult {
  /** Status of the response, or null when no response head arrived. */
  status: number | null;
  /** Lower-cased names; multi-valued headers joined with ", ". Null when no response head arrived. */
  headers: Record<string, string> | null;
  /** At most maxResponseBodyBytes, exactly as received: never decompressed. */
  body: Buffer;
  bodyTruncated: boolean;
  /** Start of send → end (body read or failure). */
  durationMs: number;
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

/** The SSRF guard refused the address. A dedicated class and code so no OS error can be mistaken for it. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_SWITCHYARD_BLOCKED_ADDRESS';
  override readonly name = 'BlockedAddressError';
}

class DeadlineExceededError extends Error {
  readonly code = 'ERR_SWITCHYARD_DEADLINE_EXCEEDED';
  override readonly name = 'DeadlineExceededError';
  constructor(timeoutMs: number) {
    super(`deadline of ${timeoutMs} ms exceeded`);
  }
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA']);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const IDLE_TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
// OpenSSL verification codes are bare names (no ERR_ prefix).
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;
// Bugs in the request the caller built, not failures of the network: they reject.
const CALLER_ERROR_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

// The connector knows in which phase (DNS, TCP, TLS) an error happened; undici hands the very same
// error object to the request, so the phase travels with it here instead of being guessed from codes.
const connectPhaseClass = new WeakMap<object, ErrorClass>();

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function classifyError(error: unknown): ErrorClass {
  if (error instanceof BlockedAddressError) return 'blocked';
  if (error instanceof DeadlineExceededError) return 'timeout';
  if (typeof error === 'object' && error !== null) {
    const tagged = connectPhaseClass.get(error);
    if (tagged !== undefined) return tagged;
  }
  // Happy eyeballs (autoSelectFamily) reports a failure of every address as one AggregateError.
  if (error instanceof AggregateError && error.errors.length > 0) return classifyError(error.errors[0]);
  const code = errorCode(error);
  if (DNS_CODES.has(code)) return 'dns';
  if (CONNECT_CODES.has(code)) return 'connect';
  if (IDLE_TIMEOUT_CODES.has(code)) return 'timeout';
  if (TLS_CODE.test(code)) return 'tls';
  return 'network';
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map(describeError).join('; ');
  }
  // OpenSSL failures carry a raw "<hex>:error:0A00010B:SSL routines:…" message; the short
  // reason ("wrong version number") is what an operator can act on.
  const reason = (error as { reason?: unknown } | null)?.reason;
  if (error instanceof Error && error.message.includes(':error:') && typeof reason === 'string') {
    const code = errorCode(error);
    return `TLS handshake failed: ${reason}${code === '' ? '' : ` (${code})`}`;
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function classifyConnectError(error: Error): ErrorClass {
  if (error instanceof BlockedAddressError) return 'blocked';
  const cls = classifyError(error);
  return cls === 'dns' || cls === 'tls' ? cls : 'connect';
}

/**
 * A DNS lookup for net.connect that resolves every address and drops the ones the policy refuses,
 * so the connection is only ever attempted to allowed addresses.
 */
function createGuardedLookup(policy: AddressPolicy): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, []);
        return;
      }
      const allowed: dns.LookupAddress[] = [];
      const refusals: string[] = [];
      for (const entry of addresses) {
        const verdict = policy.check(entry.address);
        if (verdict.allowed) allowed.push(entry);
        else refusals.push(verdict.reason);
      }
      const first = allowed[0];
      if (first === undefined) {
        const failure =
          refusals.length > 0
            ? new BlockedAddressError(`${hostname} resolves only to refused addresses: ${refusals.join('; ')}`)
            : Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        callback(failure, []);
        return;
      }
      // net.connect asks for all addresses when it races them (autoSelectFamily), else for one.
      if (options.all) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * undici `connect` that only hands undici a socket whose peer the policy allows:
 * 1. an IP-literal host is checked before any packet is sent; a host name goes through the guarded
 *    lookup above;
 * 2. once TCP is up and before a byte is written (TLS ClientHello included), the socket's actual
 *    remote address is checked again, which defeats DNS rebinding between lookup and connect.
 * TLS is then layered on the checked socket by undici's own connector (SNI, ALPN, session cache).
 */
function createGuardedConnector(policy: AddressPolicy, connectTimeoutMs: number): buildConnector.connector {
  // timeout 0: the timer below already covers DNS + TCP + TLS as one budget.
  const upgradeToTls = buildConnector({ timeout: 0 });
  const lookup = createGuardedLookup(policy);

  return (options, callback) => {
    const { hostname, protocol } = options;
    const isHttps = protocol === 'https:';
    const port = Number(options.port) || (isHttps ? 443 : 80);
    let settled = false;
    let socket: net.Socket | undefined;
    let timer: NodeJS.Timeout | undefined;

    const fail = (error: Error, cls: ErrorClass): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      connectPhaseClass.set(error, cls);
      socket?.destroy();
      callback(error, null);
    };
    const succeed = (connected: net.Socket): void => {
      if (settled) {
        connected.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      callback(null, connected);
    };

    // undici passes IPv6 hosts without brackets; a literal never reaches the guarded lookup.
    if (isIpLiteral(hostname)) {
      const verdict = policy.check(hostname);
      if (!verdict.allowed) {
        // undici awaits the callback as a promise; answering on a later tick keeps the order usual.
        process.nextTick(fail, new BlockedAddressError(verdict.reason), 'blocked');
        return;
      }
    }

    const tcp = net.connect({
      host: hostname,
      port,
      lookup,
      autoSelectFamily: true,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: TCP_KEEP_ALIVE_INITIAL_DELAY_MS,
    });
    socket = tcp;
    timer = setTimeout(() => {
      const error = new undiciErrors.ConnectTimeoutError(
        `connect timeout of ${connectTimeoutMs} ms exceeded (${hostname}:${port})`,
      );
      fail(error, 'connect');
    }, connectTimeoutMs);

    // Stays attached for the socket's whole life: after a failure we destroy it, and an 'error'
    // emitted with no listener would crash the process. undici adds its own once it owns the socket.
    tcp.on('error', (error) => fail(error, classifyConnectError(error)));
    tcp.once('connect', () => {
      const remote = tcp.remoteAddress;
      const verdict: PolicyVerdict =
        remote === undefined
          ? { allowed: false, reason: `the connection to ${hostname} has no remote address` }
          : policy.check(remote);
      if (!verdict.allowed) {
        const reason = remote === hostname ? verdict.reason : `${hostname} connected to a refused address: ${verdict.reason}`;
        fail(new BlockedAddressError(reason), 'blocked');
        return;
      }
      if (!isHttps) {
        succeed(tcp);
        return;
      }
      upgradeToTls({ ...options, httpSocket: tcp }, (error, tlsSocket) => {
        // Whatever ends the handshake (bad certificate, protocol mismatch, reset) is a TLS failure.
        if (error !== null) fail(error, 'tls');
        else succeed(tlsSocket);
      });
    });
  };
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

function noop(): void {}

/**
 * Creates the client and its one undici Agent (keep-alive pool per origin, guarded connect,
 * no redirects, no decompression). Throws a RangeError for a non-integer or out-of-range option.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
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

  async function send(request: OutboundRequest, signal?: AbortSignal): Promise<OutboundResult> {
    if (closed) throw new Error('the HTTP client is closed');
    const url = new URL(request.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`unsupported URL scheme ${url.protocol} (only http: and https:)`);
    }
    const timeoutMs = integerOption('timeoutMs', request.timeoutMs, DEFAULT_REQUEST_TIMEOUT_MS);
    signal?.throwIfAborted();

    const headers = { ...request.headers };
    if (userAgent !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent')) {
      headers['user-agent'] = userAgent;
    }

    const started = performance.now();
    // One controller carries both the deadline and the caller's abort into undici, which then
    // destroys the socket whatever phase the exchange is in (connect queue, head or body).
    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(new DeadlineExceededError(timeoutMs)), timeoutMs);
    const onCallerAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });

    let status: number | null = null;
    let responseHeaders: Record<string, string> | null = null;
    let timeToFirstByteMs: number | null = null;
    const chunks: Buffer[] = [];
    let received = 0;
    let bodyTruncated = false;
    const result = (errorClass: ErrorClass | null, errorMessage: string | null): OutboundResult => ({
      status,
      headers: responseHeaders,
      body: Buffer.concat(chunks, received),
      bodyTruncated,
      durationMs: performance.now() - started,
      timeToFirstByteMs,
      errorClass,
      errorMessage,
    });

    try {
      const response = await undiciRequest(url, {
        dispatcher: agent,
        method: request.method,
        headers,
        body: request.body ?? undefined,
        signal: controller.signal,
        headersTimeout: timeoutMs + UNDICI_TIMEOUT_MARGIN_MS,
        bodyTimeout: timeoutMs + UNDICI_TIMEOUT_MARGIN_MS,
      });
      timeToFirstByteMs = performance.now() - started;
      status = response.statusCode;
      responseHeaders = flattenHeaders(response.headers);

      const body = response.body;
      // Leaving the loop early destroys the stream (undici then closes the socket rather than
      // draining the rest); that destroy reports an abort error nobody else is listening for.
      body.on('error', noop);
      for await (const chunk of body as AsyncIterable<Buffer>) {
        const room = maxBodyBytes - received;
        if (chunk.length > room) {
          if (room > 0) chunks.push(chunk.subarray(0, room));
          received += room;
          bodyTruncated = true;
          break;
        }
        chunks.push(chunk);
        received += chunk.length;
      }
      if (!bodyTruncated) {
        // undici hands a finished keep-alive socket back to its pool only on the next setImmediate
        // (client-h1 onMessageComplete). Answering before that would make a send that follows at
        // once see the connection busy and open a second one to the same origin.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return result(null, null);
    } catch (error) {
      const reason: unknown = controller.signal.reason;
      if (reason instanceof DeadlineExceededError) return result('timeout', reason.message);
      if (signal?.aborted) throw signal.reason;
      if (CALLER_ERROR_CODES.has(errorCode(error))) throw error;
      return result(classifyError(error), describeError(error));
    } finally {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    send,
    async close() {
      closed = true;
      await agent.close();
    },
  };
}
