// The operational events an attempt's outcome raises about its delivery and its endpoint's failing
// streak, inside the outcome's unit of the group commit.
import type { DeliveryRow, DeliveryStatus, Executor } from '../db/schema.js';
import { lastAttemptsAllFailed, markFailingNotified } from '../modules/operations/operational-event.repository.js';
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

/**
 * endpoint.failing once its last `threshold` attempts all failed, announced once per streak (the
 * streak's end announces endpoint.recovered). Looks only while the streak is not yet announced.
 */
export async function announceFailureStreak(
  trx: Executor,
  job: Completion['job'],
  delivery: DeliveryRow,
  threshold: number,
  now: number,
  log: OperationalLog,
): Promise<void> {
  if (job.endpoint.failing_notified_at != null) return;
  const endpointId = job.endpoint.id;
  if (!(await lastAttemptsAllFailed(trx, endpointId, threshold))) return;
  if (!(await markFailingNotified(trx, endpointId, now))) return;
  const data = { consecutiveFailures: threshold, lastStatusCode: delivery.last_status_code, lastError: delivery.last_error };
  await raiseOperationalEvent(trx, { tenantId: delivery.tenant_id, kind: 'endpoint.failing', endpointId, data }, now, log);
}
