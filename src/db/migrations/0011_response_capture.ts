// Response capture: a hook's JSONata expression over the receiver's answer, and on each delivery
// what it produced (or why it failed), which hooks that run after it read as `captures`; a hook may
// also send the result as an event of a named type, and such an event knows how deep in a chain it is.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hooks').addColumn('capture', 'text').execute();
  await db.schema.alterTable('hooks').addColumn('capture_event_type', 'text').execute();
  await db.schema.alterTable('events').addColumn('capture_depth', 'integer').execute();
  await db.schema.alterTable('deliveries').addColumn('captured', 'text').execute();
  await db.schema.alterTable('deliveries').addColumn('capture_error', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('deliveries').dropColumn('capture_error').execute();
  await db.schema.alterTable('deliveries').dropColumn('captured').execute();
  await db.schema.alterTable('events').dropColumn('capture_depth').execute();
  await db.schema.alterTable('hooks').dropColumn('capture_event_type').execute();
  await db.schema.alterTable('hooks').dropColumn('capture').execute();
}
