// The dispatcher: claims due deliveries from the store, sends them, and records every attempt.
//
// A claim takes a batch (lease + fencing token) and writes an IN_FLIGHT attempt row per delivery;
// requests then run with no transaction open; each outcome (attempt + next delivery state + ripple
// effects) is written after its request, and everything is published only once committed. Claims
// and outcomes are units of the store's group commit (src/db/group-commit.ts): on SQLite the claim
// that refills freed slots shares one fsync with the outcomes that freed them, and a sent event's
// deliveries are leased in the very commit that accepts the event (leaseWritten).
import { setMaxListeners } from 'node:events';
import { newId } from '../db/ids.js';
import { parseJsonOrNull } from '../db/json.js';
import type { AttemptTrigger, DeliveryStatus, Executor, AttemptRow, DeliveryRow, EndpointRow, EventRow, HookRow, TenantRow } from '../db/schema.js';
import { loadReceiverAuth, loadSigningSecrets } from '../modules/endpoints/endpoint.service.js';
import type { Publisher } from '../pubsub/topics.js';
import type { Services, WrittenDelivery } from '../services.js';
import { disableEndpoint, newChangeLog, releaseDependents, skipDependents, type ChangeLog } from '../modules/deliveries/delivery.effects.js';
import type { Deliverer, EndpointSpec, HookSpec, SentRequest, StoredResponse } from './deliverer.js';
import { decide, type AttemptResultSummary, type Decision } from '../webhook/outcome.js';
import { claimDue, nextDueAt } from './queue.js';
import { sqliteFastPath, type AttemptOutcomeColumns } from '../db/sqlite-fast-path.js';
import { RequestBuildError, type HttpMethod, type PayloadFormat } from '../webhook/request.js';
import type { RetryPolicy } from '../webhook/schedule.js';
import { secretKey } from '../webhook/signing.js';

export const USER_AGENT = 'Switchyard/0.1.0';

export interface DispatcherOptions {
  services: Services;
  /** builds and sends the requests (on this thread, or on the HTTP thread) */
  deliverer: Deliverer;
  publisher: Publisher;
  /** Requests in flight at once, over all endpoints. Default: config.maxInFlight. */
  maxInFlight?: number;
  /** Requests in flight at once to one endpoint. Default: config.maxInFlightPerEndpoint. */
  maxInFlightPerEndpoint?: number;
  /** How long a claim holds a delivery before another worker may take it over. Default: config.leaseMs. */
  leaseMs?: number;
  /**
   * Requests handed to the HTTP client beyond maxInFlight (and, in proportion, beyond
   * maxInFlightPerEndpoint), for a client that bounds its own concurrency at those two figures (the
   * threaded client): they wait there and start the moment a request ends, instead of after this
   * thread has heard of it, claimed again and committed. Default 0 (the client gets only what may
   * run at once).
   */
  queueAhead?: number;
  /** Deliveries claimed per transaction. Default 200. */
  claimBatchSize?: number;
  /** Longest sleep between looks at the queue when nothing wakes the dispatcher. Default 1000 ms. */
  pollIntervalMs?: number;
  /** How long stop() waits for requests in flight before interrupting them. Default 10 s. */
  stopTimeoutMs?: number;
  /** Jitter source for the retry schedule (tests pin it). Default Math.random. */
  random?: () => number;
  /**
   * Under load, how long finished attempts may wait to share one commit (a claim, which never
   * waits, takes them along earlier). Each commit syncs the store to disk, so batching them is what
   * lets throughput grow; neither the request nor its slot waits for it. Default 10 ms; an idle
   * dispatcher commits at once.
   */
  commitGatherMs?: number;
}

interface Job {
  delivery: DeliveryRow;
  attempt: AttemptRow;
  event: EventRow;
  hook: HookRow;
  endpoint: EndpointRow;
  tenant: TenantRow;
  hasDependents: boolean;
  /** set when stop() gives a claimed job back before it started */
  interrupted: boolean;
}

interface Completion {
  job: Job;
  /** the request as sent; null when none was built */
  sent: SentRequest | null;
  response: StoredResponse | null;
  summary: AttemptResultSummary;
  decision: Decision;
  finishedAt: number;
}

interface LoadedEndpoint {
  /** id@updated_at of the row it was made from */
  key: string;
  loadedAt: number;
  spec: EndpointSpec;
}

const endpointKey = (endpoint: EndpointRow) => `${endpoint.id}@${endpoint.updated_at}`;

const MAX_EXCLUDED_ENDPOINTS = 500;
const CREDENTIALS_TTL_MS = 5_000;
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

function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

async function byId<T extends { id: string }>(load: (ids: string[]) => Promise<T[]>, ids: Iterable<string>): Promise<Map<string, T>> {
  const map = new Map<string, T>();
  for (const part of chunks([...new Set(ids)])) for (const row of await load(part)) map.set(row.id, row);
  return map;
}

