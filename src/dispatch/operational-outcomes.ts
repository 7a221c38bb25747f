// The operational events an attempt's outcome raises about its delivery and its endpoint's failing
// streak, inside the outcome's unit of the group commit.
import type { DeliveryRow, DeliveryStatus, Executor } from '../db/schema.js';
import { lastAttemptsAllFailed, markFailingNotified, markFailingWindowAnnounced } from '../modules/operations/operational-event.repository.js';
import { raiseOperationalEvent, type OperationalLog } from '../modules/operations/operational-event.service.js';
import type { Completion } from './completion.js';

/** Whether this outcome raises an event about its delivery (raiseDeliveryEvents). */
export function raisesDeliveryEvent(job: Completion['job'], status: DeliveryStatus): boolean {
  return status === 'FAILED' || (status === 'SUCCEEDED' && job.attempt.trigger === 'MANUAL' && job.delivery.last_error !== null);
}

/** delivery.exhausted when it failed for good; delivery.recovered when a manual retry of a failed one succeeded. */
export async function raiseDeliveryEvents(
  trx: Executor,
  job: Completion['job'],
  delivery: DeliveryRow,
  status: DeliveryStatus,
  now: number,
  log: OperationalLog,
): Promise<void> {
  const common = { tenantId: delivery.tenant_id, endpointId: delivery.endpoint_id, deliveryId: delivery.id };
  const about = { eventId: delivery.event_id, eventType: delivery.event_type, attempts: delivery.attempt_count };
  if (status === 'FAILED') {
    const data = { ...about, lastStatusCode: delivery.last_status_code, lastError: delivery.last_error };
    await raiseOperationalEvent(trx, { ...common, kind: 'delivery.exhausted', data }, now, log);
  } else if (raisesDeliveryEvent(job, status)) {
    await raiseOperationalEvent(trx, { ...common, kind: 'delivery.recovered', data: { ...about, previousError: job.delivery.last_error } }, now, log);
  }
}

/** The marks of the auto-disable window (percent) at which a failing streak is announced again. */
const WINDOW_MARKS = [90, 50] as const;

/** The highest mark of the window `elapsedMs` has passed, or 0. */
export function windowMarkPassed(elapsedMs: number, windowMs: number): number {
  return WINDOW_MARKS.find((mark) => elapsedMs * 100 >= windowMs * mark) ?? 0;
}

/**
 * endpoint.failing once its last `threshold` attempts all failed (threshold ATTEMPTS), and again
 * the first time a failure lands past 50 % and past 90 % of the auto-disable window (HALF_WINDOW,
 * NINETY_PERCENT_WINDOW; a failure past both announces the later only): each once per streak,
 * whose end announces endpoint.recovered. Looks only for what is not yet announced.
 */
export async function announceFailureStreak(
  trx: Executor,
  job: Completion['job'],
  delivery: DeliveryRow,
  policy: { threshold: number; autoDisableAfterMs: number },
  now: number,
  log: OperationalLog,
): Promise<void> {
  const { endpoint } = job;
  const failingSince = endpoint.failing_since ?? now;
  const about = {
    failingSince,
    disablesAt: failingSince + policy.autoDisableAfterMs,
    lastStatusCode: delivery.last_status_code,
    lastError: delivery.last_error,
  };
  const raise = (data: Record<string, unknown>) =>
    raiseOperationalEvent(trx, { tenantId: delivery.tenant_id, kind: 'endpoint.failing', endpointId: endpoint.id, data: { ...data, ...about } }, now, log);
  if (
    endpoint.failing_notified_at == null &&
    (await lastAttemptsAllFailed(trx, endpoint.id, policy.threshold)) &&
    (await markFailingNotified(trx, endpoint.id, now))
  ) {
    await raise({ threshold: 'ATTEMPTS', consecutiveFailures: policy.threshold });
  }
  const mark = windowMarkPassed(now - failingSince, policy.autoDisableAfterMs);
  if (mark === 0 || mark <= (endpoint.failing_window_announced ?? 0)) return;
  if (!(await markFailingWindowAnnounced(trx, endpoint.id, mark))) return;
  await raise({ threshold: mark === 50 ? 'HALF_WINDOW' : 'NINETY_PERCENT_WINDOW' });
}
