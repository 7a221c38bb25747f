// Letting go of a hook's, an endpoint's or a tenant's deliveries when it is deleted, a batch per
// transaction (src/db/batches.ts) rather than by its foreign keys in one: a hook's deliveries lose
// their hook_id (those still waiting are cancelled), an endpoint's or a tenant's are deleted with
// their attempts. Nothing new joins
// while it runs: the caller stops routing first.
import type { Kysely } from 'kysely';
import { BATCH_ROWS, inBatches } from '../../db/batches.js';
import type { Database, DeliveriesTable, DeliveryStatus } from '../../db/schema.js';

/** A deleted hook's deliveries in these are cancelled; a SENDING one is left to its request's outcome, which the lease holder records. */
const WAITING: readonly DeliveryStatus[] = ['PENDING', 'RETRYING', 'BLOCKED'];

/**
 * Clears hook_id on every delivery of the hook (what ON DELETE SET NULL would do), and cancels
 * those still waiting with `reason` in the same statement, while they are still the hook's. Both in
 * batches: the waiting ones are found only by reading the hook's whole history, which in one
 * statement held the SQLite writer, and the event loop, for as long as that history.
 */
export function releaseDeliveriesOfHook(db: Kysely<Database>, hookId: string, reason: string, now: number): Promise<void> {
  return inBatches(async () => {
    const batch = db.selectFrom('deliveries').select('id').where('hook_id', '=', hookId).limit(BATCH_ROWS);
    const released = await db
      .updateTable('deliveries')
      .set((eb) => {
        // every expression reads the row as it was, so each asks whether it was waiting
        const ifWaiting = <K extends 'status' | 'status_reason' | 'due_at' | 'next_attempt_at' | 'finished_at' | 'updated_at'>(column: K, value: DeliveriesTable[K]) =>
          eb.case().when('status', 'in', WAITING).then(eb.val(value)).else(eb.ref(column)).end();
        return {
          hook_id: null,
          status: ifWaiting('status', 'CANCELLED'),
          status_reason: ifWaiting('status_reason', reason),
          due_at: ifWaiting('due_at', null),
          next_attempt_at: ifWaiting('next_attempt_at', null),
          finished_at: ifWaiting('finished_at', now),
          updated_at: ifWaiting('updated_at', now),
        };
      })
      .where('id', 'in', batch)
      .executeTakeFirst();
    return released.numUpdatedRows;
  });
}

/** Deletes every delivery of the endpoint or of the tenant, with their attempts (what ON DELETE CASCADE would do). */
export function deleteDeliveriesOf(db: Kysely<Database>, owner: { endpointId: string } | { tenantId: string }): Promise<void> {
  return inBatches(async () => {
    const of = db.selectFrom('deliveries').select('id');
    const batch = ('endpointId' in owner ? of.where('endpoint_id', '=', owner.endpointId) : of.where('tenant_id', '=', owner.tenantId)).limit(BATCH_ROWS);
    return (await db.deleteFrom('deliveries').where('id', 'in', batch).executeTakeFirst()).numDeletedRows;
  });
}
