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

function fromSlots<P, K extends keyof P & string>(slots: { readonly [Q in keyof P]: P[Q] }, columns: readonly K[]): Pick<P, K> {
  return Object.fromEntries(columns.map((column) => [column, slots[column]])) as Pick<P, K>;
}

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

/**
 * What taking a lease writes: SENDING until the lease ends, a new fencing token, one attempt more,
 * and no reason left from the wait it ends (a FIFO delivery due when a cancelled request's lease
 * ends). The claims in delivery.claim.ts write the same.
 */
export function leaseChanges(now: number, leaseUntil: number) {
  return (eb: ExpressionBuilder<Database, 'deliveries'>) => ({
    status: 'SENDING' as const,
    due_at: leaseUntil,
    lease_token: eb('lease_token', '+', 1),
    attempt_count: eb('attempt_count', '+', 1),
    status_reason: null,
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

/** leaseChanges on a row not yet inserted: a delivery leased as it is written goes in like this. */
export function leasedBeforeInsert(row: DeliveryRow, now: number, leaseUntil: number): DeliveryRow {
  return { ...row, status: 'SENDING', due_at: leaseUntil, lease_token: row.lease_token + 1, attempt_count: row.attempt_count + 1, status_reason: null, updated_at: now };
}

const attemptNumbersStatement = defineStatement<{ deliveryIds: readonly string[] }, Pick<AttemptRow, 'delivery_id' | 'number'>>((db, slots) =>
  db.selectFrom('attempts').select(['delivery_id', 'number']).where(slots.in('delivery_id', 'deliveryIds')),
);

/** The attempt numbers recorded for these deliveries, as `delivery id:number`. */
export async function recordedAttemptNumbers(db: Executor, deliveryIds: readonly string[]): Promise<Set<string>> {
  if (deliveryIds.length === 0) return new Set();
  const rows = await attemptNumbersStatement.rows(db, { deliveryIds });
  return new Set(rows.map((row) => `${row.delivery_id}:${row.number}`));
}

export const insertAttempts: (db: Executor, attempts: readonly AttemptRow[]) => Promise<void> = defineInsert('attempts', ATTEMPT_COLUMNS);

/** A claimed delivery that may not be attempted: written under its fencing token. */
export async function refuseDelivery(db: Executor, delivery: Pick<DeliveryRow, 'id' | 'lease_token'>, changes: DeliveryRefusalColumns): Promise<void> {
  await db.updateTable('deliveries').set(changes).where('id', '=', delivery.id).where('lease_token', '=', delivery.lease_token).execute();
}

const replaceInterruptedStatement = defineStatement<AttemptOutcomeColumns & { deliveryId: string; number: number }, unknown>((db, slots) =>
  db
    .updateTable('attempts')
    .set(fromSlots(slots.value, ATTEMPT_OUTCOME_COLUMNS))
    .where('delivery_id', '=', slots.value.deliveryId)
    .where('number', '=', slots.value.number)
    .where('outcome', '=', 'INTERRUPTED'),
);

/**
 * A worker whose lease was taken over finished its attempt after all: the claim that took the
 * delivery over recorded that attempt as interrupted, and the real outcome replaces it. Returns
 * false when there is none to replace (then the attempt is inserted as usual).
 */
export async function replaceInterruptedAttempt(db: Executor, a: AttemptRow): Promise<boolean> {
  const values = {
    outcome: a.outcome, request_method: a.request_method, request_url: a.request_url, request_headers: a.request_headers,
    request_body: a.request_body, response_status: a.response_status, response_headers: a.response_headers, response_body: a.response_body,
    response_body_encoding: a.response_body_encoding, response_body_truncated: a.response_body_truncated, duration_ms: a.duration_ms,
    error_class: a.error_class, error_message: a.error_message, started_at: a.started_at, finished_at: a.finished_at,
    deliveryId: a.delivery_id, number: a.number,
  } satisfies AttemptOutcomeColumns & { deliveryId: string; number: number };
  return (await replaceInterruptedStatement.changes(db, values)) > 0;
}

/** What a hook's capture writes on its delivery, with the delivery's outcome. */
export type DeliveryCaptureColumns = Pick<DeliveryRow, 'captured' | 'capture_error'>;

/** Deliveries' new states under their fencing tokens; per row, whether it was written (bench/statements.ts measures it alone). */
export const finishDeliveries = defineUpdateEach('deliveries', ['id', 'lease_token'], DELIVERY_OUTCOME_COLUMNS);
// A statement of its own, so finishing a delivery whose hook has no capture writes what it always did.
const finishCapturedDeliveries = defineUpdateEach('deliveries', ['id', 'lease_token'], [...DELIVERY_OUTCOME_COLUMNS, 'captured', 'capture_error']);

/** An attempt, finished, and what its outcome writes on its delivery (under the lease's fencing token). */
export interface AttemptOutcome {
  attempt: AttemptRow;
  delivery: Pick<DeliveryRow, 'id' | 'lease_token'>;
  deliveryChanges: DeliveryOutcomeColumns;
  /** when the hook's capture ran */
  capture: DeliveryCaptureColumns | null;
}

/**
 * Writes these outcomes: each delivery's new state, then each attempt's one row. Per outcome, false
 * when the fencing token no longer matched (the lease was taken over): the claim that took the
 * delivery over recorded this attempt as interrupted, and its real outcome replaces that row.
 */
export async function finishOutcomes(db: Executor, outcomes: readonly AttemptOutcome[]): Promise<boolean[]> {
  const held = new Array<boolean>(outcomes.length).fill(false);
  const plain: number[] = [];
  const captured: number[] = [];
  outcomes.forEach((outcome, index) => (outcome.capture === null ? plain : captured).push(index));
  const row = ({ deliveryChanges, delivery }: AttemptOutcome) => ({ ...deliveryChanges, id: delivery.id, lease_token: delivery.lease_token });
  if (plain.length > 0) {
    const written = await finishDeliveries(db, plain.map((index) => row(outcomes[index]!)));
    written.forEach((ok, position) => (held[plain[position]!] = ok));
  }
  if (captured.length > 0) {
    const written = await finishCapturedDeliveries(db, captured.map((index) => ({ ...row(outcomes[index]!), ...outcomes[index]!.capture! })));
    written.forEach((ok, position) => (held[captured[position]!] = ok));
  }
  const inserted: AttemptRow[] = [];
  for (let index = 0; index < outcomes.length; index++) {
    const { attempt } = outcomes[index]!;
    if (!held[index] && (await replaceInterruptedAttempt(db, attempt))) continue;
    inserted.push(attempt);
  }
  await insertAttempts(db, inserted);
  return held;
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

/** A capture kept on a delivery of a hook that `waiter_id` runs after, for the same event. */
export interface DependencyCapture {
  waiter_id: string;
  event_id: string;
  hook_id: string;
  hook_name: string;
  /** JSON text */
  captured: string;
}

const dependencyCapturesStatement = defineStatement<{ hookIds: readonly string[]; eventIds: readonly string[] }, DependencyCapture>((db, slots) =>
  db
    .selectFrom('hook_dependencies')
    .innerJoin('deliveries', 'deliveries.hook_id', 'hook_dependencies.depends_on_hook_id')
    .innerJoin('hooks', 'hooks.id', 'hook_dependencies.depends_on_hook_id')
    .select(['hook_dependencies.hook_id as waiter_id', 'deliveries.event_id', 'hooks.id as hook_id', 'hooks.name as hook_name', 'deliveries.captured'])
    .where(slots.in('hook_dependencies.hook_id', 'hookIds'))
    .where(slots.in('deliveries.event_id', 'eventIds'))
    .where('deliveries.captured', 'is not', null),
);

/** The captures of these events' deliveries of the hooks that these hooks run after (one statement). */
export async function findDependencyCaptures(db: Executor, hookIds: readonly string[], eventIds: readonly string[]): Promise<DependencyCapture[]> {
  if (hookIds.length === 0 || eventIds.length === 0) return [];
  return dependencyCapturesStatement.rows(db, { hookIds, eventIds });
}
