// Records outcomes: completions gathered into units of the group commit, each writing attempt rows, delivery states and ripple effects.
import type { AttemptRow, DeliveryRow, Executor } from '../db/schema.js';
import {
  endpointEnabled,
  finishOutcomes,
  lockEndpointsEnabled,
  markEndpointFailing,
  type AttemptOutcome,
} from '../modules/deliveries/attempt.repository.js';
import { disableEndpoint, newChangeLog, releaseDependents, skipDependents, type ChangeLog } from '../modules/deliveries/delivery.effects.js';
import { afterCancelledRequestEnded, afterFifoDeliveryEnded } from '../modules/deliveries/delivery.fifo.js';
import { clearFailing } from '../modules/operations/operational-event.repository.js';
import { isReservedEventType } from '../modules/operations/operational-kinds.js';
import { raiseOperationalEvent } from '../modules/operations/operational-event.service.js';
import { announceFailureStreak, raiseDeliveryEvents, raisesDeliveryEvent } from './operational-outcomes.js';
import type { Publisher } from '../pubsub/topics.js';
import type { Services } from '../services.js';
import { planCompletion, wouldRetry, type Completion, type CompletionPlan } from './completion.js';
import { parseJson } from '../db/json.js';
import type { JsonSchemaCache } from '../json-schema.js';
import { captureEventProblem, sendCaptureEvent } from '../modules/events/capture-event.service.js';
import { tracedCommit } from './attempt-telemetry.js';
import { retryingConflicts } from '../db/conflicts.js';

export interface OutcomeStore {
  trx: Executor;
  dialect: 'sqlite' | 'postgres';
}

