// State changes that ripple beyond one delivery, run inside the caller's transaction:
// runAfter ordering (unblock / skip dependents) and disabling an endpoint.
import { sql, type RawBuilder } from 'kysely';
import type { DeliveryStatus, Executor, DeliveryRow, OperationalEventRow } from '../../db/schema.js';
import { defineStatement, dialectOf } from '../../db/statement.js';

/** Collects rows changed as side effects, so they can be published after the commit. */
export interface ChangeLog {
  deliveries: { delivery: DeliveryRow; previousStatus: DeliveryStatus | null }[];
  endpointIds: Set<string>;
  /** operational events raised (published, like the rest, after the commit) */
  operational: OperationalEventRow[];
  /** new deliveries became due: wake the dispatcher */
  due: boolean;
  /** the earliest retry written: the dispatcher looks at the queue then, not only at its next poll */
  retryAt: number | null;
}

export function newChangeLog(): ChangeLog {
  return { deliveries: [], endpointIds: new Set(), operational: [], due: false, retryAt: null };
}

/** BLOCKED deliveries of the same event whose hook waits for `hookId`. */
function blockedDependents(db: Executor, eventId: string, hookId: string): Promise<DeliveryRow[]> {
  return db
    .selectFrom('deliveries')
    .innerJoin('hook_dependencies', 'hook_dependencies.hook_id', 'deliveries.hook_id')
    .selectAll('deliveries')
    .where('deliveries.event_id', '=', eventId)
    .where('deliveries.status', '=', 'BLOCKED')
    .where('hook_dependencies.depends_on_hook_id', '=', hookId)
    .execute();
}

/**
 * After a delivery SUCCEEDED: every dependent whose dependencies (those that have a delivery for
 * this event) have all succeeded becomes PENDING and due now.
 */
export async function releaseDependents(db: Executor, finished: DeliveryRow, now: number, log: ChangeLog): Promise<void> {
  if (!finished.hook_id) return;
  for (const dependent of await blockedDependents(db, finished.event_id, finished.hook_id)) {
    const waitsFor = await db
      .selectFrom('hook_dependencies')
      .innerJoin('deliveries', (join) =>
        join.onRef('deliveries.hook_id', '=', 'hook_dependencies.depends_on_hook_id').on('deliveries.event_id', '=', finished.event_id),
      )
      .select(['deliveries.status'])
      .where('hook_dependencies.hook_id', '=', dependent.hook_id)
      .execute();
    if (waitsFor.some((row) => row.status !== 'SUCCEEDED')) continue;
    const changes = { status: 'PENDING' as const, due_at: now, next_attempt_at: now, status_reason: null, updated_at: now };
    const updated = await db
      .updateTable('deliveries')
      .set(changes)
      .where('id', '=', dependent.id)
      .where('status', '=', 'BLOCKED')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) {
      log.deliveries.push({ delivery: { ...dependent, ...changes }, previousStatus: 'BLOCKED' });
      log.due = true;
    }
  }
}

/**
 * After a delivery ended without success (FAILED, CANCELLED, SKIPPED): its BLOCKED dependents can
 * never run, so they are SKIPPED with the reason, and so on down the chain.
 */
export async function skipDependents(db: Executor, ended: DeliveryRow, now: number, log: ChangeLog): Promise<void> {
  if (!ended.hook_id) return;
  const reason = `skipped: ${ended.hook_id} ${ended.status.toLowerCase()} for this event`;
  for (const dependent of await blockedDependents(db, ended.event_id, ended.hook_id)) {
    const changes = { status: 'SKIPPED' as const, due_at: null, status_reason: reason, finished_at: now, updated_at: now };
    const updated = await db
      .updateTable('deliveries')
      .set(changes)
      .where('id', '=', dependent.id)
      .where('status', '=', 'BLOCKED')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) continue;
    const skipped = { ...dependent, ...changes };
    log.deliveries.push({ delivery: skipped, previousStatus: 'BLOCKED' });
    await skipDependents(db, skipped, now, log);
  }
}

/**
 * Disables an endpoint (410 Gone, or failing for too long) and fails its open deliveries with the
 * reason; their dependents are skipped. Deliveries in flight finish their current attempt.
 * False when it was disabled already.
 */
export async function disableEndpoint(
  db: Executor,
  endpointId: string,
  reason: 'GONE' | 'FAILING' | 'MANUAL',
  message: string,
  now: number,
  log: ChangeLog,
): Promise<boolean> {
  const updated = await db
    .updateTable('endpoints')
    .set({ enabled: 0, disabled_reason: reason, disabled_message: message, disabled_at: now, updated_at: now })
    .where('id', '=', endpointId)
    .where('enabled', '=', 1)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return false;
  log.endpointIds.add(endpointId);
  if (reason !== 'MANUAL') await failOpenDeliveries(db, endpointId, `endpoint disabled: ${message}`, now, log);
  return true;
}

// An endpoint's open deliveries, read through the queue's index (PENDING and RETRYING carry a
// due_at) and the waiting ones' (BLOCKED), never through the endpoint's history: a receiver that
// answers 410 disables its endpoint inside an outcome unit, and reading the millions of deliveries
// it once took would hold that commit, on SQLite every tenant's, for seconds. Without statistics
// SQLite's planner would take the endpoint index, so INDEXED BY names the ones meant;
// PostgreSQL's planner has statistics and finds them itself.
const openOfEndpointSql = (indexed: (name: string) => RawBuilder<unknown>) =>
  defineStatement<{ endpointId: string }, DeliveryRow>((_db, { value }) => sql<DeliveryRow>`
    select * from deliveries ${indexed('deliveries_due')}
     where due_at is not null and endpoint_id = ${value.endpointId} and status in ('PENDING', 'RETRYING')
    union all
    select * from deliveries ${indexed('deliveries_waiting')}
     where status = 'BLOCKED' and endpoint_id = ${value.endpointId}`);
const sqliteOpenOfEndpoint = openOfEndpointSql((name) => sql`indexed by ${sql.id(name)}`);
const postgresOpenOfEndpoint = openOfEndpointSql(() => sql``);

export async function failOpenDeliveries(db: Executor, endpointId: string, reason: string, now: number, log: ChangeLog): Promise<void> {
  const open = await (dialectOf(db) === 'postgres' ? postgresOpenOfEndpoint : sqliteOpenOfEndpoint).rows(db, { endpointId });
  if (open.length === 0) return;
  const changes = { status: 'FAILED' as const, due_at: null, next_attempt_at: null, status_reason: reason, finished_at: now, updated_at: now };
  for (let start = 0; start < open.length; start += 500) {
    await db
      .updateTable('deliveries')
      .set(changes)
      .where('id', 'in', open.slice(start, start + 500).map((row) => row.id))
      .where('status', 'in', ['PENDING', 'RETRYING', 'BLOCKED'])
      .execute();
  }
  for (const row of open) {
    const failed = { ...row, ...changes };
    log.deliveries.push({ delivery: failed, previousStatus: row.status });
    await skipDependents(db, failed, now, log);
  }
}
