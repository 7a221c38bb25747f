// `deliveries_hook_blocked` (hook_id, status, id) serves every look-up by hook that `deliveries_hook`
// (hook_id) served, the foreign key's included: the narrower one only cost a write per delivery.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_hook').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('deliveries_hook').on('deliveries').columns(['hook_id']).execute();
}
