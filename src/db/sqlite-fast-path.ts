// The per-row writes of the hot paths (accepting events, claiming and finishing attempts) as
// statements prepared once on SQLite. Kysely compiles and prepares each query anew (tens of
// microseconds, more for a multi-row insert); at thousands of rows per second that dominates.
// They run on the same better-sqlite3 connection, inside the Kysely transaction that is open, so
// callers use them only from within `db.transaction().execute(…)`.
import type SQLite from 'better-sqlite3';
import type { AttemptsTable, DeliveriesTable, EventsTable } from './schema.js';

type AttemptRow = AttemptsTable;
type DeliveryRow = DeliveriesTable;

/** what finishing an attempt writes */
export type AttemptOutcomeColumns = Omit<AttemptRow, 'id' | 'delivery_id' | 'tenant_id' | 'event_id' | 'endpoint_id' | 'hook_id' | 'number' | 'trigger' | 'started_at'>;
type DeliveryChanges = Pick<
  DeliveryRow,
  'status' | 'due_at' | 'next_attempt_at' | 'next_trigger' | 'last_status_code' | 'last_error' | 'status_reason' | 'finished_at' | 'updated_at'
>;

export interface FastPath {
  insertEvent(row: EventsTable): void;
  insertDelivery(row: DeliveryRow): void;
  insertAttempt(row: AttemptRow): void;
  finishAttempt(id: string, changes: AttemptOutcomeColumns): void;
  /** returns false when the fencing token no longer matches (the lease was taken over) */
  finishDelivery(id: string, leaseToken: number, changes: DeliveryChanges): boolean;
}

// Column lists typed against the row types, so a schema change that adds a column fails to compile here.
const EVENT_COLUMNS = ['id', 'tenant_id', 'type', 'payload', 'channels', 'idempotency_key', 'occurred_at', 'created_at'] as const satisfies readonly (keyof EventsTable)[];
const DELIVERY_COLUMNS = [
  'id', 'tenant_id', 'event_id', 'hook_id', 'endpoint_id', 'event_type', 'status', 'attempt_count', 'due_at', 'next_attempt_at',
  'lease_token', 'next_trigger', 'last_status_code', 'last_error', 'status_reason', 'created_at', 'updated_at', 'finished_at',
] as const satisfies readonly (keyof DeliveryRow)[];
const ATTEMPT_COLUMNS = [
  'id', 'delivery_id', 'tenant_id', 'event_id', 'endpoint_id', 'hook_id', 'number', 'trigger', 'outcome', 'request_method',
  'request_url', 'request_headers', 'request_body', 'response_status', 'response_headers', 'response_body',
  'response_body_encoding', 'response_body_truncated', 'duration_ms', 'error_class', 'error_message', 'started_at', 'finished_at',
] as const satisfies readonly (keyof AttemptRow)[];

// Exhaustiveness: every column of the row types is listed above.
type Missing<Row, Listed extends readonly unknown[]> = Exclude<keyof Row, Listed[number]>;
const _everyColumn: [Missing<EventsTable, typeof EVENT_COLUMNS>, Missing<DeliveryRow, typeof DELIVERY_COLUMNS>, Missing<AttemptRow, typeof ATTEMPT_COLUMNS>] extends [never, never, never] ? true : never = true;
void _everyColumn;

const cache = new WeakMap<SQLite.Database, FastPath>();

export function sqliteFastPath(db: SQLite.Database): FastPath {
  const cached = cache.get(db);
  if (cached) return cached;
  const attempt = db.prepare(
    `update attempts set outcome = @outcome, request_method = @request_method, request_url = @request_url,
       request_headers = @request_headers, request_body = @request_body, response_status = @response_status,
       response_headers = @response_headers, response_body = @response_body,
       response_body_encoding = @response_body_encoding, response_body_truncated = @response_body_truncated,
       duration_ms = @duration_ms, error_class = @error_class, error_message = @error_message, finished_at = @finished_at
     where id = @id`,
  );
  const delivery = db.prepare(
    `update deliveries set status = @status, due_at = @due_at, next_attempt_at = @next_attempt_at,
       next_trigger = @next_trigger, last_status_code = @last_status_code, last_error = @last_error,
       status_reason = @status_reason, finished_at = @finished_at, updated_at = @updated_at
     where id = @id and lease_token = @lease_token`,
  );
  const insert = (table: string, columns: readonly string[]) =>
    db.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`);
  const event = insert('events', EVENT_COLUMNS);
  const newDelivery = insert('deliveries', DELIVERY_COLUMNS);
  const newAttempt = insert('attempts', ATTEMPT_COLUMNS);
  const statements: FastPath = {
    insertEvent: (row) => {
      event.run(row);
    },
    insertDelivery: (row) => {
      newDelivery.run(row);
    },
    insertAttempt: (row) => {
      newAttempt.run(row);
    },
    finishAttempt: (id, changes) => {
      attempt.run({ ...changes, id });
    },
    finishDelivery: (id, leaseToken, changes) => delivery.run({ ...changes, id, lease_token: leaseToken }).changes > 0,
  };
  cache.set(db, statements);
  return statements;
}
