// Endpoint input rules: every given field checked into column values, every problem collected
// with its field path, before the service writes anything.
import type { EndpointRow } from '../../db/schema.js';
import { parseJson, toJson } from '../../db/json.js';
import type { ProblemList } from '../../errors.js';
import type { Services } from '../../services.js';
import { isIpLiteral } from '../../webhook/address-policy.js';
import { GITHUB_SIGNATURE_HEADER, HTTP_CLIENT_HEADERS, SWITCHYARD_HEADERS } from '../../webhook/headers.js';
import { validateRetryPolicy, type RetryPolicy } from '../../webhook/schedule.js';
import { DEFAULT_SIGNATURE_SCHEMES, signatureSchemesProblem } from '../../webhook/signature-schemes.js';
import { ENDPOINT_AUTH_TYPES, storedAuth, type EndpointAuthType, type StoredAuth } from './endpoint.secrets.js';

export const MAX_URL_LENGTH = 2048;
export const MAX_DESCRIPTION_LENGTH = 2000;
export const MAX_METADATA_BYTES = 16 * 1024;
export const MAX_HEADERS = 50;
const MAX_HEADER_NAME_LENGTH = 256;
const MAX_HEADER_VALUE_LENGTH = 4096;
const MAX_USERNAME_LENGTH = 256;
const MAX_CREDENTIAL_LENGTH = 4096;
/**
 * Lower bound of an endpoint's own timeout. The upper bound is twice the server's request deadline
 * (SWITCHYARD_REQUEST_TIMEOUT_MS): a slow receiver may get more time than the default, but one
 * endpoint must not hold a dispatcher slot for arbitrarily long.
 */
export const MIN_TIMEOUT_MS = 100;
export const MAX_RATE_LIMIT_PER_SECOND = 10_000;
/** Rotated-out secrets kept valid at once, as Svix does: at most 10 old secrets. */
export const MAX_OLD_SECRETS = 10;
/** RFC 9110 `token`: what an HTTP field name may be made of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Printable ASCII, space and tab: no CR/LF (header injection) and nothing an HTTP client would reject. */
const HEADER_VALUE = /^[\t\x20-\x7E]*$/;
/** Control characters never belong in a credential; a Basic user name also may not hold ':' (RFC 7617). */
const CONTROL = /[\x00-\x1F\x7F]/;

/**
 * Header names an endpoint may not set itself: the request builder would silently drop them
 * (src/webhook/headers.ts), so refusing them here is where the user learns about it.
 */
function reservedHeaderProblem(lowerName: string): string | null {
  if (lowerName === 'authorization') return 'is reserved: use `auth` to authenticate to the receiver';
  if (lowerName.startsWith('webhook-')) return 'is reserved for the Standard Webhooks id, timestamp and signature';
  if (lowerName === GITHUB_SIGNATURE_HEADER) return 'is reserved for the GITHUB_SHA256 signature scheme';
  // CloudEvents binary mode sets these and they win over configured ones.
  if (lowerName.startsWith('ce-')) return 'is reserved for CloudEvents headers';
  if (HTTP_CLIENT_HEADERS.has(lowerName)) return 'is set by the HTTP client from the request itself';
  if (SWITCHYARD_HEADERS.has(lowerName)) return 'is set by Switchyard on every request it sends; use another header name';
  return null;
}

export interface EndpointAuthInput {
  type: EndpointAuthType;
  username?: string | null;
  password?: string | null;
  token?: string | null;
  headerName?: string | null;
  key?: string | null;
}

/** The changeable parts of an endpoint. On update, undefined keeps a field and null resets it to its default. */
export interface EndpointInput {
  /** null keeps it: an endpoint always has a URL */
  url?: string | null;
  description?: string | null;
  /** replaces the whole auth when given; null keeps it (give `{ type: NONE }` to remove it) */
  auth?: EndpointAuthInput | null;
  headers?: Record<string, unknown> | null;
  timeoutMs?: number | null;
  rateLimitPerSecond?: number | null;
  retryPolicy?: RetryPolicy | null;
  metadata?: Record<string, unknown> | null;
  /** which signatures requests carry (SignatureScheme names); null resets to V1 alone */
  signatureSchemes?: readonly string[] | null;
}

export interface CreateEndpointInput extends EndpointInput {
  /** required for an admin; a tenant token may omit it (or must name its own tenant) */
  tenantId?: string | null;
  url: string;
  /** a `whsec_…` secret of the user's own; generated when omitted */
  secret?: string | null;
}

export const isGiven = <T>(value: T | null | undefined): value is T => value !== undefined && value !== null;

