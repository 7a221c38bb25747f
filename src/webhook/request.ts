// Builds the HTTP request of one delivery attempt (DESIGN.md, "The request that leaves Switchyard"):
// body by format or transform, the URL from the hook's path template, Standard Webhooks headers,
// receiver auth and the endpoint's static headers. No I/O and the timestamp is injected, so the
// dispatcher builds outside any transaction and tests pin every byte.
import jsonata from 'jsonata';
import { parseTemplate, type PrimitiveValue, type Template } from 'url-template';
import { signPayload } from './signing.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type PayloadFormat = 'STANDARD' | 'RAW' | 'CLOUDEVENTS' | 'CLOUDEVENTS_BINARY';
export type ReceiverAuth =
  | { type: 'NONE' }
  | { type: 'BASIC'; username: string; password: string }
  | { type: 'BEARER'; token: string }
  | { type: 'API_KEY'; headerName: string; key: string };

/** Everything one attempt's request is made from; the dispatcher assembles it from the claimed delivery. */
export interface RequestContext {
  event: {
    /** `msg_…`; sent as `webhook-id` (and CloudEvents `id`), stable across retries so receivers can de-duplicate */
    id: string;
    type: string;
    /** the parsed payload: input of the transform and of path templates */
    payload: unknown;
    /** the payload exactly as the producer sent it (JSON text); spliced into bodies without re-serialising */
    payloadJson: string;
    channels: string[];
    occurredAt: Date;
    createdAt: Date;
  };
  hook: {
    id: string;
    name: string;
    method: HttpMethod;
    /** RFC 6570 URI template appended to the endpoint url; null or '' sends to the endpoint url as is */
    path: string | null;
    format: PayloadFormat;
    /** JSONata expression whose result becomes the body (or the CloudEvents `data`); null or '' for none */
    transform: string | null;
    settings: Record<string, unknown>;
  };
  endpoint: {
    id: string;
    url: string;
    auth: ReceiverAuth;
    headers: Record<string, string>;
    /** valid signing secrets (`whsec_…` or their decoded key bytes), newest first; at least one */
    secrets: readonly (string | Buffer)[];
  };
  tenant: { id: string; name: string };
  deliveryId: string;
  /** unix seconds for `webhook-timestamp` (injected clock) */
  timestamp: number;
  /** e.g. `Switchyard/0.1.0` */
  userAgent: string;
}

/** The request to send, plus the copy of its headers that may be stored and shown. */
export interface BuiltRequest {
  method: HttpMethod;
  url: string;
  /** what is sent; lower-case names */
  headers: Record<string, string>;
  /** `headers` with credential values (authorization, cookie, the api-key header, webhook-signature) replaced by `[redacted]`; for the attempt log */
  redactedHeaders: Record<string, string>;
  /** the exact bytes sent and signed; null for GET/HEAD */
  body: Buffer | null;
  /** the same body as the text it was made from (what the attempt log stores) */
  bodyText: string | null;
}

/**
 * The hook's transform or path template cannot produce a request for this event. Deterministic for
 * the same hook and event (except a transform timeout), so retrying the same attempt will not help.
 * Never contains secrets; `message` is safe to store in the attempt log and show to the tenant.
 */
export class RequestBuildError extends Error {
  /** which part of the hook failed */
  readonly stage: 'transform' | 'path';
  /** JSONata error code (e.g. `S0202`, `T2001`, `D1012`) when the transform failed inside JSONata */
  readonly code: string | undefined;
  /** character offset in the transform source JSONata reported, when it did */
  readonly position: number | undefined;

