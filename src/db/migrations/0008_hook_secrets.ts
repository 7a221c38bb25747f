// A hook's own secrets (cipher text of a JSON object, write-only in the API) and its own headers
// (values with `{{path}}` placeholders, secrets among them). Existing hooks get none of either.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hooks').addColumn('secrets', 'text').execute();
  await db.schema.alterTable('hooks').addColumn('headers', 'text', (c) => c.notNull().defaultTo('{}')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['headers', 'secrets']) await db.schema.alterTable('hooks').dropColumn(column).execute();
}