function checkUrl(services: Services, problems: ProblemList, raw: string, path: string[]): string | null {
  if (raw.length > MAX_URL_LENGTH) {
    problems.add(path, `must be at most ${MAX_URL_LENGTH} characters`);
    return null;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.add(path, 'must be an absolute URL, e.g. https://example.com/webhooks');
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.add(path, 'must be an http(s) URL');
    return null;
  }
  const before = problems.problems.length;
  if (url.protocol === 'http:' && !services.config.allowHttp) {
    problems.add(path, 'must use https: plain http is not allowed on this server (SWITCHYARD_ALLOW_HTTP)');
  }
  if (url.username !== '' || url.password !== '') {
    problems.add(path, 'must not contain a user name or password: use `auth` instead');
  }
  if (url.hash !== '') problems.add(path, 'must not have a fragment (#…): it is never sent');
  // Host names are checked after DNS resolution, when sending; an IP literal can be judged now,
  // and refusing it here tells the user at once instead of failing every delivery.
  if (isIpLiteral(url.hostname)) {
    const address = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const verdict = services.addressPolicy.check(address);
    if (!verdict.allowed) problems.add(path, `is not reachable for webhooks: ${verdict.reason}`);
  }
  // Percent-encoding can lengthen what was given; the stored form is what gets requested.
  if (url.href.length > MAX_URL_LENGTH) problems.add(path, `must be at most ${MAX_URL_LENGTH} characters once normalised`);
  return problems.problems.length === before ? url.href : null;
}

function headerValueProblem(value: string, maxLength: number): string | null {
  if (value.length > maxLength) return `must be at most ${maxLength} characters`;
  if (!HEADER_VALUE.test(value)) return 'must be printable ASCII, without line breaks or control characters';
  return null;
}

function checkAuth(services: Services, problems: ProblemList, auth: EndpointAuthInput): StoredAuth {
  const path = (field: string) => ['input', 'auth', field];
  const needed: Record<EndpointAuthType, (keyof EndpointAuthInput)[]> = {
    NONE: [],
    BASIC: ['username', 'password'],
    BEARER: ['token'],
    API_KEY: ['headerName', 'key'],
  };
  const fields = needed[auth.type];
  if (!fields) {
    problems.add(path('type'), `must be one of ${ENDPOINT_AUTH_TYPES.join(', ')}`);
    return { auth_type: 'NONE', auth_secret: null, auth_header_name: null };
  }
  for (const field of ['username', 'password', 'token', 'headerName', 'key'] as const) {
    const value = auth[field];
    if (fields.includes(field)) {
      if (!isGiven(value) || value === '') problems.add(path(field), `is required for ${auth.type} auth`);
    } else if (isGiven(value)) {
      problems.add(path(field), `is not used by ${auth.type} auth`);
    }
  }
  const { username, password, token, headerName, key } = auth;
  if (auth.type === 'BASIC') {
    if (username) {
      if (username.length > MAX_USERNAME_LENGTH) problems.add(path('username'), `must be at most ${MAX_USERNAME_LENGTH} characters`);
      else if (username.includes(':') || CONTROL.test(username)) problems.add(path('username'), 'must not contain ":" or control characters');
    }
    if (password) {
      if (password.length > MAX_CREDENTIAL_LENGTH) problems.add(path('password'), `must be at most ${MAX_CREDENTIAL_LENGTH} characters`);
      else if (CONTROL.test(password)) problems.add(path('password'), 'must not contain control characters');
    }
  }
  if (auth.type === 'BEARER' && token) {
    const issue = headerValueProblem(token, MAX_CREDENTIAL_LENGTH);
    if (issue) problems.add(path('token'), issue);
  }
  if (auth.type === 'API_KEY') {
    if (headerName) {
      if (headerName.length > MAX_HEADER_NAME_LENGTH || !HEADER_NAME.test(headerName)) {
        problems.add(path('headerName'), 'must be a valid HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)');
      } else {
        const reserved = reservedHeaderProblem(headerName.toLowerCase());
        if (reserved) problems.add(path('headerName'), reserved);
      }
    }
    if (key) {
      const issue = headerValueProblem(key, MAX_CREDENTIAL_LENGTH);
      if (issue) problems.add(path('key'), issue);
    }
  }
  return storedAuth(services, auth);
}

