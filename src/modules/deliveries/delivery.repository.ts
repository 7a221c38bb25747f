import { sql } from 'kysely';
import { NO_TENANT, type TenantScope } from '../../auth/actor.js';
import type { AttemptOutcome, DeliveryStatus, AttemptRow, DeliveryRow } from '../../db/schema.js';
import { idFloor } from '../../db/ids.js';
import { emptyPage, paginate, type PageArgs } from '../../db/pagination.js';
import type { Executor } from '../../db/schema.js';
import { inIdOrder } from '../../db/by-id.js';
import { jsonTextHas } from '../../db/json-text.js';

export const FINAL_STATUSES: readonly DeliveryStatus[] = ['SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED'];
export const OPEN_STATUSES: readonly DeliveryStatus[] = ['PENDING', 'SENDING', 'RETRYING', 'BLOCKED'];

/**
 * Deliveries waiting in the queue (PENDING, RETRYING, SENDING), by status: a scan of the queue's
 * own partial index (rows with a due_at), so it grows with the backlog, never with the history.
 */
export async function countQueuedByStatus(db: Executor): Promise<Map<DeliveryStatus, number>> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
    .where('due_at', 'is not', null)
    .groupBy('status')
    .execute();
  // the status as text, not a parameter: only then may the planner read the partial index
  // (deliveries_waiting) that holds exactly these rows
  const waiting = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(sql<boolean>`status = 'BLOCKED'`)
    .executeTakeFirstOrThrow();
  const counts = new Map(rows.map((row) => [row.status, Number(row.count)]));
  counts.set('BLOCKED', Number(waiting.count));
  return counts;
}

