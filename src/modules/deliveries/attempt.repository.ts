// The dispatcher's statements: leases, attempt rows and outcome writes, each once (SQLite's prepared twin beside its Kysely form).
import type { ExpressionBuilder } from 'kysely';
import type { AttemptRow, Database, DeliveryRow, EndpointRow, Executor } from '../../db/schema.js';
import type { AttemptOutcomeColumns, FastPath } from '../../db/sqlite-fast-path.js';

export type { AttemptOutcomeColumns } from '../../db/sqlite-fast-path.js';

/** What finishing an attempt writes on its delivery. */
export type DeliveryOutcomeColumns = Pick<
  DeliveryRow,
  'status' | 'due_at' | 'next_attempt_at' | 'next_trigger' | 'last_status_code' | 'last_error' | 'status_reason' | 'finished_at' | 'updated_at'
>;

/** What refusing a claimed delivery writes on it. */
export type DeliveryRefusalColumns = Pick<DeliveryRow, 'status' | 'due_at' | 'attempt_count' | 'status_reason' | 'last_error' | 'finished_at' | 'updated_at'>;

/** Statements that take a list of ids get it in parts, so no statement grows past the dialects' parameter limits. */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/** Pushes the lease of a delivery this worker still holds (same fencing token, still SENDING). */
export async function renewLease(db: Executor, deliveryId: string, leaseToken: number, dueAt: number): Promise<void> {
  await db
    .updateTable('deliveries')
    .set({ due_at: dueAt })
    .where('id', '=', deliveryId)
    .where('lease_token', '=', leaseToken)
    .where('status', '=', 'SENDING')
    .execute();
}

/** What taking a lease writes: SENDING until the lease ends, a new fencing token, one attempt more. */
function leaseChanges(now: number, leaseUntil: number) {
  return (eb: ExpressionBuilder<Database, 'deliveries'>) => ({
    status: 'SENDING' as const,
    due_at: leaseUntil,
    lease_token: eb('lease_token', '+', 1),
    attempt_count: eb('attempt_count', '+', 1),
    updated_at: now,
  });
}

/** Leases these deliveries whatever their due time (an attempt asked for now), unless one is SENDING already. */
export function leaseForImmediateAttempt(db: Executor, ids: readonly string[], now: number, leaseUntil: number): Promise<DeliveryRow[]> {
  return db
    .updateTable('deliveries')
    .set(leaseChanges(now, leaseUntil))
    .where('id', 'in', [...ids])
    .where('status', '!=', 'SENDING')
    .returningAll()
    .execute();
}

/** Leases these deliveries if they are still PENDING (just written, not taken by a claim meanwhile). */
export async function leasePending(db: Executor, fast: FastPath | null, ids: readonly string[], now: number, leaseUntil: number): Promise<DeliveryRow[]> {
  if (fast) return fast.leaseDeliveries(ids, now, leaseUntil);
  return db
    .updateTable('deliveries')
    .set(leaseChanges(now, leaseUntil))
    .where('id', 'in', [...ids])
    .where('status', '=', 'PENDING')
    .returningAll()
    .execute();
}

/** IN_FLIGHT attempts of these deliveries (left by a worker that stopped) become INTERRUPTED. */
export async function interruptInFlightAttempts(db: Executor, fast: FastPath | null, deliveryIds: readonly string[], now: number, message: string): Promise<void> {
  if (deliveryIds.length === 0) return;
  if (fast) return fast.interruptAttempts(deliveryIds, now, message);
  for (const part of chunks(deliveryIds)) {
    await db
      .updateTable('attempts')
      .set({ outcome: 'INTERRUPTED', error_class: 'interrupted', error_message: message, finished_at: now })
      .where('delivery_id', 'in', part)
      .where('outcome', '=', 'IN_FLIGHT')
      .execute();
  }
}

