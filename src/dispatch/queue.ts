// The deliveries table is the queue. A claim takes due rows with a lease (status SENDING, due_at =
// lease expiry) and bumps lease_token, the fencing token every later write must present; a worker
// whose lease was taken over can no longer change the delivery.
import { sql } from 'kysely';
import type { DeliveryStatus, Executor, DeliveryRow } from '../db/schema.js';
import type { FastPath } from '../db/sqlite-fast-path.js';

export interface ClaimOptions {
  now: number;
  limit: number;
  leaseMs: number;
  /** at most this many rows per endpoint in one claim, so a busy endpoint cannot fill a whole batch */
  perEndpoint: number;
  /** endpoints that cannot take more work right now (saturated or rate limited) */
  excludeEndpoints: readonly string[];
}

const CLAIMABLE: readonly DeliveryStatus[] = ['PENDING', 'RETRYING', 'SENDING'];
/** how far past `limit` the candidate scan looks, so the per-endpoint cap still fills a batch */
const SCAN_FACTOR = 2;

/**
 * Claims due deliveries (PENDING/RETRYING that are due, and SENDING whose lease expired) and
 * returns them as they are after the claim. SQLite (`fast`, src/db/sqlite-fast-path.ts): one
 * prepared UPDATE … RETURNING (SQLite has one writer, so no row can be claimed twice). PostgreSQL
 * (`fast` null): FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rows without waiting
 * on each other.
 */
export async function claimDue(db: Executor, options: ClaimOptions, fast: FastPath | null): Promise<DeliveryRow[]> {
  const { now, limit, leaseMs, perEndpoint, excludeEndpoints } = options;
  const leaseUntil = now + leaseMs;
  const scan = limit * SCAN_FACTOR;
  const exclusion =
    excludeEndpoints.length > 0 ? sql`and endpoint_id not in (${sql.join(excludeEndpoints.map((id) => sql`${id}`))})` : sql``;
  const statuses = sql.join(CLAIMABLE.map((status) => sql`${status}`));
  if (fast) return fast.claimDue({ now, leaseUntil, scan, perEndpoint, limit, excludeEndpoints });
  const result = await sql<DeliveryRow>`
    with candidates as (
      select id, endpoint_id, due_at from deliveries
      where due_at <= ${now} and status in (${statuses}) ${exclusion}
      order by due_at limit ${scan}
      for update skip locked
    ), chosen as (
      select id from (
        select id, due_at, row_number() over (partition by endpoint_id order by due_at) as rank from candidates
      ) ranked where rank <= ${perEndpoint} order by due_at limit ${limit}
    )
    update deliveries d
    set status = 'SENDING', due_at = ${leaseUntil}, lease_token = d.lease_token + 1,
        attempt_count = d.attempt_count + 1, updated_at = ${now}
    from chosen where d.id = chosen.id
    returning d.*`.execute(db);
  return result.rows;
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