/** Header names and values as endpoints and hooks may set them (reserved names refused); the clean map. */
export function checkHeaders(problems: ProblemList, headers: Record<string, unknown>): Record<string, string> {
  const path = ['input', 'headers'];
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) problems.add(path, `at most ${MAX_HEADERS} headers`);
  const seen = new Set<string>();
  const clean: [string, string][] = [];
  for (const [name, value] of entries) {
    const at = [...path, name];
    const lower = name.toLowerCase();
    if (name.length > MAX_HEADER_NAME_LENGTH || !HEADER_NAME.test(name)) {
      problems.add(at, 'is not a valid HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)');
    } else {
      const reserved = reservedHeaderProblem(lower);
      if (reserved) problems.add(at, reserved);
    }
    // Names are case-insensitive on the wire: two spellings would silently collapse into one.
    if (seen.has(lower)) problems.add(at, 'is given twice (header names are case-insensitive)');
    seen.add(lower);
    if (typeof value !== 'string') {
      problems.add(at, 'must be a string');
      continue;
    }
    const issue = headerValueProblem(value, MAX_HEADER_VALUE_LENGTH);
    if (issue) problems.add(at, issue);
    clean.push([name, value]);
  }
  // fromEntries defines own properties, so even a header named "__proto__" survives as data.
  return Object.fromEntries(clean);
}

/** The policy as stored: only the fields that are set; null when none is (the default schedule). */
export function storedRetryPolicy(policy: RetryPolicy): string | null {
  const set = Object.fromEntries(Object.entries(policy).filter(([, value]) => isGiven(value)));
  return Object.keys(set).length === 0 ? null : toJson(set);
}

/**
 * Validates the given fields of `input` into column values. Fields left undefined are not in the
 * result. Every problem is added to `problems`; the caller throws before writing anything.
 */
export function checkEndpointInput(services: Services, problems: ProblemList, input: EndpointInput): Partial<EndpointRow> {
  const changes: Partial<EndpointRow> = {};
  if (isGiven(input.url)) {
    const url = checkUrl(services, problems, input.url, ['input', 'url']);
    if (url !== null) changes.url = url;
  }
  if (input.description !== undefined) {
    const description = input.description ?? '';
    if (description.length > MAX_DESCRIPTION_LENGTH) {
      problems.add(['input', 'description'], `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
    }
    changes.description = description;
  }
  if (isGiven(input.auth)) Object.assign(changes, checkAuth(services, problems, input.auth));
  if (input.headers !== undefined) changes.headers = toJson(checkHeaders(problems, input.headers ?? {}));
  if (input.timeoutMs !== undefined) {
    const max = services.config.requestTimeoutMs * 2;
    if (input.timeoutMs !== null && (!Number.isInteger(input.timeoutMs) || input.timeoutMs < MIN_TIMEOUT_MS || input.timeoutMs > max)) {
      problems.add(['input', 'timeoutMs'], `must be an integer between ${MIN_TIMEOUT_MS} and ${max} (twice the server's request timeout)`);
    }
    changes.timeout_ms = input.timeoutMs;
  }
  if (input.rateLimitPerSecond !== undefined) {
    const limit = input.rateLimitPerSecond;
    if (limit !== null && (!Number.isInteger(limit) || limit < 1 || limit > MAX_RATE_LIMIT_PER_SECOND)) {
      problems.add(['input', 'rateLimitPerSecond'], `must be an integer between 1 and ${MAX_RATE_LIMIT_PER_SECOND}`);
    }
    changes.rate_limit_per_second = limit;
  }
  if (input.retryPolicy !== undefined) {
    if (input.retryPolicy === null) {
      changes.retry_policy = null;
    } else {
      problems.addAll(['input', 'retryPolicy'], validateRetryPolicy(input.retryPolicy));
      changes.retry_policy = storedRetryPolicy(input.retryPolicy);
    }
  }
  if (input.metadata !== undefined) {
    const metadata = toJson(input.metadata ?? {});
    if (Buffer.byteLength(metadata, 'utf8') > MAX_METADATA_BYTES) {
      problems.add(['input', 'metadata'], `must be at most ${MAX_METADATA_BYTES} bytes as JSON`);
    }
    changes.metadata = metadata;
  }
  if (input.signatureSchemes !== undefined) {
    const schemes = input.signatureSchemes ?? DEFAULT_SIGNATURE_SCHEMES;
    const issue = signatureSchemesProblem(schemes);
    if (issue) problems.add(['input', 'signatureSchemes'], issue);
    changes.signature_schemes = toJson(schemes);
  }
  return changes;
}

/** An API key header that a static header of the same name would fight with. */
export function checkHeaderClash(problems: ProblemList, row: EndpointRow, input: EndpointInput): void {
  if (row.auth_type !== 'API_KEY' || row.auth_header_name === null) return;
  const keyHeader = row.auth_header_name.toLowerCase();
  const clash = Object.keys(parseJson<Record<string, string>>(row.headers)).find((name) => name.toLowerCase() === keyHeader);
  if (clash === undefined) return;
  if (input.headers !== undefined) problems.add(['input', 'headers', clash], 'is the header of the API key auth');
  else problems.add(['input', 'auth', 'headerName'], `is also a static header (${clash})`);
}

