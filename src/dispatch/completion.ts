// The outcome step, pure: from one finished attempt, the attempt row, the next delivery state and the endpoint change to write.
import type { AttemptRow, AttemptTrigger, DeliveryRow, DeliveryStatus, EndpointRow, EventRow, HookRow } from '../db/schema.js';
import type { AttemptOutcomeColumns, DeliveryCaptureColumns, DeliveryOutcomeColumns } from '../modules/deliveries/attempt.repository.js';
import type { CaptureOutcome } from '../webhook/capture.js';
import { parseJsonOrNull } from '../db/json.js';
import { decide, type AttemptResultSummary, type Decision } from '../webhook/outcome.js';
import type { RetryPolicy } from '../webhook/schedule.js';
import type { SentRequest, StoredResponse } from './deliverer.js';

/** One finished attempt, as the request left it. */
export interface Completion {
  job: {
    delivery: DeliveryRow;
    attempt: AttemptRow;
    /** failing_notified_at, failing_window_announced: what of its failing streak was announced when claimed (unknown: look) */
    endpoint: Pick<EndpointRow, 'id' | 'failing_since'> & Partial<Pick<EndpointRow, 'failing_notified_at' | 'failing_window_announced'>>;
    /** the ordering decides whether its end releases the next delivery of a FIFO hook; capture_event_type what its capture sends */
    hook: Pick<HookRow, 'id' | 'ordering'> & Partial<Pick<HookRow, 'capture_event_type'>>;
    /** the event delivered, as far as a capture event continues it */
    event?: Pick<EventRow, 'capture_depth' | 'traceparent'>;
    hasDependents: boolean;
  };
  /** the request as sent; null when none was built */
  sent: SentRequest | null;
  response: StoredResponse | null;
  summary: AttemptResultSummary;
  /** what the hook's capture made of the answer; null or absent when it ran none */
  capture?: CaptureOutcome | null;
  decision: Decision;
  finishedAt: number;
}

/** What the outcome does to the endpoint (before the batch dedupes it per endpoint). */
export type EndpointChange =
  | { kind: 'disable'; reason: 'GONE' | 'FAILING'; message: string }
  /** it succeeded while marked failing */
  | { kind: 'recovered' }
  /** its first failure: failing from now on */
  | { kind: 'failing' }
  | null;

export interface CompletionPlan {
  /** the decision as written: a retry on a disabled endpoint becomes a failure */
  decision: Decision;
  attemptChanges: AttemptOutcomeColumns;
  status: DeliveryStatus;
  deliveryChanges: DeliveryOutcomeColumns;
  /** written with deliveryChanges when a capture ran; null otherwise (the delivery keeps what it had) */
  captureChanges: DeliveryCaptureColumns | null;
  endpointChange: EndpointChange;
  /** whether this failure counts toward disabling the endpoint (one check per endpoint and batch) */
  countsAsFailure: boolean;
}

/** Whether the plan depends on the endpoint being enabled still (only then is it worth reading). */
export function wouldRetry(completion: Pick<Completion, 'decision' | 'summary'>): boolean {
  return completion.decision.kind === 'retry' && completion.summary.errorClass !== 'interrupted';
}

/** What a stored response says of the attempt: anything but a 2xx without a transport error is a failure. */
export function summarizeResponse(response: StoredResponse): AttemptResultSummary {
  const ok = response.errorClass === null && response.status !== null && response.status >= 200 && response.status < 300;
  return {
    status: response.status,
    errorClass: response.errorClass ?? (ok ? null : 'http_status'),
    errorMessage: response.errorMessage ?? (ok ? null : `the receiver answered ${response.status}`),
    retryAfter: response.retryAfter,
  };
}

/** The decision for an attempt's result: an interrupted attempt is due again at once, anything else follows the retry policy. */
export function decideAfter(
  job: { attempt: Pick<AttemptRow, 'number' | 'trigger'>; endpoint: Pick<EndpointRow, 'retry_policy'>; hook?: Pick<HookRow, 'retry_policy'> | null },
  summary: AttemptResultSummary,
  now: number,
  random: () => number,
): Decision {
  if (summary.errorClass === 'interrupted') return { kind: 'retry', delayMs: 0, reason: summary.errorMessage ?? 'interrupted' };
  return decide({
    result: summary,
    attemptNumber: job.attempt.number,
    trigger: job.attempt.trigger,
    // The hook's own policy, when it has one, replaces the endpoint's as a whole: fields are not merged.
    policy: parseJsonOrNull<RetryPolicy>(job.hook?.retry_policy ?? null) ?? parseJsonOrNull<RetryPolicy>(job.endpoint.retry_policy),
    now,
    random,
  });
}

/** "5 days", "3 hours", "2 minutes": for messages people read. */
export function humanDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1_000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size) {
      const count = Math.floor(ms / size);
      return `${count} ${name}${count === 1 ? '' : 's'}`;
    }
  }
  return `${Math.max(0, Math.round(ms))} ms`;
}

