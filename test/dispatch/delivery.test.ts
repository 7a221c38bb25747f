import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { TEST_DIALECTS } from '../helpers/app.js';
import { sendEvent, setup, waitForDelivery } from '../helpers/fixtures.js';
import { appWithReceiver } from '../helpers/app-with-receiver.js';

for (const dialect of TEST_DIALECTS) {
  describe(`delivery end to end (${dialect})`, () => {
    const suite = appWithReceiver({ dialect });

    test('an event is delivered at once, signed, and its attempt is recorded', async () => {
      const { t, receiver } = suite;
      const s = await setup(t, `${receiver.url}/hooks`);
      const started = performance.now();
      const sent = await sendEvent(t, s.tenantId, { id: 'in_1', amount: 42 });
      assert.equal(sent.deliveryCount, 1);
      const [request] = await receiver.waitFor(1);
      assert.ok(request);
      const latency = request.receivedAt - started;
      assert.equal(request.method, 'POST');
      assert.equal(request.url, '/hooks');
      assert.match(request.headers['webhook-id'] ?? '', /^dlv_/);
      assert.equal(request.headers['webhook-event-id'], sent.event.id);
      const verified = new Webhook(s.secret).verify(request.body.toString('utf8'), request.headers) as { type: string; data: unknown };
      assert.equal(verified.type, 'invoice.paid');
      assert.deepEqual(verified.data, { id: 'in_1', amount: 42 });

      const delivery = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'SUCCEEDED');
      const data = await t.ok(
        `query($id: ID!) { delivery(id: $id) { status attemptCount lastStatusCode attempts { nodes { number trigger outcome durationMs errorClass request { method url headers body } response { status body } } } } }`,
        { id: delivery.id },
      );
      assert.equal(data.delivery.status, 'SUCCEEDED');
      assert.equal(data.delivery.attemptCount, 1);
      const [attempt] = data.delivery.attempts.nodes;
      assert.equal(attempt.number, 1);
      assert.equal(attempt.trigger, 'SCHEDULED');
      assert.equal(attempt.outcome, 'SUCCEEDED');
      assert.equal(attempt.response.status, 200);
      assert.equal(attempt.response.body, 'ok');
      assert.equal(attempt.request.headers['webhook-signature'], '[redacted]');
      assert.equal(attempt.request.url, `${receiver.url}/hooks`);
      assert.equal(attempt.errorClass, null);
      console.log(`send → first byte at the receiver: ${latency.toFixed(1)} ms`);
    });
  });
}