/**
 * A token bucket per endpoint, `rate` requests per second. Taking always reserves a token (the
 * balance may go negative), so callers arriving together are spaced out instead of all waking at
 * the same moment. The burst is a tenth of a second's worth (at least one): "5 per second" means
 * one every 200 ms, never five at once.
 */
class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  private refill(endpointId: string, rate: number, now: number) {
    const burst = Math.max(1, Math.floor(rate / 10));
    const bucket = this.buckets.get(endpointId) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000);
    bucket.at = now;
    this.buckets.set(endpointId, bucket);
    return bucket;
  }

  /** Reserves a slot; returns how many ms to wait before using it (0 = now). */
  take(endpointId: string, rate: number | null, now: number): number {
    if (!rate) return 0;
    const bucket = this.refill(endpointId, rate, now);
    bucket.tokens -= 1;
    return bucket.tokens >= 0 ? 0 : Math.ceil((-bucket.tokens * 1000) / rate);
  }

  /** Whether a request taken now would have to wait (then the endpoint is not worth claiming for). */
  empty(endpointId: string, rate: number | null, now: number): boolean {
    if (!rate || !this.buckets.has(endpointId)) return false;
    return this.refill(endpointId, rate, now).tokens < 1;
  }
}

export class Dispatcher {
  private readonly services: Services;
  private readonly deliverer: Deliverer;
  private readonly publisher: Publisher;
  /** requests admitted at once: running in the client plus waiting there (queueAhead) */
  private readonly window: number;
  private readonly windowPerEndpoint: number;
  private readonly leaseMs: number;
  private readonly claimBatchSize: number;
  private readonly pollIntervalMs: number;
  private readonly stopTimeoutMs: number;
  private readonly random: () => number;
  private readonly refillWatermark: number;
  private readonly commitGatherMs: number;

  private running = false;
  private pumping = false;
  private pumpAgain = false;
  private wakeScheduled = false;
  /** the last look left due work behind (capacity full, or endpoints excluded as saturated) */
  private backlog = false;
  private timer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private stopController = Dispatcher.newStopController();
  private readonly active = new Map<string, Job>();
  private readonly perEndpoint = new Map<string, number>();
  private readonly waiting = new Map<string, Job[]>();
  private readonly limiter = new RateLimiter();
  private readonly endpointSpecs = new Map<string, LoadedEndpoint>();
  private readonly hookSpecs = new Map<string, HookSpec>();
  private endpointLoads = 0;
  private readonly running_ = new Set<Promise<unknown>>();
  private pendingCompletions: { completion: Completion; done: (attempt: AttemptRow | null) => void }[] = [];
  private completionsQueued = false;
  /** jobs whose outcome is being written: their leases are still ours */
  private readonly recording = new Set<Job>();
  private readonly writing = new Set<Promise<void>>();
  /** slots promised to leases of just-written deliveries whose commit is still open */
  private reserved = 0;

  /** Every request in flight listens to this one signal, so the listener warning does not apply. */
  private static newStopController(): AbortController {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
  }

  constructor(options: DispatcherOptions) {
    const { config } = options.services;
    this.services = options.services;
    this.deliverer = options.deliverer;
    this.publisher = options.publisher;
    const maxInFlight = options.maxInFlight ?? config.maxInFlight;
    const maxPerEndpoint = options.maxInFlightPerEndpoint ?? config.maxInFlightPerEndpoint;
    const ahead = options.queueAhead ?? 0;
    // What this dispatcher admits: running in the client plus waiting there.
    this.window = maxInFlight + ahead;
    this.windowPerEndpoint = maxPerEndpoint + Math.ceil((maxPerEndpoint * ahead) / maxInFlight);
    this.leaseMs = options.leaseMs ?? config.leaseMs;
    this.claimBatchSize = options.claimBatchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
    this.refillWatermark = Math.max(1, Math.min(this.claimBatchSize, Math.floor(this.window / 4)));
    this.commitGatherMs = options.commitGatherMs ?? 10;
  }

  /** Starts claiming; safe to call once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.stopController.signal.aborted) this.stopController = Dispatcher.newStopController();
    // A request may outlast the lease (a slow receiver, a long rate-limit wait): renew the leases of
    // everything this worker holds well before they expire, so no other claim takes them over.
    this.renewTimer = setInterval(() => void this.renewLeases(), Math.max(200, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
    this.wake();
  }

  private async renewLeases(): Promise<void> {
    const held = [...this.active.values(), ...[...this.waiting.values()].flat(), ...this.recording];
    if (held.length === 0) return;
    const dueAt = this.services.clock.now() + this.leaseMs;
    try {
      await this.services.store.writes.run(async (trx) => {
        for (const job of held) {
          await trx
            .updateTable('deliveries')
            .set({ due_at: dueAt })
            .where('id', '=', job.delivery.id)
            .where('lease_token', '=', job.delivery.lease_token)
            .where('status', '=', 'SENDING')
            .execute();
        }
      });
    } catch (error) {
      this.services.log.warn('dispatcher: could not renew leases', { error: (error as Error).message });
    }
  }

  /** Looks at the queue now (new deliveries, a freed slot, a moved clock in tests). */
  wake(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // setImmediate, not setTimeout(0): a timer waits at least 1 ms, a whole idle-latency budget's fifth.
    if (!this.wakeScheduled) {
      this.wakeScheduled = true;
      setImmediate(() => {
        this.wakeScheduled = false;
        void this.pump();
      });
    }
  }

