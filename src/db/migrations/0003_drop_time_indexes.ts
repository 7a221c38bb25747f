// Ids are time-ordered (ULID with the creation time), so "attempts started before t" and "events
// created before t" are id ranges on the primary key: the two time indexes only cost an index
// entry on every attempt and every event, on the hottest writes there are.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('attempts_started').execute();
  await db.schema.dropIndex('events_created').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('attempts_started').on('attempts').columns(['started_at']).execute();
  await db.schema.createIndex('events_created').on('events').columns(['created_at']).execute();
}
