// The dispatcher's statements: leases, attempt rows and outcome writes. Those of the hot path are
// defined once (src/db/statement.ts) and run the same way on both dialects.
import type { ExpressionBuilder } from 'kysely';
import type { AttemptRow, AttemptsTable, Database, DeliveryRow, EndpointRow, Executor } from '../../db/schema.js';
import { defineInsert, defineStatement, defineUpdateEach, type Missing } from '../../db/statement.js';

const ATTEMPT_COLUMNS = [
  'id', 'delivery_id', 'tenant_id', 'event_id', 'endpoint_id', 'hook_id', 'number', 'trigger', 'outcome', 'request_method',
  'request_url', 'request_headers', 'request_body', 'response_status', 'response_headers', 'response_body',
  'response_body_encoding', 'response_body_truncated', 'duration_ms', 'error_class', 'error_message', 'started_at', 'finished_at',
] as const satisfies readonly (keyof AttemptsTable)[];

/** What finishing an attempt writes (started_at too: a request may have waited in the HTTP client before it started). */
export type AttemptOutcomeColumns = Omit<AttemptRow, 'id' | 'delivery_id' | 'tenant_id' | 'event_id' | 'endpoint_id' | 'hook_id' | 'number' | 'trigger'>;
const ATTEMPT_OUTCOME_COLUMNS = [
  'outcome', 'request_method', 'request_url', 'request_headers', 'request_body', 'response_status', 'response_headers',
  'response_body', 'response_body_encoding', 'response_body_truncated', 'duration_ms', 'error_class', 'error_message', 'started_at', 'finished_at',
] as const satisfies readonly (keyof AttemptOutcomeColumns)[];

/** What finishing an attempt writes on its delivery. */
export type DeliveryOutcomeColumns = Pick<
  DeliveryRow,
  'status' | 'due_at' | 'next_attempt_at' | 'next_trigger' | 'last_status_code' | 'last_error' | 'status_reason' | 'finished_at' | 'updated_at'
>;

const DELIVERY_OUTCOME_COLUMNS = [
  'status', 'due_at', 'next_attempt_at', 'next_trigger', 'last_status_code', 'last_error', 'status_reason', 'finished_at', 'updated_at',
] as const satisfies readonly (keyof DeliveryOutcomeColumns)[];

// Every column of the row types is listed above, so a new column fails to compile until it is written.
const _everyColumn: [Missing<AttemptsTable, typeof ATTEMPT_COLUMNS>, Missing<AttemptOutcomeColumns, typeof ATTEMPT_OUTCOME_COLUMNS>, Missing<DeliveryOutcomeColumns, typeof DELIVERY_OUTCOME_COLUMNS>] extends [never, never, never]
  ? true
  : never = true;
void _everyColumn;

/** What refusing a claimed delivery writes on it. */
export type DeliveryRefusalColumns = Pick<DeliveryRow, 'status' | 'due_at' | 'attempt_count' | 'status_reason' | 'last_error' | 'finished_at' | 'updated_at'>;

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
export function leaseChanges(now: number, leaseUntil: number) {
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

const leasePendingStatement = defineStatement<{ ids: readonly string[]; now: number; leaseUntil: number }, DeliveryRow>((db, slots) =>
  db
    .updateTable('deliveries')
    .set(leaseChanges(slots.value.now, slots.value.leaseUntil))
    .where(slots.in('id', 'ids'))
    .where('status', '=', 'PENDING')
    .returningAll(),
);

/** Leases these deliveries if they are still PENDING (just written, not taken by a claim meanwhile). */
export function leasePending(db: Executor, ids: readonly string[], now: number, leaseUntil: number): Promise<DeliveryRow[]> {
  return leasePendingStatement.rows(db, { ids, now, leaseUntil });
}

const interruptStatement = defineStatement<{ deliveryIds: readonly string[]; now: number; message: string }, unknown>((db, slots) =>
  db
    .updateTable('attempts')
    .set({ outcome: 'INTERRUPTED', error_class: 'interrupted', error_message: slots.value.message, finished_at: slots.value.now })
    .where(slots.in('delivery_id', 'deliveryIds'))
    .where('outcome', '=', 'IN_FLIGHT'),
);

/** IN_FLIGHT attempts of these deliveries (left by a worker that stopped) become INTERRUPTED. */
export async function interruptInFlightAttempts(db: Executor, deliveryIds: readonly string[], now: number, message: string): Promise<void> {
  if (deliveryIds.length === 0) return;
  await interruptStatement.run(db, { deliveryIds, now, message });
}

export const insertAttempts: (db: Executor, attempts: readonly AttemptRow[]) => Promise<void> = defineInsert('attempts', ATTEMPT_COLUMNS);

/** A claimed delivery that may not be attempted: written under its fencing token. */
export async function refuseDelivery(db: Executor, delivery: Pick<DeliveryRow, 'id' | 'lease_token'>, changes: DeliveryRefusalColumns): Promise<void> {
  await db.updateTable('deliveries').set(changes).where('id', '=', delivery.id).where('lease_token', '=', delivery.lease_token).execute();
}

const finishAttempts = defineUpdateEach('attempts', ['id'], ATTEMPT_OUTCOME_COLUMNS);
const finishDeliveries = defineUpdateEach('deliveries', ['id', 'lease_token'], DELIVERY_OUTCOME_COLUMNS);

/** An attempt's outcome and what it writes on its delivery (under the lease's fencing token). */
export interface AttemptOutcome {
  attemptId: string;
  attemptChanges: AttemptOutcomeColumns;
  delivery: Pick<DeliveryRow, 'id' | 'lease_token'>;
  deliveryChanges: DeliveryOutcomeColumns;
}

/** Finishes these attempts and writes their deliveries; per outcome, false when the fencing token no longer matched (the lease was taken over). */
export async function finishOutcomes(db: Executor, outcomes: readonly AttemptOutcome[]): Promise<boolean[]> {
  await finishAttempts(
    db,
    outcomes.map((outcome) => ({ ...outcome.attemptChanges, id: outcome.attemptId })),
  );
  return finishDeliveries(
    db,
    outcomes.map((outcome) => ({ ...outcome.deliveryChanges, id: outcome.delivery.id, lease_token: outcome.delivery.lease_token })),
  );
}

/** The earliest due_at in the queue, to sleep exactly until the next retry is due. */
export async function nextDueAt(db: Executor): Promise<number | null> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.min('due_at').as('next'))
    .where('due_at', 'is not', null)
    .executeTakeFirst();
  return row?.next == null ? null : Number(row.next);
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

/** Marks the endpoint failing since `now`, unless another write marked it already. */
export async function markEndpointFailing(db: Executor, endpointId: string, now: number): Promise<void> {
  await db.updateTable('endpoints').set({ failing_since: now }).where('id', '=', endpointId).where('failing_since', 'is', null).execute();
}

export function endpointsByIds(db: Executor, ids: readonly string[]): Promise<EndpointRow[]> {
  return db.selectFrom('endpoints').selectAll().where('id', 'in', [...ids]).execute();
}
