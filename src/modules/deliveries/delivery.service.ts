// What users do to deliveries: retry, cancel, recover an endpoint, replay an event, test a hook;
// and the endpoint health figures read from the attempt log.
import { canSee, type Actor } from '../../auth/actor.js';
import { newChangeLog, skipDependents } from './delivery.effects.js';
import { idFloor, newId } from '../../db/ids.js';
import { parseJson, parseJsonOrNull } from '../../db/json.js';
import { BATCH_ROWS, inBatches } from '../../db/batches.js';
import type { AttemptTrigger, DeliveryStatus, AttemptRow, DeliveryRow, EventRow } from '../../db/schema.js';
import { ConflictError, NotFoundError, ProblemList, ValidationError } from '../../errors.js';
import type { Services } from '../../services.js';
import { findEndpointById } from '../endpoints/endpoint.repository.js';
import { findEventTypeByName, listEventTypeNames } from '../event-types/event-type.repository.js';
import { schemaKey } from '../event-types/event-type.service.js';
import { findEventById, insertDeliveries, insertEvents } from '../events/event.repository.js';
import { newEventRow, routeEvent } from '../events/event.service.js';
import { findDependencies, findHookById, findRoutableHooks } from '../hooks/hook.repository.js';
import { eventTypeMatcher } from '../../webhook/event-type-pattern.js';
import { findDeliveryById, nextFailedOfEndpoint, queueFailedOfEndpoint, recentEndpointAttempts, updateDeliveryIfStill, updateStillFailed } from './delivery.repository.js';
import { afterFifoDeliveryEnded, fifoHooksOfEndpoint, nextDueAfterCancel, isFifo, liftHoldsOfWaiting, lockFifoHooks, lockFifoQueues, queueManually, releaseFifoHold, waitingInQueue } from './delivery.fifo.js';

const RETRYABLE: readonly DeliveryStatus[] = ['PENDING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED'];
const CANCELLABLE: readonly DeliveryStatus[] = ['PENDING', 'RETRYING', 'BLOCKED', 'SENDING'];

async function visibleDelivery(services: Services, actor: Actor, id: string): Promise<DeliveryRow> {
  const delivery = await findDeliveryById(services.db, id);
  if (!delivery || !canSee(actor, delivery.tenant_id)) throw new NotFoundError('Delivery', id);
  return delivery;
}

/** A manual attempt due now, outside any FIFO queue (its hook is not FIFO now, or it has none). */
function manualChanges(now: number) {
  return {
    fifo_hook_id: null,
    status: 'PENDING' as const,
    due_at: now,
    next_attempt_at: now,
    next_trigger: 'MANUAL' as AttemptTrigger,
    status_reason: null,
    finished_at: null,
    updated_at: now,
  };
}

/**
 * Makes a manual attempt due now, whatever the delivery's state (not while one is in flight). A
 * FIFO hook's delivery joins the hook's queue instead (in id order, so it goes next), unless nothing
 * of the hook is due or in flight.
 */
export async function retryDelivery(services: Services, actor: Actor, id: string): Promise<DeliveryRow> {
  const delivery = await visibleDelivery(services, actor, id);
  if (delivery.status === 'SENDING') throw new ConflictError(`delivery ${id} has an attempt in flight; retry it when it ends`);
  if (delivery.status === 'BLOCKED') throw new ConflictError(`delivery ${id} is waiting: ${delivery.status_reason ?? 'for its runAfter hooks'}`);
  const endpoint = await findEndpointById(services.db, delivery.endpoint_id);
  if (!endpoint?.enabled) throw new ConflictError(`endpoint ${delivery.endpoint_id} is disabled; enable it first`);
  const hook = delivery.hook_id ? await findHookById(services.db, delivery.hook_id) : undefined;
  const queued = hook !== undefined && isFifo(hook.ordering);
  const now = services.clock.now();
  const changes = queued ? { ...waitingInQueue(now), fifo_hook_id: hook.id, next_trigger: 'MANUAL' as AttemptTrigger } : manualChanges(now);
  const log = newChangeLog();
  const updated = await services.db.transaction().execute(async (trx) => {
    if (queued) await lockFifoHooks(trx, [hook.id]);
    if (!(await updateDeliveryIfStill(trx, { id, statuses: RETRYABLE }, changes))) return false;
    // the delivery a FIFO_HOLD hook was held by is the head of its queue again
    await releaseFifoHold(trx, delivery);
    if (queued) await queueManually(trx, [hook.id], now, log);
    return true;
  });
  if (!updated) throw new ConflictError(`delivery ${id} changed meanwhile; try again`);
  // released at once (nothing of its FIFO hook due or in flight), it never shows as waiting
  const result = log.deliveries.find((change) => change.delivery.id === id)?.delivery ?? { ...delivery, ...changes };
  services.bus.publish('delivery', { delivery: result, previousStatus: delivery.status });
  for (const change of log.deliveries) if (change.delivery.id !== id) services.bus.publish('delivery', change);
  if (!queued || log.due) services.signals.deliveriesDue();
  return result;
}

