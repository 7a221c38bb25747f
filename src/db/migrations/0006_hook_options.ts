// What a hook may carry of its own beyond routing: a `{{path}}` body template instead of a JSONata
// transform, free-form metadata (endpoints and tenants have it), and a request timeout and retry
// policy that override its endpoint's. Every existing hook gets none of them (null, or `{}` for
// metadata), so nothing already saved changes behaviour.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hooks').addColumn('template', 'text').execute();
  await db.schema.alterTable('hooks').addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}')).execute();
  await db.schema.alterTable('hooks').addColumn('timeout_ms', 'integer').execute();
  await db.schema.alterTable('hooks').addColumn('retry_policy', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['retry_policy', 'timeout_ms', 'metadata', 'template']) {
    await db.schema.alterTable('hooks').dropColumn(column).execute();
  }
}
