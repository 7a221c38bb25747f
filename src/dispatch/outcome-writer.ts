// Writes a batch of planned outcomes inside one unit of the group commit: attempt rows, delivery states, ripple effects.
import type { AttemptRow, DeliveryRow, Executor } from '../db/schema.js';
import type { FastPath } from '../db/sqlite-fast-path.js';
import {
  clearEndpointFailing,
  endpointEnabled,
  finishAttempt,
  finishDelivery,
  lockEndpointsEnabled,
  markEndpointFailing,
} from '../modules/deliveries/attempt.repository.js';
import { disableEndpoint, releaseDependents, skipDependents, type ChangeLog } from '../modules/deliveries/delivery.effects.js';
import { planCompletion, wouldRetry, type Completion } from './completion.js';

export interface OutcomeStore {
  trx: Executor;
  fast: FastPath | null;
  dialect: 'sqlite' | 'postgres';
}

/** Returns each completion's final attempt with its delivery as it now stands (as it was, if the lease was lost). */
export async function writeOutcomes(
  { trx, fast, dialect }: OutcomeStore,
  batch: readonly Completion[],
  context: { now: number; autoDisableAfterMs: number; log: ChangeLog },
): Promise<{ attempt: AttemptRow; delivery: DeliveryRow }[]> {
  const { now, log } = context;
  const finished: { attempt: AttemptRow; delivery: DeliveryRow }[] = [];
  const failingChecked = new Set<string>();
  const recovered = new Set<string>();
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
  for (const completion of batch) {
    const { job } = completion;
    const plan = planCompletion(completion, {
      now,
      endpointEnabled: wouldRetry(completion) ? await stillEnabled(job.endpoint.id) : true,
      autoDisableAfterMs: context.autoDisableAfterMs,
    });
    const attempt: AttemptRow = { ...job.attempt, ...plan.attemptChanges };
    await finishAttempt(trx, fast, attempt.id, plan.attemptChanges);
    if (!(await finishDelivery(trx, fast, job.delivery, plan.deliveryChanges))) {
      // Our lease was taken over (we were too slow); the new holder owns the delivery now.
      finished.push({ attempt, delivery: job.delivery });
      continue;
    }
    const delivery: DeliveryRow = { ...job.delivery, ...plan.deliveryChanges };
    finished.push({ attempt, delivery });
    log.deliveries.push({ delivery, previousStatus: 'SENDING' });

    if (job.hasDependents && plan.status === 'SUCCEEDED') await releaseDependents(trx, delivery, now, log);
    if (job.hasDependents && plan.status === 'FAILED') await skipDependents(trx, delivery, now, log);

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
      await clearEndpointFailing(trx, endpointId);
    } else if (change?.kind === 'failing') {
      await markEndpointFailing(trx, endpointId, now);
    } else if (change?.kind === 'disable') {
      await disableEndpoint(trx, endpointId, change.reason, change.message, now, log);
      enabled.set(endpointId, false);
      if (change.reason === 'FAILING') {
        // Disabling failed the endpoint's open deliveries, this one (just set RETRYING) included;
        // the attempt is published with its delivery as it now stands.
        const failedNow = log.deliveries.findLast((entry) => entry.delivery.id === delivery.id)?.delivery;
        if (failedNow) Object.assign(delivery, failedNow);
      }
    }
  }
  return finished;
}
