// `webhook-id` is the delivery id: two hooks of one tenant sending one event to one endpoint are two
// deliveries a de-duplicating receiver must keep, and a retry of either is the duplicate it drops.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook } from '../../sdk/src/index.js';
import { TEST_DIALECTS } from '../helpers/app.js';
import { createHook, readEventDeliveries, sendEvent, setup } from '../helpers/fixtures.js';
import { appWithReceiver } from '../helpers/app-with-receiver.js';
import { status } from '../helpers/receiver.js';

for (const dialect of TEST_DIALECTS) {
  describe(`webhook-id per delivery (${dialect})`, () => {
    const suite = appWithReceiver({ dialect });

    test('two hooks on one endpoint: distinct signed webhook-ids, one webhook-event-id; a retry keeps its id', async () => {
      const { t, receiver } = suite;
      const s = await setup(t, `${receiver.url}/in`, { endpoint: { retryPolicy: { scheduleMs: [0, 50] } } });
      await createHook(t, s.tenantId, s.endpointId);
      const start = receiver.requests.length;
      // The first request of the event fails once, so one of the two deliveries is retried.
      receiver.enqueue(status(500));
      const sent = await sendEvent(t, s.tenantId, { amount: 7 });
      assert.equal(sent.deliveryCount, 2);
      const requests = (await receiver.waitFor(start + 3)).slice(start);

      const deliveries = await readEventDeliveries(t, sent.event.id);
      const deliveryIds = new Set(deliveries.map((d) => d.id));
      const seen = new Map<string, number>();
      for (const request of requests) {
        const verified = verifyWebhook({ secret: s.secret, headers: request.headers, body: request.body });
        assert.ok(deliveryIds.has(verified.id), `webhook-id ${verified.id} is one of the event's delivery ids`);
        assert.equal(verified.eventId, sent.event.id);
        // Any Standard Webhooks library agrees that the delivery id is what was signed.
        assert.doesNotThrow(() => new Webhook(s.secret).verify(request.body.toString('utf8'), request.headers));
        seen.set(verified.id, (seen.get(verified.id) ?? 0) + 1);
      }
      assert.equal(seen.size, 2, 'each delivery has its own webhook-id');
      assert.deepEqual([...seen.values()].sort(), [1, 2], 'the retried delivery sent the same webhook-id twice');
    });
  });
}
