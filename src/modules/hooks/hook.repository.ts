import { NO_TENANT, type TenantScope } from '../../auth/actor.js';
import type { HookRow } from '../../db/schema.js';
import { emptyPage, paginate, type PageArgs } from '../../db/pagination.js';
import type { Executor } from '../../db/schema.js';
import { inIdOrder } from '../../db/by-id.js';
import { defineStatement, type MaybePromise } from '../../db/statement.js';

/** A runAfter edge: `hook_id` waits for `depends_on_hook_id`. */
export interface DependencyEdge {
  hook_id: string;
  depends_on_hook_id: string;
}

export function findHookById(db: Executor, id: string): Promise<HookRow | undefined> {
  return db.selectFrom('hooks').selectAll().where('id', '=', id).executeTakeFirst();
}

const hooksById = defineStatement<{ ids: readonly string[] }, HookRow>((db, slots) => db.selectFrom('hooks').selectAll().where(slots.in('id', 'ids')));

/** Hooks by id, in the order of `ids`; null for each id without a row (one statement). */
export async function findManyHooksById(db: Executor, ids: readonly string[]): Promise<(HookRow | null)[]> {
  if (ids.length === 0) return [];
  return inIdOrder(ids, await hooksById.rows(db, { ids }));
}

/** The hooks of these ids that exist, in no particular order (one statement). */
export async function findHooksByIds(db: Executor, ids: readonly string[]): Promise<HookRow[]> {
  if (ids.length === 0) return [];
  return hooksById.rows(db, { ids });
}

const routableHooks = defineStatement<{ tenantId: string }, HookRow>((db, slots) =>
  db
    .selectFrom('hooks')
    .innerJoin('endpoints', 'endpoints.id', 'hooks.endpoint_id')
    .selectAll('hooks')
    .where('hooks.tenant_id', '=', slots.value.tenantId)
    .where('hooks.active', '=', 1)
    .where('endpoints.enabled', '=', 1),
);

/** Active hooks of a tenant whose endpoint is enabled: the candidates for a new event. */
export function findRoutableHooks(db: Executor, tenantId: string): MaybePromise<HookRow[]> {
  return routableHooks.rows(db, { tenantId });
}

const dependencyEdges = defineStatement<{ hookIds: readonly string[] }, DependencyEdge>((db, slots) =>
  db.selectFrom('hook_dependencies').select(['hook_id', 'depends_on_hook_id']).where(slots.in('hook_id', 'hookIds')),
);

/** runAfter edges among the given hooks: hook → the hooks it waits for. */
export async function findDependencies(db: Executor, hookIds: readonly string[]): Promise<Map<string, string[]>> {
  const edges = new Map<string, string[]>();
  if (hookIds.length === 0) return edges;
  const rows = await dependencyEdges.rows(db, { hookIds });
  for (const row of rows) {
    const list = edges.get(row.hook_id) ?? [];
    list.push(row.depends_on_hook_id);
    edges.set(row.hook_id, list);
  }
  return edges;
}

const waitedForHooks = defineStatement<{ hookIds: readonly string[] }, { depends_on_hook_id: string }>((db, slots) =>
  db.selectFrom('hook_dependencies').select('depends_on_hook_id').distinct().where(slots.in('depends_on_hook_id', 'hookIds')),
);

/** Which of these hooks other hooks wait for (runAfter). */
export async function findHooksWaitedFor(db: Executor, hookIds: readonly string[]): Promise<Set<string>> {
  if (hookIds.length === 0) return new Set();
  return new Set((await waitedForHooks.rows(db, { hookIds })).map((row) => row.depends_on_hook_id));
}

/** Every runAfter edge between hooks of one tenant (edges never cross tenants). */
export function findTenantDependencyEdges(db: Executor, tenantId: string): Promise<DependencyEdge[]> {
  return db
    .selectFrom('hook_dependencies')
    .innerJoin('hooks', 'hooks.id', 'hook_dependencies.hook_id')
    .select(['hook_dependencies.hook_id', 'hook_dependencies.depends_on_hook_id'])
    .where('hooks.tenant_id', '=', tenantId)
    .execute();
}

/** For each of `hookIds`, in that order, the hooks it waits for, oldest first (one statement). */
export async function findManyRunAfterHooks(db: Executor, hookIds: readonly string[]): Promise<HookRow[][]> {
  if (hookIds.length === 0) return [];
  const rows = await db
    .selectFrom('hook_dependencies')
    .innerJoin('hooks', 'hooks.id', 'hook_dependencies.depends_on_hook_id')
    .selectAll('hooks')
    .select('hook_dependencies.hook_id as waiter_id')
    .where('hook_dependencies.hook_id', 'in', [...hookIds])
    .orderBy('hooks.id', 'asc')
    .execute();
  const byWaiter = new Map<string, HookRow[]>();
  for (const { waiter_id, ...hook } of rows) {
    const list = byWaiter.get(waiter_id) ?? [];
    list.push(hook);
    byWaiter.set(waiter_id, list);
  }
  return hookIds.map((id) => byWaiter.get(id) ?? []);
}

export interface HookListFilter {
  /** null = every tenant */
  tenantId: TenantScope;
  endpointId?: string | null;
}

export function listHooks(db: Executor, filter: HookListFilter, args: PageArgs) {
  if (filter.tenantId === NO_TENANT) return emptyPage<HookRow>(args);
  let query = db.selectFrom('hooks').selectAll();
  if (typeof filter.tenantId === 'string') query = query.where('tenant_id', '=', filter.tenantId);
  if (filter.endpointId) query = query.where('endpoint_id', '=', filter.endpointId);
  return paginate(query, args, { column: 'id' });
}

export async function insertHook(db: Executor, row: HookRow): Promise<void> {
  await db.insertInto('hooks').values(row).execute();
}

export async function updateHookRow(db: Executor, id: string, changes: Partial<HookRow>): Promise<void> {
  await db.updateTable('hooks').set(changes).where('id', '=', id).execute();
}

export async function deleteHookRow(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('hooks').where('id', '=', id).execute();
}

/** Replaces the runAfter edges of one hook. */
export async function replaceDependencies(db: Executor, hookId: string, dependsOn: readonly string[]): Promise<void> {
  await db.deleteFrom('hook_dependencies').where('hook_id', '=', hookId).execute();
  if (dependsOn.length === 0) return;
  await db
    .insertInto('hook_dependencies')
    .values(dependsOn.map((id) => ({ hook_id: hookId, depends_on_hook_id: id })))
    .execute();
}

/**
 * Serialises changes to one tenant's runAfter graph: a no-op UPDATE takes the tenant row's write
 * lock on PostgreSQL (and the database write lock on SQLite), so two concurrent saves cannot each
 * pass the cycle check and together close a cycle. Portable, unlike SELECT … FOR UPDATE.
 */
export async function lockTenantHookGraph(db: Executor, tenantId: string): Promise<void> {
  await db
    .updateTable('tenants')
    .set((eb) => ({ updated_at: eb.ref('updated_at') }))
    .where('id', '=', tenantId)
    .execute();
}
