// The pure outcome step (src/dispatch/completion.ts), table-tested without a store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttemptRow, DeliveryRow } from '../../src/db/schema.js';
import { RateLimiter } from '../../src/dispatch/admission.js';
import { humanDuration, planCompletion, wouldRetry, type Completion } from '../../src/dispatch/completion.js';
import type { StoredResponse } from '../../src/dispatch/deliverer.js';
import type { AttemptResultSummary, Decision } from '../../src/webhook/outcome.js';

const NOW = 1_700_000_000_000;
const DAY = 86_400_000;

const delivery: DeliveryRow = {
  id: 'dlv_1', tenant_id: 'ten_1', event_id: 'evt_1', hook_id: 'hook_1', endpoint_id: 'ep_1', event_type: 'invoice.paid',
  status: 'SENDING', attempt_count: 2, due_at: NOW + 30_000, next_attempt_at: null, lease_token: 7, next_trigger: 'SCHEDULED',
  last_status_code: null, last_error: null, status_reason: null, captured: null, capture_error: null, fifo_hook_id: null, created_at: NOW - 60_000, updated_at: NOW - 1_000, finished_at: null,
};

const attempt: AttemptRow = {
  id: 'att_1', delivery_id: 'dlv_1', tenant_id: 'ten_1', event_id: 'evt_1', endpoint_id: 'ep_1', hook_id: 'hook_1', number: 2,
  trigger: 'SCHEDULED', outcome: 'IN_FLIGHT', request_method: 'POST', request_url: 'https://example.test/hook', request_headers: '{}',
  request_body: null, response_status: null, response_headers: null, response_body: null, response_body_encoding: 'utf8',
  response_body_truncated: 0, duration_ms: null, error_class: null, error_message: null, started_at: NOW - 500, finished_at: null,
};

const response = (status: number | null, extra: Partial<StoredResponse> = {}): StoredResponse => ({
  status, errorClass: null, errorMessage: null, durationMs: 12.3456, waitedMs: 3.4, headersJson: '{"a":"b"}', retryAfter: null,
  body: 'ok', bodyEncoding: 'utf8', bodyTruncated: false, ...extra,
});

const summary = (status: number | null, errorClass: AttemptResultSummary['errorClass'] = null): AttemptResultSummary => ({
  status, errorClass, errorMessage: errorClass ? `${errorClass} happened` : null, retryAfter: null,
});

function completion(decision: Decision, result: AttemptResultSummary, options: { failingSince?: number | null; trigger?: AttemptRow['trigger']; response?: StoredResponse | null } = {}): Completion {
  return {
    job: { delivery, attempt: { ...attempt, trigger: options.trigger ?? 'SCHEDULED' }, endpoint: { id: 'ep_1', failing_since: options.failingSince ?? null }, hook: { id: 'hook_1', ordering: 'UNORDERED' }, hasDependents: false },
    sent: { method: 'POST', url: 'https://example.test/hook', redactedHeadersJson: '{"x":"[redacted]"}', body: '{"n":1}' },
    response: options.response === undefined ? response(result.status) : options.response,
    summary: result,
    decision,
    finishedAt: NOW,
  };
}

const context = { now: NOW, endpointEnabled: true, autoDisableAfterMs: 5 * DAY };