  /**
   * Called from inside the unit of the store's group commit that has just written these due
   * deliveries: leases the ones this dispatcher has room for in a unit that joins the same group,
   * so the commit that accepts an event also leases its deliveries and they go out as soon as it is
   * durable (one fsync between sendEvent and the receiver, not two, and no scan of the queue).
   * Returns true if it took them all; otherwise the caller wakes the dispatcher after the commit.
   */
  leaseWritten(due: readonly WrittenDelivery[]): boolean {
    const { services } = this;
    const fast = services.store.sqlite ? sqliteFastPath(services.store.sqlite) : null;
    // With older deliveries still waiting, new ones must not overtake them: the claim takes them in order.
    if (!this.running || !fast || !services.store.writes.open || this.backlog) return false;
    const now = services.clock.now();
    const excluded = new Set(this.excludedEndpoints(now));
    let free = this.window - this.load - this.reserved;
    const taken = new Map<string, number>();
    const chosen = new Map<string, WrittenDelivery>();
    for (const written of due) {
      if (free <= 0) break;
      const endpointId = written.delivery.endpoint_id;
      const onEndpoint = (this.perEndpoint.get(endpointId) ?? 0) + (this.waiting.get(endpointId)?.length ?? 0) + (taken.get(endpointId) ?? 0);
      if (excluded.has(endpointId) || onEndpoint >= this.windowPerEndpoint) continue;
      chosen.set(written.delivery.id, written);
      taken.set(endpointId, (taken.get(endpointId) ?? 0) + 1);
      free--;
    }
    if (chosen.size === 0) return false;
    const log = newChangeLog();
    this.reserved += chosen.size;
    let reservedHeld = true;
    const unreserve = () => {
      if (reservedHeld) this.reserved -= chosen.size;
      reservedHeld = false;
    };
    void services.store.writes
      .run(
        async (trx) => {
          const leased = fast.leaseDeliveries([...chosen.keys()], now, now + this.leaseMs);
          return leased.length === 0 ? [] : this.prepareJobs(trx, leased, now, log, chosen);
        },
        (jobs) => {
          unreserve();
          this.publishClaim(jobs, log);
          // started here, at the commit, before the sender's answer is on its way
          for (const job of jobs) {
            if (this.running) this.admit(job);
            else {
              // stopped while the commit was open: give it back, as stop() does with waiting jobs
              job.interrupted = true;
              this.track(this.execute(job));
            }
          }
        },
      )
      .catch((error: unknown) => {
        unreserve();
        services.log.error('dispatcher: leasing new deliveries failed', { error: (error as Error).message });
        this.wake();
      });
    return chosen.size === due.length;
  }

  /** Requests in flight plus claimed deliveries waiting for their endpoint's slot. */
  get load(): number {
    let waiting = 0;
    for (const queue of this.waiting.values()) waiting += queue.length;
    return this.active.size + waiting;
  }

  /**
   * Stops claiming, waits up to stopTimeoutMs for requests in flight, then interrupts the rest:
   * their attempts are recorded as interrupted and their deliveries are due again at once.
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    // Claimed but never started: give them back now (their attempt rows say so).
    for (const [endpointId, queue] of this.waiting) {
      this.waiting.delete(endpointId);
      for (const job of queue) job.interrupted = true;
      for (const job of queue) this.track(this.execute(job));
    }
    const drained = Promise.allSettled([...this.running_]);
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), this.stopTimeoutMs).unref()),
    ]);
    if (timedOut) {
      // One signal for every request in flight: one AbortController per dispatcher, not per job.
      this.stopController.abort(new Error('dispatcher stopped'));
      await Promise.allSettled([...this.running_]);
    }
    await Promise.allSettled([...this.writing]);
  }

  /**
   * Attempts the given deliveries now, whatever their due time and the concurrency bounds, and
   * resolves with their finished attempts (testHook's synchronous attempt). Works in every role.
   */
  async runNow(deliveryIds: readonly string[]): Promise<AttemptRow[]> {
    const { services } = this;
    const now = services.clock.now();
    const log = newChangeLog();
    const jobs = await services.store.writes.run(async (trx) => {
      const claimed = await trx
        .updateTable('deliveries')
        .set((eb) => ({
          status: 'SENDING' as const,
          due_at: now + this.leaseMs,
          lease_token: eb('lease_token', '+', 1),
          attempt_count: eb('attempt_count', '+', 1),
          updated_at: now,
        }))
        .where('id', 'in', [...deliveryIds])
        .where('status', '!=', 'SENDING')
        .returningAll()
        .execute();
      return claimed.length === 0 ? [] : this.prepareJobs(trx, claimed, now, log);
    });
    this.publishChanges(log);
    const attempts = await Promise.all(
      jobs.map((job) => {
        this.publisher.publish('attempt', { phase: 'started', attempt: job.attempt, delivery: job.delivery });
        const run = this.execute(job);
        this.track(run);
        return run;
      }),
    );
    return attempts.filter((attempt): attempt is AttemptRow => attempt !== null);
  }

