// What a hook carries of its own: its settings in the envelope (STANDARD `settings`, CloudEvents
// `hooksettings`), metadata, and a timeout and retry policy that override its endpoint's.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, ensureEventType, readDelivery, sendEvent, waitForDelivery } from '../helpers/fixtures.js';
import { hang, startReceiver, status, type Receiver } from '../helpers/receiver.js';

const HOOK = `id metadata timeoutMs retryPolicy { maxAttempts scheduleMs }`;
const CREATE = `mutation($input: CreateHookInput!) { createHook(input: $input) {
  __typename ... on HookPayload { hook { ${HOOK} } } ... on ValidationError { problems { path message } } } }`;
const UPDATE = `mutation($input: UpdateHookInput!) { updateHook(input: $input) {
  __typename ... on HookPayload { hook { ${HOOK} } } ... on ValidationError { problems { path message } } } }`;

for (const dialect of TEST_DIALECTS) {
  describe(`hook settings, metadata, timeout and retry policy (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let tenantId: string;

    /** A fresh endpoint (own path) with one hook; returns their ids. */
    async function endpointWithHook(path: string, hook: Record<string, unknown>, endpoint: Record<string, unknown> = {}) {
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/${path}`, endpoint);
      const hookId = await createHook(t, tenantId, endpointId, { eventTypes: [`opt.${path}`], ...hook });
      return { endpointId, hookId };
    }

    before(async () => {
      t = await startTestApp({ dialect });
      receiver = await startReceiver();
      tenantId = await createTenant(t, 'Options');
      for (const path of ['settings', 'plain', 'ce', 'timeout', 'policy', 'inherit']) await ensureEventType(t, `opt.${path}`);
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    const requestTo = async (path: string) => {
      const found = receiver.requests.find((r) => r.url === `/${path}`);
      if (found) return found;
      await receiver.waitFor(receiver.requests.length + 1);
      return requestTo(path);
    };

    test('STANDARD sends the settings when the hook has some; CloudEvents as the hooksettings extension', async () => {
      await endpointWithHook('settings', { settings: { folder: 'inbox', level: 2 } });
      await endpointWithHook('plain', {});
      await endpointWithHook('ce', { settings: { folder: 'inbox' }, format: 'CLOUDEVENTS' });
      for (const path of ['settings', 'plain', 'ce']) await sendEvent(t, tenantId, { n: path }, { type: `opt.${path}` });

      const withSettings = JSON.parse((await requestTo('settings')).body.toString('utf8'));
      assert.deepEqual(withSettings.settings, { folder: 'inbox', level: 2 });
      assert.deepEqual(withSettings.data, { n: 'settings' });
      const plain = JSON.parse((await requestTo('plain')).body.toString('utf8'));
      assert.deepEqual(Object.keys(plain), ['type', 'timestamp', 'data']);
      const cloudEvent = JSON.parse((await requestTo('ce')).body.toString('utf8'));
      assert.deepEqual(JSON.parse(cloudEvent.hooksettings), { folder: 'inbox' });
      assert.deepEqual(cloudEvent.data, { n: 'ce' });
    });

    test('metadata is kept and replaced; timeout and retry policy read back; each is checked at its field', async () => {
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/meta`);
      const input = { tenantId, endpointId, name: 'meta', eventTypes: ['opt.plain'] };
      const created = (await t.ok(CREATE, { input: { ...input, metadata: { team: 'billing' }, timeoutMs: 2000, retryPolicy: { scheduleMs: [0, 1000] } } })).createHook;
      assert.equal(created.__typename, 'HookPayload', JSON.stringify(created));
      assert.deepEqual(created.hook.metadata, { team: 'billing' });
      assert.equal(created.hook.timeoutMs, 2000);
      assert.deepEqual(created.hook.retryPolicy.scheduleMs, [0, 1000]);
      const updated = (await t.ok(UPDATE, { input: { id: created.hook.id, metadata: { team: 'ops' }, timeoutMs: null, retryPolicy: null } })).updateHook;
      assert.deepEqual(updated.hook, { id: created.hook.id, metadata: { team: 'ops' }, timeoutMs: null, retryPolicy: null });
      const plain = (await t.ok(CREATE, { input })).createHook;
      assert.deepEqual(plain.hook.metadata, {});

      const refused = (await t.ok(CREATE, { input: { ...input, metadata: { blob: 'm'.repeat(17 * 1024) }, timeoutMs: 5, retryPolicy: { maxAttempts: 0 } } })).createHook;
      assert.equal(refused.__typename, 'ValidationError');
      assert.deepEqual(
        refused.problems.map((p: { path: string[] }) => p.path.join('.')).sort(),
        ['input.metadata', 'input.retryPolicy.maxAttempts', 'input.timeoutMs'],
      );
    });

    test("the hook's timeout and retry policy override the endpoint's", async () => {
      // The endpoint would wait long and retry in an hour; the hook gives up fast and never retries.
      const endpoint = { timeoutMs: 20_000, retryPolicy: { scheduleMs: [0, 3_600_000] } };
      const fast = await endpointWithHook('timeout', { timeoutMs: 300, retryPolicy: { scheduleMs: [0] } }, endpoint);
      const inherit = await endpointWithHook('inherit', {}, { retryPolicy: { scheduleMs: [0, 3_600_000] } });
      receiver.setDefault((req, res, body) => (req.url === '/timeout' ? hang(req, res, body) : status(500)(req, res, body)));

      const started = performance.now();
      const sent = await sendEvent(t, tenantId, { n: 1 }, { type: 'opt.timeout' });
      const failed = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'FAILED', 10_000);
      assert.ok(performance.now() - started < 5_000, "failed on the hook's 300 ms deadline, not the endpoint's 20 s");
      const view = await readDelivery(t, failed.id);
      assert.equal(view.attemptCount, 1, "the hook's schedule has no retry");
      assert.equal(view.attempts.nodes[0]?.errorClass, 'TIMEOUT');
      assert.equal(failed.hook_id, fast.hookId);

      const other = await sendEvent(t, tenantId, { n: 2 }, { type: 'opt.inherit' });
      const retrying = await waitForDelivery(t, (d) => d.event_id === other.event.id, 'RETRYING');
      assert.equal(retrying.hook_id, inherit.hookId);
      // an hour ± the schedule's jitter
      assert.ok(retrying.next_attempt_at! - Date.now() > 2_000_000, "a hook without a policy follows the endpoint's");
    });
  });
}