/**
 * Cancels a delivery that has not ended. An attempt in flight still finishes and is recorded, but
 * cannot change the delivery any more: cancelling bumps the fencing token. Dependents are skipped.
 */
export async function cancelDelivery(services: Services, actor: Actor, id: string): Promise<DeliveryRow> {
  const delivery = await visibleDelivery(services, actor, id);
  if (!CANCELLABLE.includes(delivery.status)) throw new ConflictError(`delivery ${id} is ${delivery.status} and cannot be cancelled`);
  const now = services.clock.now();
  const log = newChangeLog();
  const result = await services.db.transaction().execute(async (trx) => {
    const changes = {
      status: 'CANCELLED' as const,
      due_at: null,
      next_attempt_at: null,
      status_reason: 'cancelled by a user',
      finished_at: now,
      updated_at: now,
      lease_token: delivery.lease_token + 1,
    };
    if (!(await updateDeliveryIfStill(trx, { id, statuses: CANCELLABLE, leaseToken: delivery.lease_token }, changes))) throw new ConflictError(`delivery ${id} changed meanwhile; try again`);
    const cancelled = { ...delivery, ...changes };
    await skipDependents(trx, cancelled, now, log);
    // a cancelled delivery is final: the next of its FIFO queue goes, whatever the hook's ordering,
    // once a request of the cancelled one still in flight has ended
    await afterFifoDeliveryEnded(trx, cancelled, 'FIFO', now, log, nextDueAfterCancel(delivery, now));
    return cancelled;
  });
  services.bus.publish('delivery', { delivery: result, previousStatus: delivery.status });
  for (const change of log.deliveries) services.bus.publish('delivery', change);
  if (log.due) services.signals.deliveriesDue();
  return result;
}

/**
 * Makes every FAILED delivery of an endpoint created in [since, until) due again now; returns how
 * many. Those of a FIFO hook join its queue, in id order (a hold they were the cause of is lifted);
 * the others are made due a batch at a time, so the first go out while the rest are still read.
 */
export async function recoverEndpoint(
  services: Services,
  actor: Actor,
  endpointId: string,
  since: Date,
  until: Date | null,
): Promise<number> {
  const endpoint = await findEndpointById(services.db, endpointId);
  if (!endpoint || !canSee(actor, endpoint.tenant_id)) throw new NotFoundError('Endpoint', endpointId);
  const now = services.clock.now();
  const end = until ? until.getTime() : now + 1;
  const problems = new ProblemList();
  if (Number.isNaN(since.getTime())) problems.add(['input', 'since'], 'not a valid time');
  if (end <= since.getTime()) problems.add(['input', 'until'], 'must be after since');
  problems.throwIfAny();
  if (!endpoint.enabled) throw new ConflictError(`endpoint ${endpointId} is disabled; enable it before recovering`);
  const log = newChangeLog();
  const from = idFloor('delivery', since.getTime());
  const to = idFloor('delivery', end);
  // Those of FIFO hooks join their queues in one transaction: the hooks' locks and their order need it.
  const { fifoHookIds, queued } = await services.db.transaction().execute(async (trx) => {
    const hookIds = await fifoHooksOfEndpoint(trx, endpointId);
    if (hookIds.length === 0) return { fifoHookIds: hookIds, queued: 0 };
    // the hooks first, as routing and a delivery's end take them: no two transactions wait on each other
    await lockFifoHooks(trx, hookIds);
    const waiting = await queueFailedOfEndpoint(trx, { endpointId, fromId: from, beforeId: to, hookIds }, { ...waitingInQueue(now), next_trigger: 'MANUAL' });
    await liftHoldsOfWaiting(trx, hookIds);
    await queueManually(trx, hookIds, now, log);
    return { fifoHookIds: hookIds, queued: waiting };
  });
  // The rest, however long the outage was, a batch per transaction in id order (src/db/batches.ts).
  let recovered = queued;
  let after: string | null = null;
  await inBatches(async () => {
    const ids = await nextFailedOfEndpoint(services.db, { endpointId, fromId: from, afterId: after, beforeId: to, exceptHookIds: fifoHookIds, limit: BATCH_ROWS });
    if (ids.length === 0) return 0;
    after = ids.at(-1)!;
    recovered += await updateStillFailed(services.db, ids, manualChanges(now));
    return ids.length;
  });
  const count = recovered;
  for (const change of log.deliveries) services.bus.publish('delivery', change);
  if (count > 0) services.signals.deliveriesDue();
  return count;
}

/** Delivers an event again: new deliveries to the hooks that match it now (manual attempts); a FIFO hook's joins the back of its queue. */
export async function replayEvent(services: Services, actor: Actor, eventId: string): Promise<{ event: EventRow; deliveries: DeliveryRow[] }> {
  const event = await findEventById(services.db, eventId);
  if (!event || !canSee(actor, event.tenant_id)) throw new NotFoundError('Event', eventId);
  const now = services.clock.now();
  const deliveries = await services.db.transaction().execute(async (trx) => {
    const hooks = await findRoutableHooks(trx, event.tenant_id);
    const dependencies = await findDependencies(trx, hooks.map((hook) => hook.id));
    const rows = routeEvent(event, parseJson(event.payload), hooks, dependencies, now, 'MANUAL', await lockFifoQueues(trx, hooks));
    await insertDeliveries(trx, rows);
    return rows;
  });
  if (deliveries.length > 0) services.signals.deliveriesDue();
  return { event, deliveries };
}

