// Endpoints: where a tenant's webhooks go and how (README, "GraphQL API"). Every input problem is
// collected before anything is written; credentials and signing secrets are encrypted at rest with
// services.cipher and are write-only in the API (a signing secret is shown once).
import type { EndpointRow, EndpointSecretRow } from '../../db/schema.js';
import { canSee, targetTenant, tenantFilter, type Actor } from '../../auth/actor.js';
import { newId } from '../../db/ids.js';
import type { PageArgs } from '../../db/pagination.js';
import type { ReceiverAuth } from '../../webhook/request.js';
import { generateSecret } from '../../webhook/signing.js';
import { DEFAULT_SIGNATURE_SCHEMES } from '../../webhook/signature-schemes.js';
import { toJson } from '../../db/json.js';
import { ConflictError, NotFoundError, ProblemList, ValidationError } from '../../errors.js';
import type { Services } from '../../services.js';
import { findTenantById } from '../tenants/tenant.repository.js';
import { deleteDeliveriesOf } from '../deliveries/delivery.purge.js';
import { newOperationalLog, publishRaised, raiseOperationalEvent } from '../operations/operational-event.service.js';
import { deleteEndpointRow, deleteExpiredSecrets, expireSecrets, findCurrentSecret, findEndpointById, findValidSecrets, insertEndpoint, insertSecret, listEndpoints, markSecretRevealed, updateEndpointRow, type EndpointFilter } from './endpoint.repository.js';
import { ensureSigningKey } from './endpoint.signing-keys.js';
import { newSecretRow, readCredentials, secretProblem, type EndpointAuthType } from './endpoint.secrets.js';
import { MAX_OLD_SECRETS, checkEndpointInput, checkHeaderClash, isGiven, type CreateEndpointInput, type EndpointInput } from './endpoint.validation.js';

// Part of the operations' signatures, so callers find them here.
export { ENDPOINT_AUTH_TYPES, type EndpointAuthType } from './endpoint.secrets.js';
export type { CreateEndpointInput, EndpointAuthInput, EndpointInput } from './endpoint.validation.js';

/** MANUAL: a user's disableEndpoint; FAILING: failing continuously too long; GONE: the receiver answered 410. */
export const ENDPOINT_DISABLED_REASONS = ['MANUAL', 'FAILING', 'GONE'] as const;
export type EndpointDisabledReason = (typeof ENDPOINT_DISABLED_REASONS)[number];

const MAX_DISABLED_MESSAGE_LENGTH = 1000;
/** What the API shows of an endpoint's auth: never a password, token or key. */
export interface EndpointAuthView {
  type: EndpointAuthType;
  username: string | null;
  headerName: string | null;
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
export function pageEndpoints(services: Services, actor: Actor, tenantId: string | null | undefined, filter: EndpointFilter, args: PageArgs) {
  return listEndpoints(services.db, tenantFilter(actor, tenantId), filter, args);
}

/** Signing secrets still valid at `now`, newest first (metadata for the API; values stay encrypted). */
export function validSecretsOf(services: Services, endpointId: string, now: number): Promise<EndpointSecretRow[]> {
  return findValidSecrets(services.db, endpointId, now);
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
    failing_notified_at: null,
    failing_window_announced: null,
    created_at: now,
    updated_at: now,
    signature_schemes: changes.signature_schemes ?? toJson(DEFAULT_SIGNATURE_SCHEMES),
  };
  checkHeaderClash(problems, endpoint, input);
  problems.throwIfAny();

  const secret = input.secret ?? generateSecret();
  await services.db.transaction().execute(async (trx) => {
    if (!(await findTenantById(trx, tenantId))) throw new NotFoundError('Tenant', tenantId);
    await insertEndpoint(trx, endpoint);
    await insertSecret(trx, newSecretRow(services, endpoint.id, secret, now));
    await ensureSigningKey(services, trx, endpoint, now);
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
  await services.db.transaction().execute(async (trx) => {
    await updateEndpointRow(trx, id, { ...changes, updated_at: updated.updated_at });
    await ensureSigningKey(services, trx, updated, updated.updated_at);
  });
  return updated;
}

/** Deletes the endpoint; the foreign keys take its hooks, secrets, deliveries and attempts with it. */
/**
 * Deletes an endpoint with its hooks and deliveries. It is disabled first, so nothing new is routed
 * to it and the dispatcher attempts none of its deliveries; they are deleted a batch at a time (see
 * delivery.purge.ts), then the row with its hooks and secrets. Stopped half way, the endpoint is
 * left disabled, and deleting it again goes on.
 */
export async function deleteEndpoint(services: Services, actor: Actor, id: string): Promise<EndpointRow> {
  const endpoint = await services.db.transaction().execute(async (trx) => {
    const found = await findEndpointById(trx, id);
    if (!found || !canSee(actor, found.tenant_id)) throw new NotFoundError('Endpoint', id);
    await updateEndpointRow(trx, id, { enabled: 0, updated_at: services.clock.now() });
    return found;
  });
  await deleteDeliveriesOf(services.db, { endpointId: id });
  await deleteEndpointRow(services.db, id);
  return endpoint;
}

/** Enables the endpoint and forgets why it was disabled and since when it was failing. */
export async function enableEndpoint(services: Services, actor: Actor, id: string): Promise<EndpointRow> {
  const existing = await getEndpoint(services, actor, id);
  const now = services.clock.now();
  const changes: Partial<EndpointRow> = {
    enabled: 1,
    disabled_reason: null,
    disabled_message: null,
    disabled_at: null,
    // Otherwise the next failure would count the old streak and could auto-disable it at once.
    failing_since: null,
    failing_notified_at: null,
    failing_window_announced: null,
    updated_at: now,
  };
  const log = newOperationalLog();
  await services.db.transaction().execute(async (trx) => {
    await updateEndpointRow(trx, id, changes);
    if (!existing.enabled) await raiseOperationalEvent(trx, { tenantId: existing.tenant_id, kind: 'endpoint.enabled', endpointId: id }, now, log);
  });
  const endpoint = { ...existing, ...changes };
  services.bus.publish('endpoint', { endpoint });
  publishRaised(services, log);
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
  const log = newOperationalLog();
  await services.db.transaction().execute(async (trx) => {
    await updateEndpointRow(trx, id, changes);
    if (existing.enabled) {
      const data = { reason: 'MANUAL', message: message ?? null };
      await raiseOperationalEvent(trx, { tenantId: existing.tenant_id, kind: 'endpoint.disabled', endpointId: id, data }, now, log);
    }
  });
  const endpoint = { ...existing, ...changes };
  services.bus.publish('endpoint', { endpoint });
  publishRaised(services, log);
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
    await insertSecret(trx, newSecretRow(services, id, secret, now));
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
