// Hooks may shape their body with a `{{path}}` template instead of a JSONata transform: one
// nullable column, null on every existing hook, so nothing already saved changes behaviour.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hooks').addColumn('template', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hooks').dropColumn('template').execute();
}
