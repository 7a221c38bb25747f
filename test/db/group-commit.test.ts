// The group commit (src/db/group-commit.ts) on a real SQLite file: units ready together share one
// commit, a failing unit is undone alone, callbacks run at the commit in order, waiting units wait
// for a unit that may not, and nothing resolves before the commit and its WAL sync.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { openStore, type Store } from '../../src/db/connect.js';
import { createGroupCommit, type GroupCommit } from '../../src/db/group-commit.js';
import type { Database, Executor } from '../../src/db/schema.js';

/** A unit that inserts one note and resolves with its text. */
const insert = (text: string) => async (db: Executor) => {
  await sql`insert into notes (text) values (${text})`.execute(db);
  return text;
};

describe('group commit (sqlite)', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-group-commit-'));
    store = openStore({ url: join(dir, 'test.db') });
    await sql`create table notes (id integer primary key, text text not null unique)`.execute(store.db);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const texts = async () => (await sql<{ text: string }>`select text from notes order by id`.execute(store.db)).rows.map((row) => row.text);

  test('units queued in one turn share one commit; each resolves with its own value', async () => {
    const before = store.writes.stats();
    const values = await Promise.all(['a', 'b', 'c'].map((text) => store.writes.run(insert(text))));
    const after = store.writes.stats();
    assert.deepEqual(values, ['a', 'b', 'c']);
    assert.equal(after.commits - before.commits, 1);
    assert.equal(after.units - before.units, 3);
    assert.deepEqual(await texts(), ['a', 'b', 'c']);
  });

  test('a failing unit is undone and rejected alone; the others of its group commit', async () => {
    const failing = async (db: Executor) => {
      await sql`insert into notes (text) values ('half-written')`.execute(db);
      await sql`insert into notes (text) values ('a')`.execute(db); // unique violation
    };
    const results = await Promise.allSettled([store.writes.run(insert('d')), store.writes.run(failing), store.writes.run(insert('e'))]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/);
    assert.equal(results[2].status, 'fulfilled');
    const stored = await texts();
    assert.ok(stored.includes('d') && stored.includes('e'));
    assert.ok(!stored.includes('half-written'), 'the failing unit left nothing behind');
  });

  test('committed callbacks run at the commit, in unit order, before any unit resolves', async () => {
    const seen: string[] = [];
    const units = ['f', 'g'].map((text) =>
      store.writes.run(insert(text), (value) => seen.push(`committed ${value}`)).then((value) => seen.push(`resolved ${value}`)),
    );
    await Promise.all(units);
    assert.deepEqual(seen, ['committed f', 'committed g', 'resolved f', 'resolved g']);
  });

  test('a unit queued while a group is open joins that group and its commit', async () => {
    const before = store.writes.stats();
    let joined: Promise<string> | null = null;
    await store.writes.run(async (db) => {
      assert.equal(store.writes.open, true);
      await insert('h')(db);
      joined = store.writes.run(insert('i'));
      return 'h';
    });
    assert.equal(await joined, 'i');
    assert.equal(store.writes.stats().commits - before.commits, 1);
    assert.equal(store.writes.open, false);
  });

  test('a unit that may wait is taken along by the next unit that may not', async () => {
    const before = store.writes.stats();
    let settled = false;
    const waiting = store.writes.run(insert('j'), undefined, { mayWaitMs: 10_000 }).then((value) => {
      settled = true;
      return value;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(settled, false, 'it waits for company');
    await store.writes.run(insert('k'));
    assert.equal(await waiting, 'j');
    assert.equal(store.writes.stats().commits - before.commits, 1);
  });

  test('a unit that may wait commits by itself once its time is up', async () => {
    const started = performance.now();
    assert.equal(await store.writes.run(insert('l'), undefined, { mayWaitMs: 40 }), 'l');
    assert.ok(performance.now() - started >= 35);
  });
});

// The WAL sync off the event loop: a group commits with synchronous=NORMAL, then its units wait for
// an fsync of the WAL file (here a controllable one) before anything resolves or is published.
describe('group commit (sqlite): the WAL sync', () => {
  let dir: string;
  let sqlite: SQLite.Database;
  let db: Kysely<Database>;
  let writes: GroupCommit;
  const syncs: { fd: number; done: (error: NodeJS.ErrnoException | null) => void }[] = [];
  let syncRequested: (() => void) | null = null;
  const nextSync = () => new Promise<void>((resolve) => (syncs.length > 0 ? resolve() : (syncRequested = resolve)));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-wal-sync-'));
    sqlite = new SQLite(join(dir, 'test.db'));
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    writes = createGroupCommit(db, sqlite, {
      // the sync the test holds and releases
      fsyncWal: (fd, done) => {
        syncs.push({ fd, done });
        syncRequested?.();
        syncRequested = null;
      },
    });
    await sql`create table notes (id integer primary key, text text not null unique)`.execute(db);
  });
  after(async () => {
    writes.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('nothing resolves or is published before the WAL sync; units queued meanwhile form the next group', async () => {
    const seen: string[] = [];
    let levelInGroup: unknown = null;
    const first = writes
      .run(async (executor) => {
        levelInGroup = sqlite.pragma('synchronous', { simple: true });
        return insert('a')(executor);
      }, () => seen.push('committed a'))
      .then((value) => seen.push(`resolved ${value}`));
    await nextSync();
    const sync = syncs.shift()!;
    assert.ok(sync.fd > 2, 'the WAL file is synced');
    assert.equal(levelInGroup, 1, 'the group commits with NORMAL (its sync is the one below)');
    assert.equal(sqlite.pragma('synchronous', { simple: true }), 2, 'FULL again outside the group');
    // committed in SQLite, not yet durable: nobody has been told
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.length, 0);
    const before = writes.stats().commits;
    const second = writes.run(insert('b')).then((value) => seen.push(`resolved ${value}`));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.stats().commits, before, 'waits for the sync in progress');
    sync.done(null);
    await first;
    assert.deepEqual(seen, ['committed a', 'resolved a']);
    await nextSync();
    assert.equal(writes.stats().commits, before + 1);
    syncs.shift()!.done(null);
    await second;
    assert.deepEqual(seen, ['committed a', 'resolved a', 'resolved b']);
  });

  test('`written` runs once the group has committed, while its sync is under way; `committed` once it is durable', async () => {
    const seen: string[] = [];
    const unit = writes.run(insert('w'), (value) => seen.push(`committed ${value}`), { written: (value) => seen.push(`written ${value}`) });
    await nextSync();
    assert.deepEqual(seen, ['written w'], 'the sync is still held');
    syncs.shift()!.done(null);
    assert.equal(await unit, 'w');
    assert.deepEqual(seen, ['written w', 'committed w']);
  });

  test('a failed sync rejects its units and publishes nothing; the next group syncs again', async () => {
    const seen: string[] = [];
    const failing = writes.run(insert('c'), () => seen.push('committed c'));
    await nextSync();
    const error = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    syncs.shift()!.done(error);
    await assert.rejects(failing, /EIO/);
    assert.equal(seen.length, 0);
    const next = writes.run(insert('d'));
    await nextSync();
    syncs.shift()!.done(null);
    assert.equal(await next, 'd');
  });
});
