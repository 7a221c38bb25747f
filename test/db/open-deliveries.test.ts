// Disabling an endpoint (410 Gone, or failing too long) fails its open deliveries: PENDING and
// RETRYING read through the queue's index, BLOCKED through the waiting ones', finished ones and
// other endpoints' left alone, and none of it read through the endpoint's history.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeliveryStatus } from '../../src/db/schema.js';
import { disableEndpoint, newChangeLog } from '../../src/modules/deliveries/delivery.effects.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, sendEvent, setup } from '../helpers/fixtures.js';

for (const dialect of TEST_DIALECTS) {
  describe(`an endpoint's open deliveries (${dialect})`, () => {
    let t: TestApp;
    const statements: string[] = [];
    before(async () => {
      // no dispatcher: the deliveries keep the states this test gives them
      t = await startTestApp({ dialect, env: { SWITCHYARD_ROLE: 'api' }, onQuery: (sql) => statements.push(sql) });
    });
    after(() => t.stop());

    test('disabling it as gone fails PENDING, RETRYING and BLOCKED ones; finished ones and other endpoints keep theirs', async () => {
      const s = await setup(t, 'http://127.0.0.1:9/gone');
      const other = await createEndpoint(t, s.tenantId, 'http://127.0.0.1:9/other');
      await t.ok(`mutation($input: CreateHookInput!) { createHook(input: $input) { __typename } }`, {
        input: { tenantId: s.tenantId, endpointId: other.endpointId, name: 'other', eventTypes: ['invoice.paid'] },
      });
      for (let n = 0; n < 4; n++) await sendEvent(t, s.tenantId, { n });
      const { db } = t.app.services;
      const ours = await db.selectFrom('deliveries').select('id').where('endpoint_id', '=', s.endpointId).orderBy('id').execute();
      assert.equal(ours.length, 4);
      const states: [DeliveryStatus, number | null][] = [['PENDING', Date.now()], ['RETRYING', Date.now() + 60_000], ['BLOCKED', null], ['SUCCEEDED', null]];
      for (const [index, [status, dueAt]] of states.entries()) {
        await db.updateTable('deliveries').set({ status, due_at: dueAt }).where('id', '=', ours[index]!.id).execute();
      }

      const log = newChangeLog();
      const from = statements.length;
      const disabled = await db.transaction().execute((trx) => disableEndpoint(trx, s.endpointId, 'GONE', 'the receiver answered 410 Gone', Date.now(), log));
      assert.equal(disabled, true);
      const after = await db.selectFrom('deliveries').select(['id', 'status']).where('endpoint_id', '=', s.endpointId).orderBy('id').execute();
      assert.deepEqual(after.map((row) => row.status), ['FAILED', 'FAILED', 'FAILED', 'SUCCEEDED']);
      assert.deepEqual(log.deliveries.map((change) => change.previousStatus).sort(), ['BLOCKED', 'PENDING', 'RETRYING']);
      const others = await db.selectFrom('deliveries').select('status').where('endpoint_id', '=', other.endpointId).execute();
      assert.deepEqual(others.map((row) => row.status), ['PENDING', 'PENDING', 'PENDING', 'PENDING']);
      // the read of the open ones names the endpoint only beside the queue's columns, never alone
      const reads = statements.slice(from).filter((sql) => /^\s*select/i.test(sql) && /from deliveries/i.test(sql));
      assert.ok(reads.some((sql) => /due_at is not null/.test(sql) && /status = 'BLOCKED'/.test(sql)), reads.join('\n'));
      if (dialect === 'sqlite') assert.ok(reads.some((sql) => /indexed by "deliveries_due"/.test(sql) && /indexed by "deliveries_waiting"/.test(sql)), reads.join('\n'));
    });
  });
}
