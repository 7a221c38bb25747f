// What the dispatcher sends attempts through: build the request of one attempt (format, transform,
// path, auth, signature) from the stored rows, exchange it, and hand back what the attempt log
// stores. The exchange runs wherever the HttpClient runs it (on this thread, or on the HTTP thread
// of src/dispatch/http-thread.ts, which also turns the response into the stored text there).
import { parseJson } from '../db/json.js';
import type { HttpClient, OutboundRequest, OutboundResult } from './http-exchange.js';
import { privateKeyObject } from '../webhook/ed25519-signing.js';
import { buildRequest, type BodyTemplate, type HttpMethod, type RequestContext, type SignatureScheme } from '../webhook/request.js';

/**
 * A hook as requests are built from it. `ref` names this version (id and updated_at): the same ref
 * always comes with the same fields, so a deliverer parses (and the HTTP thread is sent) each once.
 */
export interface HookSpec extends Omit<RequestContext['hook'], 'settings' | 'template' | 'secrets' | 'headers'> {
  ref: string;
  /** JSON text, as stored */
  settings: string;
  /** JSON text of the decrypted secrets ('{}' for none) */
  secrets: string;
  /** JSON text of the hook's header templates, as stored */
  headers: string;
  /** JSON text of the body template, as stored; null for none */
  template: string | null;
}

/** An endpoint with its decrypted credentials, as requests are built from it; `ref` as for HookSpec (a reload of the credentials gets a new one). */
export interface EndpointSpec extends Omit<RequestContext['endpoint'], 'headers' | 'secrets' | 'signingKeys' | 'signatureSchemes' | 'bodyHmacKey'> {
  ref: string;
  /** JSON text, as stored */
  headers: string;
  /** valid signing keys, newest first (RequestContext.endpoint.secrets); plain bytes once they have crossed threads */
  secrets: readonly (string | Uint8Array)[];
  signatureSchemes: readonly SignatureScheme[];
  /** ed25519 private seeds, newest first (bytes, not KeyObjects, so a spec is plain data wherever it goes) */
  signingKeys: readonly Uint8Array[];
  /** RequestContext.endpoint.bodyHmacKey; null unless GITHUB_SHA256 is chosen */
  bodyHmacKey: Uint8Array | null;
}

/** What one attempt's request is made from, as the dispatcher has it: the stored rows' text, not yet parsed. */
export interface AttemptInput {
  event: { id: string; type: string; payload: string; channels: string; occurred_at: number; created_at: number };
  hook: HookSpec;
  endpoint: EndpointSpec;
  tenant: { id: string; name: string };
  deliveryId: string;
  /** unix seconds for `webhook-timestamp` (the dispatcher's clock) */
  timestamp: number;
  userAgent: string;
  /** W3C trace context the request carries; null for none */
  traceparent: string | null;
  /** RequestContext.captures; null for none */
  captures: Record<string, unknown> | null;
}

/** Parsed hook and endpoint parts by ref; past this many refs they are all dropped and parsed again. */
const MAX_CACHED_SPECS = 4_096;

/** Makes RequestContexts from AttemptInputs, parsing each hook's and endpoint's stored JSON once per ref. */
export function createContextMaker(): (input: AttemptInput) => RequestContext {
  const hooks = new Map<string, RequestContext['hook']>();
  const endpoints = new Map<string, RequestContext['endpoint']>();
  return (input) => {
    if (hooks.size + endpoints.size > MAX_CACHED_SPECS) {
      hooks.clear();
      endpoints.clear();
    }
    let hook = hooks.get(input.hook.ref);
    if (hook === undefined) {
      const { id, name, method, path, format, transform, template, settings, secrets, headers } = input.hook;
      hook = {
        id,
        name,
        method,
        path,
        format,
        transform,
        template: template === null ? null : parseJson<BodyTemplate>(template),
        settings: parseJson<Record<string, unknown>>(settings),
        secrets: parseJson<Record<string, unknown>>(secrets),
        headers: parseJson<Record<string, string>>(headers),
      };
      hooks.set(input.hook.ref, hook);
    }
    let endpoint = endpoints.get(input.endpoint.ref);
    if (endpoint === undefined) {
      const { id, url, headers, auth, secrets, signatureSchemes, signingKeys, bodyHmacKey } = input.endpoint;
      endpoint = {
        id,
        url,
        auth,
        headers: parseJson<Record<string, string>>(headers),
        // a key that crossed from another thread arrives as a plain Uint8Array
        secrets: secrets.map((secret) => (typeof secret === 'string' || Buffer.isBuffer(secret) ? secret : Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength))),
        signatureSchemes,
        signingKeys: signingKeys.map(privateKeyObject),
        bodyHmacKey: bodyHmacKey === null ? null : Buffer.from(bodyHmacKey),
      };
      endpoints.set(input.endpoint.ref, endpoint);
    }
    const { event } = input;
    let parsed: unknown;
    let isParsed = false;
    return {
      event: {
        id: event.id,
        type: event.type,
        // parsed only if a transform or a path template reads it: most requests splice the text
        get payload() {
          if (!isParsed) {
            parsed = parseJson(event.payload);
            isParsed = true;
          }
          return parsed;
        },
        payloadJson: event.payload,
        channels: parseJson<string[]>(event.channels),
        occurredAt: new Date(event.occurred_at),
        createdAt: new Date(event.created_at),
      },
      hook,
      endpoint,
      tenant: input.tenant,
      deliveryId: input.deliveryId,
      timestamp: input.timestamp,
      userAgent: input.userAgent,
      traceparent: input.traceparent,
      captures: input.captures,
    };
  };
}