export function planCompletion(
  completion: Completion,
  context: {
    now: number;
    /** the endpoint's enabled flag as the store has it now (read only when wouldRetry) */
    endpointEnabled: boolean;
    autoDisableAfterMs: number;
  },
): CompletionPlan {
  const { job, sent, response, summary } = completion;
  const { now } = context;
  const interrupted = summary.errorClass === 'interrupted';
  let decision = completion.decision;
  // An endpoint disabled meanwhile (410 Gone, failing too long, by hand) gets no further attempts.
  if (wouldRetry(completion) && !context.endpointEnabled && decision.kind === 'retry') {
    decision = { kind: 'failed', reason: `${decision.reason}; not retried: the endpoint is disabled` };
  }
  const attemptChanges: AttemptOutcomeColumns = {
    outcome: interrupted ? 'INTERRUPTED' : decision.kind === 'succeeded' ? 'SUCCEEDED' : 'FAILED',
    request_method: sent?.method ?? job.attempt.request_method,
    request_url: sent?.url ?? job.attempt.request_url,
    request_headers: sent?.redactedHeadersJson ?? '{}',
    request_body: sent?.body ?? null,
    response_status: response?.status ?? null,
    response_headers: response?.headersJson ?? null,
    response_body: response ? response.body : null,
    response_body_encoding: response ? response.bodyEncoding : 'utf8',
    response_body_truncated: response?.bodyTruncated ? 1 : 0,
    duration_ms: response ? Math.round(response.durationMs * 1000) / 1000 : completion.finishedAt - job.attempt.started_at,
    error_class: summary.errorClass,
    error_message: summary.errorMessage,
    // claimed at started_at, sent once a slot in the HTTP client was free
    started_at: job.attempt.started_at + Math.round(response?.waitedMs ?? 0),
    finished_at: completion.finishedAt,
  };

  const status: DeliveryStatus = decision.kind === 'succeeded' ? 'SUCCEEDED' : decision.kind === 'retry' ? 'RETRYING' : 'FAILED';
  const dueAt = decision.kind === 'retry' ? now + decision.delayMs : null;
  const failure = decision.kind === 'succeeded' ? null : decision.reason;
  const deliveryChanges: DeliveryOutcomeColumns = {
    status,
    due_at: dueAt,
    next_attempt_at: dueAt,
    // a test delivery stays marked as one, so recovery never resends it
    next_trigger: (job.attempt.trigger === 'TEST' ? 'TEST' : 'SCHEDULED') as AttemptTrigger,
    last_status_code: summary.status,
    last_error: failure,
    status_reason: decision.kind === 'failed' || decision.kind === 'gone' ? failure : null,
    finished_at: dueAt === null ? now : null,
    updated_at: now,
  };

  const { endpoint } = job;
  let endpointChange: EndpointChange = null;
  let countsAsFailure = false;
  if (decision.kind === 'gone') {
    endpointChange = { kind: 'disable', reason: 'GONE', message: 'the receiver answered 410 Gone' };
  } else if (decision.kind === 'succeeded') {
    if (endpoint.failing_since !== null) endpointChange = { kind: 'recovered' };
  } else if (!interrupted && job.attempt.trigger !== 'TEST') {
    countsAsFailure = true;
    if (endpoint.failing_since === null) endpointChange = { kind: 'failing' };
    else if (now - endpoint.failing_since >= context.autoDisableAfterMs) {
      endpointChange = { kind: 'disable', reason: 'FAILING', message: `failing continuously for ${humanDuration(now - endpoint.failing_since)}` };
    }
  }
  const captureChanges = completion.capture ? { captured: completion.capture.captured, capture_error: completion.capture.error } : null;
  return { decision, attemptChanges, status, deliveryChanges, captureChanges, endpointChange, countsAsFailure };
}

/** A request built while the commit that leased its delivery synced, and not sent: that sync failed. */
export class LeaseNotDurableError extends Error {
  constructor() {
    super('the commit that leased this delivery could not be synced to disk; nothing was sent');
  }
}

/**
 * A request that threw before any response: the dispatcher stopping, or a request that could not be
 * built (a transform or path error, the hook's; or something unexpected such as an undecryptable secret).
 */
export function summarizeThrown(error: unknown, stopped: boolean): AttemptResultSummary {
  if (error instanceof LeaseNotDurableError) return { status: null, errorClass: 'interrupted', errorMessage: error.message, retryAfter: null };
  if (stopped) return { status: null, errorClass: 'interrupted', errorMessage: 'the dispatcher stopped during this attempt', retryAfter: null };
  const message = error instanceof Error ? error.message : String(error);
  return { status: null, errorClass: 'transform', errorMessage: `could not build the request: ${message}`, retryAfter: null };
}
