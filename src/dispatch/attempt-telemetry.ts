// What an attempt tells an operator besides its row: an OpenTelemetry span, a child of the
// producer's trace (the event's stored traceparent) whose context the request carries on, and a
// structured log line at debug level; the claim and each commit of outcomes get spans too. Kept
// beside the dispatcher so its loop reads as the loop.
import { SpanKind, type Span } from '@opentelemetry/api';
import type { Logger } from '../log.js';
import type { AttemptResultSummary } from '../webhook/outcome.js';
import type { Decision } from '../webhook/outcome.js';
import type { Job } from './job-preparation.js';
import { contextOf, endWithError, traceparentOf, tracer } from '../tracing.js';

export interface AttemptTelemetry {
  /** the `traceparent` the request carries: this attempt's span, else the producer's own */
  readonly traceparent: string | null;
  /** ends the span and writes the log line, once the attempt's outcome is decided */
  finish(summary: AttemptResultSummary, decision: Decision, durationMs: number): void;
}

export function startAttemptTelemetry(job: Job, log: Logger): AttemptTelemetry {
  const span = tracer.startSpan('switchyard.attempt', { kind: SpanKind.CLIENT }, contextOf(job.event.traceparent));
  return {
    traceparent: traceparentOf(span) ?? job.event.traceparent,
    finish(summary, decision, durationMs) {
      if (span.isRecording()) {
        span.setAttributes({
          'switchyard.delivery_id': job.delivery.id,
          'switchyard.endpoint_id': job.endpoint.id,
          'switchyard.attempt': job.attempt.number,
          'switchyard.outcome': decision.kind,
          ...(summary.status === null ? {} : { 'http.response.status_code': summary.status }),
          ...(summary.errorClass === null ? {} : { 'error.type': summary.errorClass }),
        });
      }
      span.end();
      if (log.enabled('debug')) {
        log.debug('attempt', {
          delivery: job.delivery.id,
          event: job.event.id,
          endpoint: job.endpoint.id,
          hook: job.hook.id,
          attempt: job.attempt.number,
          outcome: decision.kind,
          status: summary.status,
          error: summary.errorClass,
          durationMs,
        });
      }
    },
  };
}

/** Runs one unit of the group commit in a span that counts the outcomes it writes. */
export async function tracedCommit<T>(outcomes: number, commit: () => Promise<T>): Promise<T> {
  const span: Span = tracer.startSpan('switchyard.commit');
  if (span.isRecording()) span.setAttribute('switchyard.outcomes', outcomes);
  let committed: T;
  try {
    committed = await commit();
  } catch (error) {
    endWithError(span, error);
    throw error;
  }
  span.end();
  return committed;
}

/**
 * Runs a claim; one that took deliveries (or failed) gets a span that counts them, timed from its
 * start. An idle dispatcher looks at the queue every poll interval, and a span for every empty look
 * would bury the claims that matter, so the span is made once the claim's result is known.
 */
export async function tracedClaim<T extends readonly unknown[]>(claim: () => Promise<T>): Promise<T> {
  const startTime = performance.now();
  let claimed: T;
  try {
    claimed = await claim();
  } catch (error) {
    endWithError(tracer.startSpan('switchyard.claim', { startTime }), error);
    throw error;
  }
  if (claimed.length > 0) tracer.startSpan('switchyard.claim', { startTime, attributes: { 'switchyard.claimed': claimed.length } }).end();
  return claimed;
}
