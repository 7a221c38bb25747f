// Frozen in time: never edit a migration that has shipped; add a new one.
// Portable DDL only (same statements on SQLite and PostgreSQL).
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('uid', 'text', (c) => c.unique())
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('api_tokens_tenant').on('api_tokens').columns(['tenant_id', 'id']).execute();

  await db.schema
    .createTable('event_types')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('schema', 'text')
    .addColumn('examples', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('disabled_reason', 'text')
    .addColumn('disabled_message', 'text')
    .addColumn('disabled_at', 'bigint')
    .addColumn('auth_type', 'text', (c) => c.notNull().defaultTo('NONE'))
    .addColumn('auth_secret', 'text')
    .addColumn('auth_header_name', 'text')
    .addColumn('headers', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('timeout_ms', 'integer')
    .addColumn('rate_limit_per_second', 'integer')
    .addColumn('retry_policy', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('failing_since', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('endpoints_tenant').on('endpoints').columns(['tenant_id', 'id']).execute();

  await db.schema
    .createTable('endpoint_secrets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('endpoint_id', 'text', (c) => c.notNull().references('endpoints.id').onDelete('cascade'))
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('revealed_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('endpoint_secrets_endpoint')
    .on('endpoint_secrets')
    .columns(['endpoint_id', 'id'])
    .execute();

  await db.schema
    .createTable('hooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('endpoint_id', 'text', (c) => c.notNull().references('endpoints.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('event_types', 'text', (c) => c.notNull())
    .addColumn('channels', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('filter', 'text')
    .addColumn('method', 'text', (c) => c.notNull().defaultTo('POST'))
    .addColumn('path', 'text')
    .addColumn('format', 'text', (c) => c.notNull().defaultTo('STANDARD'))
    .addColumn('transform', 'text')
    .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('settings_schema', 'text')
    .addColumn('test_payload', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('hooks_tenant').on('hooks').columns(['tenant_id', 'id']).execute();
  await db.schema.createIndex('hooks_endpoint').on('hooks').columns(['endpoint_id']).execute();

  await db.schema
    .createTable('hook_dependencies')
    .addColumn('hook_id', 'text', (c) => c.notNull().references('hooks.id').onDelete('cascade'))
    .addColumn('depends_on_hook_id', 'text', (c) => c.notNull().references('hooks.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('hook_dependencies_pk', ['hook_id', 'depends_on_hook_id'])
    .execute();
  await db.schema
    .createIndex('hook_dependencies_depends_on')
    .on('hook_dependencies')
    .columns(['depends_on_hook_id'])
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('channels', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('idempotency_key', 'text')
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_tenant').on('events').columns(['tenant_id', 'id']).execute();
  await db.schema.createIndex('events_created').on('events').columns(['created_at']).execute();
  await db.schema
    .createIndex('events_idempotency')
    .on('events')
    .columns(['tenant_id', 'idempotency_key'])
    .unique()
    .execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull().references('events.id').onDelete('cascade'))
    .addColumn('hook_id', 'text', (c) => c.references('hooks.id').onDelete('set null'))
    .addColumn('endpoint_id', 'text', (c) => c.notNull().references('endpoints.id').onDelete('cascade'))
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempt_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('due_at', 'bigint')
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('lease_token', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_trigger', 'text', (c) => c.notNull().defaultTo('SCHEDULED'))
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('status_reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  // The queue: only rows the dispatcher must look at carry a due_at, so the index stays small.
  await db.schema
    .createIndex('deliveries_due')
    .on('deliveries')
    .columns(['due_at'])
    .where(sql.ref('due_at'), 'is not', null)
    .execute();
  await db.schema.createIndex('deliveries_tenant').on('deliveries').columns(['tenant_id', 'id']).execute();
  await db.schema.createIndex('deliveries_event').on('deliveries').columns(['event_id']).execute();
  await db.schema.createIndex('deliveries_endpoint').on('deliveries').columns(['endpoint_id', 'id']).execute();
  await db.schema.createIndex('deliveries_hook').on('deliveries').columns(['hook_id']).execute();

  await db.schema
    .createTable('attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('hook_id', 'text')
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('request_method', 'text', (c) => c.notNull())
    .addColumn('request_url', 'text', (c) => c.notNull())
    .addColumn('request_headers', 'text', (c) => c.notNull())
    .addColumn('request_body', 'text')
    .addColumn('response_status', 'integer')
    .addColumn('response_headers', 'text')
    .addColumn('response_body', 'text')
    .addColumn('response_body_encoding', 'text', (c) => c.notNull().defaultTo('utf8'))
    .addColumn('response_body_truncated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duration_ms', 'double precision')
    .addColumn('error_class', 'text')
    .addColumn('error_message', 'text')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema.createIndex('attempts_delivery').on('attempts').columns(['delivery_id', 'id']).execute();
  await db.schema.createIndex('attempts_endpoint').on('attempts').columns(['endpoint_id', 'id']).execute();
  await db.schema.createIndex('attempts_tenant').on('attempts').columns(['tenant_id', 'id']).execute();
  await db.schema.createIndex('attempts_started').on('attempts').columns(['started_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'attempts',
    'deliveries',
    'events',
    'hook_dependencies',
    'hooks',
    'endpoint_secrets',
    'endpoints',
    'event_types',
    'api_tokens',
    'tenants',
    'settings',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
