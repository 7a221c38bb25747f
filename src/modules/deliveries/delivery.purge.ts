// Letting go of a hook's, an endpoint's or a tenant's deliveries when it is deleted, a batch per
// transaction (src/db/batches.ts) rather than by its foreign keys in one: a hook's deliveries lose
// their hook_id (those still waiting are cancelled first, found without reading its history), an
// endpoint's or a tenant's are deleted with their attempts. Nothing new joins while it runs: the
// caller stops routing first.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { BATCH_ROWS, inBatches } from '../../db/batches.js';
import type { Database, Executor } from '../../db/schema.js';
import { defineStatement, dialectOf, type MaybePromise } from '../../db/statement.js';

/** Clears hook_id on every delivery of the hook (what ON DELETE SET NULL would do). */
export function detachDeliveriesOfHook(db: Kysely<Database>, hookId: string): Promise<void> {
  return inBatches(async () => {
    const batch = db.selectFrom('deliveries').select('id').where('hook_id', '=', hookId).limit(BATCH_ROWS);
    return (await db.updateTable('deliveries').set({ hook_id: null }).where('id', 'in', batch).executeTakeFirst()).numUpdatedRows;
  });
}

// A hook's deliveries that have not started, found through the queue's index (PENDING and RETRYING
// carry a due_at) and the waiting ones' (BLOCKED), never through the hook's history, which in one
// statement held the SQLite writer and the event loop for as long as that history. As for an
// endpoint's open deliveries (delivery.effects.ts), INDEXED BY names them for SQLite's planner.
// SENDING ones are left to their request's outcome, which the lease holder records.
const waitingOfHookSql = (indexed: (name: string) => RawBuilder<unknown>) =>
  defineStatement<{ hookId: string; reason: string; now: number }, never>((_db, { value }) => sql<never>`
    update deliveries
       set status = 'CANCELLED', status_reason = ${value.reason}, due_at = null, next_attempt_at = null,
           finished_at = ${value.now}, updated_at = ${value.now}
     where id in (select id from deliveries ${indexed('deliveries_due')}
                   where due_at is not null and hook_id = ${value.hookId} and status in ('PENDING', 'RETRYING')
                  union all
                  select id from deliveries ${indexed('deliveries_waiting')}
                   where status = 'BLOCKED' and hook_id = ${value.hookId})`);
const sqliteWaitingOfHook = waitingOfHookSql((name) => sql`indexed by ${sql.id(name)}`);
const postgresWaitingOfHook = waitingOfHookSql(() => sql``);

/** Cancels the hook's deliveries that have not started, with `reason`; returns how many. */
export function cancelWaitingDeliveriesOfHook(db: Executor, hookId: string, reason: string, now: number): MaybePromise<number> {
  return (dialectOf(db) === 'postgres' ? postgresWaitingOfHook : sqliteWaitingOfHook).changes(db, { hookId, reason, now });
}

/** Deletes every delivery of the endpoint or of the tenant, with their attempts (what ON DELETE CASCADE would do). */
export function deleteDeliveriesOf(db: Kysely<Database>, owner: { endpointId: string } | { tenantId: string }): Promise<void> {
  return inBatches(async () => {
    const of = db.selectFrom('deliveries').select('id');
    const batch = ('endpointId' in owner ? of.where('endpoint_id', '=', owner.endpointId) : of.where('tenant_id', '=', owner.tenantId)).limit(BATCH_ROWS);
    return (await db.deleteFrom('deliveries').where('id', 'in', batch).executeTakeFirst()).numDeletedRows;
  });
}
