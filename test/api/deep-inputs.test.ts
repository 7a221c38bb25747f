// Inputs nested far deeper than any real payload: a ValidationError at the field (a mutation's JSON
// input) or a 400 (a literal in the document), never a 5xx or "Unexpected error.", and nothing stored.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_TOKEN, TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createTenant, ensureEventType, storedCounts } from '../helpers/fixtures.js';

/** JSON text nested `levels` deep, built as text: JSON.stringify itself overflows on such values. */
const deepJson = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

async function postRaw(t: TestApp, query: string, variablesJson = '{}'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: `{"query":${JSON.stringify(query)},"variables":${variablesJson}}`,
  });
  return { status: response.status, body: await response.json() };
}

for (const dialect of TEST_DIALECTS) {
  describe(`deep inputs (${dialect})`, () => {
    let t: TestApp;
    let tenantId: string;
    let endpointId: string;
    before(async () => {
      t = await startTestApp({ dialect });
      tenantId = await createTenant(t);
      await ensureEventType(t, 'deep.thing');
      endpointId = (await createEndpoint(t, tenantId, 'http://127.0.0.1:9/')).endpointId;
    });
    after(() => t.stop());

    for (const levels of [5_000, 10_000, 100_000]) {
      test(`a sendEvent payload ${levels} levels deep: ValidationError at input.payload, nothing stored`, async () => {
        const { status, body } = await postRaw(
          t,
          `mutation($p: JSON!) { sendEvent(input: { tenantId: "${tenantId}", type: "deep.thing", payload: $p }) {
            __typename ... on ValidationError { message problems { path message } } } }`,
          `{"p":${deepJson(levels)}}`,
        );
        assert.equal(status, 200);
        assert.equal(body.errors, undefined, JSON.stringify(body.errors));
        assert.equal(body.data.sendEvent.__typename, 'ValidationError');
        assert.deepEqual(body.data.sendEvent.problems[0].path, ['input', 'payload']);
        assert.match(body.data.sendEvent.problems[0].message, /nested deeper than 128 levels/);
        assert.deepEqual(await storedCounts(t, tenantId), { events: 0, deliveries: 0, attempts: 0 });
      });
    }

    test('endpoint metadata and a hook testPayload nested 10,000 levels: ValidationError at their fields', async () => {
      const metadata = await postRaw(
        t,
        `mutation($m: JSONObject) { updateEndpoint(input: { id: "${endpointId}", metadata: $m }) { __typename ... on ValidationError { problems { path } } } }`,
        `{"m":${deepJson(10_000)}}`,
      );
      assert.equal(metadata.body.data.updateEndpoint.__typename, 'ValidationError', JSON.stringify(metadata.body));
      assert.deepEqual(metadata.body.data.updateEndpoint.problems[0].path, ['input', 'metadata']);
      const hook = await postRaw(
        t,
        `mutation($p: JSON) { createHook(input: { tenantId: "${tenantId}", endpointId: "${endpointId}", name: "h", eventTypes: ["deep.thing"], testPayload: $p }) {
          __typename ... on ValidationError { problems { path } } } }`,
        `{"p":${deepJson(10_000)}}`,
      );
      assert.equal(hook.body.data.createHook.__typename, 'ValidationError', JSON.stringify(hook.body));
      assert.deepEqual(hook.body.data.createHook.problems[0].path, ['input', 'testPayload']);
    });

    for (const levels of [2_000, 10_000]) {
      test(`literals ${levels} levels deep in the document: 400 before parsing`, async () => {
        for (const query of [
          `{ nodes(ids: ${'['.repeat(levels)}"x"${']'.repeat(levels)}) { id } }`,
          `mutation { sendEvent(input: { tenantId: "${tenantId}", type: "deep.thing", payload: ${'{a:'.repeat(levels)}1${'}'.repeat(levels)} }) { __typename } }`,
        ]) {
          const { status, body } = await postRaw(t, query);
          assert.equal(status, 400, JSON.stringify(body).slice(0, 300));
          assert.match(body.errors[0].message, /over the limit of 160/);
        }
      });
    }

    test('a payload at the limit is still accepted', async () => {
      const { body } = await postRaw(
        t,
        `mutation($p: JSON!) { sendEvent(input: { tenantId: "${tenantId}", type: "deep.thing", payload: $p }) { __typename } }`,
        `{"p":${deepJson(120)}}`,
      );
      assert.equal(body.data.sendEvent.__typename, 'SendEventPayload', JSON.stringify(body));
    });
  });
}
