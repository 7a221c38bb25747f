import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_SCHEDULE_MS,
  MIN_DELAY_AFTER_THROTTLE_MS,
  type AttemptOutcomeForRetry,
  type RetryPolicy,
  nextRetryDelay,
  parseRetryAfter,
  scheduleFor,
  validateRetryPolicy,
} from '../../src/webhook/schedule.js';

const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);
const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const failed = (status: number | null, errorClass: string | null = 'http-status', retryAfter: string | null = null): AttemptOutcomeForRetry => ({
  status,
  errorClass,
  retryAfter,
});
const HTTP_500 = failed(500);
const noJitter = () => 0.5;

describe('scheduleFor', () => {
  const cases: { name: string; policy: RetryPolicy | null | undefined; expected: number[] }[] = [
    { name: 'undefined → default', policy: undefined, expected: [...DEFAULT_SCHEDULE_MS] },
    { name: 'null → default', policy: null, expected: [...DEFAULT_SCHEDULE_MS] },
    { name: 'empty → default', policy: {}, expected: [...DEFAULT_SCHEDULE_MS] },
    { name: 'all-null GraphQL input → default', policy: { maxAttempts: null, scheduleMs: null, initialDelayMs: null }, expected: [...DEFAULT_SCHEDULE_MS] },
    { name: 'explicit schedule', policy: { scheduleMs: [0, 10, 20] }, expected: [0, 10, 20] },
    { name: 'maxAttempts cuts the default', policy: { maxAttempts: 3 }, expected: [0, 5 * S, 5 * MIN] },
    { name: 'maxAttempts extends the default with its last delay', policy: { maxAttempts: 10 }, expected: [...DEFAULT_SCHEDULE_MS, 10 * H, 10 * H] },
    {
      name: 'exponential with cap',
      policy: { maxAttempts: 7, initialDelayMs: 1_000, backoffMultiplier: 3, maxDelayMs: 20_000 },
      expected: [0, 1_000, 3_000, 9_000, 20_000, 20_000, 20_000],
    },
    { name: 'exponential defaults: 8 attempts, ×2, 10 h cap', policy: { initialDelayMs: 1_000 }, expected: [0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000] },
    { name: 'fractional multiplier rounds to whole ms', policy: { maxAttempts: 4, initialDelayMs: 1_001, backoffMultiplier: 1.5 }, expected: [0, 1_001, 1_502, 2_252] },
    { name: 'constant backoff', policy: { maxAttempts: 3, initialDelayMs: 500, backoffMultiplier: 1 }, expected: [0, 500, 500] },
    { name: 'a single attempt', policy: { maxAttempts: 1, initialDelayMs: 500 }, expected: [0] },
  ];
  for (const { name, policy, expected } of cases) {
    it(name, () => assert.deepEqual(scheduleFor(policy), expected));
  }

  it('returns a fresh array (callers may mutate it)', () => {
    const a = scheduleFor(undefined);
    a[0] = 42;
    assert.equal(scheduleFor(undefined)[0], 0);
    assert.equal(DEFAULT_SCHEDULE_MS[0], 0);
  });

  it('throws on an invalid policy', () => {
    assert.throws(() => scheduleFor({ maxAttempts: 0 }), /invalid retry policy: maxAttempts/);
  });
});

describe('nextRetryDelay — schedule and jitter', () => {
  it('walks the default schedule without jitter at random = 0.5, then stops after attempt 8', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((attemptNumber) =>
      nextRetryDelay({ attemptNumber, outcome: HTTP_500, now: NOW, random: noJitter }),
    );
    assert.deepEqual(delays, [5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H, null]);
    assert.equal(nextRetryDelay({ attemptNumber: 9, outcome: HTTP_500, now: NOW }), null);
  });

  for (const [random, factor] of [
    [0, 0.8],
    [1, 1.2],
    [0.25, 0.9],
  ] as const) {
    it(`applies jitter ×${factor} at random = ${random}`, () => {
      assert.equal(nextRetryDelay({ attemptNumber: 3, outcome: HTTP_500, now: NOW, random: () => random }), 30 * MIN * factor);
    });
  }

  it('stays within ±20 % with the real Math.random', () => {
    for (let i = 0; i < 200; i++) {
      const delay = nextRetryDelay({ attemptNumber: 2, outcome: HTTP_500, now: NOW });
      assert.ok(delay !== null && delay >= 4 * MIN && delay <= 6 * MIN, String(delay));
    }
  });

  it('follows an explicit schedule and exhausts at its length', () => {
    const policy = { scheduleMs: [0, 100, 200] };
    const at = (attemptNumber: number) => nextRetryDelay({ attemptNumber, policy, outcome: HTTP_500, now: NOW, random: noJitter });
    assert.deepEqual([at(1), at(2), at(3)], [100, 200, null]);
  });

  it('follows an exponential policy with its cap', () => {
    const policy = { maxAttempts: 5, initialDelayMs: 1_000, backoffMultiplier: 10, maxDelayMs: 50_000 };
    const at = (attemptNumber: number) => nextRetryDelay({ attemptNumber, policy, outcome: HTTP_500, now: NOW, random: noJitter });
    assert.deepEqual([1, 2, 3, 4, 5].map(at), [1_000, 10_000, 50_000, 50_000, null]);
  });

  it('does not retry 410 Gone', () => {
    assert.equal(nextRetryDelay({ attemptNumber: 1, outcome: failed(410), now: NOW }), null);
  });

  it('refuses a non-positive attempt number', () => {
    assert.throws(() => nextRetryDelay({ attemptNumber: 0, outcome: HTTP_500, now: NOW }), RangeError);
  });
});

