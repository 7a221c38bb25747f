// A FIFO hook's queue is named on its deliveries: `fifo_hook_id` is the hook's id on each delivery
// routed (or retried, recovered) into the queue while the hook is FIFO, null on every other. The
// queue's look-ups then read a partial index of those deliveries alone, and the index by hook no
// longer holds the status: every delivery's claim and end changed its status, so they each
// rewrote an entry of `deliveries_hook_blocked` (hook_id, status, id) for every hook, FIFO or not.
// Deliveries open when their hook became FIFO are not in the queue, and nothing waits for them.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('deliveries').addColumn('fifo_hook_id', 'text').execute();
  // the queues as they stand: the open deliveries of the hooks that are FIFO now
  await sql`
    update deliveries set fifo_hook_id = hook_id
     where status in ('PENDING', 'RETRYING', 'SENDING', 'BLOCKED')
       and hook_id in (select id from hooks where ordering <> 'UNORDERED')`.execute(db);
  await db.schema.createIndex('deliveries_fifo').on('deliveries').columns(['fifo_hook_id', 'status', 'id']).where(sql.ref('fifo_hook_id'), 'is not', null).execute();
  // listings by hook, in id order, and the foreign key's look-up when a hook is deleted
  await db.schema.createIndex('deliveries_hook').on('deliveries').columns(['hook_id', 'id']).execute();
  await db.schema.dropIndex('deliveries_hook_blocked').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('deliveries_hook_blocked').on('deliveries').columns(['hook_id', 'status', 'id']).execute();
  await db.schema.dropIndex('deliveries_hook').execute();
  await db.schema.dropIndex('deliveries_fifo').execute();
  await db.schema.alterTable('deliveries').dropColumn('fifo_hook_id').execute();
}
