// The per-row writes of the hot paths (accepting events, claiming and finishing attempts) as
// statements prepared once on SQLite. Kysely compiles and prepares each query anew (tens of
// microseconds, more for a multi-row insert); at thousands of rows per second that dominates.
// They run on the same better-sqlite3 connection, so callers use them only while they hold it:
// inside a unit of the group commit (src/db/group-commit.ts) or `db.connection().execute(…)`.
import type SQLite from 'better-sqlite3';
import type { AttemptsTable, DeliveriesTable, EventTypesTable, EventsTable, HooksTable } from './schema.js';

type AttemptRow = AttemptsTable;
type DeliveryRow = DeliveriesTable;

/** what finishing an attempt writes (started_at too: a request may have waited in the HTTP client before it started) */
export type AttemptOutcomeColumns = Omit<AttemptRow, 'id' | 'delivery_id' | 'tenant_id' | 'event_id' | 'endpoint_id' | 'hook_id' | 'number' | 'trigger'>;
type DeliveryChanges = Pick<
  DeliveryRow,
  'status' | 'due_at' | 'next_attempt_at' | 'next_trigger' | 'last_status_code' | 'last_error' | 'status_reason' | 'finished_at' | 'updated_at'
>;

export interface ClaimInput {
  now: number;
  leaseUntil: number;
  scan: number;
  perEndpoint: number;
  limit: number;
  excludeEndpoints: readonly string[];
}

