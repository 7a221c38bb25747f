// Deleting a hook, an endpoint or a tenant with a long history, or recovering a long outage, does
// not hold the server: the deliveries are changed (or deleted) a batch per transaction, so other
// requests are answered meanwhile.
// SQLite only: there one writer on the event loop would otherwise do it all in one transaction.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { newId } from '../../src/db/ids.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, sendEvent, setup, type Setup } from '../helpers/fixtures.js';
import { startLatencyProbe } from '../helpers/latency-probe.js';

/** Enough finished deliveries that doing it all in one transaction held the event loop for hundreds of milliseconds. */
const HISTORY = 200_000;

/** Copies of one real delivery row of the endpoint, finished, written straight into the store (no API makes 200,000 quickly). */
function addHistory(t: TestApp, endpointId: string, status: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED'): void {
  // ids of a minute ago: in any time range up to now, as real ones would be
  const createdAt = Date.now() - 60_000;
  const db = new Database(`${t.config.dataDir}/switchyard.db`);
  try {
    const row = db.prepare('select * from deliveries where endpoint_id = ? limit 1').get(endpointId) as Record<string, unknown>;
    const columns = Object.keys(row);
    const insert = db.prepare(`insert into deliveries (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
    db.transaction(() => {
      for (let i = 0; i < HISTORY; i++) {
        insert.run(...columns.map((column) => (column === 'id' ? newId('delivery', createdAt) : column === 'status' ? status : column === 'due_at' ? null : row[column])));
      }
    })();
    // Copied into the database here: otherwise the app's next commit would checkpoint this whole
    // history at once, a stall the setup made, not the deletion being measured.
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

describe('a long history (sqlite)', { timeout: 120_000 }, () => {
  let t: TestApp;
  let s: Setup;
  before(async () => {
    t = await startTestApp({ env: { SWITCHYARD_ROLE: 'api' } });
    s = await setup(t, 'http://127.0.0.1:9/history');
  });
  after(() => t.stop());

  async function whileProbed(run: () => Promise<void>): Promise<void> {
    const probe = startLatencyProbe(`${t.url}/healthz`);
    await probe.ready;
    await run();
    const { slowestMs, probes } = await probe.stop();
    console.log(`# /healthz meanwhile: slowest ${slowestMs.toFixed(1)} ms over ${probes} probes`);
    assert.ok(probes >= 5, `the probe ran meanwhile (${probes} probes)`);
    assert.ok(slowestMs < 250, `/healthz waited ${slowestMs.toFixed(1)} ms`);
  }

  test(`a hook with ${HISTORY.toLocaleString('en')} deliveries: deleted, the deliveries kept without it, the server answering meanwhile`, async () => {
    await sendEvent(t, s.tenantId, { n: 0 });
    addHistory(t, s.endpointId);
    await whileProbed(async () => {
      const deleted = await t.ok(`mutation($id: ID!) { deleteHook(input: {id: $id}) { __typename } }`, { id: s.hookId });
      assert.equal(deleted.deleteHook.__typename, 'HookPayload');
    });
    const { db } = t.app.services;
    assert.equal((await db.selectFrom('hooks').select('id').where('id', '=', s.hookId).execute()).length, 0);
    const kept = await db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('endpoint_id', '=', s.endpointId).where('hook_id', 'is', null).executeTakeFirstOrThrow();
    assert.equal(Number(kept.n), HISTORY + 1);
  });

  test(`an endpoint with ${HISTORY.toLocaleString('en')} deliveries: deleted with them and its hooks, the server answering meanwhile`, async () => {
    const { endpointId } = await createEndpoint(t, s.tenantId, 'http://127.0.0.1:9/gone-soon');
    const hookId = await createHook(t, s.tenantId, endpointId);
    await sendEvent(t, s.tenantId, { n: 1 });
    addHistory(t, endpointId);
    await whileProbed(async () => {
      const deleted = await t.ok(`mutation($id: ID!) { deleteEndpoint(input: {id: $id}) { __typename } }`, { id: endpointId });
      assert.equal(deleted.deleteEndpoint.__typename, 'EndpointPayload');
    });
    const { db } = t.app.services;
    assert.equal((await db.selectFrom('endpoints').select('id').where('id', '=', endpointId).execute()).length, 0);
    assert.equal((await db.selectFrom('hooks').select('id').where('id', '=', hookId).execute()).length, 0);
    assert.equal((await db.selectFrom('deliveries').select('id').where('endpoint_id', '=', endpointId).limit(1).execute()).length, 0);
  });

  test(`a tenant with ${HISTORY.toLocaleString('en')} deliveries: deleted with all it has, the server answering meanwhile`, async () => {
    const tenantId = await createTenant(t, 'Leaving');
    const { endpointId } = await createEndpoint(t, tenantId, 'http://127.0.0.1:9/leaving');
    await createHook(t, tenantId, endpointId);
    const sent = await sendEvent(t, tenantId, { n: 2 });
    addHistory(t, endpointId);
    await whileProbed(async () => {
      const deleted = await t.ok(`mutation($id: ID!) { deleteTenant(input: {id: $id, force: true}) { __typename } }`, { id: tenantId });
      assert.equal(deleted.deleteTenant.__typename, 'TenantPayload');
    });
    const { db } = t.app.services;
    for (const table of ['tenants', 'endpoints', 'hooks', 'events', 'deliveries', 'api_tokens'] as const) {
      const column = table === 'tenants' ? 'id' : 'tenant_id';
      assert.equal((await db.selectFrom(table).select(column).where(column, '=', tenantId).limit(1).execute()).length, 0, `nothing of the tenant left in ${table}`);
    }
    assert.equal((await db.selectFrom('attempts').select('id').where('event_id', '=', sent.event.id).limit(1).execute()).length, 0);
    // the other tenant is untouched
    assert.equal((await db.selectFrom('tenants').select('id').where('id', '=', s.tenantId).execute()).length, 1);
  });

  test(`recovering ${HISTORY.toLocaleString('en')} failed deliveries of an endpoint: all due again, the server answering meanwhile`, async () => {
    const { endpointId } = await createEndpoint(t, s.tenantId, 'http://127.0.0.1:9/outage');
    await createHook(t, s.tenantId, endpointId);
    await sendEvent(t, s.tenantId, { n: 3 });
    addHistory(t, endpointId, 'FAILED');
    let recovered = 0;
    await whileProbed(async () => {
      const answer = await t.ok(`mutation($id: ID!) { recoverEndpoint(input: {id: $id, since: "2000-01-01T00:00:00Z"}) { ... on RecoverEndpointPayload { recovered } } }`, { id: endpointId });
      recovered = answer.recoverEndpoint.recovered;
    });
    assert.equal(recovered, HISTORY);
    const { db } = t.app.services;
    const left = await db.selectFrom('deliveries').select('id').where('endpoint_id', '=', endpointId).where('status', '=', 'FAILED').limit(1).execute();
    assert.equal(left.length, 0, 'none left FAILED');
  });
});
