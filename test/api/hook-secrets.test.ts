// A hook's secrets: written, never read back (only their names), usable by its transform, body
// template, path template and its own headers, and absent from everything the API shows of its attempts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createTenant, ensureEventType, readDelivery, sendEvent, waitForDelivery } from '../helpers/fixtures.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const TOKEN = 'tok_live_5ecr3t_value';
const FOLDER = 'vault/9f8e7d';
const HOOK = 'id secretKeys headers';
const CREATE = `mutation($input: CreateHookInput!) { createHook(input: $input) {
  __typename ... on HookPayload { hook { ${HOOK} } } ... on ValidationError { problems { path message } } } }`;
const UPDATE = `mutation($input: UpdateHookInput!) { updateHook(input: $input) {
  __typename ... on HookPayload { hook { ${HOOK} } } ... on ValidationError { problems { path message } } } }`;

for (const dialect of TEST_DIALECTS) {
  describe(`hook secrets (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let tenantId: string;
    let endpointId: string;
    before(async () => {
      t = await startTestApp({ dialect });
      receiver = await startReceiver();
      tenantId = await createTenant(t, 'Secrets');
      await ensureEventType(t, 'doc.created');
      ({ endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/in`));
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    test('used in the path, a header and the body; the API shows only their names; the attempt log none of their values', async () => {
      const created = await t.ok(CREATE, {
        input: {
          tenantId,
          endpointId,
          name: 'vault',
          eventTypes: ['doc.created'],
          path: '/{secrets.folder}/{data.id}',
          headers: { 'x-api-key': '{{secrets.token}}', 'x-doc': 'doc {{data.id}}' },
          template: { kind: 'JSON', body: { id: '{{data.id}}', auth: 'Bearer {{secrets.token}}' } },
          secrets: { token: TOKEN, folder: FOLDER },
        },
      });
      assert.equal(created.createHook.__typename, 'HookPayload', JSON.stringify(created));
      const hook = created.createHook.hook;
      assert.deepEqual(hook.secretKeys, ['folder', 'token']);
      assert.equal(JSON.stringify(hook).includes(TOKEN), false);

      const sent = await sendEvent(t, tenantId, { id: 'd1' }, { type: 'doc.created' });
      const [request] = await receiver.waitFor(1);
      assert.equal(request!.url, `/in/${encodeURIComponent(FOLDER)}/d1`);
      assert.equal(request!.headers['x-api-key'], TOKEN);
      assert.equal(request!.headers['x-doc'], 'doc d1');
      assert.deepEqual(JSON.parse(request!.body.toString('utf8')), { id: 'd1', auth: `Bearer ${TOKEN}` });

      const delivery = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'SUCCEEDED');
      const view = await t.ok(
        `query($id: ID!) { delivery(id: $id) { attempts(first: 10) { nodes { request { method url headers body } } } } }`,
        { id: delivery.id },
      );
      const shown = JSON.stringify(view);
      assert.equal(shown.includes(TOKEN), false, `the attempt log shows the token: ${shown}`);
      assert.equal(shown.includes(FOLDER) || shown.includes(encodeURIComponent(FOLDER)), false, `the attempt log shows the folder: ${shown}`);
      const logged = view.delivery.attempts.nodes[0].request;
      assert.equal(logged.headers['x-api-key'], '[redacted]');
      assert.equal(logged.headers['x-doc'], 'doc d1');
      assert.match(logged.url, /\/in\/\[redacted\]\/d1$/);
      assert.equal((await readDelivery(t, delivery.id)).status, 'SUCCEEDED');

      // stored encrypted: the row holds none of the values
      const row = await t.app.services.db.selectFrom('hooks').select(['secrets']).where('id', '=', hook.id).executeTakeFirstOrThrow();
      assert.equal(row.secrets?.includes(TOKEN), false);

      // an update replaces them all; null removes them
      const replaced = await t.ok(UPDATE, { input: { id: hook.id, secrets: { token: 'tok_other_value', folder: FOLDER } } });
      assert.deepEqual(replaced.updateHook.hook.secretKeys, ['folder', 'token']);
      const renamed = await t.ok(UPDATE, { input: { id: hook.id, name: 'vault 2' } });
      assert.deepEqual(renamed.updateHook.hook.secretKeys, ['folder', 'token'], 'omitted: unchanged');
    });

    test('bad input is a ValidationError at its field, and nothing is written', async () => {
      const refused = await t.ok(CREATE, {
        input: {
          tenantId,
          endpointId,
          name: 'bad',
          eventTypes: ['doc.created'],
          headers: { 'webhook-id': 'x', 'x-ok': '{{nope.x}}', 'bad name': 'v' },
          secrets: { big: 'x'.repeat(17 * 1024) },
        },
      });
      assert.equal(refused.createHook.__typename, 'ValidationError');
      const paths = refused.createHook.problems.map((p: { path: string[] }) => p.path.join('.'));
      for (const expected of ['input.secrets', 'input.headers.webhook-id', 'input.headers.x-ok', 'input.headers.bad name']) {
        assert.ok(paths.includes(expected), `no problem at ${expected}: ${JSON.stringify(refused.createHook.problems)}`);
      }
      const { hooks } = await t.ok(`query($t: ID) { hooks(tenantId: $t) { nodes { name } } }`, { t: tenantId });
      assert.equal(hooks.nodes.some((h: { name: string }) => h.name === 'bad'), false);
    });

    test('a header value filled with a line break from the payload fails the attempt, never reaches the wire', async () => {
      const { endpointId: other } = await createEndpoint(t, tenantId, `${receiver.url}/inject`);
      const made = await t.ok(CREATE, { input: { tenantId, endpointId: other, name: 'inject', eventTypes: ['doc.created'], headers: { 'x-doc': '{{data.id}}' } } });
      assert.equal(made.createHook.__typename, 'HookPayload', JSON.stringify(made));
      const before = receiver.requests.length;
      const sent = await sendEvent(t, tenantId, { id: 'a\r\nx-evil: 1' }, { type: 'doc.created' });
      const failed = await waitForDelivery(t, (d) => d.event_id === sent.event.id && d.endpoint_id === other, ['FAILED', 'RETRYING']);
      assert.match(failed.last_error ?? '', /line break/);
      assert.equal(receiver.requests.slice(before).some((r) => r.url.startsWith('/inject')), false);
    });
  });
}
