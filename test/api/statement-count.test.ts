// Relation fields load in batches (Pothos dataloader plugin): a page of deliveries asking for
// their event, hook and endpoint costs one statement for the page and one per relation, however
// many rows the page has. Counted through the store's `onQuery` hook, on every test dialect.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, ensureEventType, sendEvent } from '../helpers/fixtures.js';

const PAGE = `{ deliveries(first: 20) { nodes { id event { id } hook { id } endpoint { id } } } }`;
const ATTEMPT_RELATIONS = `{ deliveries(first: 20) { nodes { id event { id tenant { id } } hook { id tenant { id } endpoint { id } runAfter { id } } endpoint { id tenant { id } } } } }`;

for (const dialect of TEST_DIALECTS) {
  describe(`statement count (${dialect})`, () => {
    let t: TestApp;
    let counting = false;
    const statements: string[] = [];

    before(async () => {
      t = await startTestApp({
        dialect,
        // No dispatcher: its polling would add statements of its own, and the rows must stay put.
        env: { SWITCHYARD_ROLE: 'api' },
        onQuery: (sql) => {
          if (counting) statements.push(sql);
        },
      });
      const tenantId = await createTenant(t);
      await ensureEventType(t, 'invoice.paid');
      // Several endpoints and hooks, so each relation batch carries more than one id.
      const endpoints = [
        (await createEndpoint(t, tenantId, 'http://127.0.0.1:9/a')).endpointId,
        (await createEndpoint(t, tenantId, 'http://127.0.0.1:9/b')).endpointId,
      ];
      const first = await createHook(t, tenantId, endpoints[0]!);
      await createHook(t, tenantId, endpoints[0]!, { runAfter: [first] });
      await createHook(t, tenantId, endpoints[1]!);
      await createHook(t, tenantId, endpoints[1]!);
      for (let i = 0; i < 5; i += 1) {
        const sent = await sendEvent(t, tenantId, { n: i });
        assert.equal(sent.deliveryCount, 4);
      }
    });
    after(() => t.stop());

    async function count(query: string): Promise<{ data: any; statements: string[] }> {
      statements.length = 0;
      counting = true;
      try {
        return { data: await t.ok(query), statements: [...statements] };
      } finally {
        counting = false;
      }
    }

    test('20 deliveries with event, hook and endpoint: at most 4 statements', async () => {
      const { data, statements: run } = await count(PAGE);
      const nodes = data.deliveries.nodes as { event: { id: string }; hook: { id: string } | null; endpoint: { id: string } }[];
      assert.equal(nodes.length, 20);
      for (const node of nodes) {
        assert.match(node.event.id, /^msg_/);
        assert.match(node.hook?.id ?? '', /^hook_/);
        assert.match(node.endpoint.id, /^ep_/);
      }
      assert.equal(new Set(nodes.map((n) => n.event.id)).size, 5);
      assert.equal(new Set(nodes.map((n) => n.hook?.id)).size, 4);
      assert.equal(new Set(nodes.map((n) => n.endpoint.id)).size, 2);
      assert.ok(run.length <= 4, `expected at most 4 statements, got ${run.length}:\n${run.join('\n')}`);
    });

    test('nested relations cost one statement per relation field, not per row', async () => {
      const { data, statements: run } = await count(ATTEMPT_RELATIONS);
      assert.equal(data.deliveries.nodes.length, 20);
      const waiting = data.deliveries.nodes.filter((n: any) => n.hook.runAfter.length === 1);
      assert.equal(waiting.length, 5);
      // the page, event, hook, endpoint, three tenant relations, hook.endpoint and runAfter
      assert.ok(run.length <= 9, `expected at most 9 statements, got ${run.length}:\n${run.join('\n')}`);
    });
  });
}
