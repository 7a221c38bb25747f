// Letting go of a hook's, an endpoint's or a tenant's deliveries when it is deleted, a batch per
// transaction (src/db/batches.ts) rather than by its foreign keys in one: a hook's deliveries lose
// their hook_id, an endpoint's or a tenant's are deleted with their attempts. Nothing new joins
// while it runs: the caller stops routing first.
import type { Kysely } from 'kysely';
import { BATCH_ROWS, inBatches } from '../../db/batches.js';
import type { Database } from '../../db/schema.js';

/** Clears hook_id on every delivery of the hook (what ON DELETE SET NULL would do). */
export function detachDeliveriesOfHook(db: Kysely<Database>, hookId: string): Promise<void> {
  return inBatches(async () => {
    const batch = db.selectFrom('deliveries').select('id').where('hook_id', '=', hookId).limit(BATCH_ROWS);
    return (await db.updateTable('deliveries').set({ hook_id: null }).where('id', 'in', batch).executeTakeFirst()).numUpdatedRows;
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