export interface TestHookInput {
  payload?: unknown;
  eventType?: string | null;
}

/**
 * Sends one test request through a hook now and returns its attempt. It is a real event of the
 * tenant (so the attempt log and live views show it) with one delivery, attempted once, never retried.
 */
export async function testHook(services: Services, actor: Actor, hookId: string, input: TestHookInput): Promise<AttemptRow> {
  const hook = await findHookById(services.db, hookId);
  if (!hook || !canSee(actor, hook.tenant_id)) throw new NotFoundError('Hook', hookId);
  const patterns = parseJson<string[]>(hook.event_types);
  const problems = new ProblemList();
  let type = input.eventType ?? patterns.find((pattern) => !pattern.includes('*')) ?? null;
  if (!type) {
    const names = await listEventTypeNames(services.db, false);
    type = names.find(eventTypeMatcher(patterns)) ?? null;
  }
  if (!type) throw ValidationError.field(['input', 'eventType'], 'name the event type to test with');
  const eventType = await findEventTypeByName(services.db, type);
  if (!eventType || eventType.archived) problems.add(['input', 'eventType'], `unknown event type ${type}`);
  const payload =
    input.payload !== undefined && input.payload !== null
      ? input.payload
      : (parseJsonOrNull(hook.test_payload) ?? parseJson<unknown[]>(eventType?.examples ?? '[]')[0] ?? {});
  const schema = eventType?.schema;
  if (eventType && schema) {
    problems.addAll(['input', 'payload'], services.jsonSchemas.validate(schemaKey(eventType), () => parseJson(schema), payload));
  }
  problems.throwIfAny();
  // Refuse before writing anything: a refused test must leave no event behind.
  const endpoint = await findEndpointById(services.db, hook.endpoint_id);
  if (!endpoint?.enabled) throw new ConflictError(`endpoint ${hook.endpoint_id} is disabled; enable it to test`);
  if (!hook.active) throw new ConflictError(`hook ${hook.id} is inactive; activate it to test`);
  const now = services.clock.now();
  const event = newEventRow({ tenantId: hook.tenant_id, type, payloadJson: JSON.stringify(payload) }, now);
  const delivery: DeliveryRow = {
    id: newId('delivery', now),
    tenant_id: hook.tenant_id,
    event_id: event.id,
    hook_id: hook.id,
    endpoint_id: hook.endpoint_id,
    event_type: type,
    // Not due: the dispatcher loop must leave it to runNow below.
    status: 'PENDING',
    attempt_count: 0,
    due_at: null,
    next_attempt_at: null,
    lease_token: 0,
    next_trigger: 'TEST',
    last_status_code: null,
    last_error: null,
    status_reason: null,
    captured: null,
    capture_error: null,
    fifo_hook_id: null,
    created_at: now,
    updated_at: now,
    finished_at: null,
  };
  await services.db.transaction().execute(async (trx) => {
    await insertEvents(trx, [event]);
    await insertDeliveries(trx, [delivery]);
  });
  const [attempt] = await services.sender.runNow([delivery.id]);
  if (!attempt) throw new Error('the test attempt could not be recorded');
  return attempt;
}

export interface EndpointHealth {
  attemptsCounted: number;
  successRate: number | null;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  failingSince: number | null;
}

export const HEALTH_WINDOW = 1000;

function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? null;
}

/** Figures over the endpoint's latest attempts (at most HEALTH_WINDOW), newest first. */
export async function endpointHealth(services: Services, endpointId: string, failingSince: number | null): Promise<EndpointHealth> {
  const attempts = (await recentEndpointAttempts(services.db, endpointId, HEALTH_WINDOW)).filter((a) => a.outcome !== 'INTERRUPTED');
  const succeeded = attempts.filter((a) => a.outcome === 'SUCCEEDED');
  const latencies = attempts
    .map((a) => a.duration_ms)
    .filter((d): d is number => d !== null)
    .sort((a, b) => a - b);
  let consecutiveFailures = 0;
  for (const attempt of attempts) {
    if (attempt.outcome === 'SUCCEEDED') break;
    consecutiveFailures++;
  }
  return {
    attemptsCounted: attempts.length,
    successRate: attempts.length === 0 ? null : succeeded.length / attempts.length,
    p50LatencyMs: percentile(latencies, 0.5),
    p95LatencyMs: percentile(latencies, 0.95),
    consecutiveFailures,
    lastSuccessAt: succeeded[0]?.finished_at ?? null,
    lastFailureAt: attempts.find((a) => a.outcome === 'FAILED')?.finished_at ?? null,
    failingSince,
  };
}
