// Endpoints: where a tenant's webhooks go and how (DESIGN.md "Domain"). Every input problem is
// collected before anything is written; credentials and signing secrets are encrypted at rest with
// services.cipher and are write-only in the API (a signing secret is shown once).
import type { EndpointRow, EndpointSecretRow } from '../../db/schema.js';
import { canSee, targetTenant, tenantFilter, type Actor } from '../../auth/actor.js';
import { newId } from '../../db/ids.js';
import { parseJson, toJson } from '../../db/json.js';
import type { PageArgs } from '../../db/pagination.js';
import { isIpLiteral } from '../../webhook/address-policy.js';
import type { ReceiverAuth } from '../../webhook/request.js';
import { validateRetryPolicy, type RetryPolicy } from '../../webhook/schedule.js';
import { generateSecret, secretKey } from '../../webhook/signing.js';
import { ConflictError, NotFoundError, ProblemList, ValidationError } from '../../errors.js';
import type { Services } from '../../services.js';
import { findTenantById } from '../tenants/tenant.repository.js';
import { deleteEndpointRow, deleteExpiredSecrets, expireSecrets, findCurrentSecret, findEndpointById, findValidSecrets, insertEndpoint, insertSecret, listEndpoints, markSecretRevealed, updateEndpointRow } from './endpoint.repository.js';

export const ENDPOINT_AUTH_TYPES = ['NONE', 'BASIC', 'BEARER', 'API_KEY'] as const;
export type EndpointAuthType = (typeof ENDPOINT_AUTH_TYPES)[number];

/** MANUAL: a user's disableEndpoint; FAILING: failing continuously too long; GONE: the receiver answered 410. */
export const ENDPOINT_DISABLED_REASONS = ['MANUAL', 'FAILING', 'GONE'] as const;
export type EndpointDisabledReason = (typeof ENDPOINT_DISABLED_REASONS)[number];

export const MAX_URL_LENGTH = 2048;
export const MAX_DESCRIPTION_LENGTH = 2000;
export const MAX_METADATA_BYTES = 16 * 1024;
export const MAX_HEADERS = 50;
const MAX_HEADER_NAME_LENGTH = 256;
const MAX_HEADER_VALUE_LENGTH = 4096;
const MAX_USERNAME_LENGTH = 256;
const MAX_CREDENTIAL_LENGTH = 4096;
const MAX_DISABLED_MESSAGE_LENGTH = 1000;
/**
 * Lower bound of an endpoint's own timeout. The upper bound is twice the server's request deadline
 * (SWITCHYARD_REQUEST_TIMEOUT_MS): a slow receiver may get more time than the default, but one
 * endpoint must not hold a dispatcher slot for arbitrarily long.
 */
export const MIN_TIMEOUT_MS = 100;
export const MAX_RATE_LIMIT_PER_SECOND = 10_000;
/** Rotated-out secrets kept valid at once (DESIGN.md defaults: at most 10 old secrets). */
export const MAX_OLD_SECRETS = 10;
/** Standard Webhooks asks for 24..64 bytes of key material. */
const SECRET_MIN_BYTES = 24;
const SECRET_MAX_BYTES = 64;

/** RFC 9110 `token`: what an HTTP field name may be made of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Printable ASCII, space and tab: no CR/LF (header injection) and nothing an HTTP client would reject. */
const HEADER_VALUE = /^[\t\x20-\x7E]*$/;
/** Control characters never belong in a credential; a Basic user name also may not hold ':' (RFC 7617). */
const CONTROL = /[\x00-\x1F\x7F]/;

/**
 * Header names an endpoint may not set itself. The request builder would silently drop them
 * (src/dispatch/request.ts), so refusing them here is where the user learns about it.
 */
const CLIENT_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

