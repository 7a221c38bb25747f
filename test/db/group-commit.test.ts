// The group commit (src/db/group-commit.ts) on a real SQLite file: units ready together share one
// commit, a failing unit is undone alone, callbacks run at the commit in order, waiting units wait
// for a unit that may not, and nothing resolves before the commit.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/db/connect.js';
import type { Executor } from '../../src/db/schema.js';

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

  const insert = (text: string) => async (db: Executor) => {
    await sql`insert into notes (text) values (${text})`.execute(db);
    return text;
  };
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
