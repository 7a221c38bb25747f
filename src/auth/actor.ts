// Who is calling: the producer (admin token) or one tenant (tenant token with scopes).
import { NotFoundError } from '../errors.js';

export const TOKEN_SCOPES = ['READ', 'MANAGE', 'SEND_EVENTS'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export type Actor =
  | { kind: 'admin'; tokenId: string | null }
  | {
      kind: 'tenant';
      tenantId: string;
      tokenId: string;
      scopes: ReadonlySet<TokenScope>;
      /** runs only the trusted documents (the SDK's operations), not any document it sends */
      trustedDocumentsOnly: boolean;
    };

export const SYSTEM_ACTOR: Actor = { kind: 'admin', tokenId: null };

export function isAdmin(actor: Actor): boolean {
  return actor.kind === 'admin';
}

export function hasScope(actor: Actor, scope: TokenScope): boolean {
  return actor.kind === 'admin' || actor.scopes.has(scope);
}

/**
 * The tenant an operation acts on. A tenant token always acts on its own tenant: naming another
 * tenant answers NOT_FOUND (never "forbidden", which would confirm that the tenant exists).
 * An admin must name one.
 */
export function targetTenant(actor: Actor, requested: string | null | undefined): string {
  if (actor.kind === 'tenant') {
    if (requested && requested !== actor.tenantId) throw new NotFoundError('Tenant', requested);
    return actor.tenantId;
  }
  if (!requested) throw new NotFoundError('Tenant', '(none given: an admin token must name tenantId)');
  return requested;
}

/** "Nothing is visible": a tenant token that names another tenant lists nothing (and learns nothing). */
export const NO_TENANT = Object.freeze({ kind: 'none' as const });

/** Which tenant a list reads: one tenant's id, null for every tenant (admin without a filter), or NO_TENANT. */
export type TenantScope = string | null | typeof NO_TENANT;

/** For lists: the tenant to restrict to, null for "every tenant", or NO_TENANT for an empty answer. */
export function tenantFilter(actor: Actor, requested: string | null | undefined): TenantScope {
  if (actor.kind === 'tenant') {
    if (requested && requested !== actor.tenantId) return NO_TENANT;
    return actor.tenantId;
  }
  return requested ?? null;
}

/** Whether the actor may see a row of `tenantId`. */
export function canSee(actor: Actor, tenantId: string): boolean {
  return actor.kind === 'admin' || actor.tenantId === tenantId;
}
