// The FIFO queue's look-ups read its partial index (`deliveries_fifo`, only deliveries in a queue),
// and a listing by hook reads `deliveries_hook` in id order: SQLite's own query plans for the SQL
// the app ran while a FIFO hook routed, released and listed its deliveries.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, ensureEventType, waitUntil } from '../helpers/fixtures.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

/** SQLite's plan for a statement the app ran; its parameters bound as null (a plan does not depend on them). */
function planOf(db: Database.Database, sql: string): string {
  const parameters = (sql.match(/\?/g) ?? []).length;
  const rows = db.prepare(`explain query plan ${sql}`).all(...Array<null>(parameters).fill(null)) as { detail: string }[];
  return rows.map((row) => row.detail).join(' | ');
}

describe('FIFO queue look-ups and listings by hook use their indexes (sqlite)', () => {
  let t: TestApp;
  let receiver: Receiver;
  const statements: string[] = [];

  before(async () => {
    t = await startTestApp({ onQuery: (sql) => statements.push(sql) });
    receiver = await startReceiver();
  });
  after(async () => {
    await t.stop();
    await receiver.close();
  });

  test('routing into the queue, its releases and a listing by hook', async () => {
    const tenantId = await createTenant(t, 'Planned');
    await ensureEventType(t, 'plan.fifo');
    const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/plan`);
    const hookId = await createHook(t, tenantId, endpointId, { eventTypes: ['plan.fifo'], ordering: 'FIFO' });
    const events = Array.from({ length: 3 }, (_, n) => ({ tenantId, type: 'plan.fifo', payload: { n } }));
    await t.ok(`mutation($input: SendEventsInput!) { sendEvents(input: $input) { __typename } }`, { input: { events } });
    await receiver.waitFor(3, 20_000);
    await waitUntil(async () => (await t.app.services.db.selectFrom('deliveries').select('id').where('status', '=', 'SUCCEEDED').execute()).length === 3, {
      what: 'three delivered',
    });
    const listed = await t.ok(`query($hook: ID) { deliveries(filter: {hookId: $hook}, first: 2) { nodes { id } } }`, { hook: hookId });
    assert.equal(listed.deliveries.nodes.length, 2);

    const db = new Database(`${t.config.dataDir}/switchyard.db`, { readonly: true });
    try {
      const queueReads = statements.filter((sql) => /from "deliveries"/.test(sql) && /"fifo_hook_id" in|"fifo_hook_id" = /.test(sql) && /^select/.test(sql));
      assert.ok(queueReads.length >= 2, `the busy check and a release ran (${queueReads.length} queue reads)`);
      for (const sql of new Set(queueReads)) assert.match(planOf(db, sql), /USING (COVERING )?INDEX deliveries_fifo/, sql);
      const byHook = statements.find((sql) => /^select/.test(sql) && /from "deliveries"/.test(sql) && /"hook_id" = \?/.test(sql) && /order by "id"/.test(sql));
      assert.ok(byHook, 'the listing by hook ran');
      const plan = planOf(db, byHook);
      assert.match(plan, /USING (COVERING )?INDEX deliveries_hook /, plan);
      assert.doesNotMatch(plan, /TEMP B-TREE/, 'no sort: the index gives the order');
    } finally {
      db.close();
    }
  });
});
