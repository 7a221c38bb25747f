// The dispatcher: claims due deliveries from the store, sends them, and records every attempt.
//
// A claim takes a batch (lease + fencing token); requests then run with no transaction open; each
// outcome (the attempt's one row + next delivery state + ripple effects) is written after its request, and everything is published only once committed. Claims
// and outcomes are units of the store's group commit (src/db/group-commit.ts): on SQLite the claim
// that refills freed slots shares one fsync with the outcomes that freed them, and a sent event's
// deliveries are written leased by the very commit that accepts the event (leaseAsWritten).
//
// Its parts: admission.ts (windows, queues, rate limits), job-preparation.ts (claimed rows to
// jobs), specs.ts (hook and endpoint specs), completion.ts (the pure outcome step) and
// outcome-writer.ts (writing outcomes), attempt-request.ts (one request), attempt-telemetry.ts (its span
// and log line); the SQL is in modules/deliveries (attempt.repository.ts, delivery.claim.ts).
import { setMaxListeners } from 'node:events';
import { retryingConflicts } from '../db/conflicts.js';
import type { AttemptRow } from '../db/schema.js';
import { endpointsByIds, leaseForImmediateAttempt, leasedBeforeInsert, nextDueAt, renewLease } from '../modules/deliveries/attempt.repository.js';
import { claimDue } from '../modules/deliveries/delivery.claim.js';
import { newChangeLog, type ChangeLog } from '../modules/deliveries/delivery.effects.js';
import type { Publisher } from '../pubsub/topics.js';
import type { NewDeliveryLease, Services, WrittenDelivery } from '../services.js';
import { Admission } from './admission.js';
import { decideAfter, LeaseNotDurableError } from './completion.js';
import { sendAttempt, type AttemptRequestDeps } from './attempt-request.js';
import { prepareJobs, type Job } from './job-preparation.js';
import { OutcomeRecorder } from './outcome-writer.js';
import type { DispatcherOptions } from './dispatcher-options.js';
import { NextLook } from './next-look.js';
import { SpecCache } from './specs.js';
import { startAttemptTelemetry, tracedClaim } from './attempt-telemetry.js';

export type { DispatcherOptions } from './dispatcher-options.js';

export { humanDuration } from './completion.js';

export { USER_AGENT } from './attempt-request.js';

/** Opened once the commit that leased a batch of jobs is durable (Dispatcher.admitWhileSyncing). */
interface SyncGate {
  durable(): void;
  notDurable(): void;
}

export class Dispatcher {
  private readonly services: Services;
  private readonly requests: AttemptRequestDeps;
  private readonly publisher: Publisher;
  private readonly admission: Admission<Job>;
  private readonly leaseMs: number;
  private readonly claimBatchSize: number;
  private readonly pollIntervalMs: number;
  private readonly stopTimeoutMs: number;
  private readonly random: () => number;
  /** below this many free slots (with work in flight), wait for more before claiming */
  private readonly refillWatermark: number;

  /** between start() and stop() */
  private started = false;
  /** a pump is claiming now */
  private pumping = false;
  /** something woke the dispatcher while a pump ran: look again when it ends */
  private lookAgain = false;
  private wakeScheduled = false;
  /** the last look left due work behind (capacity full, or endpoints excluded as saturated) */
  private backlog = false;
  private readonly nextLook: NextLook;
  private renewTimer: NodeJS.Timeout | null = null;
  private stopController = Dispatcher.newStopController();
  /** attempts under way (request and outcome), awaited by stop() */
  private readonly attemptsUnderWay = new Set<Promise<unknown>>();
  private readonly outcomes: OutcomeRecorder<Job>;
  /** slots promised to leases of just-written deliveries whose commit is still open */
  private reserved = 0;
  private readonly onClaim: (batchSize: number) => void;

  /** Every request in flight listens to this one signal, so the listener warning does not apply. */
  private static newStopController(): AbortController {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
  }