describe('nextRetryDelay — throttling and Retry-After', () => {
  const cases: {
    name: string;
    attemptNumber?: number;
    policy?: RetryPolicy;
    outcome: AttemptOutcomeForRetry;
    random?: number;
    expected: number | null;
  }[] = [
    { name: 'timeout waits at least 60 s', outcome: failed(null, 'timeout'), expected: MIN_DELAY_AFTER_THROTTLE_MS },
    { name: 'timeout floor applies after jitter', outcome: failed(null, 'timeout'), random: 1, expected: 60 * S },
    { name: 'timeout keeps a longer scheduled delay', attemptNumber: 2, outcome: failed(null, 'timeout'), expected: 5 * MIN },
    { name: 'connect error keeps the schedule', outcome: failed(null, 'connect'), expected: 5 * S },
    { name: '429 waits at least 60 s', outcome: failed(429), expected: 60 * S },
    { name: '500 keeps the schedule', outcome: failed(500), expected: 5 * S },
    { name: '429 Retry-After seconds within bounds', attemptNumber: 2, outcome: failed(429, 'http-status', '600'), expected: 10 * MIN },
    { name: '503 Retry-After seconds within bounds', attemptNumber: 2, outcome: failed(503, 'http-status', ' 900 '), expected: 15 * MIN },
    { name: '502 Retry-After', attemptNumber: 2, outcome: failed(502, 'http-status', '400'), expected: 400 * S },
    { name: '504 Retry-After', attemptNumber: 2, outcome: failed(504, 'http-status', '400'), expected: 400 * S },
    { name: 'Retry-After ignored for 500', attemptNumber: 2, outcome: failed(500, 'http-status', '900'), expected: 5 * MIN },
    {
      name: 'Retry-After HTTP-date',
      attemptNumber: 2,
      outcome: failed(503, 'http-status', new Date(NOW + 20 * MIN).toUTCString()),
      expected: 20 * MIN,
    },
    { name: 'Retry-After RFC 850 date', attemptNumber: 2, outcome: failed(503, 'http-status', 'Monday, 15-Jan-24 12:20:00 GMT'), expected: 20 * MIN },
    { name: 'Retry-After asctime date', attemptNumber: 2, outcome: failed(503, 'http-status', 'Mon Jan 15 12:20:00 2024'), expected: 20 * MIN },
    { name: 'Retry-After garbage is ignored', attemptNumber: 2, outcome: failed(503, 'http-status', 'soon 1'), random: 1, expected: 6 * MIN },
    { name: 'Retry-After fractional seconds are ignored', attemptNumber: 2, outcome: failed(503, 'http-status', '1.5'), expected: 5 * MIN },
    { name: 'Retry-After empty is ignored', attemptNumber: 2, outcome: failed(503, 'http-status', ''), expected: 5 * MIN },
    { name: 'Retry-After too large is clamped to the largest delay (10 h)', attemptNumber: 2, outcome: failed(503, 'http-status', '999999999'), expected: 10 * H },
    { name: 'Retry-After too small is clamped to the lower jitter bound', attemptNumber: 3, outcome: failed(503, 'http-status', '5'), expected: 24 * MIN },
    { name: 'Retry-After date in the past is clamped up', attemptNumber: 3, outcome: failed(503, 'http-status', new Date(NOW - H).toUTCString()), expected: 24 * MIN },
    { name: 'Retry-After on 429 still honours the 60 s floor', outcome: failed(429, 'http-status', '1'), expected: 60 * S },
    { name: '429 Retry-After above the floor wins', outcome: failed(429, 'http-status', '120'), expected: 120 * S },
    { name: 'Retry-After still ends when the schedule does', attemptNumber: 8, outcome: failed(503, 'http-status', '10'), expected: null },
    {
      name: 'Retry-After too large is clamped to a custom policy maximum',
      attemptNumber: 1,
      policy: { scheduleMs: [0, 1_000, 90_000] },
      outcome: failed(503, 'http-status', '3600'),
      expected: 90_000,
    },
    {
      name: 'throttle floor never exceeds a short schedule’s largest delay',
      policy: { scheduleMs: [0, 10, 20] },
      outcome: failed(429),
      expected: 20,
    },
  ];
  for (const { name, attemptNumber = 1, policy, outcome, random = 0.5, expected } of cases) {
    it(name, () => {
      assert.equal(nextRetryDelay({ attemptNumber, policy: policy ?? null, outcome, now: NOW, random: () => random }), expected);
    });
  }

  it('parseRetryAfter parses the forms RFC 9110 allows and nothing else', () => {
    assert.equal(parseRetryAfter('120', NOW), 120_000);
    assert.equal(parseRetryAfter('Mon, 15 Jan 2024 12:01:00 GMT', NOW), 60_000);
    for (const garbage of ['-5', '1e3', 'tomorrow', '2024-01-15T12:01:00Z', 'Mon, 15 Jan 2024 12:01:00 PST']) {
      assert.equal(parseRetryAfter(garbage, NOW), null, garbage);
    }
  });
});