/** Rows by id, for the batched look-ups of a claim. */
export async function rowsById<T extends { id: string }>(
  db: Executor,
  fast: FastPath | null,
  table: 'events' | 'hooks' | 'endpoints' | 'tenants',
  ids: Iterable<string>,
): Promise<Map<string, T>> {
  const map = new Map<string, T>();
  for (const part of chunks([...new Set(ids)])) {
    const rows = fast ? fast.rowsById<T>(table, part) : ((await db.selectFrom(table).selectAll().where('id', 'in', part).execute()) as T[]);
    for (const row of rows) map.set(row.id, row);
  }
  return map;
}

/** Which of these hooks other hooks wait for (runAfter). */
export async function hooksWithDependents(db: Executor, fast: FastPath | null, hookIds: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks(hookIds)) {
    const rows = fast
      ? fast.hooksWithDependents(part)
      : (await db.selectFrom('hook_dependencies').select('depends_on_hook_id').where('depends_on_hook_id', 'in', part).execute()).map(
          (row) => row.depends_on_hook_id,
        );
    for (const hookId of rows) found.add(hookId);
  }
  return found;
}

export async function insertAttempts(db: Executor, fast: FastPath | null, attempts: readonly AttemptRow[]): Promise<void> {
  if (fast) for (const attempt of attempts) fast.insertAttempt(attempt);
  else for (const part of chunks(attempts, 200)) await db.insertInto('attempts').values(part).execute();
}

/** A claimed delivery that may not be attempted: written under its fencing token. */
export async function refuseDelivery(db: Executor, delivery: Pick<DeliveryRow, 'id' | 'lease_token'>, changes: DeliveryRefusalColumns): Promise<void> {
  await db.updateTable('deliveries').set(changes).where('id', '=', delivery.id).where('lease_token', '=', delivery.lease_token).execute();
}

export async function finishAttempt(db: Executor, fast: FastPath | null, id: string, changes: AttemptOutcomeColumns): Promise<void> {
  if (fast) fast.finishAttempt(id, changes);
  else await db.updateTable('attempts').set(changes).where('id', '=', id).execute();
}

/** Returns false when the fencing token no longer matches (the lease was taken over). */
export async function finishDelivery(
  db: Executor,
  fast: FastPath | null,
  delivery: Pick<DeliveryRow, 'id' | 'lease_token'>,
  changes: DeliveryOutcomeColumns,
): Promise<boolean> {
  if (fast) return fast.finishDelivery(delivery.id, delivery.lease_token, changes);
  const result = await db.updateTable('deliveries').set(changes).where('id', '=', delivery.id).where('lease_token', '=', delivery.lease_token).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** PostgreSQL: locks these endpoint rows in id order (two batches never wait on each other in a cycle) and reads them fresh. */
export async function lockEndpointsEnabled(db: Executor, endpointIds: readonly string[]): Promise<Map<string, boolean>> {
  const enabled = new Map<string, boolean>();
  if (endpointIds.length === 0) return enabled;
  const sorted = [...endpointIds].sort();
  const rows = await db.selectFrom('endpoints').select(['id', 'enabled']).where('id', 'in', sorted).orderBy('id').forUpdate().execute();
  for (const row of rows) enabled.set(row.id, row.enabled === 1);
  return enabled;
}

export async function endpointEnabled(db: Executor, endpointId: string): Promise<boolean> {
  const row = await db.selectFrom('endpoints').select('enabled').where('id', '=', endpointId).executeTakeFirst();
  return row?.enabled === 1;
}

export async function clearEndpointFailing(db: Executor, endpointId: string): Promise<void> {
  await db.updateTable('endpoints').set({ failing_since: null }).where('id', '=', endpointId).execute();
}

/** Marks the endpoint failing since `now`, unless another write marked it already. */
export async function markEndpointFailing(db: Executor, endpointId: string, now: number): Promise<void> {
  await db.updateTable('endpoints').set({ failing_since: now }).where('id', '=', endpointId).where('failing_since', 'is', null).execute();
}

export function endpointsByIds(db: Executor, ids: readonly string[]): Promise<EndpointRow[]> {
  return db.selectFrom('endpoints').selectAll().where('id', 'in', [...ids]).execute();
}