  constructor(options: DispatcherOptions) {
    const { config } = options.services;
    this.services = options.services;
    this.publisher = options.publisher;
    const maxInFlight = options.maxInFlight ?? config.maxInFlight;
    const maxPerEndpoint = options.maxInFlightPerEndpoint ?? config.maxInFlightPerEndpoint;
    const ahead = options.queueAhead ?? 0;
    // What this dispatcher admits: running in the client plus waiting there.
    this.admission = new Admission(maxInFlight + ahead, maxPerEndpoint + Math.ceil((maxPerEndpoint * ahead) / maxInFlight));
    this.requests = { services: options.services, deliverer: options.deliverer, specs: new SpecCache(options.services), rateLimiter: this.admission.rateLimiter };
    this.leaseMs = options.leaseMs ?? config.leaseMs;
    this.claimBatchSize = options.claimBatchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
    this.onClaim = options.onClaim ?? (() => undefined);
    this.refillWatermark = Math.max(1, Math.min(this.claimBatchSize, Math.floor(this.admission.window / 4)));
    this.nextLook = new NextLook(options.services.clock, () => void this.pump());
    this.outcomes = new OutcomeRecorder<Job>({
      services: options.services,
      publisher: options.publisher,
      commitGatherMs: options.commitGatherMs ?? 10,
      inFlight: () => this.admission.inFlightCount,
      publishChanges: (log) => this.publishChanges(log),
    });
  }

  /** Requests in flight plus claimed deliveries waiting for their endpoint's slot. */
  get load(): number {
    return this.admission.load;
  }

  /** Requests admitted and not yet over (a claimed delivery waiting for its endpoint's slot is not one). */
  get inFlight(): number {
    return this.admission.inFlightCount;
  }

  private get freeSlots(): number {
    return this.admission.window - this.admission.load - this.reserved;
  }