function reservedHeaderProblem(lowerName: string, forApiKey: boolean): string | null {
  if (lowerName === 'authorization') return 'is reserved: use `auth` to authenticate to the receiver';
  if (lowerName.startsWith('webhook-')) return 'is reserved for the Standard Webhooks id, timestamp and signature';
  // CloudEvents binary mode sets these and they win over configured ones.
  if (lowerName.startsWith('ce-')) return 'is reserved for CloudEvents headers';
  if (CLIENT_HEADERS.has(lowerName)) return 'is set by the HTTP client from the request itself';
  // A static header may override user-agent on purpose; the auth header is applied before static
  // headers and never replaces user-agent, so an API key there would never be sent.
  if (forApiKey && lowerName === 'user-agent') return 'is set by Switchyard; use another header name';
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
}

export interface CreateEndpointInput extends EndpointInput {
  /** required for an admin; a tenant token may omit it (or must name its own tenant) */
  tenantId?: string | null;
  url: string;
  /** a `whsec_…` secret of the user's own; generated when omitted */
  secret?: string | null;
}

/** What the API shows of an endpoint's auth: never a password, token or key. */
export interface EndpointAuthView {
  type: EndpointAuthType;
  username: string | null;
  headerName: string | null;
}

// Storage of the receiver credentials: `auth_type` is plain; `auth_secret` is the cipher text of a
// JSON object with the credentials of that type — BASIC {username, password}, BEARER {token},
// API_KEY {key}. The API_KEY header name is not a secret and lives in `auth_header_name` in plain.
// The BASIC user name is kept inside the encrypted JSON rather than in a misnamed plain column;
// showing it costs one decryption, and it is often half of the credential anyway.
type StoredCredentials = { username?: string; password?: string; token?: string; key?: string };

interface StoredAuth {
  auth_type: EndpointAuthType;
  auth_secret: string | null;
  auth_header_name: string | null;
}

const isGiven = <T>(value: T | null | undefined): value is T => value !== undefined && value !== null;

// ---------------------------------------------------------------------------------------------
// Validation

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
        const reserved = reservedHeaderProblem(headerName.toLowerCase(), true);
        if (reserved) problems.add(path('headerName'), reserved);
      }
    }
    if (key) {
      const issue = headerValueProblem(key, MAX_CREDENTIAL_LENGTH);
      if (issue) problems.add(path('key'), issue);
    }
  }
  const encrypt = (credentials: StoredCredentials) => services.cipher.encrypt(toJson(credentials));
  switch (auth.type) {
    case 'BASIC':
      return { auth_type: 'BASIC', auth_secret: encrypt({ username: username ?? '', password: password ?? '' }), auth_header_name: null };
    case 'BEARER':
      return { auth_type: 'BEARER', auth_secret: encrypt({ token: token ?? '' }), auth_header_name: null };
    case 'API_KEY':
      return { auth_type: 'API_KEY', auth_secret: encrypt({ key: key ?? '' }), auth_header_name: headerName ?? null };
    default:
      return { auth_type: 'NONE', auth_secret: null, auth_header_name: null };
  }
}

