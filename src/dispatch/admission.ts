// Admission: which claimed job may start now — the in-flight windows, the queues behind them, and each endpoint's rate limit.

/** What admission needs to know of a job. */
export interface Admissible {
  delivery: { id: string };
  endpoint: { id: string; rate_limit_per_second: number | null };
}

/** The claim skips at most this many endpoints by name (the list travels in the claim's SQL). */
const MAX_EXCLUDED_ENDPOINTS = 500;

/** The window a rate limit counts in. */
const RATE_WINDOW_MS = 1_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A request start in an endpoint's log: when it counts from, and (until its request is over) that it may still be on its way. */
interface Start {
  at: number;
  over: boolean;
  ended: Promise<void>;
}

/**
 * Per endpoint, at most `rate` request starts in any second as the receiver sees them, enforced in
 * two parts:
 * - spacing: a token bucket whose burst is a tenth of a second's worth (at least one), so "5 per
 *   second" means one every 200 ms, never five at once. Taking always reserves a token (the
 *   balance may go negative), so callers arriving together are spaced out instead of all waking at
 *   the same moment.
 * - the bound: a log of the last `rate` starts. A start may go only a whole window after the one
 *   `rate` places before it reached the receiver — and all that is known of that moment is that it
 *   came before its request was over, so each start counts from its request's end. Network and
 *   thread delays, a new connection, a late timer: none can then put rate + 1 arrivals in a window.
 *   The check runs against the clock when the start actually happens (a timer may fire early).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly starts = new Map<string, Start[]>();

  /** monotonic milliseconds: the limit is about real time as the receiver sees it */
  constructor(private readonly now: () => number = () => performance.now()) {}

  private refill(endpointId: string, rate: number, now: number) {
    const burst = Math.max(1, Math.floor(rate / 10));
    const bucket = this.buckets.get(endpointId) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000);
    bucket.at = now;
    this.buckets.set(endpointId, bucket);
    return bucket;
  }

  /** the start `rate` places back, which the next start must follow by a window; undefined while fewer are logged */
  private bounding(endpointId: string, rate: number): Start | undefined {
    const log = this.starts.get(endpointId);
    return log && log.length >= rate ? log[log.length - rate] : undefined;
  }

  /**
   * Resolves when a request to this endpoint may start, counting it as started; call the returned
   * function once the request is over (answered, failed or never sent).
   */
  async waitForTurn(endpointId: string, rate: number | null): Promise<() => void> {
    if (!rate) return () => undefined;
    const bucket = this.refill(endpointId, rate, this.now());
    bucket.tokens -= 1;
    if (bucket.tokens < 0) await sleep(Math.ceil((-bucket.tokens * 1000) / rate));
    for (;;) {
      const bound = this.bounding(endpointId, rate);
      if (bound && !bound.over) {
        await bound.ended;
        continue;
      }
      const now = this.now();
      const wait = bound ? bound.at + RATE_WINDOW_MS - now : 0;
      if (wait > 0) {
        await sleep(Math.ceil(wait));
        continue;
      }
      // check and record in one synchronous step: callers woken together see each other's starts
      let end!: () => void;
      const start: Start = { at: now, over: false, ended: new Promise<void>((resolve) => (end = resolve)) };
      const log = this.starts.get(endpointId) ?? [];
      log.push(start);
      if (log.length > rate) log.splice(0, log.length - rate);
      this.starts.set(endpointId, log);
      return () => {
        if (start.over) return;
        start.at = Math.max(start.at, this.now());
        start.over = true;
        end();
      };
    }
  }

  /** Whether a request taken now would have to wait (then the endpoint is not worth claiming for). */
  wouldWait(endpointId: string, rate: number | null): boolean {
    if (!rate || !this.buckets.has(endpointId)) return false;
    const now = this.now();
    if (this.refill(endpointId, rate, now).tokens < 1) return true;
    const bound = this.bounding(endpointId, rate);
    return bound !== undefined && (!bound.over || bound.at + RATE_WINDOW_MS > now);
  }
}

/**
 * The in-flight windows (over all endpoints and per endpoint), the jobs queued behind a full
 * endpoint, and the endpoints a claim should skip. Jobs are admitted here and released when their
 * request is over.
 */