  /** Starts claiming; safe to call once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.stopController.signal.aborted) this.stopController = Dispatcher.newStopController();
    // A request may outlast the lease (a slow receiver, a long rate-limit wait): renew the leases of
    // everything this worker holds well before they expire, so no other claim takes them over.
    this.renewTimer = setInterval(() => void this.renewLeases(), Math.max(200, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
    this.wake();
  }

  /**
   * Stops claiming, waits up to stopTimeoutMs for requests in flight, then interrupts the rest:
   * their attempts are recorded as interrupted and their deliveries are due again at once.
   */
  async stop(): Promise<void> {
    this.started = false;
    this.nextLook.cancel();
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    // Claimed but never started: give them back now (their attempt rows say so).
    for (const job of this.admission.takeQueued()) {
      job.interrupted = true;
      this.track(this.execute(job));
    }
    const drained = Promise.allSettled([...this.attemptsUnderWay]);
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), this.stopTimeoutMs).unref()),
    ]);
    if (timedOut) {
      // One signal for every request in flight: one AbortController per dispatcher, not per job.
      this.stopController.abort(new Error('dispatcher stopped'));
      await Promise.allSettled([...this.attemptsUnderWay]);
    }
    await this.outcomes.settled();
  }

  /** Looks at the queue now (new deliveries, a freed slot, a moved clock in tests). */
  wake(): void {
    if (!this.started) return;
    if (this.pumping) {
      this.lookAgain = true;
      return;
    }
    this.nextLook.cancel();
    // setImmediate, not setTimeout(0): a timer waits at least 1 ms, a whole idle-latency budget's fifth.
    if (!this.wakeScheduled) {
      this.wakeScheduled = true;
      setImmediate(() => {
        this.wakeScheduled = false;
        void this.pump();
      });
    }
  }

  private async renewLeases(): Promise<void> {
    const held = [...this.admission.held(), ...this.outcomes.recording];
    if (held.length === 0) return;
    const dueAt = this.services.clock.now() + this.leaseMs;
    try {
      // one row after another, as outcomes take them: on PostgreSQL the two can deadlock, and the
      // one rolled back is run again at once (a renewal skipped may let the leases run out)
      await retryingConflicts(() =>
        this.services.store.writes.run(async (trx) => {
          for (const job of held) await renewLease(trx, job.delivery.id, job.delivery.lease_token, dueAt);
        }),
      );
    } catch (error) {
      this.services.log.warn('dispatcher: could not renew leases', { error: (error as Error).message });
    }
  }

  /**
   * Called from inside the unit of the store's group commit that is about to insert these due
   * deliveries: takes the ones this dispatcher has room for, handing the writer their rows leased
   * (SENDING, a fencing token, the first attempt counted) to insert instead, so each is written
   * once and its request starts as soon as the commit is durable (one fsync between sendEvent and
   * the receiver, and no scan of the queue). The jobs are prepared in a unit that joins the same
   * group after the writer's, and only if the writer inserted the rows (a write that fails before
   * that leases nothing); their requests are built while the commit syncs and sent once it is
   * durable. What is published is what was before: the delivery routed (PENDING) and leased
   * (SENDING), both changes of that one commit, published once it is durable.
   */
  leaseAsWritten(due: readonly WrittenDelivery[]): NewDeliveryLease | null {
    const { services } = this;
    // With older deliveries still waiting, new ones must not overtake them: the claim takes them in order.
    // (Only SQLite's group commit is ever open: on PostgreSQL each unit is a transaction of its own.)
    if (!this.started || !services.store.writes.open || this.backlog) return null;
    const now = services.clock.now();
    const chosen = new Map(this.admission.roomFor(due, this.freeSlots, (written) => written.delivery.endpoint_id).map((written) => [written.delivery.id, written]));
    if (chosen.size === 0) return null;
    const leased = new Map([...chosen.values()].map(({ delivery }) => [delivery.id, leasedBeforeInsert(delivery, now, now + this.leaseMs)]));
    const log = newChangeLog();
    let inserted = false;
    this.reserved += chosen.size;
    let reservedHeld = true;
    const unreserve = () => {
      if (reservedHeld) this.reserved -= chosen.size;
      reservedHeld = false;
    };
    let gate: SyncGate | null = null;
    void services.store.writes
      .run(
        async (trx) => (inserted ? prepareJobs(trx, [...leased.values()], now, log, chosen) : []),
        (jobs) => {
          if (jobs.length > 0) this.onClaim(jobs.length);
          this.publishClaim(jobs, log);
          // before any unit of the commit resolves: these requests go out ahead of the sender's answer
          gate?.durable();
        },
        {
          written: (jobs) => {
            unreserve();
            if (jobs.length > 0) gate = this.admitWhileSyncing(jobs);
          },
        },
      )
      .catch((error: unknown) => {
        unreserve();
        gate?.notDurable();
        services.log.error('dispatcher: leasing new deliveries failed', { error: (error as Error).message });
        this.wake();
      });
    return {
      tookAll: chosen.size === due.length,
      leased,
      inserted: () => {
        inserted = true;
      },
    };
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
      const claimed = await leaseForImmediateAttempt(trx, deliveryIds, now, now + this.leaseMs);
      return claimed.length === 0 ? [] : prepareJobs(trx, claimed, now, log);
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
    this.attemptsUnderWay.add(promise);
    const done = () => this.attemptsUnderWay.delete(promise);
    promise.then(done, (error: unknown) => {
      done();
      // A bug, not a failed attempt: the delivery keeps its lease and is claimed again when it expires.
      this.services.log.error('dispatcher: an attempt could not be recorded', { error: String(error) });
    });
  }

  private async pump(): Promise<void> {
    if (!this.started || this.pumping) return;
    this.pumping = true;
    this.nextLook.cancel();
    try {
      do {
        this.lookAgain = false;
        while (this.started) {
          const free = this.freeSlots;
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
      } while (this.lookAgain && this.started);
    } catch (error) {
      this.services.log.error('dispatcher: claiming failed', { error: (error as Error).message });
    } finally {
      this.pumping = false;
    }
    if (this.started) await this.scheduleNextLook();
  }

  private async scheduleNextLook(): Promise<void> {
    let delay = this.pollIntervalMs;
    try {
      const next = await nextDueAt(this.services.db);
      if (next !== null) delay = Math.min(delay, Math.max(0, next - this.services.clock.now()));
    } catch (error) {
      this.services.log.warn('dispatcher: could not read the next due time', { error: (error as Error).message });
    }
    if (!this.started || this.pumping) return;
    // Never spin: a delivery due "now" but refused by a saturated endpoint is looked at again shortly.
    this.nextLook.in(Math.max(delay, this.load > 0 ? 5 : 0));
  }

  /** Claims up to `limit` due deliveries and prepares their jobs, in one unit of the group commit. */
  private async claim(limit: number): Promise<{ jobs: Job[]; excluded: number }> {
    const { services } = this;
    const now = services.clock.now();
    const log = newChangeLog();
    const excludeEndpoints = this.admission.excludedEndpoints();
    const jobs = await tracedClaim(() =>
      services.store.writes.run(
        async (trx) => {
          const claimed = await claimDue(trx, { now, limit, leaseMs: this.leaseMs, perEndpoint: this.admission.windowPerEndpoint, excludeEndpoints });
          return claimed.length === 0 ? [] : prepareJobs(trx, claimed, now, log);
        },
        (claimedJobs) => {
          if (claimedJobs.length > 0) this.onClaim(claimedJobs.length);
          this.publishClaim(claimedJobs, log);
        },
      ),
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
   * Admits jobs whose lease has committed but is still syncing (GroupCommit's `written`): their
   * requests are built meanwhile and go out once the gate says the commit is durable. If the sync
   * fails, nothing is sent and each job ends as interrupted, which gives its delivery back.
   */
  private admitWhileSyncing(jobs: readonly Job[]): SyncGate {
    let open: () => void = () => undefined;
    let fail: (error: Error) => void = () => undefined;
    const durable = new Promise<void>((resolve, reject) => {
      open = resolve;
      fail = reject;
    });
    // a job still queued behind its endpoint's window when the sync fails finds `interrupted` instead
    durable.catch(() => undefined);
    for (const job of jobs) {
      job.sendAfter = durable;
      if (this.started) this.admit(job);
      else {
        // stopped while the commit was open: give it back, as stop() does with waiting jobs
        job.interrupted = true;
        this.track(this.execute(job));
      }
    }
    return {
      durable: open,
      notDurable: () => {
        for (const job of jobs) job.interrupted = true;
        fail(new LeaseNotDurableError());
      },
    };
  }

  /** Starts a job now, or leaves it queued behind its endpoint's window (started when a slot frees). */
  private admit(job: Job): void {
    if (!this.admission.admit(job)) return;
    // The slot is free once the request is over, before its outcome is durable: the claim that
    // refills it can then share the commit that records the outcome.
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = this.admission.release(job);
      if (next && this.started) this.admit(next);
      // Look again only if work may be waiting for this freed slot; otherwise every completion
      // would cost an empty claim.
      if (this.backlog) this.wake();
    };
    // execute calls release once its request is over, whatever happens (release is idempotent)
    this.track(this.execute(job, release));
  }

  /** Builds and sends one request, then hands the outcome to the group commit. Never throws. */
  private async execute(job: Job, requestOver: () => void = () => undefined): Promise<AttemptRow | null> {
    const { services } = this;
    const telemetry = startAttemptTelemetry(job, services.log);
    const { sent, response, summary, capture } = await sendAttempt(this.requests, job, { signal: this.stopController.signal, traceparent: telemetry.traceparent, requestOver });
    const now = services.clock.now();
    const decision = decideAfter(job, summary, now, this.random);
    telemetry.finish(summary, decision, response ? response.durationMs : now - job.attempt.started_at);
    return this.outcomes.record({ job, sent, response, summary, capture, decision, finishedAt: now });
  }

  private publishChanges(log: ChangeLog): void {
    for (const change of log.deliveries) this.publisher.publish('delivery', change);
    for (const event of log.operational) this.publisher.publish('operational', { event });
    if (log.endpointIds.size > 0) {
      void endpointsByIds(this.services.db, [...log.endpointIds])
        .then((rows) => {
          for (const endpoint of rows) this.publisher.publish('endpoint', { endpoint });
        })
        .catch((error: unknown) => this.services.log.warn('dispatcher: could not publish endpoint changes', { error: String(error) }));
    }
    if (log.due) this.wake();
    // a pump under way reads the next due time itself when it ends
    else if (log.retryAt !== null && this.started && !this.pumping) this.nextLook.byTime(log.retryAt);
  }
}
