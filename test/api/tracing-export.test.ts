// With an OpenTelemetry SDK registered (here an in-memory exporter; this test file is its own
// process), the receiver gets the producer's trace id, and the attempt span is its parent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { parseTraceparent } from '../../src/tracing.js';
import { ADMIN_TOKEN, TEST_DIALECTS } from '../helpers/app.js';
import { sendEvent, setup, waitForDelivery, waitUntil } from '../helpers/fixtures.js';
import { appWithReceiver } from '../helpers/app-with-receiver.js';

const PRODUCER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${PRODUCER_TRACE_ID}-00f067aa0ba902b7-01`;

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));

for (const dialect of TEST_DIALECTS) {
  describe(`spans exported (${dialect})`, () => {
    /** the SQL the app ran, in order: when a claim and the look after it have run */
    const queries: string[] = [];
    const suite = appWithReceiver({ dialect, onQuery: (sql) => queries.push(sql) });

    test('sendEvent, claim, attempt and commit spans; the receiver continues the producer trace from the attempt span', async () => {
      const { t, receiver } = suite;
      exporter.reset();
      const s = await setup(t, `${receiver.url}/traced`);
      // sent while the dispatcher is stopped, its delivery is taken by a claim (not leased in the commit that accepts it)
      await t.app.dispatcher.stop();
      const sent = await sendEvent(t, s.tenantId, { n: 1 }, { traceparent: TRACEPARENT });
      t.app.dispatcher.start();
      const delivery = await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'SUCCEEDED');
      const [request] = await receiver.waitFor(1);
      const received = parseTraceparent(request!.headers.traceparent ?? '');
      assert.ok(received, `the receiver got a valid traceparent (${request!.headers.traceparent})`);
      assert.equal(received.traceId, PRODUCER_TRACE_ID);

      const spans = await waitUntil(
        () => {
          const finished = exporter.getFinishedSpans();
          return finished.some((span) => span.name === 'switchyard.commit') ? finished : null;
        },
        { what: 'a commit span' },
      );
      const names = new Set(spans.map((span) => span.name));
      for (const name of ['switchyard.sendEvent', 'switchyard.claim', 'switchyard.attempt', 'switchyard.commit']) {
        assert.ok(names.has(name), `${name} exported (got ${[...names].join(', ')})`);
      }
      const attempts = spans.filter((span) => span.name === 'switchyard.attempt');
      assert.equal(attempts.length, 1);
      const attempt = attempts[0]!;
      assert.equal(attempt.spanContext().traceId, PRODUCER_TRACE_ID);
      assert.equal(attempt.spanContext().spanId, received.spanId);
      assert.equal(attempt.attributes['switchyard.delivery_id'], delivery.id);
      assert.equal(attempt.attributes['switchyard.outcome'], 'succeeded');
      assert.equal(spans.find((span) => span.name === 'switchyard.claim')?.attributes['switchyard.claimed'], 1);
      const commit = spans.find((span) => span.name === 'switchyard.commit')!;
      assert.equal(commit.attributes['switchyard.outcomes'], 1);
    });

    test('an idle dispatcher\'s look at the queue exports no claim span; a claim that took deliveries counts them', async () => {
      const { t } = suite;
      await waitUntil(() => t.app.dispatcher.load === 0, { what: 'the dispatcher idle' });
      exporter.reset();
      const from = queries.length;
      t.app.dispatcher.wake();
      // the claim, then the read of the next due time that follows every pump: the claim is over
      await waitUntil(
        () => {
          const claim = queries.findIndex((sql, i) => i >= from && /set status = 'SENDING'/.test(sql));
          return claim >= 0 && queries.slice(claim + 1).some((sql) => /min\("due_at"\)/.test(sql));
        },
        { what: 'an empty claim and the look after it' },
      );
      assert.deepEqual(exporter.getFinishedSpans().filter((span) => span.name === 'switchyard.claim'), []);
    });

    test('the sendEvent span continues the trace of the request\'s traceparent header', async () => {
      const { t, receiver } = suite;
      exporter.reset();
      const s = await setup(t, `${receiver.url}/from-header`);
      const before = receiver.requests.length;
      const response = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, traceparent: TRACEPARENT },
        body: JSON.stringify({
          query: 'mutation($t: ID!) { sendEvent(input: {tenantId: $t, type: "invoice.paid", payload: {}}) { ... on SendEventPayload { event { traceparent } } } }',
          variables: { t: s.tenantId },
        }),
      });
      const body = (await response.json()) as { data: { sendEvent: { event: { traceparent: string } } } };
      const span = exporter.getFinishedSpans().find((finished) => finished.name === 'switchyard.sendEvent');
      assert.ok(span, 'a sendEvent span');
      assert.equal(span.spanContext().traceId, PRODUCER_TRACE_ID);
      assert.equal(span.parentSpanContext?.spanId, '00f067aa0ba902b7');
      // the event keeps the sendEvent span's context, so its attempts are in the producer's trace too
      assert.equal(parseTraceparent(body.data.sendEvent.event.traceparent)?.spanId, span.spanContext().spanId);
      const [request] = (await receiver.waitFor(before + 1)).slice(before);
      assert.equal(parseTraceparent(request!.headers.traceparent ?? '')?.traceId, PRODUCER_TRACE_ID);
    });
  });
}
