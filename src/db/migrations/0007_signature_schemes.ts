// Signature schemes per endpoint (issue 14): which signatures its requests carry, and the ed25519
// key pairs of the `v1a` scheme. Every existing endpoint gets `["V1"]`, what it always sent. A key
// row mirrors a signing secret row: the private key encrypted, expiring when rotated out. The
// public key is stored in plain because it is no secret and the API shows it on every read.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('endpoints').addColumn('signature_schemes', 'text', (c) => c.notNull().defaultTo('["V1"]')).execute();
  await db.schema
    .createTable('endpoint_signing_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('endpoint_id', 'text', (c) => c.notNull().references('endpoints.id').onDelete('cascade'))
    .addColumn('private_key', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .execute();
  await db.schema.createIndex('endpoint_signing_keys_endpoint').on('endpoint_signing_keys').columns(['endpoint_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('endpoint_signing_keys').execute();
  await db.schema.alterTable('endpoints').dropColumn('signature_schemes').execute();
}