  private track(promise: Promise<unknown>): void {
    this.running_.add(promise);
    const done = () => this.running_.delete(promise);
    promise.then(done, (error: unknown) => {
      done();
      // A bug, not a failed attempt: the delivery keeps its lease and is claimed again when it expires.
      this.services.log.error('dispatcher: an attempt could not be recorded', { error: String(error) });
    });
  }

  private excludedEndpoints(now: number): string[] {
    const excluded: string[] = [];
    for (const [endpointId, count] of this.perEndpoint) {
      if (count >= this.windowPerEndpoint) excluded.push(endpointId);
      if (excluded.length >= MAX_EXCLUDED_ENDPOINTS) return excluded;
    }
    for (const job of this.active.values()) {
      if (excluded.length >= MAX_EXCLUDED_ENDPOINTS) break;
      const rate = job.endpoint.rate_limit_per_second;
      if (this.limiter.empty(job.endpoint.id, rate, now) && !excluded.includes(job.endpoint.id)) excluded.push(job.endpoint.id);
    }
    return excluded;
  }

  private async pump(): Promise<void> {
    if (!this.running || this.pumping) return;
    this.pumping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      do {
        this.pumpAgain = false;
        while (this.running) {
          const free = this.window - this.load - this.reserved;
          // Refill in batches: a claim is a transaction, and claiming the one slot each completion
          // frees would cost a claim per delivery. Below the watermark, wait for more slots.
          if (free <= 0 || (this.load > 0 && free < this.refillWatermark)) {
            this.backlog = true;
            break;
          }
          const limit = Math.min(free, this.claimBatchSize);
          const { jobs, excluded } = await this.claim(limit);
          for (const job of jobs) this.admit(job);
          this.backlog = excluded > 0 || jobs.length >= limit;
          if (jobs.length < limit) break;
        }
      } while (this.pumpAgain && this.running);
    } catch (error) {
      this.services.log.error('dispatcher: claiming failed', { error: (error as Error).message });
    } finally {
      this.pumping = false;
    }
    if (this.running) await this.scheduleNextLook();
  }

  private async scheduleNextLook(): Promise<void> {
    let delay = this.pollIntervalMs;
    try {
      const next = await nextDueAt(this.services.db);
      if (next !== null) delay = Math.min(delay, Math.max(0, next - this.services.clock.now()));
    } catch (error) {
      this.services.log.warn('dispatcher: could not read the next due time', { error: (error as Error).message });
    }
    if (!this.running || this.pumping) return;
    if (this.timer) clearTimeout(this.timer);
    // Never spin: a delivery due "now" but refused by a saturated endpoint is looked at again shortly.
    this.timer = setTimeout(() => void this.pump(), Math.max(delay, this.load > 0 ? 5 : 0));
    this.timer.unref?.();
  }

  /** Claims up to `limit` due deliveries and writes their IN_FLIGHT attempt rows, in one unit of the group commit. */
  private async claim(limit: number): Promise<{ jobs: Job[]; excluded: number }> {
    const { services } = this;
    const now = services.clock.now();
    const log = newChangeLog();
    const excludeEndpoints = this.excludedEndpoints(now);
    const jobs = await services.store.writes.run(
      async (trx) => {
        const claimed = await claimDue(
          trx,
          { now, limit, leaseMs: this.leaseMs, perEndpoint: this.windowPerEndpoint, excludeEndpoints },
          services.store.sqlite ? sqliteFastPath(services.store.sqlite) : null,
        );
        if (claimed.length === 0) return [];
        return this.prepareJobs(trx, claimed, now, log);
      },
      (claimedJobs) => this.publishClaim(claimedJobs, log),
    );
    return { jobs, excluded: excludeEndpoints.length };
  }

  private publishClaim(jobs: readonly Job[], log: ChangeLog): void {
    this.publishChanges(log);
    for (const job of jobs) {
      this.publisher.publish('attempt', { phase: 'started', attempt: job.attempt, delivery: job.delivery });
      this.publisher.publish('delivery', { delivery: job.delivery, previousStatus: null });
    }
  }

  /**
   * Inside the claim transaction: marks attempts of taken-over leases as interrupted, loads what the
   * requests need in a few batched reads, fails deliveries that may no longer be attempted, and
   * writes one IN_FLIGHT attempt row per remaining claim.
   */
  private async prepareJobs(
    trx: Executor,
    claimed: DeliveryRow[],
    now: number,
    log: ChangeLog,
    /** just written, so never attempted, with the rows they were routed from */
    fresh?: ReadonlyMap<string, WrittenDelivery>,
  ): Promise<Job[]> {
    const fast = this.services.store.sqlite ? sqliteFastPath(this.services.store.sqlite) : null;
    // Only a delivery attempted before (this claim counted its second attempt or later) can have an
    // attempt left IN_FLIGHT by a worker that stopped: first attempts skip the look-up.
    const ids = fresh ? [] : claimed.filter((d) => d.attempt_count > 1).map((d) => d.id);
    const interrupted = 'the worker stopped before this attempt finished; the delivery was claimed again when its lease expired';
    if (ids.length === 0) {
      // nothing attempted before: no earlier attempt can be left IN_FLIGHT
    } else if (fast) fast.interruptAttempts(ids, now, interrupted);
    else {
      for (const part of chunks(ids)) {
        await trx
          .updateTable('attempts')
          .set({ outcome: 'INTERRUPTED', error_class: 'interrupted', error_message: interrupted, finished_at: now })
          .where('delivery_id', 'in', part)
          .where('outcome', '=', 'IN_FLIGHT')
          .execute();
      }
    }
    const load = <T extends { id: string }>(table: 'events' | 'hooks' | 'endpoints' | 'tenants', wanted: Iterable<string>) =>
      byId<T>(
        fast ? async (part) => fast.rowsById<T>(table, part) : (part) => trx.selectFrom(table).selectAll().where('id', 'in', part).execute() as Promise<T[]>,
        wanted,
      );
    const known = fresh ? [...fresh.values()] : null;
    const events = known
      ? new Map(known.map((written) => [written.event.id, written.event]))
      : await load<EventRow>('events', claimed.map((d) => d.event_id));
    const hooks = known
      ? new Map(known.map((written) => [written.hook.id, written.hook]))
      : await load<HookRow>('hooks', claimed.flatMap((d) => (d.hook_id ? [d.hook_id] : [])));
    const endpoints = await load<EndpointRow>('endpoints', claimed.map((d) => d.endpoint_id));
    const tenants = await load<TenantRow>('tenants', claimed.map((d) => d.tenant_id));
    const withDependents = new Set<string>(known ? known.filter((written) => written.hasDependents).map((written) => written.hook.id) : []);
    for (const part of known ? [] : chunks([...hooks.keys()])) {
      const rows = fast
        ? fast.hooksWithDependents(part)
        : (await trx.selectFrom('hook_dependencies').select('depends_on_hook_id').where('depends_on_hook_id', 'in', part).execute()).map(
            (row) => row.depends_on_hook_id,
          );
      for (const hookId of rows) withDependents.add(hookId);
    }
    const jobs: Job[] = [];
    const attempts: AttemptRow[] = [];
    for (const delivery of claimed) {
      const event = events.get(delivery.event_id);
      const hook = delivery.hook_id ? hooks.get(delivery.hook_id) : undefined;
      const endpoint = endpoints.get(delivery.endpoint_id);
      const tenant = tenants.get(delivery.tenant_id);
      const refusal = !hook
        ? 'its hook was deleted'
        : !hook.active
          ? 'its hook is inactive'
          : !endpoint || !endpoint.enabled
            ? 'its endpoint is disabled'
            : !event || !tenant
              ? 'its event no longer exists'
              : null;
      if (refusal || !hook || !endpoint || !event || !tenant) {
        await this.refuse(trx, delivery, refusal ?? 'cannot be attempted', withDependents, now, log);
        continue;
      }
      const attempt: AttemptRow = {
        id: newId('attempt', now),
        delivery_id: delivery.id,
        tenant_id: delivery.tenant_id,
        event_id: delivery.event_id,
        endpoint_id: delivery.endpoint_id,
        hook_id: delivery.hook_id,
        number: delivery.attempt_count,
        trigger: delivery.next_trigger,
        outcome: 'IN_FLIGHT',
        request_method: hook.method,
        request_url: endpoint.url,
        request_headers: '{}',
        request_body: null,
        response_status: null,
        response_headers: null,
        response_body: null,
        response_body_encoding: 'utf8',
        response_body_truncated: 0,
        duration_ms: null,
        error_class: null,
        error_message: null,
        started_at: now,
        finished_at: null,
      };
      attempts.push(attempt);
      jobs.push({
        delivery,
        attempt,
        event,
        hook,
        endpoint,
        tenant,
        hasDependents: withDependents.has(hook.id),
        interrupted: false,
      });
    }
    if (fast) for (const attempt of attempts) fast.insertAttempt(attempt);
    else for (const part of chunks(attempts, 200)) await trx.insertInto('attempts').values(part).execute();
    return jobs;
  }

  /** A claimed delivery that may not be attempted any more: FAILED with the reason, no attempt row. */
  private async refuse(
    trx: Executor,
    delivery: DeliveryRow,
    reason: string,
    withDependents: ReadonlySet<string>,
    now: number,
    log: ChangeLog,
  ): Promise<void> {
    const changes = {
      status: 'FAILED' as const,
      due_at: null,
      attempt_count: delivery.attempt_count - 1,
      status_reason: `not attempted: ${reason}`,
      last_error: `not attempted: ${reason}`,
      finished_at: now,
      updated_at: now,
    };
    await trx.updateTable('deliveries').set(changes).where('id', '=', delivery.id).where('lease_token', '=', delivery.lease_token).execute();
    const failed = { ...delivery, ...changes };
    log.deliveries.push({ delivery: failed, previousStatus: 'SENDING' });
    if (delivery.hook_id === null || withDependents.has(delivery.hook_id)) await skipDependents(trx, failed, now, log);
  }

  /** Starts a job now, or queues it behind its endpoint's concurrency bound. */
  private admit(job: Job): void {
    const endpointId = job.endpoint.id;
    if ((this.perEndpoint.get(endpointId) ?? 0) >= this.windowPerEndpoint) {
      const queue = this.waiting.get(endpointId) ?? [];
      queue.push(job);
      this.waiting.set(endpointId, queue);
      return;
    }
    this.perEndpoint.set(endpointId, (this.perEndpoint.get(endpointId) ?? 0) + 1);
    this.active.set(job.delivery.id, job);
    // The slot is free once the request is over, before its outcome is durable: the claim that
    // refills it can then share the commit that records the outcome.
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.active.delete(job.delivery.id);
      const left = (this.perEndpoint.get(endpointId) ?? 1) - 1;
      if (left > 0) this.perEndpoint.set(endpointId, left);
      else this.perEndpoint.delete(endpointId);
      const next = this.waiting.get(endpointId)?.shift();
      if (this.waiting.get(endpointId)?.length === 0) this.waiting.delete(endpointId);
      if (next && this.running) this.admit(next);
      // Look again only if work may be waiting for this freed slot; otherwise every completion
      // would cost an empty claim.
      if (this.backlog) this.wake();
    };
    // execute calls release once its request is over, whatever happens (release is idempotent)
    this.track(this.execute(job, release));
  }

  /** The hook as requests are built from it, made once per version. */
  private hookSpec(hook: HookRow): HookSpec {
    const ref = `${hook.id}@${hook.updated_at}`;
    let spec = this.hookSpecs.get(hook.id);
    if (spec === undefined || spec.ref !== ref) {
      spec = {
        ref,
        id: hook.id,
        name: hook.name,
        method: hook.method as HttpMethod,
        path: hook.path,
        format: hook.format as PayloadFormat,
        transform: hook.transform,
        settings: hook.settings,
      };
      this.hookSpecs.set(hook.id, spec);
    }
    return spec;
  }

  /** The loaded spec of this version of the endpoint, unless it is CREDENTIALS_TTL_MS old (secrets expire by time). */
  private currentEndpointSpec(endpoint: EndpointRow, now: number): EndpointSpec | undefined {
    const loaded = this.endpointSpecs.get(endpoint.id);
    return loaded && loaded.key === endpointKey(endpoint) && now - loaded.loadedAt < CREDENTIALS_TTL_MS ? loaded.spec : undefined;
  }

  /** The endpoint with its decrypted credentials, loaded again after an update or CREDENTIALS_TTL_MS. */
  private async loadEndpointSpec(endpoint: EndpointRow, now: number): Promise<EndpointSpec> {
    const key = endpointKey(endpoint);
    const loaded: LoadedEndpoint = {
      key,
      loadedAt: now,
      spec: {
        ref: `${key}#${++this.endpointLoads}`,
        id: endpoint.id,
        url: endpoint.url,
        headers: endpoint.headers,
        auth: loadReceiverAuth(this.services, endpoint),
        // each key in memory of its own, not a view into a shared slab: it crosses to the HTTP thread with every new ref
        secrets: (await loadSigningSecrets(this.services, endpoint.id, now)).map((secret) => new Uint8Array(secretKey(secret))),
      },
    };
    this.endpointSpecs.set(endpoint.id, loaded);
    return loaded.spec;
  }

  /** Builds and sends one request, then hands the outcome to the group commit. Never throws. */
  private async execute(job: Job, requestOver: () => void = () => undefined): Promise<AttemptRow | null> {
    const { services } = this;
    let sent: SentRequest | null = null;
    let response: StoredResponse | null = null;
    let summary: AttemptResultSummary;
    try {
      if (job.interrupted || this.stopController.signal.aborted) throw new Error('dispatcher stopped');
      const wait = this.limiter.take(job.endpoint.id, job.endpoint.rate_limit_per_second, services.clock.now());
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const delivered = await this.deliverer.deliver(
        {
          event: job.event,
          hook: this.hookSpec(job.hook),
          endpoint: this.currentEndpointSpec(job.endpoint, services.clock.now()) ?? (await this.loadEndpointSpec(job.endpoint, services.clock.now())),
          tenant: { id: job.tenant.id, name: job.tenant.name },
          deliveryId: job.delivery.id,
          timestamp: Math.floor(services.clock.now() / 1000),
          userAgent: USER_AGENT,
        },
        { timeoutMs: job.endpoint.timeout_ms ?? services.config.requestTimeoutMs, key: job.endpoint.id },
        this.stopController.signal,
      );
      sent = delivered.request;
      response = delivered.response;
      const ok = response.errorClass === null && response.status !== null && response.status >= 200 && response.status < 300;
      summary = {
        status: response.status,
        errorClass: response.errorClass ?? (ok ? null : 'http_status'),
        errorMessage: response.errorMessage ?? (ok ? null : `the receiver answered ${response.status}`),
        retryAfter: response.retryAfter,
      };
    } catch (error) {
      summary = this.classifyThrown(job, error);
    } finally {
      requestOver();
    }
    const now = services.clock.now();
    const decision: Decision =
      summary.errorClass === 'interrupted'
        ? { kind: 'retry', delayMs: 0, reason: summary.errorMessage ?? 'interrupted' }
        : decide({
            result: summary,
            attemptNumber: job.attempt.number,
            trigger: job.attempt.trigger,
            policy: parseJsonOrNull<RetryPolicy>(job.endpoint.retry_policy),
            now,
            random: this.random,
          });
    return this.complete({ job, sent, response, summary, decision, finishedAt: now });
  }

  private classifyThrown(job: Job, error: unknown): AttemptResultSummary {
    if (job.interrupted || this.stopController.signal.aborted) {
      return { status: null, errorClass: 'interrupted', errorMessage: 'the dispatcher stopped during this attempt', retryAfter: null };
    }
    // Anything thrown before a response is a request that could not be built: a transform or path
    // error (the hook's, expected), or something unexpected such as an undecryptable secret (logged).
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof RequestBuildError)) {
      this.services.log.warn('dispatcher: could not build a request', { delivery: job.delivery.id, error: message });
    }
    return { status: null, errorClass: 'transform', errorMessage: `could not build the request: ${message}`, retryAfter: null };
  }

  /** Queues a completion for the next group commit; resolves with the final attempt once durable (null if the write failed). */
  private complete(completion: Completion): Promise<AttemptRow | null> {
    return new Promise<AttemptRow | null>((done) => {
      this.recording.add(completion.job);
      this.pendingCompletions.push({ completion, done });
      if (this.completionsQueued) return;
      this.completionsQueued = true;
      // The completions of this turn of the event loop become one unit of the group commit.
      setImmediate(() => this.queueCompletions());
    });
  }

  private queueCompletions(): void {
    this.completionsQueued = false;
    const batch = this.pendingCompletions.splice(0);
    if (batch.length === 0) return;
    // Busy: let the unit wait for the next claim (or the gather time) so one fsync carries dozens of
    // outcomes. Idle: commit at once.
    const mayWaitMs = this.active.size > batch.length * 4 ? this.commitGatherMs : 0;
    const written = this.writeCompletions(
      batch.map((item) => item.completion),
      mayWaitMs,
    ).then(
      (attempts) => batch.forEach((item, index) => item.done(attempts[index] ?? null)),
      (error: unknown) => {
        // The deliveries keep their lease; when it expires they are claimed again and these attempts
        // are marked interrupted. Nothing is lost; it is only late.
        this.services.log.error('dispatcher: recording attempts failed', { error: (error as Error).message, count: batch.length });
        for (const item of batch) item.done(null);
      },
    );
    const tracked = written.finally(() => {
      for (const item of batch) this.recording.delete(item.completion.job);
      this.writing.delete(tracked);
    });
    this.writing.add(tracked);
  }

  /** One unit of the group commit for a batch of completions, published at its commit; returns the final attempts. */
  private async writeCompletions(batch: Completion[], mayWaitMs: number): Promise<AttemptRow[]> {
    const { services } = this;
    const now = services.clock.now();
    const log = newChangeLog();
    const finishedAttempts: { attempt: AttemptRow; delivery: DeliveryRow }[] = [];
    const fast = services.store.sqlite ? sqliteFastPath(services.store.sqlite) : null;
    const publish = () => {
      for (const { attempt, delivery } of finishedAttempts) this.publisher.publish('attempt', { phase: 'finished', attempt, delivery });
      this.publishChanges(log);
    };
    await services.store.writes.run(async (trx) => {
      const failingChecked = new Set<string>();
      const recovered = new Set<string>();
      const endpointEnabled = new Map<string, boolean>();
      if (services.store.dialect === 'postgres') {
        // Another transaction (a worker elsewhere, or this one's next batch) may be disabling an
        // endpoint this batch is about to retry on: lock the rows this batch may read or change,
        // in id order (so two batches never wait on each other in a cycle), and read them fresh.
        const touched = [
          ...new Set(
            batch
              .filter(({ decision, job }) => decision.kind !== 'succeeded' || job.endpoint.failing_since !== null)
              .map(({ job }) => job.endpoint.id),
          ),
        ].sort();
        if (touched.length > 0) {
          const rows = await trx.selectFrom('endpoints').select(['id', 'enabled']).where('id', 'in', touched).orderBy('id').forUpdate().execute();
          for (const row of rows) endpointEnabled.set(row.id, row.enabled === 1);
        }
      }
      // An endpoint disabled meanwhile (410 Gone, failing too long, by hand — possibly earlier in this
      // very batch) gets no further attempts: a failure that would be retried fails instead.
      const stillEnabled = async (endpointId: string) => {
        let enabled = endpointEnabled.get(endpointId);
        if (enabled === undefined) {
          const row = await trx.selectFrom('endpoints').select('enabled').where('id', '=', endpointId).executeTakeFirst();
          enabled = row?.enabled === 1;
          endpointEnabled.set(endpointId, enabled);
        }
        return enabled;
      };
      const disable = async (endpointId: string, reason: 'GONE' | 'FAILING', message: string) => {
        await disableEndpoint(trx, endpointId, reason, message, now, log);
        endpointEnabled.set(endpointId, false);
      };
      for (const completion of batch) {
        const { job, sent, response, summary } = completion;
        let decision = completion.decision;
        if (decision.kind === 'retry' && summary.errorClass !== 'interrupted' && !(await stillEnabled(job.endpoint.id))) {
          decision = { kind: 'failed', reason: `${decision.reason}; not retried: the endpoint is disabled` };
        }
        const attemptChanges: AttemptOutcomeColumns = {
          outcome: summary.errorClass === 'interrupted' ? 'INTERRUPTED' : decision.kind === 'succeeded' ? 'SUCCEEDED' : 'FAILED',
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
        const attempt: AttemptRow = { ...job.attempt, ...attemptChanges };
        if (fast) fast.finishAttempt(attempt.id, attemptChanges);
        else await trx.updateTable('attempts').set(attemptChanges).where('id', '=', attempt.id).execute();

        const status: DeliveryStatus = decision.kind === 'succeeded' ? 'SUCCEEDED' : decision.kind === 'retry' ? 'RETRYING' : 'FAILED';
        const dueAt = decision.kind === 'retry' ? now + decision.delayMs : null;
        const failure = decision.kind === 'succeeded' ? null : decision.reason;
        const changes = {
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
        const owned = fast
          ? fast.finishDelivery(job.delivery.id, job.delivery.lease_token, changes)
          : Number(
              (
                await trx
                  .updateTable('deliveries')
                  .set(changes)
                  .where('id', '=', job.delivery.id)
                  .where('lease_token', '=', job.delivery.lease_token)
                  .executeTakeFirst()
              ).numUpdatedRows,
            ) > 0;
        if (!owned) {
          // Our lease was taken over (we were too slow); the new holder owns the delivery now.
          finishedAttempts.push({ attempt, delivery: job.delivery });
          continue;
        }
        const delivery: DeliveryRow = { ...job.delivery, ...changes };
        finishedAttempts.push({ attempt, delivery });
        log.deliveries.push({ delivery, previousStatus: 'SENDING' });

        if (job.hasDependents && status === 'SUCCEEDED') await releaseDependents(trx, delivery, now, log);
        if (job.hasDependents && status === 'FAILED') await skipDependents(trx, delivery, now, log);

        const endpoint = job.endpoint;
        if (decision.kind === 'gone') {
          await disable(endpoint.id, 'GONE', 'the receiver answered 410 Gone');
        } else if (decision.kind === 'succeeded') {
          if (endpoint.failing_since !== null && !recovered.has(endpoint.id)) {
            recovered.add(endpoint.id);
            await trx.updateTable('endpoints').set({ failing_since: null }).where('id', '=', endpoint.id).execute();
          }
        } else if (summary.errorClass !== 'interrupted' && job.attempt.trigger !== 'TEST' && !failingChecked.has(endpoint.id)) {
          failingChecked.add(endpoint.id);
          if (endpoint.failing_since === null) {
            await trx
              .updateTable('endpoints')
              .set({ failing_since: now })
              .where('id', '=', endpoint.id)
              .where('failing_since', 'is', null)
              .execute();
          } else if (now - endpoint.failing_since >= services.config.autoDisableAfterMs) {
            await disable(endpoint.id, 'FAILING', `failing continuously for ${humanDuration(now - endpoint.failing_since)}`);
            // Disabling failed the endpoint's open deliveries, this one (just set RETRYING) included;
            // the attempt is published with its delivery as it now stands.
            const failedNow = log.deliveries.findLast((change) => change.delivery.id === delivery.id)?.delivery;
            if (failedNow) Object.assign(delivery, failedNow);
          }
        }
      }
    }, publish, { mayWaitMs });
    return finishedAttempts.map((item) => item.attempt);
  }

  private publishChanges(log: ChangeLog): void {
    for (const change of log.deliveries) this.publisher.publish('delivery', change);
    if (log.endpointIds.size > 0) {
      const ids = [...log.endpointIds];
      void this.services.db
        .selectFrom('endpoints')
        .selectAll()
        .where('id', 'in', ids)
        .execute()
        .then((rows) => {
          for (const endpoint of rows) this.publisher.publish('endpoint', { endpoint });
        })
        .catch((error: unknown) => this.services.log.warn('dispatcher: could not publish endpoint changes', { error: String(error) }));
    }
    if (log.due) this.wake();
  }
}