  constructor(
    stage: 'transform' | 'path',
    message: string,
    details: { code?: string | undefined; position?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RequestBuildError';
    this.stage = stage;
    this.code = details.code;
    this.position = details.position;
  }
}

/**
 * CloudEvents `source` is `/switchyard/tenants/<tenantId>`: a relative URI-reference (allowed by the
 * spec) that names the producer-side context the event belongs to; `source` + `id` (the event id) is
 * unique per event and identical across retries and hooks, as CloudEvents de-duplication expects.
 */
export const CLOUDEVENTS_SOURCE_PREFIX = '/switchyard/tenants/';

/**
 * Wall-clock budget of one transform evaluation. JSONata checks it between evaluation steps, which
 * is what bounds an infinite loop; a single slow built-in call (a huge `$sort`, a pathological
 * regex) is not interrupted. The dispatcher's event loop is blocked while a transform runs, so the
 * budget is small: ordinary transforms take well under a millisecond.
 */
export const TRANSFORM_TIMEOUT_MS = 500;
/** JSONata evaluation depth limit against runaway recursion: about 650 levels of a simple non-tail-recursive function. */
export const TRANSFORM_MAX_DEPTH = 2000;
/** Longest sequence a transform may build: above any array a 1 MiB payload can hold, far below `[1..9999999]`. */
export const TRANSFORM_MAX_SEQUENCE = 1_000_000;
/** Largest serialised transform result: the body is stored with every attempt, so a transform must not inflate it unboundedly. */
export const MAX_TRANSFORM_BODY_BYTES = 2 * 1024 * 1024;

/** Compiled transforms / parsed path templates kept per source text; hooks are few, events many. */
const CACHE_LIMIT = 1000;
const REDACTED = '[redacted]';
const JSON_TYPE = 'application/json';
const CLOUDEVENTS_JSON_TYPE = 'application/cloudevents+json';
const CLOUDEVENTS_SPEC_VERSION = '1.0';

/**
 * Headers no static header may set: the signature scheme (webhook-*), the body framing the HTTP
 * client derives from the body (content-type, content-length, host), and hop-by-hop headers undici
 * refuses or that would let a tenant tamper with connection handling. Ignored silently because
 * they come from stored configuration: failing every attempt over one stray header helps nobody,
 * and the endpoint API is the place to refuse them.
 */
const PROTOCOL_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

/** Credentials that may arrive through static headers too (e.g. auth type NONE plus a hand-made Authorization). */
const ALWAYS_REDACTED = new Set(['authorization', 'cookie', 'webhook-signature']);

function isProtocolHeader(name: string): boolean {
  return name.startsWith('webhook-') || PROTOCOL_HEADERS.has(name);
}

/**
 * Builds the request of one delivery attempt.
 *
 * - Body by `hook.format` (`STANDARD` envelope, `RAW` payload bytes, CloudEvents structured or
 *   binary mode); the producer's `payloadJson` is spliced in verbatim, never re-serialised.
 * - `hook.transform` (JSONata) replaces the body; for the CloudEvents formats its result becomes `data`.
 *   An `undefined` result is an error (return `null` explicitly to send a JSON `null`).
 * - `hook.path` is expanded and appended to the endpoint url's path; the origin never changes.
 * - GET/HEAD carry no body and no content-type (the transform is not evaluated); the signature covers
 *   the empty body; CloudEvents formats then travel as `ce-*` headers only.
 *
 * Throws {@link RequestBuildError} when the transform or the path template fails for this event; any
 * other error (an invalid signing secret, no secret at all) is a broken invariant of the caller.
 */
export async function buildRequest(context: RequestContext): Promise<BuiltRequest> {
  const { event, hook, endpoint } = context;
  const hasBody = hook.method !== 'GET' && hook.method !== 'HEAD';
  const transform = hasBody && hook.transform ? hook.transform : null;
  // Built at most once and shared: the transform and the path template see the same view.
  let scope: TemplateScope | undefined;
  const getScope = (): TemplateScope => (scope ??= templateScope(context));

  const url = hook.path ? resolvePath(hook.path, endpoint.url, getScope()) : endpoint.url;

  let body: Buffer | null = null;
  let bodyText: string | null = null;
  let contentType: string | null = null;
  const isCloudEvents = hook.format === 'CLOUDEVENTS' || hook.format === 'CLOUDEVENTS_BINARY';
  // Structured mode has nowhere to put the event without a body, so GET/HEAD fall back to binary mode.
  const ceHeaders = hook.format === 'CLOUDEVENTS_BINARY' || (isCloudEvents && !hasBody);
  const source = isCloudEvents ? CLOUDEVENTS_SOURCE_PREFIX + encodeURIComponent(context.tenant.id) : '';

  if (hasBody) {
    const data = transform === null ? payloadText(event) : await runTransform(transform, getScope());
    let text: string;
    switch (hook.format) {
      case 'RAW':
      case 'CLOUDEVENTS_BINARY':
        text = data;
        contentType = JSON_TYPE;
        break;
      case 'CLOUDEVENTS':
        // Hand-assembled so the payload text is not parsed and re-serialised; every other member is JSON.stringify'd.
        text =
          `{"specversion":"${CLOUDEVENTS_SPEC_VERSION}","id":${JSON.stringify(event.id)},` +
          `"source":${JSON.stringify(source)},"type":${JSON.stringify(event.type)},` +
          `"time":"${event.occurredAt.toISOString()}","datacontenttype":"${JSON_TYPE}","data":${data}}`;
        contentType = CLOUDEVENTS_JSON_TYPE;
        break;
      default:
        // STANDARD, and whatever an older row might hold: the documented default format.
        text =
          transform === null
            ? `{"type":${JSON.stringify(event.type)},"timestamp":"${event.occurredAt.toISOString()}","data":${data}}`
            : data;
        contentType = JSON_TYPE;
    }
    body = Buffer.from(text, 'utf8');
    bodyText = text;
  }

  // A Map until the end: insertion order is kept and a name like `__proto__` stays an ordinary header.
  const headers = new Map<string, string>();
  headers.set('webhook-id', event.id);
  headers.set('webhook-timestamp', String(context.timestamp));
  headers.set(
    'webhook-signature',
    signPayload({ id: event.id, timestamp: context.timestamp, body: body ?? '', secrets: endpoint.secrets }),
  );
  if (contentType !== null) headers.set('content-type', contentType);
  headers.set('user-agent', context.userAgent);
  if (ceHeaders) {
    headers.set('ce-specversion', CLOUDEVENTS_SPEC_VERSION);
    headers.set('ce-id', ceHeaderValue(event.id));
    headers.set('ce-source', ceHeaderValue(source));
    headers.set('ce-type', ceHeaderValue(event.type));
    headers.set('ce-time', event.occurredAt.toISOString());
  }

  let apiKeyHeader: string | null = null;
  const auth = endpoint.auth;
  switch (auth.type) {
    case 'BASIC':
      headers.set('authorization', `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`);
      break;
    case 'BEARER':
      headers.set('authorization', `Bearer ${auth.token}`);
      break;
    case 'API_KEY': {
      const name = auth.headerName.toLowerCase();
      // The signature and framing headers win over a misconfigured key name: a missing key shows up as
      // the receiver's 401, while a clobbered signature or content-type would fail silently.
      if (!isProtocolHeader(name) && !headers.has(name)) {
        headers.set(name, auth.key);
        apiKeyHeader = name;
      }
      break;
    }
    case 'NONE':
      break;
  }

  // Everything set above is Switchyard's to decide (the receiver verifies it), except user-agent,
  // which some receivers' firewalls insist on and which carries no meaning for verification.
  const computed = new Set(headers.keys());
  computed.delete('user-agent');
  for (const [rawName, value] of Object.entries(endpoint.headers)) {
    const name = rawName.toLowerCase();
    if (isProtocolHeader(name) || computed.has(name)) continue;
    headers.set(name, value);
  }

  const sent: Record<string, string> = Object.fromEntries(headers);
  const redacted: Record<string, string> = Object.fromEntries(
    Array.from(headers, ([name, value]) => [
      name,
      ALWAYS_REDACTED.has(name) || name === apiKeyHeader ? REDACTED : value,
    ]),
  );
  return { method: hook.method, url, headers: sent, redactedHeaders: redacted, body, bodyText };
}

// ---------------------------------------------------------------------------------------------
// Shared view for transforms and path templates

/** What a transform and a path template see. Dates are ISO strings: JSONata has no Date type. */
interface TemplateScope {
  event: { id: string; type: string; channels: string[]; occurredAt: string; createdAt: string };
  data: unknown;
  settings: Record<string, unknown>;
  hook: { id: string; name: string };
  tenant: { id: string; name: string };
}

function templateScope(context: RequestContext): TemplateScope {
  const { event, hook, tenant } = context;
  return {
    event: {
      id: event.id,
      type: event.type,
      channels: event.channels,
      occurredAt: event.occurredAt.toISOString(),
      createdAt: event.createdAt.toISOString(),
    },
    data: event.payload,
    settings: hook.settings,
    hook: { id: hook.id, name: hook.name },
    tenant: { id: tenant.id, name: tenant.name },
  };
}

function payloadText(event: RequestContext['event']): string {
  // payloadJson is the source of truth (it keeps the producer's number precision); the fallback
  // only covers callers that built a context from a parsed payload alone, e.g. a hook test.
  if (event.payloadJson !== '') return event.payloadJson;
  return JSON.stringify(event.payload) ?? 'null';
}

// ---------------------------------------------------------------------------------------------
// Bounded caches

/** A Map that forgets its least recently used entry past `limit`: Map iteration order is insertion order. */
class LruCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly limit: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.entries.set(key, value);
    if (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Transform

interface JsonataFailure {
  message: string;
  code: string | undefined;
  position: number | undefined;
}

// A syntax error is cached too, so a broken hook on a busy event type does not re-parse per attempt.
type CompiledTransform = { ok: true; expression: jsonata.Expression } | { ok: false; failure: JsonataFailure };

const transforms = new LruCache<CompiledTransform>(CACHE_LIMIT);

/** JSONata throws plain objects `{ code, position, token, message }`, not Errors; host functions may throw Errors. */
function jsonataFailure(error: unknown): JsonataFailure {
  if (typeof error === 'object' && error !== null) {
    const { message, code, position } = error as { message?: unknown; code?: unknown; position?: unknown };
    return {
      message: typeof message === 'string' ? message : String(error),
      code: typeof code === 'string' ? code : undefined,
      position: typeof position === 'number' ? position : undefined,
    };
  }
  return { message: String(error), code: undefined, position: undefined };
}

function transformError(what: string, failure: JsonataFailure, cause?: unknown): RequestBuildError {
  const where = failure.position === undefined ? '' : ` at position ${failure.position}`;
  const code = failure.code === undefined ? '' : ` (${failure.code})`;
  return new RequestBuildError('transform', `transform ${what}${where}${code}: ${failure.message}`, {
    code: failure.code,
    position: failure.position,
    cause,
  });
}

function compileTransform(source: string): jsonata.Expression {
  let compiled = transforms.get(source);
  if (compiled === undefined) {
    try {
      compiled = {
        ok: true,
        expression: jsonata(source, {
          timeout: TRANSFORM_TIMEOUT_MS,
          stack: TRANSFORM_MAX_DEPTH,
          sequence: TRANSFORM_MAX_SEQUENCE,
        }),
      };
    } catch (error) {
      compiled = { ok: false, failure: jsonataFailure(error) };
    }
    transforms.set(source, compiled);
  }
  if (!compiled.ok) throw transformError('has a syntax error', compiled.failure);
  return compiled.expression;
}

/** Evaluates the transform and returns its result as JSON text. */
async function runTransform(source: string, scope: TemplateScope): Promise<string> {
  const expression = compileTransform(source);
  let result: unknown;
  try {
    result = await expression.evaluate(scope);
  } catch (error) {
    throw transformError('failed', jsonataFailure(error), error);
  }
  if (result === undefined) {
    // JSONata yields undefined when a path matches nothing, which is almost always a mapping bug:
    // sending `null` would mark the delivery succeeded with an empty body nobody asked for.
    throw new RequestBuildError(
      'transform',
      'transform produced no value (undefined: a path matched nothing); return null explicitly to send a JSON null body',
    );
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch (error) {
    // In practice a JSONata lambda: it carries its (circular) environment.
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    throw new RequestBuildError('transform', `transform result is not JSON (does it return a function?): ${reason}`, {
      cause: error,
    });
  }
  // Built-in functions serialise as JSONata's internal marker object, which no receiver wants; the
  // `_jsonata_` prefix is reserved in JSONata object keys, so the marker cannot come from data.
  if (text === undefined || text.includes('"_jsonata_function":true')) {
    throw new RequestBuildError('transform', 'transform result is not JSON (does it return a function?)');
  }
  // Length in UTF-16 units is at most the UTF-8 byte count, so the exact count is only needed near the limit.
  if (text.length * 3 > MAX_TRANSFORM_BODY_BYTES && Buffer.byteLength(text, 'utf8') > MAX_TRANSFORM_BODY_BYTES) {
    throw new RequestBuildError('transform', `transform result is larger than ${MAX_TRANSFORM_BODY_BYTES} bytes`);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Path template

interface TemplateVariable {
  /** dot path over the scope, e.g. `data.customer.id` */
  name: string;
  /** in a `{?…}`, `{&…}` or `{#…}` expression, where RFC 6570 omits an undefined variable harmlessly */
  optional: boolean;
}

interface ParsedPath {
  template: Template;
  variables: TemplateVariable[];
}

const paths = new LruCache<ParsedPath>(CACHE_LIMIT);

const EXPRESSION = /\{([^{}]+)\}/g;
const OPERATORS = '+#./;?&';
const OPTIONAL_OPERATORS = '?&#';
/** RFC 3986 scheme followed by ':' — an absolute URL, not a path. */
const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

function parsePath(source: string): ParsedPath {
  let parsed = paths.get(source);
  if (parsed === undefined) {
    const variables: TemplateVariable[] = [];
    // Mirrors url-template's own expression grammar, so we resolve exactly the names it will look up.
    for (const match of source.matchAll(EXPRESSION)) {
      let expression = match[1] ?? '';
      const operator = OPERATORS.includes(expression.charAt(0)) ? expression.charAt(0) : '';
      if (operator !== '') expression = expression.slice(1);
      for (const spec of expression.split(',')) {
        const name = /^[^:*]*/.exec(spec)?.[0] ?? '';
        if (name !== '') variables.push({ name, optional: operator !== '' && OPTIONAL_OPERATORS.includes(operator) });
      }
    }
    parsed = { template: parseTemplate(source), variables };
    paths.set(source, parsed);
  }
  return parsed;
}

function lookup(scope: TemplateScope, path: string): unknown {
  let current: unknown = scope;
  for (const segment of path.split('.')) {
    // Own properties only: `{data.constructor}` must not reach into prototypes.
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

type TemplateValue = PrimitiveValue | PrimitiveValue[] | Record<string, PrimitiveValue | PrimitiveValue[]>;

function isPrimitive(value: unknown): value is PrimitiveValue {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

/** A value url-template can expand as RFC 6570 intends (primitive, list, or flat associative array), else null. */
function templateValue(value: unknown): TemplateValue | null {
  if (isPrimitive(value)) return value;
  if (Array.isArray(value)) return value.every(isPrimitive) ? value : null;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.values(value);
    const flat = entries.every((entry) => isPrimitive(entry) || (Array.isArray(entry) && entry.every(isPrimitive)));
    return flat ? (value as Record<string, PrimitiveValue | PrimitiveValue[]>) : null;
  }
  return null;
}

function pathError(source: string, reason: string): RequestBuildError {
  return new RequestBuildError('path', `path template ${JSON.stringify(source)}: ${reason}`);
}

/**
 * Expands the hook's path template and appends it to the endpoint url's path (the endpoint url is a
 * directory: `https://x.test/hooks` + `/documents/{data.id}` → `https://x.test/hooks/documents/42`).
 * The endpoint's query comes first, then the template's (duplicates are kept); a fragment is dropped
 * since it is never sent. The request must stay on the endpoint's origin and under its path, so an
 * absolute or network-path reference and any `.`/`..` segment are refused.
 */
function resolvePath(source: string, endpointUrl: string, scope: TemplateScope): string {
  const { template, variables } = parsePath(source);
  const values: Record<string, TemplateValue> = {};
  for (const { name, optional } of variables) {
    const raw = lookup(scope, name);
    if (isEmpty(raw)) {
      // An empty `{data.id}` in `DELETE /documents/{data.id}` would address the whole collection.
      if (optional) continue;
      throw pathError(source, `variable "${name}" has no value for this event`);
    }
    const value = templateValue(raw);
    if (value === null) throw pathError(source, `variable "${name}" is a nested object or array, not a value`);
    values[name] = value;
  }

  let expanded = template.expand(values);
  const hash = expanded.indexOf('#');
  if (hash !== -1) expanded = expanded.slice(0, hash);
  const question = expanded.indexOf('?');
  const pathPart = question === -1 ? expanded : expanded.slice(0, question);
  const queryPart = question === -1 ? '' : expanded.slice(question + 1);

  // Values expanded with {var} are percent-encoded, so these can only come from the template's
  // literal text or a {+var} reserved expansion — still refused, the origin is not the hook's to change.
  if (HAS_SCHEME.test(pathPart) || pathPart.startsWith('//')) {
    throw pathError(source, 'expands to an absolute URL; a path may not change the endpoint\'s scheme, host or port');
  }
  for (const segment of pathPart.split('/')) {
    // WHATWG URL treats %2e as '.', so the encoded spellings would climb out of the endpoint path as well.
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') {
      throw pathError(source, 'expands to a "." or ".." segment, which would leave the endpoint\'s path');
    }
  }

  let base: URL;
  try {
    base = new URL(endpointUrl);
  } catch {
    throw pathError(source, 'the endpoint url is not a valid absolute URL');
  }
  const url = new URL(base.href);
  if (pathPart !== '') {
    url.pathname = `${base.pathname.replace(/\/+$/, '')}/${pathPart.replace(/^\//, '')}`;
  }
  const endpointQuery = base.search.slice(1);
  const query = endpointQuery !== '' && queryPart !== '' ? `${endpointQuery}&${queryPart}` : endpointQuery || queryPart;
  url.search = query === '' ? '' : `?${query}`;
  url.hash = '';
  if (url.origin !== base.origin) {
    throw pathError(source, 'would change the endpoint\'s origin');
  }
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// CloudEvents

/**
 * HTTP binding 3.1.3.2: header values percent-encode space, '"', '%' and anything outside printable
 * ASCII. Ids, type names and tenant ids are plain ASCII already, so this is almost always a no-op.
 */
function ceHeaderValue(value: string): string {
  if (!/[^\x21-\x7e]|["%]/.test(value)) return value;
  return Array.from(value, (char) =>
    /[^\x21-\x7e]|["%]/.test(char)
      ? Array.from(Buffer.from(char, 'utf8'), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('')
      : char,
  ).join('');
}
