import { NO_TENANT, type TenantScope } from '../../auth/actor.js';
import { sql } from 'kysely';
import type { DeliveriesTable, EventsTable, DeliveryRow, EventRow } from '../../db/schema.js';
import { emptyPage, paginate, type PageArgs } from '../../db/pagination.js';
import { idFloor } from '../../db/ids.js';
import type { Executor } from '../../db/schema.js';
import { inIdOrder } from '../../db/by-id.js';

export function findEventById(db: Executor, id: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Events by id, in the order of `ids`; null for each id without a row (one statement). */
export async function findManyEventsById(db: Executor, ids: readonly string[]): Promise<(EventRow | null)[]> {
  if (ids.length === 0) return [];
  return inIdOrder(ids, await db.selectFrom('events').selectAll().where('id', 'in', [...ids]).execute());
}

export function findEventByIdempotencyKey(db: Executor, tenantId: string, key: string): Promise<EventRow | undefined> {
  return db
    .selectFrom('events')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
}

/** A key older than the idempotency window is free again: release it from the old event. */
export async function releaseIdempotencyKey(db: Executor, eventId: string): Promise<void> {
  await db.updateTable('events').set({ idempotency_key: null }).where('id', '=', eventId).execute();
}

export interface EventFilter {
  tenantId: TenantScope;
  types?: readonly string[] | null;
  channel?: string | null;
  createdAfter?: number | null;
  createdBefore?: number | null;
}

export function listEvents(db: Executor, filter: EventFilter, args: PageArgs) {
  if (filter.tenantId === NO_TENANT) return emptyPage<EventRow>(args);
  let query = db.selectFrom('events').selectAll();
  if (typeof filter.tenantId === 'string') query = query.where('tenant_id', '=', filter.tenantId);
  if (filter.types && filter.types.length > 0) query = query.where('type', 'in', filter.types as string[]);
  if (filter.createdAfter != null) query = query.where('id', '>=', idFloor('event', filter.createdAfter));
  if (filter.createdBefore != null) query = query.where('id', '<', idFloor('event', filter.createdBefore));
  if (filter.channel) {
    // channels are a JSON array in text; match the quoted element, which cannot occur in another position
    const pattern = `%${JSON.stringify(filter.channel).replace(/[%_\\]/g, '\\$&')}%`;
    query = query.where(sql<boolean>`channels like ${pattern} escape '\\'`);
  }
  return paginate(query, args, { column: 'id' });
}

export async function insertEvents(db: Executor, rows: readonly EventRow[]): Promise<void> {
  if (rows.length === 0) return;
  // SQLite caps bound parameters per statement (32766); 8 columns × 500 rows stays well under it.
  for (let start = 0; start < rows.length; start += 500) {
    await db.insertInto('events').values(rows.slice(start, start + 500)).execute();
  }
}

export async function insertDeliveries(db: Executor, rows: readonly DeliveryRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += 500) {
    await db.insertInto('deliveries').values(rows.slice(start, start + 500)).execute();
  }
}
