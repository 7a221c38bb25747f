// Operational events (an endpoint disabled, enabled, failing, recovered; a delivery exhausted or
// recovered): a table of their own, kept like attempts, and the reserved `switchyard.*` event
// types that carry them to tenants' hooks. `failing_notified_at` remembers that an endpoint's
// failing streak has been announced, so it is announced once and its recovery is announced too.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { newId } from '../ids.js';

const RESERVED_TYPES: [string, string][] = [
  ['switchyard.endpoint.disabled', 'An endpoint was disabled: by hand, after failing too long, or because it answered 410 Gone.'],
  ['switchyard.endpoint.enabled', 'A disabled endpoint was enabled again.'],
  ['switchyard.endpoint.failing', 'An endpoint failed a number of attempts in a row.'],
  ['switchyard.endpoint.recovered', 'An endpoint announced as failing succeeded again.'],
  ['switchyard.delivery.exhausted', 'A delivery failed for good: no attempt is left.'],
  ['switchyard.delivery.recovered', 'A failed delivery succeeded on a manual retry.'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('operational_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('endpoint_id', 'text')
    .addColumn('delivery_id', 'text')
    .addColumn('event_id', 'text')
    .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('operational_events_tenant').on('operational_events').columns(['tenant_id', 'id']).execute();
  await db.schema.alterTable('endpoints').addColumn('failing_notified_at', 'bigint').execute();
  const now = Date.now();
  for (const [name, description] of RESERVED_TYPES) {
    await sql`insert into event_types (id, name, description, schema, examples, archived, created_at, updated_at)
      values (${newId('eventType', now)}, ${name}, ${description}, null, '[]', 0, ${now}, ${now})`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from event_types where name like 'switchyard.%'`.execute(db);
  await db.schema.alterTable('endpoints').dropColumn('failing_notified_at').execute();
  await db.schema.dropTable('operational_events').execute();
}