/** The request as it is stored in the attempt log. */
export interface SentRequest {
  method: HttpMethod;
  url: string;
  /** JSON of the headers with credential values replaced by `[redacted]` (BuiltRequest.redactedHeaders) */
  redactedHeadersJson: string;
  /** the exact body sent and signed, as text; null for GET/HEAD */
  body: string | null;
}

/**
 * The exchange as the attempt log stores it: OutboundResult with the header map and body already
 * turned into the text that is written (on the HTTP thread, off the one that writes it).
 */
export interface StoredResponse {
  status: number | null;
  errorClass: OutboundResult['errorClass'];
  errorMessage: string | null;
  durationMs: number;
  waitedMs: number;
  /** JSON of OutboundResult.headers; null when no response head arrived */
  headersJson: string | null;
  /** the `retry-after` header, the one the retry schedule reads */
  retryAfter: string | null;
  /** UTF-8 text when it is, base64 otherwise (binary, cut mid-character, or NUL) */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  bodyTruncated: boolean;
}

export interface Delivered {
  request: SentRequest;
  response: StoredResponse;
}

/** An HttpClient that can also answer with the response as stored, made where the exchange ran. */
export interface StoringHttpClient extends HttpClient {
  /** send(), answered with storedResponse(result); `bodyText`, when given, is `request.body` as text (cheaper to pass on than bytes) */
  sendAndStore(request: OutboundRequest, signal?: AbortSignal, bodyText?: string | null): Promise<StoredResponse>;
  /** resolves once the client can send at once */
  readonly ready: Promise<void>;
}

const RESPONSE_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A response body as stored: UTF-8 text when it is, base64 otherwise (binary, cut mid-character, or NUL). */
export function encodeResponseBody(body: Uint8Array): { text: string; encoding: 'utf8' | 'base64' } {
  if (!body.includes(0)) {
    try {
      return { text: RESPONSE_UTF8.decode(body), encoding: 'utf8' };
    } catch {
      // not valid UTF-8: fall through to base64
    }
  }
  return { text: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'), encoding: 'base64' };
}

export function storedResponse(result: OutboundResult): StoredResponse {
  const body = encodeResponseBody(result.body);
  return {
    status: result.status,
    errorClass: result.errorClass,
    errorMessage: result.errorMessage,
    durationMs: result.durationMs,
    waitedMs: result.waitedMs,
    headersJson: result.headers === null ? null : JSON.stringify(result.headers),
    retryAfter: result.headers?.['retry-after'] ?? null,
    body: body.text,
    bodyEncoding: body.encoding,
    bodyTruncated: result.bodyTruncated,
  };
}

export interface DeliverOptions {
  /** deadline over the whole exchange (OutboundRequest.timeoutMs) */
  timeoutMs: number;
  /** requests of one key count together against the client's per-key concurrency (the endpoint id) */
  key: string;
  /** built now, sent once this resolves (Job.sendAfter); a rejection is thrown as it is, nothing sent */
  sendAfter?: Promise<void> | null;
}

export interface Deliverer {
  /**
   * Builds the attempt's request from `input` and sends it; every network-level outcome resolves
   * (OutboundResult.errorClass). Rejects with a RequestBuildError when the hook's transform or path
   * cannot make a request for this event, with `signal.reason` once aborted, and with another Error
   * for what is nobody's expected failure (a malformed stored secret, a closed client).
   */
  deliver(input: AttemptInput, options: DeliverOptions, signal?: AbortSignal): Promise<Delivered>;
  /** Resolves once the deliverer can send at once (the HTTP thread has loaded its code). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** Builds on this thread and sends through `http`. */
export function createDeliverer(http: HttpClient | StoringHttpClient): Deliverer {
  const contextOf = createContextMaker();
  const storing = 'sendAndStore' in http ? http : null;
  return {
    async deliver(input, options, signal) {
      const built = await buildRequest(contextOf(input));
      const outbound: OutboundRequest = {
        method: built.method,
        url: built.url,
        headers: built.headers,
        body: built.body,
        timeoutMs: options.timeoutMs,
        key: options.key,
      };
      if (options.sendAfter) await options.sendAfter;
      const response = storing ? storing.sendAndStore(outbound, signal, built.bodyText) : http.send(outbound, signal).then(storedResponse);
      // what the attempt log keeps of the request, made while it is on its way
      const request = { method: built.method, url: built.loggedUrl, redactedHeadersJson: JSON.stringify(built.redactedHeaders), body: built.loggedBodyText };
      return { request, response: await response };
    },
    ready: storing?.ready ?? Promise.resolve(),
    close: () => http.close(),
  };
}
