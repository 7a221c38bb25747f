// An endpoint's failing streak is announced again at 50 % and 90 % of the auto-disable window:
// `failing_window_announced` remembers the last mark announced (50 or 90), reset with the streak.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('endpoints').addColumn('failing_window_announced', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('endpoints').dropColumn('failing_window_announced').execute();
}
