// The transports behind the generated methods: queries and mutations as JSON POSTs over `fetch`,
// subscriptions over graphql-ws (one lazily opened WebSocket per client, shared by every subscription).
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws/client';
import { type GraphQLErrorEntry, SwitchyardGraphQLError, SwitchyardHttpError, SwitchyardNetworkError } from './errors.js';

/** A token, or a function returning one: called before every request and every WebSocket (re)connect. */
export type TokenSource = string | (() => string | Promise<string>);

/** Options of one query or mutation. */
export interface RequestOptions {
  /** Aborts the request; the promise then rejects with the signal's reason, not a SwitchyardError. */
  signal?: AbortSignal;
  /** Extra headers for this request only. */
  headers?: Record<string, string>;
}

/** Options of one subscription. */
export interface SubscribeOptions {
  /** Ends the subscription: the server is told to stop and the iteration ends normally. */
  signal?: AbortSignal;
}

/**
 * A live subscription: iterate it with `for await`. It starts at once (before the first `next()`),
 * and ends when the loop is left (`break`, `return`, a throw), when `signal` aborts, or when the server
 * completes it. Transport failures and GraphQL errors are thrown from the loop as SwitchyardErrors.
 */
export interface SwitchyardSubscription<T> extends AsyncIterableIterator<T> {
  /** Ends the subscription; the same as leaving the loop. */
  return(): Promise<IteratorResult<T, undefined>>;
}

export interface TransportOptions {
  url: string;
  token: TokenSource;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  wsUrl?: string;
  webSocketImpl?: unknown;
}

/** graphql-ws close codes for a refused `connection_init`: Switchyard refuses only unknown, expired or revoked tokens. */
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_FORBIDDEN = 4403;
/** Preferred media type of GraphQL over HTTP; plain JSON is accepted from servers that only speak that. */
const ACCEPT = 'application/graphql-response+json, application/json;q=0.9';

/** Apollo's persisted-query extension, which Switchyard reads for its trusted documents. */
function persistedQuery(sha256Hash: string) {
  return { persistedQuery: { version: 1, sha256Hash } };
}

export interface Transport {
  /** With `persistedId`, the id is sent in place of the document (`query` still names the operation). */
  execute<R>(query: string, variables: unknown, options?: RequestOptions, persistedId?: string): Promise<R>;
  subscribe<R>(query: string, variables: unknown, options?: SubscribeOptions, persistedId?: string): SwitchyardSubscription<R>;
  close(): Promise<void>;
}

export function createTransport(options: TransportOptions): Transport {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('no fetch implementation: pass `fetch` to createClient');
  const authorization = async () => `Bearer ${typeof options.token === 'function' ? await options.token() : options.token}`;
  let ws: WsClient | null = null;

  async function execute<R>(query: string, variables: unknown, requestOptions: RequestOptions = {}, persistedId?: string): Promise<R> {
    const { signal } = requestOptions;
    // Outside the try: a failing token function is the caller's error, not the network's.
    const token = await authorization();
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(options.url, {
        method: 'POST',
        headers: {
          ...options.headers,
          ...requestOptions.headers,
          accept: ACCEPT,
          'content-type': 'application/json',
          authorization: token,
        },
        body: JSON.stringify({
          ...(persistedId ? { extensions: persistedQuery(persistedId) } : { query }),
          variables: variables ?? {},
          operationName: operationOf(query).name,
        }),
        ...(signal ? { signal } : {}),
      });
      text = await response.text();
    } catch (error) {
      // The caller's own abort is not a network failure: let it surface as the caller made it.
      if (signal?.aborted) throw signal.reason;
      throw new SwitchyardNetworkError(`request to ${options.url} failed: ${describe(error)}`, { cause: error });
    }
    const body = parseJson(text);
    // GraphQL errors win over the status: a 401 UNAUTHENTICATED is more useful as its code than as "401".
    if (isResult(body) && Array.isArray(body.errors) && body.errors.length > 0) {
      throw new SwitchyardGraphQLError(body.errors, { status: response.status, data: body.data });
    }
    if (!response.ok) throw new SwitchyardHttpError(response.status, text, `HTTP ${response.status} from ${options.url}`);
    if (!isResult(body) || body.data === null || typeof body.data !== 'object') {
      throw new SwitchyardHttpError(response.status, text, `not a GraphQL result from ${options.url}`);
    }
    return body.data as R;
  }

  function wsClient(): WsClient {
    if (ws) return ws;
    const webSocketImpl = options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket;
    if (!webSocketImpl) {
      throw new TypeError("no WebSocket implementation: pass `webSocketImpl` (e.g. `import WebSocket from 'ws'`) on Node < 22");
    }
    ws = createWsClient({
      url: options.wsUrl ?? toWebSocketUrl(options.url),
      webSocketImpl,
      // Lazy: connects on the first subscription and closes after the last one ends.
      lazy: true,
      connectionParams: async () => ({ authorization: await authorization() }),
      // graphql-ws retries a refused connection (4403); the same static token would only be refused
      // again, after backoff. A token function may return a fresh one, so that case keeps retrying.
      shouldRetry: (event) =>
        isCloseEvent(event) && (event.code !== CLOSE_FORBIDDEN || typeof options.token === 'function'),
    });
    return ws;
  }

  function subscribe<R>(query: string, variables: unknown, subscribeOptions: SubscribeOptions = {}, persistedId?: string): SwitchyardSubscription<R> {
    const payload = {
      // graphql-ws requires a string `query`; an empty one tells Switchyard to look the id up.
      ...(persistedId ? { query: '', extensions: persistedQuery(persistedId) } : { query }),
      variables: (variables ?? {}) as Record<string, unknown>,
      operationName: operationOf(query).name,
    };
    return createSubscription<R>((sink) => wsClient().subscribe<R>(payload, sink), subscribeOptions.signal);
  }

  return {
    execute,
    subscribe,
    async close() {
      const client = ws;
      ws = null;
      await client?.dispose();
    },
  };
}