/** Returns each completion's final attempt with its delivery as it now stands (as it was, if the lease was lost). */
export async function writeOutcomes(
  { trx, dialect }: OutcomeStore,
  batch: readonly Completion[],
  context: { now: number; autoDisableAfterMs: number; failingAfterAttempts: number; log: ChangeLog; schemas: JsonSchemaCache },
): Promise<{ attempt: AttemptRow; delivery: DeliveryRow }[]> {
  const { now, log } = context;
  const finished: { attempt: AttemptRow; delivery: DeliveryRow }[] = [];
  const failingChecked = new Set<string>();
  const recovered = new Set<string>();
  /** FIFO hooks of deliveries whose lease this batch found gone (cancelled, or taken over) */
  const queuesOfLostLeases = new Set<string>();
  // Another transaction (a worker elsewhere, or this one's next batch) may be disabling an endpoint
  // this batch is about to retry on: on PostgreSQL, lock the rows this batch may read or change.
  const enabled =
    dialect === 'postgres'
      ? await lockEndpointsEnabled(trx, [
          ...new Set(
            batch
              .filter(({ decision, job }) => decision.kind !== 'succeeded' || job.endpoint.failing_since !== null)
              .map(({ job }) => job.endpoint.id),
          ),
        ])
      : new Map<string, boolean>();
  // An endpoint disabled meanwhile (possibly earlier in this very batch) gets no further attempts.
  const stillEnabled = async (endpointId: string) => {
    let known = enabled.get(endpointId);
    if (known === undefined) {
      known = await endpointEnabled(trx, endpointId);
      enabled.set(endpointId, known);
    }
    return known;
  };
  // The attempt's one row, written with its outcome (the claim wrote none).
  const outcomeOf = ({ job }: Completion, plan: CompletionPlan): AttemptOutcome => ({
    attempt: { ...job.attempt, ...plan.attemptChanges },
    delivery: job.delivery,
    deliveryChanges: plan.deliveryChanges,
    capture: plan.captureChanges,
  });
  /** the delivery as this outcome left it, or null when the lease was taken over */
  const settle = ({ job }: Completion, plan: CompletionPlan, { attempt }: AttemptOutcome, held: boolean): DeliveryRow | null => {
    if (!held) {
      // Our lease was taken over (we were too slow), or a user cancelled the delivery meanwhile; the
      // new holder owns the delivery now. Either way this request has ended.
      finished.push({ attempt, delivery: job.delivery });
      if (job.delivery.fifo_hook_id !== null) queuesOfLostLeases.add(job.delivery.fifo_hook_id);
      return null;
    }
    const delivery: DeliveryRow = { ...job.delivery, ...plan.deliveryChanges, ...plan.captureChanges };
    finished.push({ attempt, delivery });
    log.deliveries.push({ delivery, previousStatus: 'SENDING' });
    if (delivery.status === 'RETRYING' && delivery.due_at !== null) log.retryAt = Math.min(log.retryAt ?? Infinity, delivery.due_at);
    return delivery;
  };
  // Outcomes that nothing follows are written together (one statement per table on PostgreSQL), in
  // batch order with the others: those are written one at a time after the outcomes before them,
  // since what they change (an endpoint disabled, a streak announced) decides what comes next.
  let plain: { completion: Completion; plan: CompletionPlan }[] = [];
  const writePlain = async () => {
    if (plain.length === 0) return;
    const written = plain;
    plain = [];
    const outcomes = written.map(({ completion, plan }) => outcomeOf(completion, plan));
    const held = await finishOutcomes(trx, outcomes);
    written.forEach(({ completion, plan }, index) => settle(completion, plan, outcomes[index]!, held[index] === true));
  };
  for (const completion of batch) {
    const { job } = completion;
    const plan = planCompletion(completion, {
      now,
      endpointEnabled: wouldRetry(completion) ? await stillEnabled(job.endpoint.id) : true,
      autoDisableAfterMs: context.autoDisableAfterMs,
    });
    // Deliveries of operational events raise none themselves (a failing operations hook would feed
    // on its own failures), and neither do test sends.
    const quiet = isReservedEventType(job.delivery.event_type) || job.attempt.trigger === 'TEST';
    const captureEvent = job.hook.capture_event_type ? await planCaptureEvent(trx, context.schemas, completion, plan) : null;
    if (captureEvent === null && !hasSequel(completion, plan, quiet, failingChecked, recovered)) {
      plain.push({ completion, plan });
      continue;
    }
    await writePlain();
    const outcome = outcomeOf(completion, plan);
    const [held] = await finishOutcomes(trx, [outcome]);
    const delivery = settle(completion, plan, outcome, held === true);
    if (!delivery) continue;
    if (captureEvent) await sendCaptureEvent(trx, { ...captureEvent, tenantId: delivery.tenant_id }, now, log);

    if (job.hasDependents && plan.status === 'SUCCEEDED') await releaseDependents(trx, delivery, now, log);
    if (job.hasDependents && plan.status === 'FAILED') await skipDependents(trx, delivery, now, log);
    if (delivery.fifo_hook_id !== null && (plan.status === 'SUCCEEDED' || plan.status === 'FAILED')) await afterFifoDeliveryEnded(trx, delivery, job.hook.ordering, now, log);
    if (!quiet) await raiseDeliveryEvents(trx, job, delivery, plan.status, now, log);

    const endpointId = job.endpoint.id;
    const change = plan.endpointChange;
    if (plan.countsAsFailure) {
      // one look per endpoint and batch: the first failure decides
      if (failingChecked.has(endpointId)) continue;
      failingChecked.add(endpointId);
    }
    if (change?.kind === 'recovered') {
      if (recovered.has(endpointId)) continue;
      recovered.add(endpointId);
      const announced = await clearFailing(trx, endpointId);
      if (announced && !quiet) await raiseOperationalEvent(trx, { tenantId: delivery.tenant_id, kind: 'endpoint.recovered', endpointId }, now, log);
    } else if (change?.kind === 'disable') {
      const disabled = await disableEndpoint(trx, endpointId, change.reason, change.message, now, log);
      if (disabled && !quiet) {
        const data = { reason: change.reason, message: change.message };
        await raiseOperationalEvent(trx, { tenantId: delivery.tenant_id, kind: 'endpoint.disabled', endpointId, data }, now, log);
      }
      enabled.set(endpointId, false);
      if (change.reason === 'FAILING') {
        // Disabling failed the endpoint's open deliveries, this one (just set RETRYING) included;
        // the attempt is published with its delivery as it now stands.
        const failedNow = log.deliveries.findLast((entry) => entry.delivery.id === delivery.id)?.delivery;
        if (failedNow) Object.assign(delivery, failedNow);
      }
    } else {
      if (change?.kind === 'failing') await markEndpointFailing(trx, endpointId, now);
      if (plan.countsAsFailure && !quiet) await announceFailureStreak(trx, job, delivery, { threshold: context.failingAfterAttempts, autoDisableAfterMs: context.autoDisableAfterMs }, now, log);
    }
  }
  await writePlain();
  for (const hookId of queuesOfLostLeases) await afterCancelledRequestEnded(trx, hookId, now, log);
  return finished;
}

/** Whether writing this outcome (its lease held) leads to more than its attempt and delivery rows: the checks of writeOutcomes' loop, in its order. */
function hasSequel(
  { job }: Completion,
  plan: CompletionPlan,
  quiet: boolean,
  failingChecked: ReadonlySet<string>,
  recovered: ReadonlySet<string>,
): boolean {
  const ended = plan.status === 'SUCCEEDED' || plan.status === 'FAILED';
  if (ended && (job.hasDependents || job.delivery.fifo_hook_id !== null)) return true;
  if (!quiet && raisesDeliveryEvent(job, plan.status)) return true;
  const endpointId = job.endpoint.id;
  if (plan.countsAsFailure) return !failingChecked.has(endpointId);
  const change = plan.endpointChange;
  return change !== undefined && change !== null && !(change.kind === 'recovered' && recovered.has(endpointId));
}

