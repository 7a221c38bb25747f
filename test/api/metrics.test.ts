// /metrics: a Prometheus scrape behind its own token, parsed with an independent parser of the text
// format, after real deliveries to a real receiver; the counters move with what happened.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'graphql-ws';
import parsePrometheusTextFormat, { type Family, type Sample } from 'parse-prometheus-text-format';
import WebSocket from 'ws';
import { ManualClock } from '../../src/clock.js';
import { QUEUED_COUNT_MAX_AGE_MS } from '../../src/ops/metrics.js';
import { ADMIN_TOKEN, TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup, waitForDeliveries, waitForDelivery, waitUntil } from '../helpers/fixtures.js';
import { startReceiver, status, type Receiver } from '../helpers/receiver.js';

const METRICS_TOKEN = 'metrics_token_for_tests_0123';

async function scrape(t: TestApp, token: string | null = METRICS_TOKEN): Promise<{ status: number; text: string; type: string | null }> {
  const response = await fetch(`${t.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
}

async function families(t: TestApp): Promise<Map<string, Family>> {
  const scraped = await scrape(t);
  assert.equal(scraped.status, 200, scraped.text);
  return new Map(parsePrometheusTextFormat(scraped.text).map((family) => [family.name, family]));
}

function sample(all: Map<string, Family>, name: string, labels: Record<string, string> = {}): Sample | undefined {
  const family = all.get(name);
  assert.ok(family, `${name} is exposed`);
  return family.metrics.find((metric) => Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value));
}

const value = (all: Map<string, Family>, name: string, labels: Record<string, string> = {}) => Number(sample(all, name, labels)?.value ?? 0);
const count = (all: Map<string, Family>, name: string) => Number(sample(all, name)?.count ?? 0);

for (const dialect of TEST_DIALECTS) {
  describe(`metrics (${dialect})`, () => {
    let t: TestApp;
    const receivers: Receiver[] = [];
    // pinned, so the failed delivery's retry never comes due while the test runs
    const clock = new ManualClock(Date.now());

    before(async () => {
      t = await startTestApp({ dialect, clock, env: { SWITCHYARD_METRICS_TOKEN: METRICS_TOKEN } });
    });
    after(async () => {
      await t.stop();
      await Promise.all(receivers.map((receiver) => receiver.close()));
    });

    test('a scrape without the metrics token, with a wrong one or with the admin token answers 401', async () => {
      for (const token of [null, 'not_the_metrics_token_at_all', ADMIN_TOKEN]) {
        const refused = await scrape(t, token);
        assert.equal(refused.status, 401, `token ${token}`);
        assert.doesNotMatch(refused.text, /switchyard_/);
      }
    });

    test('after real deliveries the counters, histograms and gauges have moved', async () => {
      const good = await startReceiver();
      const bad = await startReceiver();
      receivers.push(good, bad);
      good.setDefault(status(204));
      bad.setDefault(status(503));
      const ok = await setup(t, `${good.url}/in`);
      const failing = await setup(t, `${bad.url}/in`);

      const ws = createClient({
        url: `${t.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
        retryAttempts: 0,
      });
      const firstUpdate = new Promise<void>((resolve, reject) => {
        ws.subscribe({ query: `subscription($t: ID) { deliveryUpdated(filter: {tenantId: $t}) { id } }`, variables: { t: ok.tenantId } }, {
          next: () => resolve(),
          error: reject,
          complete: () => undefined,
        });
      });
      // held once it streams: the first message proves the subscription is live
      const sentFirst = await sendEvent(t, ok.tenantId, { n: 1 });
      await firstUpdate;
      const sentSecond = await sendEvent(t, ok.tenantId, { n: 2 });
      const sentFailing = await sendEvent(t, failing.tenantId, { n: 3 });
      await waitForDeliveries(t, (d) => d.event_id === sentFirst.event.id || d.event_id === sentSecond.event.id, 'SUCCEEDED', 2);
      await waitForDelivery(t, (d) => d.event_id === sentFailing.event.id, 'RETRYING');

      const scraped = await scrape(t);
      assert.match(scraped.type ?? '', /^text\/plain; version=0\.0\.4/);
      const all = await families(t);
      assert.equal(all.get('switchyard_events_accepted_total')?.type, 'COUNTER');
      assert.equal(value(all, 'switchyard_events_accepted_total'), 3);
      assert.equal(value(all, 'switchyard_attempts_total', { outcome: 'succeeded', status_class: '2xx' }), 2);
      assert.equal(value(all, 'switchyard_attempts_total', { outcome: 'failed', status_class: '5xx' }), 1);
      assert.equal(value(all, 'switchyard_attempts_total', { outcome: 'failed', status_class: 'none' }), 0);
      assert.equal(all.get('switchyard_attempt_duration_seconds')?.type, 'HISTOGRAM');
      assert.equal(count(all, 'switchyard_attempt_duration_seconds'), 3);
      assert.equal(count(all, 'switchyard_send_to_request_seconds'), 3);
      assert.equal(value(all, 'switchyard_delivery_status_changes_total', { status: 'succeeded' }), 2);
      assert.equal(value(all, 'switchyard_delivery_status_changes_total', { status: 'retrying' }), 1);
      assert.ok(value(all, 'switchyard_delivery_status_changes_total', { status: 'sending' }) >= 3);
      assert.ok(count(all, 'switchyard_group_commit_duration_seconds') > 0);
      assert.ok(count(all, 'switchyard_claim_batch_size') > 0);
      assert.equal(Number(sample(all, 'switchyard_claim_batch_size')?.sum), 3, 'every delivery was claimed once');
      assert.equal(value(all, 'switchyard_outbound_requests_in_flight', { thread: 'main' }), 0);
      assert.equal(value(all, 'switchyard_outbound_requests_in_flight', { thread: 'http' }), 0);
      assert.equal(value(all, 'switchyard_websocket_connections'), 1);
      assert.equal(value(all, 'switchyard_live_subscriptions'), 1);
      assert.ok(all.has('nodejs_eventloop_lag_seconds'), 'event-loop lag');
      assert.ok(all.has('process_cpu_user_seconds_total'), 'process metrics');
      assert.equal(all.get('switchyard_queued_deliveries')?.type, 'GAUGE');
      assert.equal(value(all, 'switchyard_queued_deliveries', { status: 'retrying' }), 1);
      assert.equal(value(all, 'switchyard_queued_deliveries', { status: 'pending' }), 0);
      assert.equal(value(all, 'switchyard_queued_deliveries', { status: 'sending' }), 0);
      assert.equal(value(all, 'switchyard_queued_deliveries', { status: 'blocked' }), 0);

      // The queue is counted at most every QUEUED_COUNT_MAX_AGE_MS: a scrape within it reuses the count.
      const sentAnother = await sendEvent(t, failing.tenantId, { n: 4 });
      await waitForDelivery(t, (d) => d.event_id === sentAnother.event.id, 'RETRYING');
      assert.equal(value(await families(t), 'switchyard_queued_deliveries', { status: 'retrying' }), 1, 'the count is reused');
      clock.advance(QUEUED_COUNT_MAX_AGE_MS + 1);
      await waitUntil(
        async () => {
          const now = await families(t);
          return value(now, 'switchyard_queued_deliveries', { status: 'retrying' }) + value(now, 'switchyard_queued_deliveries', { status: 'sending' }) === 2;
        },
        { what: 'the queue counted again once the count is old enough' },
      );

      await ws.dispose();
      await waitUntil(async () => value(await families(t), 'switchyard_live_subscriptions') === 0, { what: 'the subscription released' });
    });
  });
}

describe('metrics off', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    await t.stop();
  });

  test('without SWITCHYARD_METRICS_TOKEN there is no /metrics', async () => {
    const scraped = await scrape(t);
    assert.notEqual(scraped.status, 200);
    assert.doesNotMatch(scraped.text, /switchyard_/);
  });
});