describe('validateRetryPolicy', () => {
  const DAY = 86_400_000;
  const cases: { name: string; policy: RetryPolicy; problems: { path: string[]; message: RegExp }[] }[] = [
    { name: 'empty is valid', policy: {}, problems: [] },
    { name: 'full exponential is valid', policy: { maxAttempts: 50, initialDelayMs: DAY, backoffMultiplier: 10, maxDelayMs: 7 * DAY }, problems: [] },
    { name: 'explicit schedule is valid', policy: { scheduleMs: [0, 7 * DAY] }, problems: [] },
    { name: 'maxAttempts 0', policy: { maxAttempts: 0 }, problems: [{ path: ['maxAttempts'], message: /between 1 and 50/ }] },
    { name: 'maxAttempts 51', policy: { maxAttempts: 51 }, problems: [{ path: ['maxAttempts'], message: /between 1 and 50/ }] },
    { name: 'maxAttempts fractional', policy: { maxAttempts: 2.5 }, problems: [{ path: ['maxAttempts'], message: /integer/ }] },
    { name: 'initialDelayMs negative', policy: { initialDelayMs: -1 }, problems: [{ path: ['initialDelayMs'], message: /between 0 and 86400000/ }] },
    { name: 'initialDelayMs over a day', policy: { initialDelayMs: DAY + 1 }, problems: [{ path: ['initialDelayMs'], message: /between/ }] },
    { name: 'backoffMultiplier below 1', policy: { backoffMultiplier: 0.5 }, problems: [{ path: ['backoffMultiplier'], message: /between 1 and 10/ }] },
    { name: 'backoffMultiplier above 10', policy: { backoffMultiplier: 11 }, problems: [{ path: ['backoffMultiplier'], message: /between 1 and 10/ }] },
    { name: 'backoffMultiplier NaN', policy: { backoffMultiplier: Number.NaN }, problems: [{ path: ['backoffMultiplier'], message: /number/ }] },
    { name: 'maxDelayMs below initialDelayMs', policy: { initialDelayMs: 5_000, maxDelayMs: 4_999 }, problems: [{ path: ['maxDelayMs'], message: /initialDelayMs/ }] },
    { name: 'maxDelayMs over 7 days', policy: { maxDelayMs: 7 * DAY + 1 }, problems: [{ path: ['maxDelayMs'], message: /between 0 and 604800000/ }] },
    { name: 'scheduleMs empty', policy: { scheduleMs: [] }, problems: [{ path: ['scheduleMs'], message: /between 1 and 50 entries/ }] },
    { name: 'scheduleMs too long', policy: { scheduleMs: new Array(51).fill(0) }, problems: [{ path: ['scheduleMs'], message: /between 1 and 50 entries/ }] },
    {
      name: 'scheduleMs bad entries',
      policy: { scheduleMs: [0, -1, 7 * DAY + 1, 1.5] },
      problems: [
        { path: ['scheduleMs', '1'], message: /between 0 and/ },
        { path: ['scheduleMs', '2'], message: /between 0 and/ },
        { path: ['scheduleMs', '3'], message: /integer/ },
      ],
    },
    {
      name: 'scheduleMs with exponential fields',
      policy: { scheduleMs: [0, 10], initialDelayMs: 5, maxAttempts: 2 },
      problems: [{ path: ['scheduleMs'], message: /cannot be combined with maxAttempts, initialDelayMs/ }],
    },
    { name: 'scheduleMs not a list', policy: { scheduleMs: 5 as unknown as number[] }, problems: [{ path: ['scheduleMs'], message: /list/ }] },
    { name: 'maxAttempts a string', policy: { maxAttempts: '3' as unknown as number }, problems: [{ path: ['maxAttempts'], message: /integer/ }] },
  ];
  for (const { name, policy, problems } of cases) {
    it(name, () => {
      const actual = validateRetryPolicy(policy);
      assert.deepEqual(
        actual.map((p) => p.path),
        problems.map((p) => p.path),
        JSON.stringify(actual),
      );
      problems.forEach((expected, i) => assert.match(actual[i]?.message ?? '', expected.message));
    });
  }
});
