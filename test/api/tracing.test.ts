// W3C trace context: a traceparent given to sendEvent is kept with the event and sent on every
// delivery request (with no OpenTelemetry SDK registered, spans are no-ops and it goes as given).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup, waitForDelivery } from '../helpers/fixtures.js';
import { startReceiver, status, type Receiver } from '../helpers/receiver.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent', () => {
  let t: TestApp;
  let receiver: Receiver;
  const clock = new ManualClock(Date.now());
  before(async () => {
    t = await startTestApp({ clock });
    receiver = await startReceiver();
  });
  after(async () => {
    await t.stop();
    await receiver.close();
  });

  test('kept with the event and sent on the first request and on a manual retry', async () => {
    const s = await setup(t, `${receiver.url}/traced`);
    receiver.enqueue(status(503));
    const sent = await sendEvent(t, s.tenantId, { n: 1 }, { traceparent: TRACEPARENT });
    const retrying = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'RETRYING');
    await t.ok(`mutation($id: ID!) { retryDelivery(input: {id: $id}) { __typename } }`, { id: retrying.id });
    const requests = await receiver.waitFor(2);
    assert.deepEqual(requests.map((r) => r.headers.traceparent), [TRACEPARENT, TRACEPARENT]);
    const read = await t.ok(`query($id: ID!) { event(id: $id) { traceparent } }`, { id: sent.event.id });
    assert.equal(read.event.traceparent, TRACEPARENT);
  });

  test('a traceparent header on the request: the event takes it and every delivery sends it; one in the input wins', async () => {
    const s = await setup(t, `${receiver.url}/from-header`);
    const before = receiver.requests.length;
    const send = async (input: string, traceparent: string) => {
      const response = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, traceparent },
        body: JSON.stringify({
          query: `mutation($t: ID!) { sendEvent(input: {tenantId: $t, type: "invoice.paid", payload: {}${input}}) { ... on SendEventPayload { event { id traceparent } } } }`,
          variables: { t: s.tenantId },
        }),
      });
      assert.equal(response.status, 200);
      return ((await response.json()) as { data: { sendEvent: { event: { id: string; traceparent: string | null } } } }).data.sendEvent.event;
    };
    const fromHeader = await send('', TRACEPARENT);
    assert.equal(fromHeader.traceparent, TRACEPARENT);
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const fromInput = await send(`, traceparent: "${own}"`, TRACEPARENT);
    assert.equal(fromInput.traceparent, own);
    const ignored = await send('', 'not-a-traceparent');
    assert.equal(ignored.traceparent, null, 'a malformed header is ignored, not an error');
    const requests = (await receiver.waitFor(before + 3)).slice(before);
    const sent = requests.map((r) => r.headers.traceparent ?? 'none').sort();
    assert.deepEqual(sent, [TRACEPARENT, own, 'none'].sort());
  });

  test('none given: no traceparent header; a malformed one is a ValidationError at its field', async () => {
    const s = await setup(t, `${receiver.url}/plain`);
    const before = receiver.requests.length;
    await sendEvent(t, s.tenantId, { n: 2 });
    const [request] = (await receiver.waitFor(before + 1)).slice(before);
    assert.equal(request!.headers.traceparent, undefined);
    const refused = await t.ok(
      `mutation($t: ID!) { sendEvent(input: {tenantId: $t, type: "invoice.paid", payload: {}, traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}) { __typename ... on ValidationError { problems { path } } } }`,
      { t: s.tenantId },
    );
    assert.equal(refused.sendEvent.__typename, 'ValidationError');
    assert.deepEqual(refused.sendEvent.problems[0].path, ['input', 'traceparent']);
  });
});