describe('planCompletion', () => {
  const cases: {
    name: string;
    completion: Completion;
    enabled?: boolean;
    outcome: AttemptRow['outcome'];
    status: DeliveryRow['status'];
    dueAt: number | null;
    statusReason: string | null;
    endpoint: ReturnType<typeof planCompletion>['endpointChange'];
    countsAsFailure: boolean;
  }[] = [
    {
      name: '2xx: succeeded, finished, nothing for a healthy endpoint',
      completion: completion({ kind: 'succeeded' }, summary(200)),
      outcome: 'SUCCEEDED', status: 'SUCCEEDED', dueAt: null, statusReason: null, endpoint: null, countsAsFailure: false,
    },
    {
      name: '2xx on a failing endpoint: it recovers',
      completion: completion({ kind: 'succeeded' }, summary(204), { failingSince: NOW - DAY }),
      outcome: 'SUCCEEDED', status: 'SUCCEEDED', dueAt: null, statusReason: null, endpoint: { kind: 'recovered' }, countsAsFailure: false,
    },
    {
      name: '500 with a retry left: RETRYING, due after the delay, the endpoint starts failing',
      completion: completion({ kind: 'retry', delayMs: 30_000, reason: 'HTTP 500' }, summary(500, 'http_status')),
      outcome: 'FAILED', status: 'RETRYING', dueAt: NOW + 30_000, statusReason: null, endpoint: { kind: 'failing' }, countsAsFailure: true,
    },
    {
      name: 'a retry on an endpoint disabled meanwhile fails instead',
      completion: completion({ kind: 'retry', delayMs: 30_000, reason: 'HTTP 500' }, summary(500, 'http_status')),
      enabled: false,
      outcome: 'FAILED', status: 'FAILED', dueAt: null, statusReason: 'HTTP 500; not retried: the endpoint is disabled', endpoint: { kind: 'failing' }, countsAsFailure: true,
    },
    {
      name: 'failing for longer than autoDisableAfterMs: the endpoint is disabled',
      completion: completion({ kind: 'retry', delayMs: 30_000, reason: 'HTTP 503' }, summary(503, 'http_status'), { failingSince: NOW - 6 * DAY }),
      outcome: 'FAILED', status: 'RETRYING', dueAt: NOW + 30_000, statusReason: null,
      endpoint: { kind: 'disable', reason: 'FAILING', message: 'failing continuously for 6 days' }, countsAsFailure: true,
    },
    {
      name: 'failing, but not for long enough: no endpoint change',
      completion: completion({ kind: 'failed', reason: 'HTTP 500; no retry left after attempt 2' }, summary(500, 'http_status'), { failingSince: NOW - DAY }),
      outcome: 'FAILED', status: 'FAILED', dueAt: null, statusReason: 'HTTP 500; no retry left after attempt 2', endpoint: null, countsAsFailure: true,
    },
    {
      name: '410 Gone: failed, the endpoint is disabled as gone',
      completion: completion({ kind: 'gone', reason: 'the receiver answered 410 Gone' }, summary(410, 'http_status')),
      outcome: 'FAILED', status: 'FAILED', dueAt: null, statusReason: 'the receiver answered 410 Gone',
      endpoint: { kind: 'disable', reason: 'GONE', message: 'the receiver answered 410 Gone' }, countsAsFailure: false,
    },
    {
      name: 'interrupted: INTERRUPTED, due again at once, never held against the endpoint (even if disabled)',
      completion: completion({ kind: 'retry', delayMs: 0, reason: 'stopped' }, summary(null, 'interrupted'), { response: null }),
      enabled: false,
      outcome: 'INTERRUPTED', status: 'RETRYING', dueAt: NOW, statusReason: null, endpoint: null, countsAsFailure: false,
    },
    {
      name: 'a failed test attempt is not held against the endpoint',
      completion: completion({ kind: 'failed', reason: 'HTTP 500' }, summary(500, 'http_status'), { trigger: 'TEST' }),
      outcome: 'FAILED', status: 'FAILED', dueAt: null, statusReason: 'HTTP 500', endpoint: null, countsAsFailure: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planCompletion(c.completion, { ...context, endpointEnabled: c.enabled ?? true });
      assert.equal(plan.attemptChanges.outcome, c.outcome);
      assert.equal(plan.status, c.status);
      assert.equal(plan.deliveryChanges.status, c.status);
      assert.equal(plan.deliveryChanges.due_at, c.dueAt);
      assert.equal(plan.deliveryChanges.next_attempt_at, c.dueAt);
      assert.equal(plan.deliveryChanges.finished_at, c.dueAt === null ? NOW : null);
      assert.equal(plan.deliveryChanges.status_reason, c.statusReason);
      assert.equal(plan.deliveryChanges.updated_at, NOW);
      assert.deepEqual(plan.endpointChange, c.endpoint);
      assert.equal(plan.countsAsFailure, c.countsAsFailure);
    });
  }

  it('records the request as sent and the response as stored', () => {
    const plan = planCompletion(completion({ kind: 'succeeded' }, summary(200)), context);
    assert.deepEqual(plan.attemptChanges, {
      outcome: 'SUCCEEDED', request_method: 'POST', request_url: 'https://example.test/hook', request_headers: '{"x":"[redacted]"}',
      request_body: '{"n":1}', response_status: 200, response_headers: '{"a":"b"}', response_body: 'ok', response_body_encoding: 'utf8',
      response_body_truncated: 0, duration_ms: 12.346, error_class: null, error_message: null,
      // the time it waited in the HTTP client, rounded, moves its start
      started_at: NOW - 500 + 3, finished_at: NOW,
    });
    assert.equal(plan.deliveryChanges.last_status_code, 200);
    assert.equal(plan.deliveryChanges.last_error, null);
  });

  it('without a response: the duration is the time since the claim, the request as the claim wrote it', () => {
    const c = completion({ kind: 'failed', reason: 'transform: bad' }, summary(null, 'transform'), { response: null });
    const plan = planCompletion({ ...c, sent: null }, context);
    assert.equal(plan.attemptChanges.duration_ms, 500);
    assert.equal(plan.attemptChanges.request_headers, '{}');
    assert.equal(plan.attemptChanges.request_url, attempt.request_url);
    assert.equal(plan.attemptChanges.response_body, null);
    assert.equal(plan.attemptChanges.started_at, NOW - 500);
  });

  it('a test delivery stays a test delivery', () => {
    const plan = planCompletion(completion({ kind: 'failed', reason: 'HTTP 500' }, summary(500, 'http_status'), { trigger: 'TEST' }), context);
    assert.equal(plan.deliveryChanges.next_trigger, 'TEST');
  });

  it('wouldRetry: only a retry that is not an interruption depends on the endpoint', () => {
    assert.equal(wouldRetry({ decision: { kind: 'retry', delayMs: 1, reason: 'x' }, summary: summary(500, 'http_status') }), true);
    assert.equal(wouldRetry({ decision: { kind: 'retry', delayMs: 0, reason: 'x' }, summary: summary(null, 'interrupted') }), false);
    assert.equal(wouldRetry({ decision: { kind: 'failed', reason: 'x' }, summary: summary(500, 'http_status') }), false);
  });

  it('humanDuration', () => {
    assert.equal(humanDuration(5 * DAY + 1), '5 days');
    assert.equal(humanDuration(3_600_000), '1 hour');
    assert.equal(humanDuration(125_000), '2 minutes');
    assert.equal(humanDuration(999.6), '1000 ms');
  });
});

describe('RateLimiter (a clock of its own)', () => {
  it('never lets rate + 1 starts into one window, counting each start from its request end', async () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const over: (() => void)[] = [];
    for (let n = 0; n < 2; n++) over.push(await limiter.waitForTurn('ep', 2));
    // both in flight: a third start must wait for the first to end, and then a whole window
    assert.equal(limiter.wouldWait('ep', 2), true);
    now = 5_000;
    over[0]!();
    now = 5_500;
    assert.equal(limiter.wouldWait('ep', 2), true);
    now = 6_000;
    assert.equal(limiter.wouldWait('ep', 2), false);
  });

  it('no rate: never waits', async () => {
    const limiter = new RateLimiter(() => 0);
    (await limiter.waitForTurn('ep', null))();
    assert.equal(limiter.wouldWait('ep', null), false);
  });
});
