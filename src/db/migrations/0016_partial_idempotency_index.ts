// Most events carry no idempotency key, yet the unique index on (tenant_id, idempotency_key) took an
// entry for every one of them: a b-tree written per accepted event for nothing a look-up or the
// uniqueness ever reads (NULLs are distinct). Only keyed events are in it now. A look-up by key
// (`idempotency_key = ?`) implies the index's condition, so both dialects still use it.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('events_idempotency').execute();
  await db.schema
    .createIndex('events_idempotency')
    .on('events')
    .columns(['tenant_id', 'idempotency_key'])
    .unique()
    .where(sql.ref('idempotency_key'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('events_idempotency').execute();
  await db.schema.createIndex('events_idempotency').on('events').columns(['tenant_id', 'idempotency_key']).unique().execute();
}
