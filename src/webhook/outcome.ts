// What an attempt's result means for its delivery: a pure decision, table-tested.
import { nextRetryDelay, type RetryPolicy } from './schedule.js';

/** Why an attempt was made (the store's AttemptTrigger). */
export type AttemptTrigger = 'SCHEDULED' | 'MANUAL' | 'TEST';

/** Error classes stored on attempts (lower case in the store, upper case in GraphQL). */
export type AttemptErrorClass =
  | 'timeout'
  | 'connect'
  | 'dns'
  | 'tls'
  | 'blocked'
  | 'network'
  | 'http_status'
  | 'transform'
  | 'interrupted';

export type Decision =
  | { kind: 'succeeded' }
  | { kind: 'retry'; delayMs: number; reason: string }
  | { kind: 'failed'; reason: string }
  /** 410 Gone: the receiver asks us to stop; the endpoint is disabled */
  | { kind: 'gone'; reason: string };

export interface AttemptResultSummary {
  status: number | null;
  errorClass: AttemptErrorClass | null;
  errorMessage: string | null;
  retryAfter: string | null;
}

export function describeFailure(result: AttemptResultSummary): string {
  if (result.errorClass && result.errorClass !== 'http_status') return `${result.errorClass}: ${result.errorMessage ?? ''}`.trim();
  return `HTTP ${result.status ?? '?'}`;
}

export function decide(input: {
  result: AttemptResultSummary;
  attemptNumber: number;
  trigger: AttemptTrigger;
  policy: RetryPolicy | null;
  now: number;
  random?: () => number;
}): Decision {
  const { result } = input;
  const status = result.status;
  if (result.errorClass === null && status !== null && status >= 200 && status < 300) return { kind: 'succeeded' };
  const reason = describeFailure(result);
  if (status === 410 && result.errorClass === 'http_status') return { kind: 'gone', reason: 'the receiver answered 410 Gone' };
  // A test attempt is one synchronous try; a transform or path error repeats identically on every try.
  if (input.trigger === 'TEST') return { kind: 'failed', reason };
  if (result.errorClass === 'transform') return { kind: 'failed', reason };
  const delay = nextRetryDelay({
    attemptNumber: input.attemptNumber,
    policy: input.policy,
    outcome: { status, errorClass: result.errorClass, retryAfter: result.retryAfter },
    now: input.now,
    ...(input.random ? { random: input.random } : {}),
  });
  if (delay === null) return { kind: 'failed', reason: `${reason}; no retry left after attempt ${input.attemptNumber}` };
  return { kind: 'retry', delayMs: delay, reason };
}
