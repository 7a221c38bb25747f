// A worker renews the leases of the requests it has in flight, one delivery row after another in
// one transaction. On PostgreSQL another writer can hold one of those rows while it waits for one
// the renewal has taken: a deadlock, which the server ends by rolling one of them back. A renewal
// rolled back is run again at once (src/db/conflicts.ts), not skipped until the next one, which
// may come after the leases have run out and another worker has taken the deliveries over.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup, waitUntil } from '../helpers/fixtures.js';
import { gate, startReceiver, type Receiver } from '../helpers/receiver.js';

const LEASE_MS = 4_000;

for (const dialect of TEST_DIALECTS) {
  describe(`lease renewal (${dialect})`, { skip: dialect !== 'postgres' ? 'PostgreSQL only: SQLite has one writer' : false }, () => {
    let t: TestApp;
    let receiver: Receiver;
    const logLines: string[] = [];
    before(async () => {
      t = await startTestApp({ dialect, env: { SWITCHYARD_LEASE_MS: String(LEASE_MS), SWITCHYARD_LOG_LEVEL: 'warn' }, logSink: (line) => logLines.push(line) });
      receiver = await startReceiver();
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    test('a renewal that deadlocks is run again at once: the leases are renewed and nothing is taken over', async () => {
      const held = gate();
      receiver.setDefault(held.behaviour);
      const s = await setup(t, `${receiver.url}/renewed`);
      await sendEvent(t, s.tenantId, { n: 1 });
      await sendEvent(t, s.tenantId, { n: 2 });
      await waitUntil(() => held.held === 2, { timeoutMs: 10_000, intervalMs: 10, what: 'both requests in flight' });
      const { db } = t.app.services;
      const [first, second] = await db.selectFrom('deliveries').select(['id', 'due_at']).where('endpoint_id', '=', s.endpointId).orderBy('id').execute();
      const other = new pg.Client({ connectionString: t.config.databaseUrl! });
      await other.connect();
      const deadlocks = async () =>
        (await other.query<{ n: number }>('select deadlocks::int as n from pg_stat_database where datname = current_database()')).rows[0]!.n;
      const deadlocksBefore = await deadlocks();
      try {
        await other.query('begin');
        // this session waits long before it looks for a deadlock: the renewal, waiting first, is the one rolled back
        await other.query(`set local deadlock_timeout = '30s'`);
        // The renewal goes through the deliveries in the order they were leased: it takes the first
        // one's row, then waits here for the second's...
        await other.query('update deliveries set updated_at = updated_at where id = $1', [second!.id]);
        const waitingForUs = async () => (await other.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where pg_backend_pid() = any(pg_blocking_pids(pid))')).rows[0]!.n;
        await waitUntil(async () => (await waitingForUs()) > 0, { timeoutMs: LEASE_MS, intervalMs: 10, what: 'the renewal waiting for the second row' });
        // ...and this waits for the first's: the server rolls the renewal back once its deadlock_timeout (1 s) is up
        await other.query('update deliveries set updated_at = updated_at where id = $1', [first!.id]);
        await other.query('commit');
        assert.equal((await deadlocks()) - deadlocksBefore, 1, 'one deadlock, the renewal rolled back');
      } finally {
        await other.end();
      }
      await waitUntil(
        async () => {
          const rows = await db.selectFrom('deliveries').select(['id', 'due_at']).where('id', 'in', [first!.id, second!.id]).execute();
          return rows.every((row) => row.due_at! > Math.max(first!.due_at!, second!.due_at!));
        },
        { timeoutMs: LEASE_MS, intervalMs: 20, what: 'both leases renewed' },
      );
      assert.deepEqual(
        logLines.filter((line) => line.includes('could not renew leases')),
        [],
        'the rolled-back renewal was run again, not reported and skipped',
      );
      held.open();
      await waitUntil(
        async () => (await db.selectFrom('deliveries').select('status').where('endpoint_id', '=', s.endpointId).execute()).every((row) => row.status === 'SUCCEEDED'),
        { timeoutMs: 10_000, intervalMs: 20, what: 'both delivered' },
      );
      assert.equal(receiver.requests.length, 2, 'each sent once: no lease ran out');
    });
  });
}
