// Only keyed events are in the idempotency index (events without a key cost it no write), and a
// look-up by key still reads it: the index's own definition and, on SQLite, the plan of the SQL the
// app ran. Keys stay unique per tenant; the behaviour is in test/api/events.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup } from '../helpers/fixtures.js';

for (const dialect of TEST_DIALECTS) {
  describe(`the idempotency index holds keyed events only (${dialect})`, () => {
    let t: TestApp;
    const statements: string[] = [];
    before(async () => {
      t = await startTestApp({ dialect, env: { SWITCHYARD_ROLE: 'api' }, onQuery: (sql) => statements.push(sql) });
    });
    after(() => t.stop());

    test('events without a key are not in it; a key is looked up through it and stays unique', async () => {
      const s = await setup(t, 'http://127.0.0.1:9/keys');
      const from = statements.length;
      for (let n = 0; n < 3; n++) await sendEvent(t, s.tenantId, { n });
      const keyed = await sendEvent(t, s.tenantId, { n: 3 }, { idempotencyKey: 'order-7' });
      const again = await sendEvent(t, s.tenantId, { n: 4 }, { idempotencyKey: 'order-7' });
      assert.equal(again.duplicate, true);
      assert.equal(again.event.id, keyed.event.id);

      const { db } = t.app.services;
      // two keyed rows of one tenant are refused by the store itself, whatever the code above it does
      await assert.rejects(
        db.insertInto('events').values({ ...(await db.selectFrom('events').selectAll().where('id', '=', keyed.event.id).executeTakeFirstOrThrow()), id: 'evt_second_with_the_key' }).execute(),
        /unique|duplicate key/i,
      );
      const lookUp = statements.slice(from).find((text) => /^select/.test(text) && /"idempotency_key" = /.test(text));
      assert.ok(lookUp, 'sendEvent looked the key up');

      if (dialect === 'sqlite') {
        const file = new Database(`${t.config.dataDir}/switchyard.db`, { readonly: true });
        try {
          const index = (file.pragma('index_list(events)') as { name: string; unique: number; partial: number }[]).find((row) => row.name === 'events_idempotency');
          assert.deepEqual(index && { unique: index.unique, partial: index.partial }, { unique: 1, partial: 1 });
          const entries = file.prepare('select count(*) as n from events indexed by events_idempotency where idempotency_key is not null').get() as { n: number };
          assert.equal(entries.n, 1, 'one keyed event');
          const parameters = (lookUp.match(/\?/g) ?? []).length;
          const plan = (file.prepare(`explain query plan ${lookUp}`).all(...Array<null>(parameters).fill(null)) as { detail: string }[]).map((row) => row.detail).join(' | ');
          assert.match(plan, /USING INDEX events_idempotency/, plan);
        } finally {
          file.close();
        }
      } else {
        const { rows } = await sql<{ indexdef: string }>`select indexdef from pg_indexes where indexname = 'events_idempotency' and schemaname = current_schema()`.execute(db);
        assert.match(rows[0]?.indexdef ?? '', /UNIQUE INDEX .*WHERE \(idempotency_key IS NOT NULL\)/, rows[0]?.indexdef);
      }
    });
  });
}
