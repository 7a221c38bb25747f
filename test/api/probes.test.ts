// /healthz is liveness; /readyz answers 503 until the store has every migration and answers (and
// Redis, when configured), 200 after.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';

const redisUrl = process.env.SWITCHYARD_TEST_REDIS_URL;

async function probe(url: string, path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}${path}`);
  return { status: response.status, body: await response.json() };
}

for (const dialect of TEST_DIALECTS) {
  describe(`probes (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ dialect });
    });
    after(async () => {
      await t.stop();
    });

    test('/healthz and /readyz answer 200 once the app has started', async () => {
      assert.deepEqual(await probe(t.url, '/healthz'), { status: 200, body: { status: 'ok' } });
      const ready = await probe(t.url, '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready', checks: { store: 'ok' } });
    });

    test('/readyz answers 503 naming the migration the store lacks, and 200 once it is there again', async () => {
      const { db } = t.app.services;
      const rows = await sql<{ name: string; timestamp: string }>`select name, timestamp from kysely_migration order by name desc`.execute(db);
      const last = rows.rows[0]!;
      await sql`delete from kysely_migration where name = ${last.name}`.execute(db);
      const missing = await probe(t.url, '/readyz');
      assert.equal(missing.status, 503);
      assert.equal(missing.body.status, 'not ready');
      assert.match(missing.body.checks.store, new RegExp(`migrations not applied: ${last.name}`));
      assert.equal((await probe(t.url, '/healthz')).status, 200, 'liveness does not depend on the store');

      await sql`insert into kysely_migration (name, timestamp) values (${last.name}, ${last.timestamp})`.execute(db);
      assert.equal((await probe(t.url, '/readyz')).status, 200);
    });
  });
}

describe('probes with Redis', { skip: !redisUrl ? 'needs SWITCHYARD_TEST_REDIS_URL' : false }, () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { SWITCHYARD_REDIS_URL: redisUrl!, SWITCHYARD_REDIS_PREFIX: `t${randomBytes(4).toString('hex')}:` } });
  });
  after(async () => {
    await t.stop();
  });

  test('/readyz checks Redis too', async () => {
    const ready = await probe(t.url, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.checks, { store: 'ok', redis: 'ok' });
  });
});
