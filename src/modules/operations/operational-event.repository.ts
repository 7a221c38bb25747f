// SQL of operational events: written where they are raised, listed newest first.
import { NO_TENANT, type TenantScope } from '../../auth/actor.js';
import { inIdOrder } from '../../db/by-id.js';
import { idFloor } from '../../db/ids.js';
import { emptyPage, paginate, type PageArgs } from '../../db/pagination.js';
import type { Executor, OperationalEventRow } from '../../db/schema.js';
import type { OperationalKind } from './operational-kinds.js';

export async function insertOperationalEvent(db: Executor, row: OperationalEventRow): Promise<void> {
  await db.insertInto('operational_events').values(row).execute();
}

export async function findManyOperationalEventsById(db: Executor, ids: readonly string[]): Promise<(OperationalEventRow | null)[]> {
  if (ids.length === 0) return [];
  return inIdOrder(ids, await db.selectFrom('operational_events').selectAll().where('id', 'in', [...ids]).execute());
}

export interface OperationalEventFilter {
  tenantId: TenantScope;
  kinds?: readonly OperationalKind[] | null;
  endpointId?: string | null;
  deliveryId?: string | null;
  createdAfter?: number | null;
  createdBefore?: number | null;
}

export function listOperationalEvents(db: Executor, filter: OperationalEventFilter, args: PageArgs) {
  if (filter.tenantId === NO_TENANT) return emptyPage<OperationalEventRow>(args);
  let indexed = db.selectFrom('operational_events');
  if (typeof filter.tenantId === 'string') indexed = indexed.where('tenant_id', '=', filter.tenantId);
  // ids carry their creation time: a range on the primary key
  if (filter.createdAfter != null) indexed = indexed.where('id', '>=', idFloor('operationalEvent', filter.createdAfter));
  if (filter.createdBefore != null) indexed = indexed.where('id', '<', idFloor('operationalEvent', filter.createdBefore));
  let query = indexed.selectAll();
  if (filter.kinds && filter.kinds.length > 0) query = query.where('kind', 'in', [...filter.kinds]);
  if (filter.endpointId) query = query.where('endpoint_id', '=', filter.endpointId);
  if (filter.deliveryId) query = query.where('delivery_id', '=', filter.deliveryId);
  // no index holds these: filtered by them, a page reads a bounded stretch (src/db/pagination.ts)
  const beyondIndex = (filter.kinds?.length ?? 0) > 0 || Boolean(filter.endpointId) || Boolean(filter.deliveryId);
  return paginate(query, args, { column: 'id', ...(beyondIndex ? { scan: indexed } : {}) });
}

/** Deletes at most `limit` operational events created before `cutoff`; returns how many. */
export async function purgeOperationalEvents(db: Executor, cutoff: number, limit: number): Promise<number> {
  const old = await db.selectFrom('operational_events').select('id').where('id', '<', idFloor('operationalEvent', cutoff)).limit(limit).execute();
  if (old.length === 0) return 0;
  await db.deleteFrom('operational_events').where('id', 'in', old.map((row) => row.id)).execute();
  return old.length;
}

/** The latest finished, non-test attempts of an endpoint: whether its last `count` all failed. */
export async function lastAttemptsAllFailed(db: Executor, endpointId: string, count: number): Promise<boolean> {
  const rows = await db
    .selectFrom('attempts')
    .select('outcome')
    .where('endpoint_id', '=', endpointId)
    .where('outcome', 'in', ['SUCCEEDED', 'FAILED'])
    .where('trigger', '!=', 'TEST')
    .orderBy('id', 'desc')
    .limit(count)
    .execute();
  return rows.length === count && rows.every((row) => row.outcome === 'FAILED');
}

/** Marks the endpoint's failing streak announced; false if it was already (another batch or worker). */
export async function markFailingNotified(db: Executor, endpointId: string, now: number): Promise<boolean> {
  const updated = await db
    .updateTable('endpoints')
    .set({ failing_notified_at: now })
    .where('id', '=', endpointId)
    .where('failing_notified_at', 'is', null)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** Marks `mark` (percent of the auto-disable window) announced; false if it or a later one already was. */
export async function markFailingWindowAnnounced(db: Executor, endpointId: string, mark: number): Promise<boolean> {
  const updated = await db
    .updateTable('endpoints')
    .set({ failing_window_announced: mark })
    .where('id', '=', endpointId)
    .where((eb) => eb.or([eb('failing_window_announced', 'is', null), eb('failing_window_announced', '<', mark)]))
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** Ends the endpoint's failing streak; true if the streak had been announced (so its recovery is too). */
export async function clearFailing(db: Executor, endpointId: string): Promise<boolean> {
  const announced = await db
    .updateTable('endpoints')
    .set({ failing_since: null, failing_notified_at: null, failing_window_announced: null })
    .where('id', '=', endpointId)
    .where('failing_notified_at', 'is not', null)
    .executeTakeFirst();
  if (Number(announced.numUpdatedRows) > 0) return true;
  await db.updateTable('endpoints').set({ failing_since: null, failing_window_announced: null }).where('id', '=', endpointId).execute();
  return false;
}