export interface FastPath {
  tenantExists(id: string): boolean;
  eventTypeByName(name: string): EventTypesTable | undefined;
  /** tenantExists and eventTypeByName in one statement: each read outside a transaction costs ~10 µs under load */
  tenantAndEventType(tenantId: string, name: string): { tenantExists: boolean; eventType: EventTypesTable | undefined };
  /** active hooks of the tenant on enabled endpoints */
  routableHooks(tenantId: string): HooksTable[];
  /** runAfter edges among these hooks */
  dependencyEdges(hookIds: readonly string[]): { hook_id: string; depends_on_hook_id: string }[];
  eventByIdempotencyKey(tenantId: string, key: string): EventsTable | undefined;
  releaseIdempotencyKey(eventId: string): void;
  /** the claim of src/dispatch/queue.ts, prepared once (the exclusion list travels as a JSON array) */
  claimDue(input: ClaimInput): DeliveryRow[];
  /** leases these deliveries if they are still PENDING (just written, not taken by a claim meanwhile) */
  leaseDeliveries(ids: readonly string[], now: number, leaseUntil: number): DeliveryRow[];
  /** IN_FLIGHT attempts of these deliveries become INTERRUPTED */
  interruptAttempts(deliveryIds: readonly string[], now: number, message: string): void;
  /** rows by id, for the batched look-ups of a claim */
  rowsById<T>(table: 'events' | 'hooks' | 'endpoints' | 'tenants', ids: readonly string[]): T[];
  /** which of these hooks other hooks wait for */
  hooksWithDependents(hookIds: readonly string[]): string[];
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
    `update attempts set outcome = ?, request_method = ?, request_url = ?, request_headers = ?, request_body = ?,
       response_status = ?, response_headers = ?, response_body = ?, response_body_encoding = ?,
       response_body_truncated = ?, duration_ms = ?, error_class = ?, error_message = ?, started_at = ?, finished_at = ?
     where id = ?`,
  );
  const delivery = db.prepare(
    `update deliveries set status = ?, due_at = ?, next_attempt_at = ?, next_trigger = ?, last_status_code = ?,
       last_error = ?, status_reason = ?, finished_at = ?, updated_at = ?
     where id = ? and lease_token = ?`,
  );
  // Positional parameters, spelled out: binding by name walks the object's keys on every run, and a
  // generic column map allocates an array per row; both show in profiles at 20,000 rows a second.
  const insert = (table: string, columns: readonly string[]) =>
    db.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
  const eventInsert = insert('events', EVENT_COLUMNS);
  const deliveryInsert = insert('deliveries', DELIVERY_COLUMNS);
  const attemptInsert = insert('attempts', ATTEMPT_COLUMNS);
  const insertEventRow = (e: EventsTable) => {
    eventInsert.run(e.id, e.tenant_id, e.type, e.payload, e.channels, e.idempotency_key, e.occurred_at, e.created_at);
  };
  const insertDeliveryRow = (d: DeliveryRow) => {
    deliveryInsert.run(
      d.id, d.tenant_id, d.event_id, d.hook_id, d.endpoint_id, d.event_type, d.status, d.attempt_count, d.due_at,
      d.next_attempt_at, d.lease_token, d.next_trigger, d.last_status_code, d.last_error, d.status_reason, d.created_at,
      d.updated_at, d.finished_at,
    );
  };
  const insertAttemptRow = (a: AttemptRow) => {
    attemptInsert.run(
      a.id, a.delivery_id, a.tenant_id, a.event_id, a.endpoint_id, a.hook_id, a.number, a.trigger, a.outcome, a.request_method,
      a.request_url, a.request_headers, a.request_body, a.response_status, a.response_headers, a.response_body,
      a.response_body_encoding, a.response_body_truncated, a.duration_ms, a.error_class, a.error_message, a.started_at,
      a.finished_at,
    );
  };
  // Claimed rows come back as arrays (raw), in DELIVERY_COLUMNS order, made into objects here: with
  // named columns better-sqlite3 builds each row property by property, ~1 µs a row more (measured).
  const returning = DELIVERY_COLUMNS.join(', ');
  const deliveryRow = (v: unknown[]): DeliveryRow => ({
    id: v[0] as string,
    tenant_id: v[1] as string,
    event_id: v[2] as string,
    hook_id: v[3] as string | null,
    endpoint_id: v[4] as string,
    event_type: v[5] as string,
    status: v[6] as DeliveryRow['status'],
    attempt_count: v[7] as number,
    due_at: v[8] as number | null,
    next_attempt_at: v[9] as number | null,
    lease_token: v[10] as number,
    next_trigger: v[11] as DeliveryRow['next_trigger'],
    last_status_code: v[12] as number | null,
    last_error: v[13] as string | null,
    status_reason: v[14] as string | null,
    created_at: v[15] as number,
    updated_at: v[16] as number,
    finished_at: v[17] as number | null,
  });
  // The positions above must follow DELIVERY_COLUMNS: a row of the column names themselves maps each name to itself.
  const probe = deliveryRow([...DELIVERY_COLUMNS]) as unknown as Record<string, unknown>;
  for (const column of DELIVERY_COLUMNS) if (probe[column] !== column) throw new Error(`deliveryRow maps ${column} from the wrong position`);
  // rowid, not id: the scan then reads only the (covering) due index, never the table.
  const claim = db.prepare(
    `update deliveries
       set status = 'SENDING', due_at = @leaseUntil, lease_token = lease_token + 1,
           attempt_count = attempt_count + 1, updated_at = @now
     where rowid in (
       select rid from (
         select rid, due_at, row_number() over (partition by endpoint_id order by due_at) as rank
         from (
           select rowid as rid, endpoint_id, due_at from deliveries
           where due_at <= @now and status in ('PENDING', 'RETRYING', 'SENDING')
             and endpoint_id not in (select value from json_each(@excluded))
           order by due_at limit @scan
         )
       ) where rank <= @perEndpoint order by due_at limit @limit
     )
     returning ${returning}`,
  ).raw(true);
  const lease = db.prepare(
    `update deliveries
       set status = 'SENDING', due_at = @leaseUntil, lease_token = lease_token + 1,
           attempt_count = attempt_count + 1, updated_at = @now
     where id in (select value from json_each(@ids)) and status = 'PENDING'
     returning ${returning}`,
  ).raw(true);
  const interrupt = db.prepare(
    `update attempts set outcome = 'INTERRUPTED', error_class = 'interrupted', error_message = @message, finished_at = @now
     where delivery_id in (select value from json_each(@ids)) and outcome = 'IN_FLIGHT'`,
  );
  const byId = {
    events: db.prepare('select * from events where id in (select value from json_each(?))'),
    hooks: db.prepare('select * from hooks where id in (select value from json_each(?))'),
    endpoints: db.prepare('select * from endpoints where id in (select value from json_each(?))'),
    tenants: db.prepare('select * from tenants where id in (select value from json_each(?))'),
  };
  const dependents = db
    .prepare('select distinct depends_on_hook_id from hook_dependencies where depends_on_hook_id in (select value from json_each(?))')
    .pluck();
  const tenant = db.prepare('select 1 from tenants where id = ?').pluck();
  const eventType = db.prepare('select * from event_types where name = ?');
  const tenantAndType = db.prepare(
    `select exists (select 1 from tenants where id = @tenantId) as tenant_exists, event_types.*
     from (select 1) left join event_types on event_types.name = @name`,
  );
  const hooks = db.prepare(
    `select hooks.* from hooks join endpoints on endpoints.id = hooks.endpoint_id
     where hooks.tenant_id = ? and hooks.active = 1 and endpoints.enabled = 1`,
  );
  const edges = db.prepare('select hook_id, depends_on_hook_id from hook_dependencies where hook_id in (select value from json_each(?))');
  const byKey = db.prepare('select * from events where tenant_id = ? and idempotency_key = ?');
  const releaseKey = db.prepare('update events set idempotency_key = null where id = ?');
  const statements: FastPath = {
    tenantExists: (id) => tenant.get(id) !== undefined,
    eventTypeByName: (name) => eventType.get(name) as EventTypesTable | undefined,
    tenantAndEventType: (tenantId, name) => {
      const { tenant_exists, ...row } = tenantAndType.get({ tenantId, name }) as EventTypesTable & { tenant_exists: number };
      return { tenantExists: tenant_exists === 1, eventType: row.id === null ? undefined : row };
    },
    routableHooks: (tenantId) => hooks.all(tenantId) as HooksTable[],
    dependencyEdges: (hookIds) =>
      hookIds.length === 0 ? [] : (edges.all(JSON.stringify(hookIds)) as { hook_id: string; depends_on_hook_id: string }[]),
    eventByIdempotencyKey: (tenantId, key) => byKey.get(tenantId, key) as EventsTable | undefined,
    releaseIdempotencyKey: (eventId) => {
      releaseKey.run(eventId);
    },
    claimDue: (input) =>
      (claim.all({
        now: input.now,
        leaseUntil: input.leaseUntil,
        scan: input.scan,
        perEndpoint: input.perEndpoint,
        limit: input.limit,
        excluded: JSON.stringify(input.excludeEndpoints),
      }) as unknown[][]).map(deliveryRow),
    leaseDeliveries: (ids, now, leaseUntil) => (lease.all({ ids: JSON.stringify(ids), now, leaseUntil }) as unknown[][]).map(deliveryRow),
    interruptAttempts: (ids, now, message) => {
      interrupt.run({ ids: JSON.stringify(ids), now, message });
    },
    rowsById: <T>(table: keyof typeof byId, ids: readonly string[]) => byId[table].all(JSON.stringify(ids)) as T[],
    hooksWithDependents: (hookIds) => dependents.all(JSON.stringify(hookIds)) as string[],
    insertEvent: insertEventRow,
    insertDelivery: insertDeliveryRow,
    insertAttempt: insertAttemptRow,
    finishAttempt: (id, c) => {
      attempt.run(
        c.outcome, c.request_method, c.request_url, c.request_headers, c.request_body, c.response_status, c.response_headers,
        c.response_body, c.response_body_encoding, c.response_body_truncated, c.duration_ms, c.error_class, c.error_message,
        c.started_at, c.finished_at, id,
      );
    },
    finishDelivery: (id, leaseToken, c) =>
      delivery.run(
        c.status, c.due_at, c.next_attempt_at, c.next_trigger, c.last_status_code, c.last_error, c.status_reason, c.finished_at,
        c.updated_at, id, leaseToken,
      ).changes > 0,
  };
  cache.set(db, statements);
  return statements;
}
