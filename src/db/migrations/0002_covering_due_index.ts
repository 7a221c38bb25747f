// The claim scans due rows by due_at and needs each row's endpoint and status: with both in the
// (partial) index, the scan never touches the table.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_due').execute();
  await db.schema
    .createIndex('deliveries_due')
    .on('deliveries')
    .columns(['due_at', 'endpoint_id', 'status'])
    .where(sql.ref('due_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_due').execute();
  await db.schema.createIndex('deliveries_due').on('deliveries').columns(['due_at']).where(sql.ref('due_at'), 'is not', null).execute();
}
