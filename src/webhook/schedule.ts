// The retry schedule as data (Svix's default), a per-endpoint policy that replaces it, and the
// delay before the next attempt once one has failed.

/** Svix's default schedule: element i is the delay before attempt i+1 (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). */
export const DEFAULT_SCHEDULE_MS: readonly number[] = Object.freeze([
  0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
]);
/** Every delay is spread over ±20 % so that a burst of failures does not retry in lockstep. */
export const JITTER_RATIO = 0.2;
/** After a timeout or a 429 the receiver is struggling: give it at least a minute (Svix). */
export const MIN_DELAY_AFTER_THROTTLE_MS = 60_000;

const MAX_ATTEMPTS = 50;
const MAX_INITIAL_DELAY_MS = 86_400_000; // 1 day
const MAX_MULTIPLIER = 10;
const MAX_DELAY_MS = 7 * 86_400_000; // 7 days
const EXPONENTIAL_FIELDS = ['maxAttempts', 'initialDelayMs', 'backoffMultiplier', 'maxDelayMs'] as const;
// Used for the exponential fields a policy leaves out.
const DEFAULT_INITIAL_DELAY_MS = 5_000;
const DEFAULT_MULTIPLIER = 2;
const DEFAULT_MAX_DELAY_MS = 36_000_000;
/** Statuses whose Retry-After is honoured (RFC 9110 §10.2.3 names 503 and 3xx; 429 per RFC 6585). */
const RETRY_AFTER_STATUSES = new Set([429, 502, 503, 504]);

/**
 * A per-endpoint retry policy: either an explicit `scheduleMs` (same shape as DEFAULT_SCHEDULE_MS,
 * its length is the number of attempts) or the exponential fields. `null` means "not set", so a
 * GraphQL input object can be passed as is.
 */
export interface RetryPolicy {
  maxAttempts?: number | null;
  initialDelayMs?: number | null;
  backoffMultiplier?: number | null;
  maxDelayMs?: number | null;
  scheduleMs?: readonly number[] | null;
}

export interface RetryPolicyProblem {
  path: string[];
  message: string;
}

const isSet = <T>(value: T | null | undefined): value is T => value !== undefined && value !== null;

/**
 * Validates user input; returns the problems with their field paths (empty when valid).
 * maxAttempts integer 1..50; initialDelayMs integer 0..1 day; backoffMultiplier 1..10;
 * maxDelayMs integer ≥ initialDelayMs and ≤ 7 days; scheduleMs 1..50 integer entries of 0..7 days,
 * not combined with any of the exponential fields (maxAttempts included: the schedule's length is it).
 */
export function validateRetryPolicy(policy: RetryPolicy): RetryPolicyProblem[] {
  const problems: RetryPolicyProblem[] = [];
  const checkInt = (name: keyof RetryPolicy, value: unknown, min: number, max: number) => {
    if (!isSet(value)) return;
    if (typeof value !== 'number' || !Number.isInteger(value)) problems.push({ path: [name], message: 'must be an integer' });
    else if (value < min || value > max) problems.push({ path: [name], message: `must be between ${min} and ${max}` });
  };
  checkInt('maxAttempts', policy.maxAttempts, 1, MAX_ATTEMPTS);
  checkInt('initialDelayMs', policy.initialDelayMs, 0, MAX_INITIAL_DELAY_MS);
  const { backoffMultiplier } = policy;
  if (isSet(backoffMultiplier)) {
    if (typeof backoffMultiplier !== 'number' || !Number.isFinite(backoffMultiplier)) {
      problems.push({ path: ['backoffMultiplier'], message: 'must be a number' });
    } else if (backoffMultiplier < 1 || backoffMultiplier > MAX_MULTIPLIER) {
      problems.push({ path: ['backoffMultiplier'], message: `must be between 1 and ${MAX_MULTIPLIER}` });
    }
  }
  checkInt('maxDelayMs', policy.maxDelayMs, 0, MAX_DELAY_MS);
  const { initialDelayMs, maxDelayMs } = policy;
  if (typeof initialDelayMs === 'number' && typeof maxDelayMs === 'number' && maxDelayMs >= 0 && maxDelayMs < initialDelayMs) {
    problems.push({ path: ['maxDelayMs'], message: 'must not be less than initialDelayMs' });
  }

  const { scheduleMs } = policy;
  if (isSet(scheduleMs)) {
    if (!Array.isArray(scheduleMs)) {
      problems.push({ path: ['scheduleMs'], message: 'must be a list of delays in milliseconds' });
    } else if (scheduleMs.length < 1 || scheduleMs.length > MAX_ATTEMPTS) {
      problems.push({ path: ['scheduleMs'], message: `must have between 1 and ${MAX_ATTEMPTS} entries` });
    } else {
      scheduleMs.forEach((delay: unknown, i) => {
        if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_MS) {
          problems.push({ path: ['scheduleMs', String(i)], message: `must be an integer between 0 and ${MAX_DELAY_MS}` });
        }
      });
    }
    const combined = EXPONENTIAL_FIELDS.filter((field) => isSet(policy[field]));
    if (combined.length > 0) {
      problems.push({ path: ['scheduleMs'], message: `cannot be combined with ${combined.join(', ')}` });
    }
  }
  return problems;
}

