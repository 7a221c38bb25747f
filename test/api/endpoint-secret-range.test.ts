// Own signing secrets over the whole range `^whsec_[a-zA-Z0-9+/=]{32,100}$` that Svix-compatible
// senders hand out (padded or not), and a request signed with the longest one verifies.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook } from '../../sdk/src/index.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, ensureEventType, sendEvent } from '../helpers/fixtures.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const CREATE = `mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) {
  __typename ... on CreateEndpointPayload { secret } ... on ValidationError { problems { path message } } } }`;

/** `length` base64 characters of random key, unpadded. */
const base64Chars = (length: number) => randomBytes(length).toString('base64').replace(/=+$/, '').slice(0, length);

for (const dialect of TEST_DIALECTS) {
  describe(`own signing secrets of 32 to 100 characters (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let tenantId: string;
    before(async () => {
      t = await startTestApp({ dialect });
      receiver = await startReceiver();
      tenantId = await createTenant(t);
      await ensureEventType(t, 'invoice.paid');
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    test('every length a base64 text can have is accepted, padded or not; 4n+1 and over 100 are refused', async () => {
      for (let length = 32; length <= 100; length++) {
        const key = base64Chars(length);
        const padded = key + '='.repeat((4 - (length % 4)) % 4);
        const result = (await t.ok(CREATE, { input: { tenantId, url: 'https://example.com/own', secret: `whsec_${key}` } })).createEndpoint;
        if (length % 4 === 1) {
          assert.equal(result.__typename, 'ValidationError', `length ${length}`);
          continue;
        }
        assert.equal(result.__typename, 'CreateEndpointPayload', `length ${length}: ${JSON.stringify(result)}`);
        const paddedResult = (await t.ok(CREATE, { input: { tenantId, url: 'https://example.com/own', secret: `whsec_${padded}` } })).createEndpoint;
        assert.equal(paddedResult.__typename, 'CreateEndpointPayload', `length ${length} padded`);
      }
      const tooLong = (await t.ok(CREATE, { input: { tenantId, url: 'https://example.com/own', secret: `whsec_${base64Chars(104)}` } })).createEndpoint;
      assert.equal(tooLong.__typename, 'ValidationError');
      assert.deepEqual(tooLong.problems.map((p: { path: string[] }) => p.path), [['input', 'secret']]);
    });

    test('a request signed with a 100-character secret verifies with the SDK and with standardwebhooks', async () => {
      const secret = `whsec_${base64Chars(100)}`;
      const { endpointId } = await createEndpoint(t, tenantId, `${receiver.url}/long`, { secret });
      await createHook(t, tenantId, endpointId);
      const start = receiver.requests.length;
      await sendEvent(t, tenantId, { n: 1 });
      const [request] = (await receiver.waitFor(start + 1)).slice(start);
      assert.ok(request);
      assert.doesNotThrow(() => verifyWebhook({ secret, headers: request.headers, body: request.body }));
      assert.doesNotThrow(() => new Webhook(secret).verify(request.body.toString('utf8'), request.headers));
    });
  });
}
