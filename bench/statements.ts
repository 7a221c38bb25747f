// What one hot-path statement costs, three ways, on one SQLite file: the statement prepared by hand
// and run with better-sqlite3 (the floor), the defined statement (src/db/statement.ts) run through
// Kysely's executor, and the defined statement on a connection the group commit holds (how the
// dispatcher and sendEvent run it). Each runs the two outcome updates with the most parameters (an
// attempt's outcome over an interrupted row, and the delivery's), against ids that match no row
// (no page is written: the cost is the call).
//
//   npx tsx bench/statements.ts [rounds]      (default 3; not part of `npm run bench`)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateToLatest, openStore } from '../src/db/connect.js';
import type { AttemptRow } from '../src/db/schema.js';
import { finishDeliveries, replaceInterruptedAttempt, type AttemptOutcomeColumns, type DeliveryOutcomeColumns } from '../src/modules/deliveries/attempt.repository.js';

const rounds = Number(process.argv[2] ?? 3);
const N = 20_000;
const dir = mkdtempSync(join(tmpdir(), 'switchyard-statements-'));
const store = openStore({ url: join(dir, 'bench.db') });
await migrateToLatest(store.db, 'sqlite');
const sqlite = store.sqlite!;

const attempt: AttemptOutcomeColumns = {
  outcome: 'SUCCEEDED', request_method: 'POST', request_url: 'http://127.0.0.1/hook', request_headers: '{}', request_body: '{}',
  response_status: 200, response_headers: '{}', response_body: 'ok', response_body_encoding: 'utf8', response_body_truncated: 0,
  duration_ms: 3, error_class: null, error_message: null, started_at: 1, finished_at: 2,
};
const delivery: DeliveryOutcomeColumns = {
  status: 'SUCCEEDED', due_at: null, next_attempt_at: null, next_trigger: 'SCHEDULED', last_status_code: 200, last_error: null,
  status_reason: null, finished_at: 2, updated_at: 2,
};

const byHand = {
  attempt: sqlite.prepare(
    `update attempts set outcome = ?, request_method = ?, request_url = ?, request_headers = ?, request_body = ?, response_status = ?,
       response_headers = ?, response_body = ?, response_body_encoding = ?, response_body_truncated = ?, duration_ms = ?,
       error_class = ?, error_message = ?, started_at = ?, finished_at = ? where delivery_id = ? and number = ? and outcome = 'INTERRUPTED'`,
  ),
  delivery: sqlite.prepare(
    `update deliveries set status = ?, due_at = ?, next_attempt_at = ?, next_trigger = ?, last_status_code = ?, last_error = ?,
       status_reason = ?, finished_at = ?, updated_at = ? where id = ? and lease_token = ?`,
  ),
};

const row = (i: number): AttemptRow => ({
  ...attempt, id: `att_${i}`, delivery_id: `dlv_${i}`, tenant_id: 'ten_1', event_id: 'evt_1', endpoint_id: 'ep_1', hook_id: null, number: 1, trigger: 'SCHEDULED',
});
const perStatement = (started: number) => ((performance.now() - started) * 1000) / (2 * N);

for (let round = 1; round <= rounds; round++) {
  const figures: Record<string, number> = {};
  await store.db.connection().execute(async (connection) => {
    let started = performance.now();
    for (let i = 0; i < N; i++) {
      const a = attempt;
      byHand.attempt.run(a.outcome, a.request_method, a.request_url, a.request_headers, a.request_body, a.response_status, a.response_headers,
        a.response_body, a.response_body_encoding, a.response_body_truncated, a.duration_ms, a.error_class, a.error_message, a.started_at,
        a.finished_at, `dlv_${i}`, 1);
      const d = delivery;
      byHand.delivery.run(d.status, d.due_at, d.next_attempt_at, d.next_trigger, d.last_status_code, d.last_error, d.status_reason,
        d.finished_at, d.updated_at, `dlv_${i}`, 1);
    }
    figures['by hand'] = perStatement(started);
    started = performance.now();
    for (let i = 0; i < N; i++) {
      await replaceInterruptedAttempt(connection, row(i));
      await finishDeliveries(connection, [{ ...delivery, id: `dlv_${i}`, lease_token: 1 }]);
    }
    figures['defined, through Kysely'] = perStatement(started);
  });
  await store.writes.run(async (connection) => {
    const started = performance.now();
    for (let i = 0; i < N; i++) {
      await replaceInterruptedAttempt(connection, row(i));
      await finishDeliveries(connection, [{ ...delivery, id: `dlv_${i}`, lease_token: 1 }]);
    }
    figures['defined, held connection'] = perStatement(started);
  });
  console.log(`round ${round}: ${Object.entries(figures).map(([name, us]) => `${name} ${us.toFixed(2)} µs`).join(' · ')} (per statement)`);
}
await store.close();
rmSync(dir, { recursive: true, force: true });
