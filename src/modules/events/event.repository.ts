import { NO_TENANT, type TenantScope } from '../../auth/actor.js';
import type { Kysely } from 'kysely';
import { BATCH_ROWS, inBatches } from '../../db/batches.js';
import type { Database, DeliveriesTable, EventsTable, DeliveryRow, EventRow } from '../../db/schema.js';
import { emptyPage, paginate, type PageArgs } from '../../db/pagination.js';
import { idFloor } from '../../db/ids.js';
import type { Executor } from '../../db/schema.js';
import { inIdOrder } from '../../db/by-id.js';
import { jsonTextHas } from '../../db/json-text.js';
import { defineInsert, defineStatement, type MaybePromise, type Missing } from '../../db/statement.js';

// Column lists typed against the row types, so a schema change that adds a column fails to compile here.
const EVENT_COLUMNS = ['id', 'tenant_id', 'type', 'payload', 'channels', 'idempotency_key', 'occurred_at', 'created_at', 'traceparent', 'capture_depth'] as const satisfies readonly (keyof EventsTable)[];
const DELIVERY_COLUMNS = [
  'id', 'tenant_id', 'event_id', 'hook_id', 'endpoint_id', 'event_type', 'status', 'attempt_count', 'due_at', 'next_attempt_at',
  'lease_token', 'next_trigger', 'last_status_code', 'last_error', 'status_reason', 'captured', 'capture_error',
  'fifo_hook_id', 'created_at', 'updated_at', 'finished_at',
] as const satisfies readonly (keyof DeliveriesTable)[];
const _everyColumn: [Missing<EventsTable, typeof EVENT_COLUMNS>, Missing<DeliveriesTable, typeof DELIVERY_COLUMNS>] extends [never, never] ? true : never = true;
void _everyColumn;

const eventsById = defineStatement<{ ids: readonly string[] }, EventRow>((db, slots) => db.selectFrom('events').selectAll().where(slots.in('id', 'ids')));
const eventByIdempotencyKey = defineStatement<{ tenantId: string; key: string }, EventRow>((db, slots) =>
  db.selectFrom('events').selectAll().where('tenant_id', '=', slots.value.tenantId).where('idempotency_key', '=', slots.value.key),
);

export function findEventById(db: Executor, id: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Events by id, in the order of `ids`; null for each id without a row (one statement). */
export async function findManyEventsById(db: Executor, ids: readonly string[]): Promise<(EventRow | null)[]> {
  if (ids.length === 0) return [];
  return inIdOrder(ids, await eventsById.rows(db, { ids }));
}

export function findEventByIdempotencyKey(db: Executor, tenantId: string, key: string): MaybePromise<EventRow | undefined> {
  return eventByIdempotencyKey.first(db, { tenantId, key });
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
  let indexed = db.selectFrom('events');
  if (typeof filter.tenantId === 'string') indexed = indexed.where('tenant_id', '=', filter.tenantId);
  if (filter.createdAfter != null) indexed = indexed.where('id', '>=', idFloor('event', filter.createdAfter));
  if (filter.createdBefore != null) indexed = indexed.where('id', '<', idFloor('event', filter.createdBefore));
  let query = indexed.selectAll();
  if (filter.types && filter.types.length > 0) query = query.where('type', 'in', filter.types as string[]);
  if (filter.channel) query = query.where(jsonTextHas('channels', filter.channel));
  // no index holds the type or the channels: filtered by them, a page reads a bounded stretch (src/db/pagination.ts)
  const beyondIndex = (filter.types?.length ?? 0) > 0 || Boolean(filter.channel);
  return paginate(query, args, { column: 'id', ...(beyondIndex ? { scan: indexed } : {}) });
}

export const insertEvents: (db: Executor, rows: readonly EventRow[]) => Promise<void> = defineInsert('events', EVENT_COLUMNS);

export const insertDeliveries: (db: Executor, rows: readonly DeliveryRow[]) => Promise<void> = defineInsert('deliveries', DELIVERY_COLUMNS);

/** Deletes the tenant's events a batch per transaction (src/db/batches.ts); delete their deliveries first (delivery.purge.ts). */
export function deleteEventsOfTenant(db: Kysely<Database>, tenantId: string): Promise<void> {
  return inBatches(async () => {
    const batch = db.selectFrom('events').select('id').where('tenant_id', '=', tenantId).limit(BATCH_ROWS);
    return (await db.deleteFrom('events').where('id', 'in', batch).executeTakeFirst()).numDeletedRows;
  });
}
