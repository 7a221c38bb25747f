// A transaction PostgreSQL rolls back for a conflict (a deadlock, a serialization failure) is run
// again; any other error is the caller's at once. The table, then two real transactions that
// deadlock on each other's row locks: both end committed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { CONFLICT_ATTEMPTS, isTransientConflict, retryingConflicts } from '../../src/db/conflicts.js';
import { createPgSchema } from '../helpers/app.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

const cases: [string, unknown, boolean][] = [
  ['deadlock detected (40P01)', withCode('deadlock detected', '40P01'), true],
  ['serialization failure (40001)', withCode('could not serialize access due to concurrent update', '40001'), true],
  ['wrapped in a cause', Object.assign(new Error('transaction failed'), { cause: withCode('deadlock detected', '40P01') }), true],
  ['unique violation', withCode('duplicate key value violates unique constraint', '23505'), false],
  ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), false],
  ['SQLite busy', withCode('database is locked', 'SQLITE_BUSY'), false],
  ['a plain error', new Error('deadlock'), false],
  ['not an error', null, false],
];
for (const [name, error, expected] of cases) {
  test(`isTransientConflict: ${name} → ${expected}`, () => assert.equal(isTransientConflict(error), expected));
}

test('retryingConflicts runs a conflicted transaction again, at most CONFLICT_ATTEMPTS times, and nothing else again', async () => {
  let runs = 0;
  assert.equal(await retryingConflicts(async () => (++runs < 2 ? Promise.reject(withCode('deadlock detected', '40P01')) : 'done')), 'done');
  assert.equal(runs, 2);
  runs = 0;
  await assert.rejects(retryingConflicts(async () => (runs++, Promise.reject(withCode('deadlock detected', '40P01')))), /deadlock/);
  assert.equal(runs, CONFLICT_ATTEMPTS);
  runs = 0;
  await assert.rejects(retryingConflicts(async () => (runs++, Promise.reject(withCode('duplicate key', '23505')))), /duplicate/);
  assert.equal(runs, 1);
});

describe('two transactions that deadlock on PostgreSQL', { skip: process.env.SWITCHYARD_TEST_DATABASE_URL ? false : 'PostgreSQL only' }, () => {
  let schema: Awaited<ReturnType<typeof createPgSchema>>;
  let db: Kysely<{ locks: { id: string; n: number } }>;
  before(async () => {
    schema = await createPgSchema();
    db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: schema.url, max: 4 }) }) });
    await sql`create table locks (id text primary key, n integer not null)`.execute(db);
    await db.insertInto('locks').values([{ id: 'a', n: 0 }, { id: 'b', n: 0 }]).execute();
  });
  after(async () => {
    await db.destroy();
    await schema.drop();
  });

  test('each takes one row and then waits for the other: the one the server rolls back runs again and both commit', async () => {
    // Both have taken their first lock before either asks for its second, so the first runs deadlock for sure.
    let firstLocks = 0;
    let bothLocked = () => {};
    const bothHaveOne = new Promise<void>((resolve) => (bothLocked = resolve));
    const errors: unknown[] = [];
    const runs = { ab: 0, ba: 0 };
    const transfer = (first: 'a' | 'b', second: 'a' | 'b', key: 'ab' | 'ba') =>
      retryingConflicts(() =>
        db
          .transaction()
          .execute(async (trx) => {
            runs[key]++;
            await trx.updateTable('locks').set({ n: sql`n + 1` }).where('id', '=', first).execute();
            if (runs[key] === 1 && ++firstLocks === 2) bothLocked();
            if (runs[key] === 1) await bothHaveOne;
            await trx.updateTable('locks').set({ n: sql`n + 1` }).where('id', '=', second).execute();
          })
          .catch((error: unknown) => {
            errors.push(error);
            throw error;
          }),
      );
    await Promise.all([transfer('a', 'b', 'ab'), transfer('b', 'a', 'ba')]);
    assert.equal(errors.length, 1, 'the server rolled one of them back');
    assert.equal((errors[0] as { code?: string }).code, '40P01');
    assert.equal(runs.ab + runs.ba, 3, 'and that one ran again');
    const rows = await db.selectFrom('locks').select(['id', 'n']).orderBy('id').execute();
    assert.deepEqual(rows, [{ id: 'a', n: 2 }, { id: 'b', n: 2 }], 'both committed, each once');
  });
});
