// Deliveries that wait (BLOCKED: behind their runAfter hooks or their FIFO hook's queue) are counted
// for the queue gauge; a partial index holds only them, so no other delivery's writes touch it.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('deliveries_waiting').on('deliveries').column('hook_id').where(sql.ref('status'), '=', sql.lit('BLOCKED')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_waiting').execute();
}
