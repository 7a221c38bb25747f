import type { TokenRow } from '../../db/schema.js';
import { TOKEN_SCOPES, canSee } from '../../auth/actor.js';
import { MANAGE_SCOPES } from '../../graphql/access.js';
import { builder } from '../../graphql/builder.js';
import { LOADER_OPTIONS, requireRows } from '../../graphql/loadable.js';
import { connectionOf, pageArgs } from '../../graphql/connection.js';
import { defineMutation } from '../../graphql/mutation.js';
import { TenantRef } from '../tenants/tenant.schema.js';
import { findManyTenantsById, findTenantById } from '../tenants/tenant.repository.js';
import { findTokenById } from './token.repository.js';
import { createTenantToken, pageTokens, revokeToken, tokenScopes } from './token.service.js';

export const TokenScopeEnum = builder.enumType('TokenScope', {
  description: 'What a tenant token may do, always within its own tenant.',
  values: {
    READ: { description: 'Read endpoints, hooks, events, deliveries and attempts; subscribe to attempts.' },
    MANAGE: { description: 'Create, change and delete endpoints and hooks; retry, cancel, recover, replay and test.' },
    SEND_EVENTS: { description: 'Send events to its own tenant.' },
  } as const,
});

export const ApiTokenRef = builder.objectRef<TokenRow>('ApiToken');

builder.node(ApiTokenRef, {
  description: 'A tenant-scoped access token. Only its hash is stored; the token itself is shown once, when minted.',
  id: { resolve: (token) => token.id },
  loadOne: async (id, context) => {
    const token = await findTokenById(context.services.db, id);
    return token && token.tenant_id !== null && canSee(context.actor, token.tenant_id) ? token : null;
  },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Label given when minted.' }),
    tenant: t.loadable({
      type: TenantRef,
      description: 'The tenant it acts for.',
      loaderOptions: LOADER_OPTIONS,
      load: async (ids: string[], context) => requireRows('tenant', ids, await findManyTenantsById(context.services.db, ids)),
      // Only tenant tokens are ApiToken nodes; an empty id reads as a missing tenant.
      resolve: (token) => token.tenant_id ?? '',
    }),
    scopes: t.field({ type: [TokenScopeEnum], description: 'What it may do.', resolve: (token) => tokenScopes(token) }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, description: 'When it stops working; null = never.', resolve: (r) => r.expires_at }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was revoked, if it was.', resolve: (r) => r.revoked_at }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, description: 'Last use, to the minute.', resolve: (r) => r.last_used_at }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was minted.', resolve: (r) => r.created_at }),
    trustedDocumentsOnly: t.boolean({
      description: "Whether it runs only the trusted documents (the SDK's operations, sent by id or as their exact text); other documents answer PERSISTED_QUERY_ONLY.",
      resolve: (r) => r.trusted_documents_only === 1,
    }),
  }),
});

const ViewerKind = builder.enumType('ViewerKind', {
  description: 'The kind of token a request carries.',
  values: {
    ADMIN: { description: "The producer's admin token: every tenant." },
    TENANT: { description: 'A tenant token: one tenant, within its scopes.' },
  } as const,
});

const Viewer = builder.objectRef<{ kind: 'ADMIN' | 'TENANT'; tenantId: string | null; scopes: string[] }>('Viewer').implement({
  description: 'Who the caller is.',
  fields: (t) => ({
    kind: t.field({ type: ViewerKind, description: 'Admin or tenant.', resolve: (v) => v.kind }),
    tenant: t.field({
      type: TenantRef,
      nullable: true,
      description: 'The tenant of a tenant token; null for the admin.',
      resolve: (v, _args, context) => (v.tenantId ? findTenantById(context.services.db, v.tenantId).then((r) => r ?? null) : null),
    }),
    scopes: t.field({
      type: [TokenScopeEnum],
      description: 'Scopes of the token (every scope for the admin).',
      resolve: (v) => v.scopes as (typeof TOKEN_SCOPES)[number][],
    }),
  }),
});

const ApiTokenConnection = connectionOf(ApiTokenRef, 'ApiToken');

builder.queryFields((t) => ({
  viewer: t.field({
    type: Viewer,
    description: 'The caller: admin, or which tenant and scopes.',
    resolve: (_root, _args, { actor }) =>
      actor.kind === 'admin'
        ? { kind: 'ADMIN' as const, tenantId: null, scopes: [...TOKEN_SCOPES] }
        : { kind: 'TENANT' as const, tenantId: actor.tenantId, scopes: [...actor.scopes] },
  }),
  apiTokens: t.field({
    type: ApiTokenConnection,
    description: "Tenant tokens, newest first: a tenant sees its own; the admin every tenant's, or one tenant's.",
    authScopes: MANAGE_SCOPES,
    args: { ...pageArgs(t.arg), tenantId: t.arg.id({ required: false, description: 'Only this tenant.' }) },
    resolve: async (_root, args, context) => ({
      page: await pageTokens(context.services, context.actor, args.tenantId || null, args),
    }),
  }),
}));

const CreateTenantTokenPayload = builder
  .objectRef<{ token: TokenRow; secret: string }>('CreateTenantTokenPayload')
  .implement({
    description: 'The new token. `secret` is shown this once: store it now.',
    fields: (t) => ({
      apiToken: t.field({ type: ApiTokenRef, description: 'The token record.', resolve: (p) => p.token }),
      secret: t.exposeString('secret', { description: 'The bearer token itself; never shown again.' }),
    }),
  });

defineMutation('createTenantToken', {
  description: 'Mints a token for one tenant (admin only), e.g. for its webhooks page.',
  authScopes: { admin: true },
  input: (t) => ({
    tenantId: t.id({ required: true, description: 'The tenant it acts for.' }),
    name: t.string({ description: 'A label.' }),
    scopes: t.field({ type: [TokenScopeEnum], description: 'What it may do (default READ and MANAGE).' }),
    expiresAt: t.field({ type: 'DateTime', description: 'When it stops working (default never).' }),
    trustedDocumentsOnly: t.boolean({
      description: "Run only the trusted documents (the SDK's operations); default true when SWITCHYARD_TRUSTED_DOCUMENTS is `tenant`, else false.",
    }),
  }),
  payload: CreateTenantTokenPayload,
  resolve: (input, context) =>
    createTenantToken(context.services, {
      tenantId: input.tenantId,
      name: input.name ?? null,
      scopes: input.scopes ?? null,
      expiresAt: input.expiresAt ?? null,
      trustedDocumentsOnly: input.trustedDocumentsOnly ?? null,
    }),
});

const RevokeTokenPayload = builder.objectRef<{ token: TokenRow }>('RevokeApiTokenPayload').implement({
  description: 'The revoked token.',
  fields: (t) => ({ apiToken: t.field({ type: ApiTokenRef, description: 'The token, now revoked.', resolve: (p) => p.token }) }),
});

defineMutation('revokeApiToken', {
  description: 'Revokes a tenant token at once (admin, or the tenant with MANAGE).',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({ id: t.id({ required: true, description: 'The token.' }) }),
  payload: RevokeTokenPayload,
  resolve: async ({ id }, context) => ({ token: await revokeToken(context.services, context.actor, id) }),
});
