// The deliveries table is the queue. A claim takes due rows with a lease (status SENDING, due_at =
// lease expiry) and bumps lease_token, the fencing token every later write must present; a worker
// whose lease was taken over can no longer change the delivery.
//
// The one statement written per dialect, on purpose, both versions here. SQLite has one writer, so
// a plain UPDATE … RETURNING cannot claim a row twice, and it scans by rowid so that only the
// (covering) due index is read. PostgreSQL runs workers side by side: FOR UPDATE SKIP LOCKED lets
// them take disjoint rows without waiting on each other.
import { sql } from 'kysely';
import type { DeliveryRow, DeliveryStatus, Executor } from '../../db/schema.js';
import { defineStatement, dialectOf, type MaybePromise } from '../../db/statement.js';

export interface ClaimOptions {
  now: number;
  limit: number;
  leaseMs: number;
  /** at most this many rows per endpoint in one claim, so a busy endpoint cannot fill a whole batch */
  perEndpoint: number;
  /** endpoints that cannot take more work right now (saturated or rate limited) */
  excludeEndpoints: readonly string[];
}

interface ClaimValues {
  now: number;
  leaseUntil: number;
  scan: number;
  perEndpoint: number;
  limit: number;
  excluded: readonly string[];
}

const CLAIMABLE: readonly DeliveryStatus[] = ['PENDING', 'RETRYING', 'SENDING'];
const claimable = sql.join(CLAIMABLE.map((status) => sql`${status}`));
/** how far past `limit` the candidate scan looks, so the per-endpoint cap still fills a batch */
const SCAN_FACTOR = 2;

const sqliteClaim = defineStatement<ClaimValues, DeliveryRow>((_db, { value, notIn }) => sql<DeliveryRow>`
  update deliveries
     set status = 'SENDING', due_at = ${value.leaseUntil}, lease_token = lease_token + 1,
         attempt_count = attempt_count + 1, status_reason = null, updated_at = ${value.now}
   where rowid in (
     select rid from (
       select rid, due_at, row_number() over (partition by endpoint_id order by due_at) as rank
       from (
         select rowid as rid, endpoint_id, due_at from deliveries
         where due_at <= ${value.now} and status in (${claimable}) and ${notIn('endpoint_id', 'excluded')}
         order by due_at limit ${value.scan}
       )
     ) where rank <= ${value.perEndpoint} order by due_at limit ${value.limit}
   )
   returning *`);

const postgresClaim = defineStatement<ClaimValues, DeliveryRow>((_db, { value, notIn }) => sql<DeliveryRow>`
  with candidates as (
    select id, endpoint_id, due_at from deliveries
    where due_at <= ${value.now} and status in (${claimable}) and ${notIn('endpoint_id', 'excluded')}
    order by due_at limit ${value.scan}
    for update skip locked
  ), chosen as (
    select id from (
      select id, due_at, row_number() over (partition by endpoint_id order by due_at) as rank from candidates
    ) ranked where rank <= ${value.perEndpoint} order by due_at limit ${value.limit}
  )
  update deliveries d
     set status = 'SENDING', due_at = ${value.leaseUntil}, lease_token = d.lease_token + 1,
         attempt_count = d.attempt_count + 1, status_reason = null, updated_at = ${value.now}
    from chosen where d.id = chosen.id
  returning d.*`);

/**
 * Claims due deliveries (PENDING/RETRYING that are due, and SENDING whose lease expired) and
 * returns them as they are after the claim.
 */
export function claimDue(db: Executor, options: ClaimOptions): MaybePromise<DeliveryRow[]> {
  const { now, limit, leaseMs, perEndpoint, excludeEndpoints } = options;
  const values: ClaimValues = { now, leaseUntil: now + leaseMs, scan: limit * SCAN_FACTOR, perEndpoint, limit, excluded: excludeEndpoints };
  return (dialectOf(db) === 'postgres' ? postgresClaim : sqliteClaim).rows(db, values);
}
