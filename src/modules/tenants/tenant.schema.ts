import type { TenantRow } from '../../db/schema.js';
import { builder } from '../../graphql/builder.js';
import { connectionOf, pageArgs } from '../../graphql/connection.js';
import { defineMutation } from '../../graphql/mutation.js';
import { parseJson } from '../../db/json.js';
import { canSee } from '../../auth/actor.js';
import { findTenantById } from './tenant.repository.js';
import { createTenant, deleteTenant, getTenant, pageTenants, updateTenant } from './tenant.service.js';

export const TenantRef = builder.objectRef<TenantRow>('Tenant');

builder.node(TenantRef, {
  description: 'An isolated customer of the producer: owns endpoints, hooks, events, deliveries and attempts.',
  id: { resolve: (tenant) => tenant.id },
  loadOne: async (id, context) => {
    const tenant = await findTenantById(context.services.db, id);
    return tenant && canSee(context.actor, tenant.id) ? tenant : null;
  },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Display name.' }),
    uid: t.exposeString('uid', { nullable: true, description: "The producer's own unique id for this tenant, if set." }),
    metadata: t.field({ type: 'JSONObject', description: 'Free-form data kept for the producer.', resolve: (r) => parseJson<Record<string, unknown>>(r.metadata) }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (r) => r.created_at }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (r) => r.updated_at }),
  }),
});

const TenantConnection = connectionOf(TenantRef, 'Tenant');

builder.queryFields((t) => ({
  tenants: t.field({
    type: TenantConnection,
    description: 'Every tenant, newest first (admin only).',
    authScopes: { admin: true },
    args: { ...pageArgs(t.arg) },
    resolve: async (_root, args, context) => ({ page: await pageTenants(context.services, args) }),
  }),
  tenant: t.field({
    type: TenantRef,
    nullable: true,
    description: "A tenant by id; a tenant token sees only its own (null for others). Without an id, the caller's own tenant.",
    args: { id: t.arg.id({ required: false, description: "The tenant's id; defaults to the caller's tenant." }) },
    resolve: async (_root, args, context) => {
      const id = args.id ?? (context.actor.kind === 'tenant' ? context.actor.tenantId : null);
      if (!id) return null;
      return getTenant(context.services, context.actor, id).catch(() => null);
    },
  }),
}));

const TenantPayload = builder.objectRef<{ tenant: TenantRow }>('TenantPayload').implement({
  description: 'The tenant after the change.',
  fields: (t) => ({ tenant: t.field({ type: TenantRef, description: 'The tenant.', resolve: (p) => p.tenant }) }),
});

defineMutation('createTenant', {
  description: 'Creates a tenant (admin only).',
  authScopes: { admin: true },
  input: (t) => ({
    name: t.string({ required: true, description: 'Display name, 1–200 characters.' }),
    uid: t.string({ description: "The producer's own unique id for it (letters, digits, . _ -)." }),
    metadata: t.field({ type: 'JSONObject', description: 'Free-form data.' }),
  }),
  payload: TenantPayload,
  resolve: async (input, context) => ({ tenant: await createTenant(context.services, input) }),
});

defineMutation('updateTenant', {
  description: 'Changes a tenant (admin only). Omitted fields stay as they are.',
  authScopes: { admin: true },
  input: (t) => ({
    id: t.id({ required: true, description: 'The tenant.' }),
    name: t.string({ description: 'New display name.' }),
    uid: t.string({ description: 'New unique id; null clears it.' }),
    metadata: t.field({ type: 'JSONObject', description: 'New metadata (replaces the old).' }),
  }),
  payload: TenantPayload,
  resolve: async ({ id, ...input }, context) => ({
    tenant: await updateTenant(context.services, context.actor, id, input),
  }),
});

defineMutation('deleteTenant', {
  description: 'Deletes a tenant (admin only). Refused while it has endpoints unless `force`, which deletes all its data.',
  authScopes: { admin: true },
  input: (t) => ({
    id: t.id({ required: true, description: 'The tenant.' }),
    force: t.boolean({ defaultValue: false, description: 'Also delete its endpoints, hooks, events and deliveries.' }),
  }),
  payload: TenantPayload,
  resolve: async ({ id, force }, context) => ({
    tenant: await deleteTenant(context.services, context.actor, id, force ?? false),
  }),
});