export class Admission<J extends Admissible> {
  private readonly inFlight = new Map<string, J>();
  private readonly inFlightPerEndpoint = new Map<string, number>();
  private readonly queuedPerEndpoint = new Map<string, J[]>();
  readonly rateLimiter = new RateLimiter();

  /**
   * @param window requests admitted at once over all endpoints (running in the client plus waiting there)
   * @param windowPerEndpoint the same, for one endpoint
   */
  constructor(
    readonly window: number,
    readonly windowPerEndpoint: number,
  ) {}

  /** Requests in flight plus claimed jobs queued for their endpoint's slot. */
  get load(): number {
    let queued = 0;
    for (const queue of this.queuedPerEndpoint.values()) queued += queue.length;
    return this.inFlight.size + queued;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** In flight plus queued for this endpoint. */
  onEndpoint(endpointId: string): number {
    return (this.inFlightPerEndpoint.get(endpointId) ?? 0) + (this.queuedPerEndpoint.get(endpointId)?.length ?? 0);
  }

  /** Every job this admission holds: their leases are this worker's. */
  held(): J[] {
    return [...this.inFlight.values(), ...[...this.queuedPerEndpoint.values()].flat()];
  }

  /** Counts the job in flight and returns true, or queues it behind its endpoint's window and returns false. */
  admit(job: J): boolean {
    const endpointId = job.endpoint.id;
    const running = this.inFlightPerEndpoint.get(endpointId) ?? 0;
    if (running >= this.windowPerEndpoint) {
      const queue = this.queuedPerEndpoint.get(endpointId) ?? [];
      queue.push(job);
      this.queuedPerEndpoint.set(endpointId, queue);
      return false;
    }
    this.inFlightPerEndpoint.set(endpointId, running + 1);
    this.inFlight.set(job.delivery.id, job);
    return true;
  }

  /** Frees the job's slot; returns the next job queued for its endpoint, if any (to admit now). */
  release(job: J): J | undefined {
    const endpointId = job.endpoint.id;
    this.inFlight.delete(job.delivery.id);
    const left = (this.inFlightPerEndpoint.get(endpointId) ?? 1) - 1;
    if (left > 0) this.inFlightPerEndpoint.set(endpointId, left);
    else this.inFlightPerEndpoint.delete(endpointId);
    const queue = this.queuedPerEndpoint.get(endpointId);
    const next = queue?.shift();
    if (queue?.length === 0) this.queuedPerEndpoint.delete(endpointId);
    return next;
  }

  /**
   * Of these candidates, in order, those there is room for: at most `free` in all, none for an
   * excluded endpoint, and none past an endpoint's window (counting what it holds already).
   */
  roomFor<C>(candidates: readonly C[], free: number, endpointOf: (candidate: C) => string): C[] {
    const excluded = new Set(this.excludedEndpoints());
    const taken = new Map<string, number>();
    const chosen: C[] = [];
    for (const candidate of candidates) {
      if (chosen.length >= free) break;
      const endpointId = endpointOf(candidate);
      const onEndpoint = this.onEndpoint(endpointId) + (taken.get(endpointId) ?? 0);
      if (excluded.has(endpointId) || onEndpoint >= this.windowPerEndpoint) continue;
      chosen.push(candidate);
      taken.set(endpointId, (taken.get(endpointId) ?? 0) + 1);
    }
    return chosen;
  }

  /** Empties the queues (stop gives those jobs back). */
  takeQueued(): J[] {
    const jobs = [...this.queuedPerEndpoint.values()].flat();
    this.queuedPerEndpoint.clear();
    return jobs;
  }

  /** Endpoints that cannot take more work now: their window is full, or their rate limit would make a request wait. */
  excludedEndpoints(): string[] {
    const excluded: string[] = [];
    for (const [endpointId, count] of this.inFlightPerEndpoint) {
      if (count >= this.windowPerEndpoint) excluded.push(endpointId);
      if (excluded.length >= MAX_EXCLUDED_ENDPOINTS) return excluded;
    }
    for (const job of this.inFlight.values()) {
      if (excluded.length >= MAX_EXCLUDED_ENDPOINTS) break;
      if (this.rateLimiter.wouldWait(job.endpoint.id, job.endpoint.rate_limit_per_second) && !excluded.includes(job.endpoint.id)) {
        excluded.push(job.endpoint.id);
      }
    }
    return excluded;
  }
}