interface Sink<R> {
  next(value: { data?: R | null; errors?: readonly GraphQLErrorEntry[] }): void;
  error(error: unknown): void;
  complete(): void;
}

/** Turns graphql-ws's push-based sink into a pull-based async iterator with a buffer in between. */
function createSubscription<R>(start: (sink: Sink<R>) => () => void, signal: AbortSignal | undefined): SwitchyardSubscription<R> {
  const buffer: R[] = [];
  const waiting: { resolve: (result: IteratorResult<R, undefined>) => void; reject: (error: unknown) => void }[] = [];
  let failure: unknown = null;
  let done = false;
  let unsubscribe: (() => void) | null = null;

  const finish = (error: unknown = null) => {
    if (done) return;
    done = true;
    failure = error;
    signal?.removeEventListener('abort', onAbort);
    const stop = unsubscribe;
    unsubscribe = null;
    stop?.();
    for (const waiter of waiting.splice(0)) {
      if (error) waiter.reject(error);
      else waiter.resolve({ done: true, value: undefined });
    }
  };
  const onAbort = () => finish();

  const push = (value: R) => {
    const waiter = waiting.shift();
    if (waiter) waiter.resolve({ done: false, value });
    else buffer.push(value);
  };

  const iterator: SwitchyardSubscription<R> = {
    next() {
      if (buffer.length > 0) return Promise.resolve({ done: false, value: buffer.shift() as R });
      if (done) {
        if (failure) {
          const error = failure;
          failure = null;
          return Promise.reject(error);
        }
        return Promise.resolve({ done: true, value: undefined });
      }
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    async return() {
      buffer.length = 0;
      finish();
      failure = null;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };

  if (signal?.aborted) {
    done = true;
    return iterator;
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    unsubscribe = start({
      next(result) {
        if (done) return;
        if (result.errors && result.errors.length > 0) finish(new SwitchyardGraphQLError(result.errors, { data: result.data }));
        else if (result.data) push(result.data);
      },
      error: (error) => finish(toSwitchyardError(error)),
      complete: () => finish(),
    });
  } catch (error) {
    finish(error);
  }
  // graphql-ws may report synchronously, before `unsubscribe` was assigned.
  if (done && unsubscribe) {
    const stop: () => void = unsubscribe;
    unsubscribe = null;
    stop();
  }
  return iterator;
}

/** What graphql-ws hands its sink's `error`: GraphQL errors, a CloseEvent, or an Error. */
function toSwitchyardError(error: unknown): Error {
  if (Array.isArray(error)) return new SwitchyardGraphQLError(error as GraphQLErrorEntry[]);
  if (isCloseEvent(error)) {
    if (error.code === CLOSE_UNAUTHORIZED || error.code === CLOSE_FORBIDDEN) {
      // The code an HTTP request with the same token gets (401), so callers handle both alike.
      // Missing scopes are not this: they arrive per subscription as GraphQL errors (FORBIDDEN).
      return new SwitchyardGraphQLError([
        {
          message: `the server refused the WebSocket connection (${error.code}${error.reason ? ` ${error.reason}` : ''}): check the token`,
          extensions: { code: 'UNAUTHENTICATED', closeCode: error.code },
        },
      ]);
    }
    return new SwitchyardNetworkError(`WebSocket closed (${error.code}${error.reason ? `: ${error.reason}` : ''})`, {
      closeCode: error.code,
    });
  }
  if (error instanceof Error) return new SwitchyardNetworkError(`WebSocket failed: ${error.message}`, { cause: error });
  return new SwitchyardNetworkError('WebSocket failed', { cause: error });
}

const OPERATION = /^\s*(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/;
const operations = new Map<string, { kind: 'query' | 'mutation' | 'subscription'; name: string | undefined }>();

/** The kind and name of a document's first operation (the generated documents start with it). */
export function operationOf(query: string): { kind: 'query' | 'mutation' | 'subscription'; name: string | undefined } {
  let found = operations.get(query);
  if (!found) {
    const match = OPERATION.exec(query);
    found = { kind: (match?.[1] as 'query' | 'mutation' | 'subscription' | undefined) ?? 'query', name: match?.[2] };
    operations.set(query, found);
  }
  return found;
}

/** `http(s)://host/graphql` → `ws(s)://host/graphql`: graphql-ws is served on the same port and path. */
export function toWebSocketUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  return parsed.toString();
}

function isResult(body: unknown): body is { data?: unknown; errors?: GraphQLErrorEntry[] } {
  return typeof body === 'object' && body !== null && ('data' in body || 'errors' in body);
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number' && 'reason' in value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
