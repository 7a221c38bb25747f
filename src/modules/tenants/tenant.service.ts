import type { TenantRow } from '../../db/schema.js';
import { canSee, type Actor } from '../../auth/actor.js';
import { newId } from '../../db/ids.js';
import { toJson } from '../../db/json.js';
import type { PageArgs } from '../../db/pagination.js';
import { ConflictError, NotFoundError, ProblemList } from '../../errors.js';
import { invalidateCatalog } from '../events/catalog-cache.js';
import { forgetTokens } from '../tokens/token-cache.js';
import type { Services } from '../../services.js';
import { deleteDeliveriesOf } from '../deliveries/delivery.purge.js';
import { deleteEventsOfTenant } from '../events/event.repository.js';
import { countTenantEndpoints, deleteTenantRow, findTenantById, findTenantByUid, insertTenant, listTenants, silenceTenant, updateTenantRow } from './tenant.repository.js';

const UID_PATTERN = /^[a-zA-Z0-9._-]{1,128}$/;

export interface TenantInput {
  name?: string | null;
  uid?: string | null;
  metadata?: Record<string, unknown> | null;
}

function checkTenantInput(input: TenantInput, creating: boolean): void {
  const problems = new ProblemList();
  if (creating || input.name !== undefined) {
    const name = input.name?.trim() ?? '';
    if (name.length === 0 || name.length > 200) problems.add(['input', 'name'], 'must be 1 to 200 characters');
  }
  if (input.uid !== undefined && input.uid !== null && !UID_PATTERN.test(input.uid)) {
    problems.add(['input', 'uid'], 'must be 1 to 128 letters, digits, ".", "_" or "-"');
  }
  problems.throwIfAny();
}

/** A tenant the actor may see, or NOT_FOUND (the same answer whether it is missing or someone else's). */
export async function getTenant(services: Services, actor: Actor, id: string): Promise<TenantRow> {
  const tenant = await findTenantById(services.db, id);
  if (!tenant || !canSee(actor, tenant.id)) throw new NotFoundError('Tenant', id);
  return tenant;
}

export async function createTenant(services: Services, input: TenantInput): Promise<TenantRow> {
  checkTenantInput(input, true);
  if (input.uid && (await findTenantByUid(services.db, input.uid))) {
    throw new ConflictError(`a tenant with uid ${input.uid} already exists`);
  }
  const now = services.clock.now();
  const row: TenantRow = {
    id: newId('tenant', now),
    name: (input.name ?? '').trim(),
    uid: input.uid ?? null,
    metadata: toJson(input.metadata ?? {}),
    created_at: now,
    updated_at: now,
  };
  await insertTenant(services.db, row);
  invalidateCatalog(services);
  return row;
}

export async function updateTenant(services: Services, actor: Actor, id: string, input: TenantInput): Promise<TenantRow> {
  checkTenantInput(input, false);
  const tenant = await getTenant(services, actor, id);
  if (input.uid && input.uid !== tenant.uid) {
    const other = await findTenantByUid(services.db, input.uid);
    if (other) throw new ConflictError(`a tenant with uid ${input.uid} already exists`);
  }
  const changes: Partial<TenantRow> = { updated_at: services.clock.now() };
  if (input.name !== undefined && input.name !== null) changes.name = input.name.trim();
  if (input.uid !== undefined) changes.uid = input.uid;
  if (input.metadata !== undefined) changes.metadata = toJson(input.metadata ?? {});
  await updateTenantRow(services.db, id, changes);
  return { ...tenant, ...changes };
}

/** Refused while the tenant has endpoints, unless `force` (then everything of the tenant goes). */
/**
 * Deletes a tenant with everything it has. One short transaction checks and silences it (its
 * tokens gone, its endpoints disabled); its deliveries and events then go a batch per transaction
 * (a tenant's history in one would hold the SQLite writer, and every other tenant, for all of it),
 * and the row with the rest. Stopped half way, deleting it again goes on.
 */
export async function deleteTenant(services: Services, actor: Actor, id: string, force: boolean): Promise<TenantRow> {
  const deleted = await services.db.transaction().execute(async (trx) => {
    const tenant = await findTenantById(trx, id);
    if (!tenant || !canSee(actor, tenant.id)) throw new NotFoundError('Tenant', id);
    const endpoints = await countTenantEndpoints(trx, id);
    if (endpoints > 0 && !force) {
      throw new ConflictError(`tenant ${id} still has ${endpoints} endpoint(s); delete them first or pass force: true`);
    }
    await silenceTenant(trx, id, services.clock.now());
    return tenant;
  });
  await deleteDeliveriesOf(services.db, { tenantId: id });
  await deleteEventsOfTenant(services.db, id);
  await deleteTenantRow(services.db, id);
  invalidateCatalog(services);
  forgetTokens(services);
  return deleted;
}

export function pageTenants(services: Services, args: PageArgs) {
  return listTenants(services.db, args);
}
