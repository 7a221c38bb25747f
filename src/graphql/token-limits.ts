// Per-token limits, so one frontend's tenant token cannot starve the producer or other tenants:
// a token bucket for requests (every HTTP request and every graphql-ws operation), a second one for
// events sent (a `sendEvents` batch takes one per event), a third for the bytes of large bodies
// (parsing them is the costly part of such a request), and a cap on live subscriptions. Refusals
// answer 429 with Retry-After (over graphql-ws: an error for that operation). The producer's admin
// tokens are not limited. Buckets live in the process: each API node limits what it serves.
import { GraphQLError, Kind, valueFromASTUntyped, type ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Actor } from '../auth/actor.js';
import { selectedOperation } from './cost.js';

export interface BucketRate {
  /** tokens added per second */
  perSecond: number;
  /** the most a bucket holds: the burst allowed after a quiet spell */
  burst: number;
}

/** Buckets kept before full (idle) ones are dropped: a bucket that is full carries no state. */
const MAX_TRACKED_BUCKETS = 10_000;

/** Token buckets by key, refilled continuously. `now` is in milliseconds on any monotonic clock. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly rate: BucketRate) {}

  /** Takes `cost` tokens: 0 when taken, else the milliseconds until they would be there (nothing taken). */
  take(key: string, cost: number, now: number): number {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_TRACKED_BUCKETS) this.dropFull(now);
      bucket = { tokens: this.rate.burst, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.rate.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate.perSecond);
    bucket.at = now;
    if (cost > this.rate.burst) return Number.POSITIVE_INFINITY;
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.ceil(((cost - bucket.tokens) / this.rate.perSecond) * 1000);
  }

  private dropFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.rate.perSecond >= this.rate.burst) this.buckets.delete(key);
    }
  }
}

export interface TokenLimitOptions {
  requests: BucketRate;
  events: BucketRate;
  /** bytes of the bodies checked before they are read (src/http/graphql-request.ts) */
  bodyBytes: BucketRate;
  /** live subscriptions one token may hold at once */
  maxSubscriptions: number;
  /** default: performance.now */
  now?: () => number;
}

export const RATE_LIMITED_CODE = 'RATE_LIMITED';

function limitedKey(actor: Actor): string | null {
  return actor.kind === 'tenant' ? actor.tokenId : null;
}

function rateLimited(message: string, retryAfterMs: number): GraphQLError {
  const seconds = Number.isFinite(retryAfterMs) ? Math.max(1, Math.ceil(retryAfterMs / 1000)) : 60;
  return new GraphQLError(message, {
    extensions: { code: RATE_LIMITED_CODE, retryAfterSeconds: seconds, http: { status: 429, headers: { 'retry-after': String(seconds) } } },
  });
}

/** Events an operation sends: one per `sendEvent` field, the batch size of each `sendEvents`. */
export function eventsSent(args: ExecutionArgs): number {
  const operation = selectedOperation(args.document, args.operationName);
  if (operation?.operation !== 'mutation') return 0;
  let events = 0;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    if (selection.name.value === 'sendEvent') events += 1;
    if (selection.name.value === 'sendEvents') {
      const input = selection.arguments?.find((a) => a.name.value === 'input');
      const value = input ? (valueFromASTUntyped(input.value, args.variableValues ?? undefined) as { events?: unknown } | null) : null;
      events += Array.isArray(value?.events) ? value.events.length : 1;
    }
  }
  return events;
}

export interface TokenLimits {
  /** Throws a 429 GraphQLError when the actor's token is over its request rate. */
  admitRequest(actor: Actor): void;
  /** Throws a 429 GraphQLError when a body of `bytes` would take the actor's token over its byte rate. */
  admitBody(actor: Actor, bytes: number): void;
  /**
   * Counts one live subscription of the actor's token; throws a 429 GraphQLError when it holds the
   * most allowed already. Call the returned function once when the subscription ends.
   */
  holdSubscription(actor: Actor): () => void;
  /** The Envelop plugin counting events sent. */
  plugin: Plugin<{ actor?: Actor }>;
}

export function createTokenLimits(options: TokenLimitOptions): TokenLimits {
  const now = options.now ?? (() => performance.now());
  const requests = new TokenBuckets(options.requests);
  const events = new TokenBuckets(options.events);
  const bodyBytes = new TokenBuckets(options.bodyBytes);
  const subscriptions = new Map<string, number>();

  return {
    admitRequest(actor) {
      const key = limitedKey(actor);
      if (key === null) return;
      const wait = requests.take(key, 1, now());
      if (wait > 0) throw rateLimited(`too many requests for this token: at most ${options.requests.perSecond} a second`, wait);
    },
    admitBody(actor, bytes) {
      const key = limitedKey(actor);
      if (key === null) return;
      const wait = bodyBytes.take(key, bytes, now());
      if (wait > 0) throw rateLimited(`too many request bytes for this token: at most ${options.bodyBytes.perSecond} a second, ${options.bodyBytes.burst} at once`, wait);
    },
    holdSubscription(actor) {
      const key = limitedKey(actor);
      if (key === null) return () => undefined;
      const held = subscriptions.get(key) ?? 0;
      if (held >= options.maxSubscriptions) {
        throw rateLimited(`this token holds ${held} live subscriptions already, the most allowed`, Number.POSITIVE_INFINITY);
      }
      subscriptions.set(key, held + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (subscriptions.get(key) ?? 1) - 1;
        if (left <= 0) subscriptions.delete(key);
        else subscriptions.set(key, left);
      };
    },
    plugin: {
      onExecute({ args, setResultAndStopExecution }) {
        const key = args.contextValue.actor ? limitedKey(args.contextValue.actor) : null;
        if (key === null) return;
        const count = eventsSent(args);
        if (count === 0) return;
        const wait = events.take(key, count, now());
        if (wait > 0) {
          setResultAndStopExecution({
            errors: [rateLimited(`too many events for this token: at most ${options.events.perSecond} a second (burst ${options.events.burst})`, wait)],
          });
        }
      },
    },
  };
}
