import type { EventTypeRow } from '../../db/schema.js';
import { paginate, type PageArgs } from '../../db/pagination.js';
import type { Executor } from '../../db/schema.js';

export function findEventTypeByName(db: Executor, name: string): Promise<EventTypeRow | undefined> {
  return db.selectFrom('event_types').selectAll().where('name', '=', name).executeTakeFirst();
}

export function findEventTypeById(db: Executor, id: string): Promise<EventTypeRow | undefined> {
  return db.selectFrom('event_types').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Names only, for matching hook patterns. */
export async function listEventTypeNames(db: Executor, includeArchived: boolean): Promise<string[]> {
  let query = db.selectFrom('event_types').select('name');
  if (!includeArchived) query = query.where('archived', '=', 0);
  return (await query.execute()).map((row) => row.name);
}

export function listEventTypes(db: Executor, includeArchived: boolean, args: PageArgs) {
  let query = db.selectFrom('event_types').selectAll();
  if (!includeArchived) query = query.where('archived', '=', 0);
  return paginate(query, args, { column: 'name', direction: 'asc' });
}

export async function insertEventType(db: Executor, row: EventTypeRow): Promise<void> {
  await db.insertInto('event_types').values(row).execute();
}

export async function updateEventTypeRow(db: Executor, id: string, changes: Partial<EventTypeRow>): Promise<void> {
  await db.updateTable('event_types').set(changes).where('id', '=', id).execute();
}

/** Names and examples (JSON text) of the types not archived: the payloads a hook is tried on at save. */
export function listEventTypeExamples(db: Executor): Promise<{ name: string; examples: string }[]> {
  return db.selectFrom('event_types').select(['name', 'examples']).where('archived', '=', 0).execute();
}
