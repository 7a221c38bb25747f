// At log level debug, one structured JSON line per attempt: what an operator needs to follow a
// delivery, and nothing a log shipper should not carry (secret, signature, header values, body).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup, waitForDelivery } from '../helpers/fixtures.js';
import { startReceiver, status, type Receiver } from '../helpers/receiver.js';

const STATIC_HEADER_VALUE = 'static-header-value-7f3a9c';
const PAYLOAD_MARKER = 'payload-marker-5d21e8';

for (const dialect of TEST_DIALECTS) {
  describe(`attempt log line (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    const lines: string[] = [];
    before(async () => {
      t = await startTestApp({ dialect, env: { SWITCHYARD_LOG_LEVEL: 'debug' }, logSink: (line) => lines.push(line) });
      receiver = await startReceiver();
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    test('one debug line per attempt with delivery, endpoint, attempt, outcome, status and duration; no secret, signature, header value or body', async () => {
      const s = await setup(t, `${receiver.url}/logged`, { endpoint: { headers: { 'x-static': STATIC_HEADER_VALUE } } });
      receiver.enqueue(status(503));
      const sent = await sendEvent(t, s.tenantId, { marker: PAYLOAD_MARKER });
      const retrying = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'RETRYING');
      await t.ok(`mutation($id: ID!) { retryDelivery(input: {id: $id}) { __typename } }`, { id: retrying.id });
      await waitForDelivery(t, (d) => d.id === retrying.id, 'SUCCEEDED');
      const requests = await receiver.waitFor(2);

      const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const attempts = parsed.filter((entry) => entry.message === 'attempt');
      assert.equal(attempts.length, 2);
      assert.deepEqual(
        attempts.map(({ level, delivery, event, endpoint, attempt, outcome, status }) => ({ level, delivery, event, endpoint, attempt, outcome, status })),
        [
          { level: 'debug', delivery: retrying.id, event: sent.event.id, endpoint: s.endpointId, attempt: 1, outcome: 'retry', status: 503 },
          { level: 'debug', delivery: retrying.id, event: sent.event.id, endpoint: s.endpointId, attempt: 2, outcome: 'succeeded', status: 200 },
        ],
      );
      for (const entry of attempts) assert.equal(typeof entry.durationMs, 'number');

      const secrets = [s.secret, STATIC_HEADER_VALUE, PAYLOAD_MARKER, ...requests.map((r) => r.headers['webhook-signature'] ?? '')];
      assert.ok(requests.every((r) => r.headers['x-static'] === STATIC_HEADER_VALUE && r.body.includes(PAYLOAD_MARKER)));
      for (const secret of secrets) {
        assert.ok(secret.length > 0);
        for (const line of lines) assert.ok(!line.includes(secret), `a log line carries ${secret}: ${line}`);
      }
    });
  });
}