/**
 * The deterministic delays (no jitter) of a policy; element i is the delay before attempt i+1.
 * - `scheduleMs` set: a copy of it.
 * - only `maxAttempts` set: DEFAULT_SCHEDULE_MS cut to that length, or extended by repeating its last delay.
 * - any of initialDelayMs / backoffMultiplier / maxDelayMs set: `[0, initial, initial×m, initial×m², …]`
 *   capped at maxDelayMs, `maxAttempts` long; missing fields default to 8 attempts, 5 s, ×2, 10 h
 *   (or initialDelayMs when that is larger).
 * - empty, null or undefined: DEFAULT_SCHEDULE_MS.
 * Throws a RangeError on an invalid policy (policies are validated when saved).
 */
export function scheduleFor(policy: RetryPolicy | null | undefined): number[] {
  if (!policy) return [...DEFAULT_SCHEDULE_MS];
  const problems = validateRetryPolicy(policy);
  if (problems.length > 0) {
    throw new RangeError(`invalid retry policy: ${problems.map((p) => `${p.path.join('.')} ${p.message}`).join('; ')}`);
  }
  if (isSet(policy.scheduleMs)) return [...policy.scheduleMs];

  const attempts = policy.maxAttempts ?? DEFAULT_SCHEDULE_MS.length;
  const exponential = isSet(policy.initialDelayMs) || isSet(policy.backoffMultiplier) || isSet(policy.maxDelayMs);
  if (!exponential) {
    const last = DEFAULT_SCHEDULE_MS[DEFAULT_SCHEDULE_MS.length - 1] ?? 0;
    return Array.from({ length: attempts }, (_, i) => DEFAULT_SCHEDULE_MS[i] ?? last);
  }
  const initial = policy.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const multiplier = policy.backoffMultiplier ?? DEFAULT_MULTIPLIER;
  const cap = policy.maxDelayMs ?? Math.max(DEFAULT_MAX_DELAY_MS, initial);
  const delays = [0];
  for (let n = 0; delays.length < attempts; n++) delays.push(Math.min(cap, Math.round(initial * multiplier ** n)));
  return delays;
}

export interface AttemptOutcomeForRetry {
  /** HTTP status of the response, null when none arrived. */
  status: number | null;
  /** 'timeout' | 'connect' | 'dns' | 'tls' | 'blocked' | 'too-large' | 'http-status' | … ; null on success. */
  errorClass: string | null;
  /** The raw Retry-After response header. */
  retryAfter: string | null;
}

/**
 * The delay in ms before the attempt after `attemptNumber` (1-based) failed with `outcome`, or null when
 * the schedule is exhausted or the outcome is 410 Gone (the endpoint is to be disabled, not retried).
 *
 * The scheduled delay gets ±JITTER_RATIO jitter from `random()` (0 → −20 %, 0.5 → none, 1 → +20 %).
 * For 429/502/503/504 a parsable Retry-After (delta-seconds or HTTP-date, relative to `now`) replaces
 * it, clamped between the scheduled delay's lower jitter bound and the schedule's largest delay.
 * A timeout or a 429 then waits at least MIN_DELAY_AFTER_THROTTLE_MS — unless the schedule's largest
 * delay is shorter, which wins so that short (test) schedules stay short.
 */
export function nextRetryDelay(input: {
  attemptNumber: number;
  policy?: RetryPolicy | null;
  outcome: AttemptOutcomeForRetry;
  now: number;
  random?: () => number;
}): number | null {
  const { attemptNumber, outcome, now } = input;
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) {
    throw new RangeError(`attemptNumber must be a positive integer, got ${attemptNumber}`);
  }
  if (outcome.status === 410) return null;
  const schedule = scheduleFor(input.policy);
  const scheduled = schedule[attemptNumber];
  if (scheduled === undefined) return null;

  const largest = Math.max(...schedule);
  const random = Math.min(1, Math.max(0, (input.random ?? Math.random)()));
  let delay = Math.round(scheduled * (1 + JITTER_RATIO * (2 * random - 1)));

  if (outcome.status !== null && RETRY_AFTER_STATUSES.has(outcome.status) && outcome.retryAfter !== null) {
    const requested = parseRetryAfter(outcome.retryAfter, now);
    if (requested !== null) {
      const lower = Math.round(scheduled * (1 - JITTER_RATIO));
      delay = Math.min(largest, Math.max(lower, requested));
    }
  }
  if (outcome.errorClass === 'timeout' || outcome.status === 429) {
    delay = Math.max(delay, Math.min(MIN_DELAY_AFTER_THROTTLE_MS, largest));
  }
  return delay;
}

const DELTA_SECONDS = /^\d+$/;
// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept.
// Checked before Date.parse because V8 happily parses strings like "soon 1".
const HTTP_DATE = [
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/,
];

/** Retry-After as a delay in ms from `now` (≥ 0), or null when it is neither delta-seconds nor an HTTP-date. */
export function parseRetryAfter(value: string, now: number): number | null {
  const trimmed = value.trim();
  if (DELTA_SECONDS.test(trimmed)) {
    const seconds = Number(trimmed);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : Number.MAX_SAFE_INTEGER;
  }
  if (!HTTP_DATE.some((form) => form.test(trimmed))) return null;
  // asctime has no zone; it is GMT by definition, but Date.parse would read it as local time.
  const at = Date.parse(/GMT$/.test(trimmed) ? trimmed : `${trimmed} GMT`);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
