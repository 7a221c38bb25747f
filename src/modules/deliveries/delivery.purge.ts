// Letting go of a hook's or an endpoint's deliveries when it is deleted, a batch per transaction.
// In one statement, the foreign keys would do it (a hook's deliveries lose their hook_id, an
// endpoint's are deleted with their attempts), but in one transaction as long as the history: on
// SQLite the writer, and with it every tenant's sends and outcomes, waits for all of it, and a
// tenant with a long past could hold the server for seconds by deleting one hook. Between batches
// other work goes on: better-sqlite3 answers synchronously, so awaiting a statement alone would
// never let a request in; each batch waits for the next turn of the event loop. Nothing new joins
// while it runs: the caller stops routing first.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/** Rows per transaction: a few milliseconds of writer time each. */
const BATCH = 1_000;

/** Clears hook_id on every delivery of the hook (what ON DELETE SET NULL would do), a batch at a time. */
export async function detachDeliveriesOfHook(db: Kysely<Database>, hookId: string): Promise<void> {
  for (;;) {
    const batch = db.selectFrom('deliveries').select('id').where('hook_id', '=', hookId).limit(BATCH);
    const result = await db.updateTable('deliveries').set({ hook_id: null }).where('id', 'in', batch).executeTakeFirst();
    if (Number(result.numUpdatedRows) < BATCH) return;
    await nextTurn();
  }
}

/** Deletes every delivery of the endpoint, with their attempts (what ON DELETE CASCADE would do), a batch at a time. */
export async function deleteDeliveriesOfEndpoint(db: Kysely<Database>, endpointId: string): Promise<void> {
  for (;;) {
    const batch = db.selectFrom('deliveries').select('id').where('endpoint_id', '=', endpointId).limit(BATCH);
    const result = await db.deleteFrom('deliveries').where('id', 'in', batch).executeTakeFirst();
    if (Number(result.numDeletedRows) < BATCH) return;
    await nextTurn();
  }
}
