// A failing endpoint is announced when its streak reaches SWITCHYARD_FAILING_AFTER_ATTEMPTS, again
// past 50 % and past 90 % of the auto-disable window, then disabled at its end: each once, in that
// order, delivered to an operations hook and streamed. The clock is injected, so the window passes
// exactly when the test says.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { windowMarkPassed } from '../../src/dispatch/operational-outcomes.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, ensureEventType, sendEvent, waitForDelivery } from '../helpers/fixtures.js';
import { startReceiver, status, type Receiver } from '../helpers/receiver.js';
import { serverSubscribed, wsClient } from '../helpers/ws.js';

const HOUR = 3_600_000;
const ONE_ATTEMPT = { retryPolicy: { maxAttempts: 1 } };

describe('the window marks (pure)', () => {
  const cases: [elapsed: number, window: number, mark: number][] = [
    [0, HOUR, 0],
    [HOUR / 2 - 1, HOUR, 0],
    [HOUR / 2, HOUR, 50],
    [0.89 * HOUR, HOUR, 50],
    [0.9 * HOUR, HOUR, 90],
    [2 * HOUR, HOUR, 90],
  ];
  for (const [elapsed, window, mark] of cases) test(`${elapsed} of ${window} ms → ${mark}`, () => assert.equal(windowMarkPassed(elapsed, window), mark));
});

for (const dialect of TEST_DIALECTS) {
  describe(`failing through the auto-disable window (${dialect})`, () => {
    let t: TestApp;
    let target: Receiver;
    let ops: Receiver;
    const clock = new ManualClock(Date.now());

    before(async () => {
      t = await startTestApp({ dialect, clock, env: { SWITCHYARD_FAILING_AFTER_ATTEMPTS: '2', SWITCHYARD_AUTO_DISABLE_AFTER_MS: String(HOUR) } });
      target = await startReceiver();
      ops = await startReceiver();
      target.setDefault(status(500));
      ops.setDefault(status(204));
    });
    after(async () => {
      await t.stop();
      await Promise.all([target.close(), ops.close()]);
    });

    test('failing (attempts), failing (50 %), failing (90 %), disabled: each once, in order, delivered and streamed', async () => {
      const tenantId = await createTenant(t, 'Window');
      await ensureEventType(t, 'invoice.paid');
      const { endpointId } = await createEndpoint(t, tenantId, `${target.url}/in`, ONE_ATTEMPT);
      await createHook(t, tenantId, endpointId);
      const { endpointId: opsEndpointId } = await createEndpoint(t, tenantId, `${ops.url}/ops`);
      await createHook(t, tenantId, opsEndpointId, { eventTypes: ['switchyard.endpoint.*'] });

      const ws = wsClient(t);
      const streamed: { kind: string; data: Record<string, unknown> }[] = [];
      let allStreamed!: () => void;
      const streamedAll = new Promise<void>((resolve) => (allStreamed = resolve));
      const subscribed = serverSubscribed(t, 'operational');
      ws.subscribe(
        { query: `subscription($t: ID) { operationalEvents(filter: {tenantId: $t, kinds: ["endpoint.failing", "endpoint.disabled"]}) { kind endpointId data } }`, variables: { t: tenantId } },
        {
          next: (value) => {
            streamed.push((value.data as any).operationalEvents);
            if (streamed.length === 4) allStreamed();
          },
          error: () => undefined,
          complete: () => undefined,
        },
      );
      await subscribed;

      const failOnce = async (n: number) => {
        const sent = await sendEvent(t, tenantId, { n });
        await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'FAILED');
      };
      await failOnce(1); // the streak starts (failing_since)
      const start = clock.now();
      await failOnce(2); // two in a row: announced
      clock.set(start + 0.3 * HOUR);
      await failOnce(3); // nothing new
      clock.set(start + 0.55 * HOUR);
      await failOnce(4); // past half the window
      await failOnce(5); // still past half: nothing new
      clock.set(start + 0.92 * HOUR);
      await failOnce(6); // past 90 %
      clock.set(start + 1.01 * HOUR);
      await failOnce(7); // past the window: disabled

      const expected = ['endpoint.failing ATTEMPTS', 'endpoint.failing HALF_WINDOW', 'endpoint.failing NINETY_PERCENT_WINDOW', 'endpoint.disabled FAILING'];
      const describe = (e: { kind: string; data: Record<string, unknown> }) => `${e.kind} ${String(e.data.threshold ?? e.data.reason)}`;
      const listed = await t.ok(
        `query($t: ID) { operationalEvents(filter: {tenantId: $t, kinds: ["endpoint.failing", "endpoint.disabled"]}, first: 10) { nodes { kind data } } }`,
        { t: tenantId },
      );
      assert.deepEqual(listed.operationalEvents.nodes.map(describe).reverse(), expected, 'stored, newest first');

      const delivered = await ops.waitFor(4);
      assert.deepEqual(
        delivered
          .map((request) => JSON.parse(request.body.toString('utf8')))
          .map((envelope) => `${envelope.type.replace('switchyard.', '')} ${envelope.data.threshold ?? envelope.data.reason}`),
        expected,
        'delivered to the operations hook in order',
      );
      const halfWindow = listed.operationalEvents.nodes.find((e: { data: Record<string, unknown> }) => e.data.threshold === 'HALF_WINDOW');
      assert.equal(halfWindow.data.disablesAt, Number(halfWindow.data.failingSince) + HOUR);
      assert.equal(halfWindow.data.lastStatusCode, 500);

      await streamedAll;
      assert.deepEqual(streamed.map(describe), expected, 'streamed on the subscription');
      await ws.dispose();
    });
  });
}
