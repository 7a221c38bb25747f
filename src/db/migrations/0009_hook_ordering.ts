// FIFO hooks: `ordering` says whether a hook's deliveries go one at a time in event order, and what a
// delivery that fails for good does to the ones behind it; `fifo_held_by` names the failed delivery
// a FIFO_HOLD hook waits on until it is retried. Existing hooks stay UNORDERED.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hooks').addColumn('ordering', 'text', (c) => c.notNull().defaultTo('UNORDERED')).execute();
  await db.schema.alterTable('hooks').addColumn('fifo_held_by', 'text').execute();
  // the oldest waiting delivery of a hook, found at every release
  await db.schema.createIndex('deliveries_hook_blocked').on('deliveries').columns(['hook_id', 'status', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_hook_blocked').execute();
  for (const column of ['fifo_held_by', 'ordering']) await db.schema.alterTable('hooks').dropColumn(column).execute();
}
