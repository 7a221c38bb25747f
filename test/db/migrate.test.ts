// Migrating a PostgreSQL schema while other schemas of the same database come and go: another
// deployment (or another test file) dropping its schema must not fail this one's start.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { migrateToLatest, openStore } from '../../src/db/connect.js';
import { createPgSchema } from '../helpers/app.js';

const base = process.env.SWITCHYARD_TEST_DATABASE_URL;

describe('migrations (postgres)', { skip: base ? false : 'SWITCHYARD_TEST_DATABASE_URL is not set' }, () => {
  test('a schema dropped elsewhere while this one migrates does not fail the migration', async () => {
    // Churn: schemas with a serial column, created and dropped as fast as one connection can,
    // until the migrations below are done (bounded in count too).
    const churn = new pg.Client({ connectionString: base });
    await churn.connect();
    let migrating = true;
    let churned = 0;
    const churning = (async () => {
      for (let i = 0; migrating && i < 5000; i++) {
        const name = `churn_${process.pid}_${i}`;
        await churn.query(`CREATE SCHEMA ${name}; CREATE TABLE ${name}.t (id serial primary key, a text, b text)`);
        await churn.query(`DROP SCHEMA ${name} CASCADE`);
        churned++;
      }
    })();
    try {
      for (let round = 0; round < 8; round++) {
        const schema = await createPgSchema();
        const store = openStore({ url: schema.url });
        try {
          const applied = await migrateToLatest(store.db, 'postgres');
          assert.ok(applied.length > 0);
          // and the introspection it relies on sees this schema's tables, with their columns
          const tables = await store.db.introspection.getTables({ withInternalKyselyTables: true });
          const names = tables.map((table) => table.name);
          assert.ok(names.includes('kysely_migration') && names.includes('deliveries'), names.join(', '));
          const deliveries = tables.find((table) => table.name === 'deliveries');
          assert.ok(deliveries && deliveries.columns.some((column) => column.name === 'id'));
          // applying again is a no-op
          assert.deepEqual(await migrateToLatest(store.db, 'postgres'), []);
        } finally {
          await store.close();
          await schema.drop();
        }
      }
    } finally {
      migrating = false;
      await churning;
      await churn.end();
    }
    assert.ok(churned > 0, 'the churn ran alongside the migrations');
  });
});
