// The two writes made for every finished attempt, as prepared statements on SQLite. Kysely compiles
// and prepares each query anew (tens of microseconds); at thousands of attempts per second that is
// a large share of the dispatcher's time, so the per-attempt statements are prepared once here.
// They run on the same better-sqlite3 connection, inside the Kysely transaction that is open.
import type SQLite from 'better-sqlite3';
import type { AttemptRow, DeliveryRow } from '../modules/deliveries/delivery.repository.js';

/** what finishing an attempt writes */
export type AttemptOutcomeColumns = Omit<AttemptRow, 'id' | 'delivery_id' | 'tenant_id' | 'event_id' | 'endpoint_id' | 'hook_id' | 'number' | 'trigger' | 'started_at'>;
type DeliveryChanges = Pick<
  DeliveryRow,
  'status' | 'due_at' | 'next_attempt_at' | 'next_trigger' | 'last_status_code' | 'last_error' | 'status_reason' | 'finished_at' | 'updated_at'
>;

export interface CompletionStatements {
  finishAttempt(id: string, changes: AttemptOutcomeColumns): void;
  /** returns false when the fencing token no longer matches (the lease was taken over) */
  finishDelivery(id: string, leaseToken: number, changes: DeliveryChanges): boolean;
}

const cache = new WeakMap<SQLite.Database, CompletionStatements>();

export function completionStatements(db: SQLite.Database): CompletionStatements {
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
  const statements: CompletionStatements = {
    finishAttempt: (id, changes) => {
      attempt.run({ ...changes, id });
    },
    finishDelivery: (id, leaseToken, changes) => delivery.run({ ...changes, id, lease_token: leaseToken }).changes > 0,
  };
  cache.set(db, statements);
  return statements;
}
