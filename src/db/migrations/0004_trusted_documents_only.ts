// A tenant token may be held to the trusted documents (the SDK's operations): a flag per token,
// off for every token minted before it existed, so nothing already in use changes behaviour.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('api_tokens')
    .addColumn('trusted_documents_only', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_tokens').dropColumn('trusted_documents_only').execute();
}
