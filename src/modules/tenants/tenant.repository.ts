import type { Executor, TenantRow } from '../../db/schema.js';
import { paginate, type PageArgs } from '../../db/pagination.js';
import { inIdOrder } from '../../db/by-id.js';
import { defineStatement } from '../../db/statement.js';

const tenantsById = defineStatement<{ ids: readonly string[] }, TenantRow>((db, slots) => db.selectFrom('tenants').selectAll().where(slots.in('id', 'ids')));

export function findTenantById(db: Executor, id: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Tenants by id, in the order of `ids`; null for each id without a row (one statement). */
export async function findManyTenantsById(db: Executor, ids: readonly string[]): Promise<(TenantRow | null)[]> {
  if (ids.length === 0) return [];
  return inIdOrder(ids, await tenantsById.rows(db, { ids }));
}

export function findTenantByUid(db: Executor, uid: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('uid', '=', uid).executeTakeFirst();
}

export function listTenants(db: Executor, args: PageArgs) {
  return paginate(db.selectFrom('tenants').selectAll(), args, { column: 'id' });
}

export async function insertTenant(db: Executor, row: TenantRow): Promise<void> {
  await db.insertInto('tenants').values(row).execute();
}

export async function updateTenantRow(db: Executor, id: string, changes: Partial<TenantRow>): Promise<void> {
  await db.updateTable('tenants').set(changes).where('id', '=', id).execute();
}

/** What a tenant being deleted stops first: its tokens send nothing more, its endpoints take nothing more. */
export async function silenceTenant(db: Executor, id: string, now: number): Promise<void> {
  await db.deleteFrom('api_tokens').where('tenant_id', '=', id).execute();
  await db.updateTable('endpoints').set({ enabled: 0, updated_at: now }).where('tenant_id', '=', id).execute();
}

export async function deleteTenantRow(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('tenants').where('id', '=', id).execute();
}

export async function countTenantEndpoints(db: Executor, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom('endpoints')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