/**
 * The event a succeeded delivery's capture sends (hook captureEvent), or null; a result the event
 * cannot be made of becomes the plan's captureError instead (the captured value is kept).
 */
async function planCaptureEvent(trx: Executor, schemas: JsonSchemaCache, { job }: Completion, plan: CompletionPlan) {
  const type = job.hook.capture_event_type ?? null;
  const captured = plan.captureChanges?.captured ?? null;
  if (type === null || captured === null || plan.status !== 'SUCCEEDED' || !plan.captureChanges) return null;
  const payload = parseJson<unknown>(captured);
  const sourceDepth = job.event?.capture_depth ?? null;
  const problem = await captureEventProblem(trx, schemas, { type, payload, sourceDepth });
  if (problem !== null) {
    plan.captureChanges = { ...plan.captureChanges, capture_error: problem };
    return null;
  }
  return { type, payloadJson: captured, payload, depth: (sourceDepth ?? 0) + 1, traceparent: job.event?.traceparent ?? null };
}

export interface OutcomeRecorderOptions {
  services: Services;
  publisher: Publisher;
  /** under load, how long finished attempts may wait to share one commit */
  commitGatherMs: number;
  /** requests in flight now: with many, a unit may wait for company */
  inFlight: () => number;
  /** publishes the ripple effects of a committed unit (and wakes the dispatcher if work became due) */
  publishChanges: (log: ChangeLog) => void;
}

/** Gathers the completions of one turn of the event loop into one unit of the group commit, published at its commit. */
export class OutcomeRecorder<J extends Completion['job']> {
  /** jobs whose outcome is being written: their leases are still ours */
  readonly recording = new Set<J>();
  private pending: { completion: Completion & { job: J }; done: (attempt: AttemptRow | null) => void }[] = [];
  private flushQueued = false;
  /** unit commits not yet settled */
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly options: OutcomeRecorderOptions) {}

  /** Queues a completion for the next group commit; resolves with the final attempt once durable (null if the write failed). */
  record(completion: Completion & { job: J }): Promise<AttemptRow | null> {
    return new Promise<AttemptRow | null>((done) => {
      this.recording.add(completion.job);
      this.pending.push({ completion, done });
      if (this.flushQueued) return;
      this.flushQueued = true;
      // The completions of this turn of the event loop become one unit of the group commit.
      setImmediate(() => this.flush());
    });
  }

  /** Resolves once every unit handed to the store has committed or failed. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  private flush(): void {
    this.flushQueued = false;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    // Busy: let the unit wait for the next claim (or the gather time) so one fsync carries dozens of
    // outcomes. Idle: commit at once.
    const mayWaitMs = this.options.inFlight() > batch.length * 4 ? this.options.commitGatherMs : 0;
    const written = this.write(
      batch.map((item) => item.completion),
      mayWaitMs,
    ).then(
      (attempts) => batch.forEach((item, index) => item.done(attempts[index] ?? null)),
      (error: unknown) => {
        // The deliveries keep their lease; when it expires they are claimed again and these attempts
        // are marked interrupted. Nothing is lost; it is only late.
        this.options.services.log.error('dispatcher: recording attempts failed', { error: (error as Error).message, count: batch.length });
        for (const item of batch) item.done(null);
      },
    );
    const tracked = written.finally(() => {
      for (const item of batch) this.recording.delete(item.completion.job);
      this.writes.delete(tracked);
    });
    this.writes.add(tracked);
  }

  /** One unit of the group commit for a batch of completions, published at its commit; returns the final attempts. */
  private async write(batch: Completion[], mayWaitMs: number): Promise<AttemptRow[]> {
    const { services, publisher } = this.options;
    const { store } = services;
    const now = services.clock.now();
    const publish = ({ finished, log }: { finished: { attempt: AttemptRow; delivery: DeliveryRow }[]; log: ChangeLog }) => {
      for (const { attempt, delivery } of finished) publisher.publish('attempt', { phase: 'finished', attempt, delivery });
      this.options.publishChanges(log);
    };
    // On PostgreSQL a unit is a transaction of its own, which a deadlock may roll back: each run
    // starts a change log of its own, so a rolled-back run publishes nothing.
    const { finished } = await retryingConflicts(() =>
      tracedCommit(batch.length, () =>
        store.writes.run(
          async (trx) => {
            const log = newChangeLog();
            const context = { now, autoDisableAfterMs: services.config.autoDisableAfterMs, failingAfterAttempts: services.config.failingAfterAttempts, log, schemas: services.jsonSchemas };
            return { finished: await writeOutcomes({ trx, dialect: store.dialect }, batch, context), log };
          },
          publish,
          { mayWaitMs },
        ),
      ),
    );
    return finished.map((item) => item.attempt);
  }
}