function checkHeaders(problems: ProblemList, headers: Record<string, unknown>): Record<string, string> {
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
      const reserved = reservedHeaderProblem(lower, false);
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
function storedRetryPolicy(policy: RetryPolicy): string | null {
  const set = Object.fromEntries(Object.entries(policy).filter(([, value]) => isGiven(value)));
  return Object.keys(set).length === 0 ? null : toJson(set);
}

function secretProblem(secret: string): string | null {
  let key: Buffer;
  try {
    key = secretKey(secret);
  } catch {
    // secretKey's message is safe too, but one message says what a valid secret looks like.
    return `must be "whsec_" followed by the base64 of ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES} random bytes`;
  }
  if (key.length < SECRET_MIN_BYTES || key.length > SECRET_MAX_BYTES) {
    return `must encode ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES} bytes of key material (this one has ${key.length})`;
  }
  return null;
}

/**
 * Validates the given fields of `input` into column values. Fields left undefined are not in the
 * result. Every problem is added to `problems`; the caller throws before writing anything.
 */
function checkEndpointInput(services: Services, problems: ProblemList, input: EndpointInput): Partial<EndpointRow> {
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
  return changes;
}

/** An API key header that a static header of the same name would fight with. */
function checkHeaderClash(problems: ProblemList, row: EndpointRow, input: EndpointInput): void {
  if (row.auth_type !== 'API_KEY' || row.auth_header_name === null) return;
  const keyHeader = row.auth_header_name.toLowerCase();
  const clash = Object.keys(parseJson<Record<string, string>>(row.headers)).find((name) => name.toLowerCase() === keyHeader);
  if (clash === undefined) return;
  if (input.headers !== undefined) problems.add(['input', 'headers', clash], 'is the header of the API key auth');
  else problems.add(['input', 'auth', 'headerName'], `is also a static header (${clash})`);
}

// ---------------------------------------------------------------------------------------------
// Reads

/** An endpoint the actor may see, or NOT_FOUND (the same answer whether it is missing or another tenant's). */
export async function getEndpoint(services: Services, actor: Actor, id: string): Promise<EndpointRow> {
  const endpoint = await findEndpointById(services.db, id);
  if (!endpoint || !canSee(actor, endpoint.tenant_id)) throw new NotFoundError('Endpoint', id);
  return endpoint;
}

/**
 * A page of endpoints, newest first: a tenant token gets its own (empty when it names another
 * tenant); an admin gets one tenant's, or every tenant's without `tenantId`.
 */
export function pageEndpoints(services: Services, actor: Actor, tenantId: string | null | undefined, args: PageArgs) {
  return listEndpoints(services.db, tenantFilter(actor, tenantId), args);
}

/** Signing secrets still valid at `now`, newest first (metadata for the API; values stay encrypted). */
export function validSecretsOf(services: Services, endpointId: string, now: number): Promise<EndpointSecretRow[]> {
  return findValidSecrets(services.db, endpointId, now);
}

function readCredentials(services: Services, endpoint: EndpointRow): StoredCredentials {
  if (endpoint.auth_secret === null) throw new Error(`endpoint ${endpoint.id} has ${endpoint.auth_type} auth but no stored credentials`);
  return parseJson<StoredCredentials>(services.cipher.decrypt(endpoint.auth_secret));
}

/** The auth type and its non-secret parts, for the API. Decrypts only for BASIC (the user name is stored encrypted). */
export function describeEndpointAuth(services: Services, endpoint: EndpointRow): EndpointAuthView {
  const type = endpoint.auth_type as EndpointAuthType;
  return {
    type,
    username: type === 'BASIC' ? (readCredentials(services, endpoint).username ?? '') : null,
    headerName: type === 'API_KEY' ? endpoint.auth_header_name : null,
  };
}

// ---------------------------------------------------------------------------------------------
// For the dispatcher

/**
 * The decrypted `whsec_…` secrets that sign requests to the endpoint at `now`, newest first: the
 * current one plus any rotated-out one still inside its overlap. Empty only if the endpoint is gone.
 */
export async function loadSigningSecrets(services: Services, endpointId: string, now: number): Promise<string[]> {
  const rows = await findValidSecrets(services.db, endpointId, now);
  return rows.map((row) => services.cipher.decrypt(row.secret));
}

/**
 * The decrypted credentials Switchyard presents to the endpoint's receiver (synchronous: only a
 * decryption). Throws when stored data is unreadable (wrong encryption key, or a missing secret
 * for a type that needs one): a broken invariant, never a user error.
 */
export function loadReceiverAuth(services: Services, endpoint: EndpointRow): ReceiverAuth {
  switch (endpoint.auth_type as EndpointAuthType) {
    case 'NONE':
      return { type: 'NONE' };
    case 'BASIC': {
      const { username = '', password = '' } = readCredentials(services, endpoint);
      return { type: 'BASIC', username, password };
    }
    case 'BEARER':
      return { type: 'BEARER', token: readCredentials(services, endpoint).token ?? '' };
    case 'API_KEY':
      return { type: 'API_KEY', headerName: endpoint.auth_header_name ?? '', key: readCredentials(services, endpoint).key ?? '' };
    default:
      throw new Error(`endpoint ${endpoint.id} has an unknown auth type ${endpoint.auth_type}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writes

/**
 * Creates an endpoint with its first signing secret (`input.secret`, or a generated one), stored
 * encrypted and returned this once (it counts as revealed). A tenant token creates in its own tenant.
 */
export async function createEndpoint(
  services: Services,
  actor: Actor,
  input: CreateEndpointInput,
): Promise<{ endpoint: EndpointRow; secret: string }> {
  const tenantId = targetTenant(actor, input.tenantId);
  const problems = new ProblemList();
  if (!isGiven(input.url)) problems.add(['input', 'url'], 'is required');
  const changes = checkEndpointInput(services, problems, input);
  if (isGiven(input.secret)) {
    const issue = secretProblem(input.secret);
    if (issue) problems.add(['input', 'secret'], issue);
  }
  const now = services.clock.now();
  const endpoint: EndpointRow = {
    id: newId('endpoint', now),
    tenant_id: tenantId,
    url: changes.url ?? '',
    description: changes.description ?? '',
    enabled: 1,
    disabled_reason: null,
    disabled_message: null,
    disabled_at: null,
    auth_type: changes.auth_type ?? 'NONE',
    auth_secret: changes.auth_secret ?? null,
    auth_header_name: changes.auth_header_name ?? null,
    headers: changes.headers ?? '{}',
    timeout_ms: changes.timeout_ms ?? null,
    rate_limit_per_second: changes.rate_limit_per_second ?? null,
    retry_policy: changes.retry_policy ?? null,
    metadata: changes.metadata ?? '{}',
    failing_since: null,
    created_at: now,
    updated_at: now,
  };
  checkHeaderClash(problems, endpoint, input);
  problems.throwIfAny();

  const secret = input.secret ?? generateSecret();
  await services.db.transaction().execute(async (trx) => {
    if (!(await findTenantById(trx, tenantId))) throw new NotFoundError('Tenant', tenantId);
    await insertEndpoint(trx, endpoint);
    await insertSecret(trx, {
      id: newId('secret', now),
      endpoint_id: endpoint.id,
      secret: services.cipher.encrypt(secret),
      created_at: now,
      expires_at: null,
      revealed_at: now,
    });
  });
  return { endpoint, secret };
}

/** Changes the given fields; omitted ones stay. `auth` replaces the whole auth when given. */
export async function updateEndpoint(services: Services, actor: Actor, id: string, input: EndpointInput): Promise<EndpointRow> {
  const existing = await getEndpoint(services, actor, id);
  const problems = new ProblemList();
  const changes = checkEndpointInput(services, problems, input);
  const updated: EndpointRow = { ...existing, ...changes, updated_at: services.clock.now() };
  checkHeaderClash(problems, updated, input);
  problems.throwIfAny();
  await updateEndpointRow(services.db, id, { ...changes, updated_at: updated.updated_at });
  return updated;
}

/** Deletes the endpoint; the foreign keys take its hooks, secrets, deliveries and attempts with it. */
export async function deleteEndpoint(services: Services, actor: Actor, id: string): Promise<EndpointRow> {
  return services.db.transaction().execute(async (trx) => {
    const endpoint = await findEndpointById(trx, id);
    if (!endpoint || !canSee(actor, endpoint.tenant_id)) throw new NotFoundError('Endpoint', id);
    await deleteEndpointRow(trx, id);
    return endpoint;
  });
}

/** Enables the endpoint and forgets why it was disabled and since when it was failing. */
export async function enableEndpoint(services: Services, actor: Actor, id: string): Promise<EndpointRow> {
  const existing = await getEndpoint(services, actor, id);
  const changes: Partial<EndpointRow> = {
    enabled: 1,
    disabled_reason: null,
    disabled_message: null,
    disabled_at: null,
    // Otherwise the next failure would count the old streak and could auto-disable it at once.
    failing_since: null,
    updated_at: services.clock.now(),
  };
  await updateEndpointRow(services.db, id, changes);
  const endpoint = { ...existing, ...changes };
  services.bus.publish('endpoint', { endpoint });
  return endpoint;
}

/** Disables the endpoint by hand (reason MANUAL), replacing any earlier reason. */
export async function disableEndpoint(
  services: Services,
  actor: Actor,
  id: string,
  message: string | null | undefined,
): Promise<EndpointRow> {
  if ((message ?? '').length > MAX_DISABLED_MESSAGE_LENGTH) {
    throw ValidationError.field(['input', 'message'], `must be at most ${MAX_DISABLED_MESSAGE_LENGTH} characters`);
  }
  const existing = await getEndpoint(services, actor, id);
  const now = services.clock.now();
  const changes: Partial<EndpointRow> = {
    enabled: 0,
    disabled_reason: 'MANUAL' satisfies EndpointDisabledReason,
    disabled_message: message ?? null,
    disabled_at: now,
    updated_at: now,
  };
  await updateEndpointRow(services.db, id, changes);
  const endpoint = { ...existing, ...changes };
  services.bus.publish('endpoint', { endpoint });
  return endpoint;
}

/**
 * Makes `secret` (or a generated one) the current signing secret and returns it this once. The
 * previous current secret stays valid for `config.secretOverlapMs`, so receivers can switch without
 * rejecting requests; beyond MAX_OLD_SECRETS still-valid old secrets, the oldest expire at once.
 */
export async function rotateEndpointSecret(
  services: Services,
  actor: Actor,
  id: string,
  given: string | null | undefined,
): Promise<{ endpoint: EndpointRow; secret: string }> {
  if (isGiven(given)) {
    const issue = secretProblem(given);
    if (issue) throw ValidationError.field(['input', 'secret'], issue);
  }
  const secret = given ?? generateSecret();
  return services.db.transaction().execute(async (trx) => {
    const existing = await findEndpointById(trx, id);
    if (!existing || !canSee(actor, existing.tenant_id)) throw new NotFoundError('Endpoint', id);
    const now = services.clock.now();
    // Writing the endpoint row first takes its row lock (PostgreSQL; SQLite has one writer), so two
    // concurrent rotations run one after the other and never leave two current secrets.
    await updateEndpointRow(trx, id, { updated_at: now });
    const valid = await findValidSecrets(trx, id, now);
    if (isGiven(given) && valid.some((row) => services.cipher.decrypt(row.secret) === given)) {
      throw ValidationError.field(['input', 'secret'], "is already one of the endpoint's signing secrets");
    }
    await expireSecrets(
      trx,
      valid.filter((row) => row.expires_at === null).map((row) => row.id),
      now + services.config.secretOverlapMs,
    );
    await expireSecrets(trx, valid.slice(MAX_OLD_SECRETS).map((row) => row.id), now);
    await deleteExpiredSecrets(trx, id, now);
    await insertSecret(trx, {
      id: newId('secret', now),
      endpoint_id: id,
      secret: services.cipher.encrypt(secret),
      created_at: now,
      expires_at: null,
      revealed_at: now,
    });
    return { endpoint: { ...existing, updated_at: now }, secret };
  });
}

/**
 * The current signing secret, if it was never shown (a secret is shown once). Otherwise CONFLICT:
 * whoever saw it may have lost it, and only a rotation gives a secret nobody has seen yet.
 */
export async function revealEndpointSecret(services: Services, actor: Actor, id: string): Promise<{ secret: string }> {
  await getEndpoint(services, actor, id);
  const current = await findCurrentSecret(services.db, id);
  if (!current) throw new ConflictError(`endpoint ${id} has no current signing secret; rotate to get a new one`);
  const revealedNow = current.revealed_at === null && (await markSecretRevealed(services.db, current.id, services.clock.now()));
  if (!revealedNow) {
    throw new ConflictError('the signing secret was already revealed; rotate to get a new one');
  }
  return { secret: services.cipher.decrypt(current.secret) };
}