export function findDeliveryById(db: Executor, id: string): Promise<DeliveryRow | undefined> {
  return db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Deliveries by id, in the order of `ids`; null for each id without a row (one statement). */
export async function findManyDeliveriesById(db: Executor, ids: readonly string[]): Promise<(DeliveryRow | null)[]> {
  if (ids.length === 0) return [];
  return inIdOrder(ids, await db.selectFrom('deliveries').selectAll().where('id', 'in', [...ids]).execute());
}

export function findAttemptById(db: Executor, id: string): Promise<AttemptRow | undefined> {
  return db.selectFrom('attempts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Attempts by id, in the order of `ids`; null for each id without a row (one statement). */
export async function findManyAttemptsById(db: Executor, ids: readonly string[]): Promise<(AttemptRow | null)[]> {
  if (ids.length === 0) return [];
  return inIdOrder(ids, await db.selectFrom('attempts').selectAll().where('id', 'in', [...ids]).execute());
}

export interface DeliveryFilter {
  tenantId: TenantScope;
  statuses?: readonly DeliveryStatus[] | null;
  endpointId?: string | null;
  hookId?: string | null;
  eventId?: string | null;
  eventTypes?: readonly string[] | null;
  /** only deliveries of events sent on this channel */
  channel?: string | null;
  createdAfter?: number | null;
  createdBefore?: number | null;
}

export function listDeliveries(db: Executor, filter: DeliveryFilter, args: PageArgs) {
  if (filter.tenantId === NO_TENANT) return emptyPage<DeliveryRow>(args);
  // The narrowest owner given is the index the page is read by; the others are checked row by row.
  const [narrowest, ...others] = givenOwners([
    ['event_id', filter.eventId],
    ['hook_id', filter.hookId],
    ['endpoint_id', filter.endpointId],
    ['tenant_id', typeof filter.tenantId === 'string' ? filter.tenantId : null],
  ]);
  let indexed = db.selectFrom('deliveries');
  if (narrowest) indexed = indexed.where(narrowest[0], '=', narrowest[1]);
  // ids are time-ordered, so a time range is a primary-key range
  if (filter.createdAfter != null) indexed = indexed.where('id', '>=', idFloor('delivery', filter.createdAfter));
  if (filter.createdBefore != null) indexed = indexed.where('id', '<', idFloor('delivery', filter.createdBefore));
  let query = indexed.selectAll();
  for (const [column, id] of others) query = query.where(column, '=', id);
  if (filter.statuses && filter.statuses.length > 0) query = query.where('status', 'in', filter.statuses as DeliveryStatus[]);
  if (filter.eventTypes && filter.eventTypes.length > 0) query = query.where('event_type', 'in', filter.eventTypes as string[]);
  const { channel } = filter;
  if (channel) {
    // Channels live on the event only: a delivery does not copy them.
    query = query.where(({ exists, selectFrom }) =>
      exists(selectFrom('events').select('events.id').whereRef('events.id', '=', 'deliveries.event_id').where(jsonTextHas('events.channels', channel))),
    );
  }
  const beyondIndex = others.length > 0 || (filter.statuses?.length ?? 0) > 0 || (filter.eventTypes?.length ?? 0) > 0 || Boolean(channel);
  // an event's deliveries (one per hook) are few, and are read whole
  return paginate(query, args, { column: 'id', ...(beyondIndex && narrowest?.[0] !== 'event_id' ? { scan: indexed } : {}) });
}

/** The owner filters given, narrowest first as listed: the first is read by its index, the rest checked on each row. */
function givenOwners<C extends string>(owners: readonly (readonly [C, string | null | undefined])[]): [C, string][] {
  return owners.flatMap(([column, id]) => (id ? [[column, id] as [C, string]] : []));
}

export interface AttemptFilter {
  tenantId: TenantScope;
  deliveryId?: string | null;
  endpointId?: string | null;
  hookId?: string | null;
  eventId?: string | null;
  outcomes?: readonly AttemptOutcome[] | null;
  /** only attempts of events of these types */
  eventTypes?: readonly string[] | null;
  /** only attempts of events sent on this channel */
  channel?: string | null;
  startedAfter?: number | null;
  startedBefore?: number | null;
}

export function listAttempts(db: Executor, filter: AttemptFilter, args: PageArgs) {
  if (filter.tenantId === NO_TENANT) return emptyPage<AttemptRow>(args);
  // As for deliveries; no index holds an attempt's hook or event, so those are always checked row by row.
  const [narrowest, ...others] = givenOwners([
    ['delivery_id', filter.deliveryId],
    ['endpoint_id', filter.endpointId],
    ['tenant_id', typeof filter.tenantId === 'string' ? filter.tenantId : null],
  ]);
  let indexed = db.selectFrom('attempts');
  if (narrowest) indexed = indexed.where(narrowest[0], '=', narrowest[1]);
  if (filter.startedAfter != null) indexed = indexed.where('id', '>=', idFloor('attempt', filter.startedAfter));
  if (filter.startedBefore != null) indexed = indexed.where('id', '<', idFloor('attempt', filter.startedBefore));
  let query = indexed.selectAll();
  for (const [column, id] of others) query = query.where(column, '=', id);
  if (filter.hookId) query = query.where('hook_id', '=', filter.hookId);
  if (filter.eventId) query = query.where('event_id', '=', filter.eventId);
  if (filter.outcomes && filter.outcomes.length > 0) query = query.where('outcome', 'in', filter.outcomes as AttemptOutcome[]);
  const { eventTypes, channel } = filter;
  if ((eventTypes && eventTypes.length > 0) || channel) {
    // An attempt names its event only; type and channels are the event's.
    query = query.where(({ exists, selectFrom }) => {
      let events = selectFrom('events').select('events.id').whereRef('events.id', '=', 'attempts.event_id');
      if (eventTypes && eventTypes.length > 0) events = events.where('events.type', 'in', eventTypes as string[]);
      if (channel) events = events.where(jsonTextHas('events.channels', channel));
      return exists(events);
    });
  }
  const beyondIndex =
    others.length > 0 || Boolean(filter.hookId) || Boolean(filter.eventId) || (filter.outcomes?.length ?? 0) > 0 || (eventTypes?.length ?? 0) > 0 || Boolean(channel);
  // a delivery's attempts are few, and are read whole
  return paginate(query, args, { column: 'id', ...(beyondIndex && narrowest?.[0] !== 'delivery_id' ? { scan: indexed } : {}) });
}

/** The latest attempts of an endpoint, newest first, for its health figures. */
export function recentEndpointAttempts(db: Executor, endpointId: string, limit: number) {
  return db
    .selectFrom('attempts')
    .select(['outcome', 'duration_ms', 'started_at', 'finished_at', 'trigger'])
    .where('endpoint_id', '=', endpointId)
    .where('outcome', '!=', 'IN_FLIGHT')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** What a user's action writes on a delivery (its retry, its cancel, recovering its endpoint). */
export type ManualDeliveryChanges = Partial<Pick<DeliveryRow, 'status' | 'due_at' | 'next_attempt_at' | 'next_trigger' | 'status_reason' | 'finished_at' | 'updated_at' | 'lease_token' | 'fifo_hook_id'>>;

/**
 * Writes `changes` on the delivery if it is still in one of `statuses` (and, given one, still under
 * this fencing token): whether it was, so the caller can tell a concurrent change from its own.
 */
export async function updateDeliveryIfStill(
  db: Executor,
  delivery: { id: string; statuses: readonly DeliveryStatus[]; leaseToken?: number },
  changes: ManualDeliveryChanges,
): Promise<boolean> {
  let query = db.updateTable('deliveries').set(changes).where('id', '=', delivery.id).where('status', 'in', [...delivery.statuses]);
  if (delivery.leaseToken !== undefined) query = query.where('lease_token', '=', delivery.leaseToken);
  return Number((await query.executeTakeFirst()).numUpdatedRows) > 0;
}

/** An endpoint's FAILED deliveries created before `beforeId` (test deliveries are one-off probes, not traffic to recover). */
function failedOfEndpoint(db: Executor, endpointId: string, beforeId: string) {
  return db.selectFrom('deliveries').where('endpoint_id', '=', endpointId).where('status', '=', 'FAILED').where('next_trigger', '!=', 'TEST').where('id', '<', beforeId);
}

/** Recovering an endpoint: its FAILED deliveries in [fromId, beforeId) of these (FIFO) hooks wait in their hooks' queues; returns how many. */
export async function queueFailedOfEndpoint(
  db: Executor,
  range: { endpointId: string; fromId: string; beforeId: string; hookIds: readonly string[] },
  waiting: ManualDeliveryChanges,
): Promise<number> {
  const ids = failedOfEndpoint(db, range.endpointId, range.beforeId).select('id').where('id', '>=', range.fromId).where('hook_id', 'in', [...range.hookIds]);
  const result = await db
    .updateTable('deliveries')
    .set((eb) => ({ ...waiting, fifo_hook_id: eb.ref('hook_id') }))
    .where('id', 'in', ids)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Recovering an endpoint: the ids of the next `limit` of its FAILED deliveries in id order, from
 * `fromId` or after `afterId`, before `beforeId`, but for those of `exceptHookIds` (recovered apart).
 */
export async function nextFailedOfEndpoint(
  db: Executor,
  range: { endpointId: string; fromId: string; afterId: string | null; beforeId: string; exceptHookIds: readonly string[]; limit: number },
): Promise<string[]> {
  let query = failedOfEndpoint(db, range.endpointId, range.beforeId).select('id');
  query = range.afterId === null ? query.where('id', '>=', range.fromId) : query.where('id', '>', range.afterId);
  const { exceptHookIds } = range;
  if (exceptHookIds.length > 0) query = query.where((eb) => eb.or([eb('hook_id', 'is', null), eb('hook_id', 'not in', [...exceptHookIds])]));
  return (await query.orderBy('id').limit(range.limit).execute()).map((row) => row.id);
}

/** Writes `changes` on those of these deliveries still FAILED; returns how many. */
export async function updateStillFailed(db: Executor, ids: readonly string[], changes: ManualDeliveryChanges): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db.updateTable('deliveries').set(changes).where('id', 'in', [...ids]).where('status', '=', 'FAILED').executeTakeFirst();
  return Number(result.numUpdatedRows);
}
