import type { TokenRow } from '../../db/schema.js';
import { TOKEN_SCOPES, canSee, targetTenant, type Actor, type TokenScope } from '../../auth/actor.js';
import { generateToken, hashToken, sameHash } from '../../crypto.js';
import { newId } from '../../db/ids.js';
import { parseJson, toJson } from '../../db/json.js';
import type { PageArgs } from '../../db/pagination.js';
import { ConflictError, NotFoundError, ProblemList } from '../../errors.js';
import type { Services } from '../../services.js';
import { findTenantById } from '../tenants/tenant.repository.js';
import { forgetTokens, tokenLookupOf } from './token-cache.js';
import { countAdminTokens, findTokenById, insertToken, listTokens, updateTokenRow } from './token.repository.js';

const LAST_USED_RESOLUTION_MS = 60_000;

export interface CreateTenantTokenInput {
  tenantId: string;
  name?: string | null;
  scopes?: readonly TokenScope[] | null;
  expiresAt?: Date | null;
  /** default: restricted when SWITCHYARD_TRUSTED_DOCUMENTS is `tenant`, else not */
  trustedDocumentsOnly?: boolean | null;
}

export async function createTenantToken(
  services: Services,
  input: CreateTenantTokenInput,
): Promise<{ token: TokenRow; secret: string }> {
  const now = services.clock.now();
  const problems = new ProblemList();
  const scopes = input.scopes ?? ['READ', 'MANAGE'];
  if (scopes.length === 0) problems.add(['input', 'scopes'], 'give at least one scope');
  for (const [index, scope] of scopes.entries()) {
    if (!TOKEN_SCOPES.includes(scope)) problems.add(['input', 'scopes', String(index)], `unknown scope ${scope}`);
  }
  if (input.expiresAt && input.expiresAt.getTime() <= now) problems.add(['input', 'expiresAt'], 'must be in the future');
  if ((input.name ?? '').length > 200) problems.add(['input', 'name'], 'must be at most 200 characters');
  problems.throwIfAny();
  if (!(await findTenantById(services.db, input.tenantId))) throw new NotFoundError('Tenant', input.tenantId);
  const secret = generateToken('tenant');
  const token: TokenRow = {
    id: newId('token', now),
    tenant_id: input.tenantId,
    name: input.name ?? '',
    token_hash: hashToken(secret),
    scopes: toJson([...new Set(scopes)]),
    expires_at: input.expiresAt ? input.expiresAt.getTime() : null,
    revoked_at: null,
    last_used_at: null,
    created_at: now,
    trusted_documents_only: (input.trustedDocumentsOnly ?? services.config.trustedDocuments === 'tenant') ? 1 : 0,
  };
  await insertToken(services.db, token);
  return { token, secret };
}

export async function revokeToken(services: Services, actor: Actor, id: string): Promise<TokenRow> {
  const token = await findTokenById(services.db, id);
  if (!token || token.tenant_id === null || !canSee(actor, token.tenant_id)) throw new NotFoundError('ApiToken', id);
  if (token.revoked_at !== null) throw new ConflictError(`token ${id} is already revoked`);
  const revokedAt = services.clock.now();
  await updateTokenRow(services.db, id, { revoked_at: revokedAt });
  forgetTokens(services);
  return { ...token, revoked_at: revokedAt };
}

export function pageTokens(services: Services, actor: Actor, tenantId: string | null | undefined, args: PageArgs) {
  const tenant = actor.kind === 'tenant' || tenantId ? targetTenant(actor, tenantId) : null;
  return listTokens(services.db, tenant, args);
}

export function tokenScopes(token: TokenRow): TokenScope[] {
  return parseJson<TokenScope[]>(token.scopes);
}

let adminHash: { token: string; hash: string } | null = null;

/** The configured admin token's hash, computed once rather than on every request. */
function configuredAdminHash(token: string): string {
  if (adminHash?.token !== token) adminHash = { token, hash: hashToken(token) };
  return adminHash.hash;
}

/**
 * The actor behind an `Authorization: Bearer …` value, or null when it is missing, unknown,
 * revoked or expired. The configured admin token is compared in constant time.
 */
export async function authenticate(services: Services, authorization: string | null | undefined): Promise<Actor | null> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const presented = match?.[1];
  if (!presented) return null;
  const hash = hashToken(presented);
  const configured = services.config.adminToken;
  if (configured && sameHash(hash, configuredAdminHash(configured))) return { kind: 'admin', tokenId: null };
  const tokens = tokenLookupOf(services);
  const token = await tokens.byHash(hash);
  const now = services.clock.now();
  if (!token || token.revoked_at !== null || (token.expires_at !== null && token.expires_at <= now)) return null;
  if (token.last_used_at === null || now - token.last_used_at > LAST_USED_RESOLUTION_MS) {
    // Coarse on purpose: one write a minute per token, not one per request.
    await updateTokenRow(services.db, token.id, { last_used_at: now });
    tokens.used(hash, now);
  }
  if (token.tenant_id === null) return { kind: 'admin', tokenId: token.id };
  return {
    kind: 'tenant',
    tenantId: token.tenant_id,
    tokenId: token.id,
    scopes: new Set(tokenScopes(token)),
    trustedDocumentsOnly: token.trusted_documents_only === 1 && services.config.trustedDocuments !== 'off',
  };
}

/**
 * With no SWITCHYARD_ADMIN_TOKEN and no admin token stored yet, makes one, stores its hash and
 * returns it so the caller can print it once. Returns null otherwise.
 */
export async function ensureAdminToken(services: Services): Promise<string | null> {
  if (services.config.adminToken) return null;
  if ((await countAdminTokens(services.db)) > 0) return null;
  const secret = generateToken('admin');
  const now = services.clock.now();
  await insertToken(services.db, {
    id: newId('token', now),
    tenant_id: null,
    name: 'generated admin token',
    token_hash: hashToken(secret),
    scopes: toJson(['ADMIN']),
    expires_at: null,
    revoked_at: null,
    last_used_at: null,
    created_at: now,
    // admin tokens are never restricted
    trusted_documents_only: 0,
  });
  return secret;
}
