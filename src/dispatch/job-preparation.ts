// Job preparation: inside a claim, turns leased deliveries into jobs (rows loaded in batches, attempts lost by a stopped worker recorded).
import { newId } from '../db/ids.js';
import type { AttemptRow, DeliveryRow, EndpointRow, EventRow, Executor, HookRow, TenantRow } from '../db/schema.js';
import { findDependencyCaptures, insertAttempts, recordedAttemptNumbers, refuseDelivery } from '../modules/deliveries/attempt.repository.js';
import { parseJson } from '../db/json.js';
import { mayReadCaptures } from '../webhook/template-scope.js';
import { findManyEndpointsById } from '../modules/endpoints/endpoint.repository.js';
import { findManyEventsById } from '../modules/events/event.repository.js';
import { findHooksWaitedFor, findManyHooksById } from '../modules/hooks/hook.repository.js';
import { findManyTenantsById } from '../modules/tenants/tenant.repository.js';
import { skipDependents, type ChangeLog } from '../modules/deliveries/delivery.effects.js';
import { afterFifoDeliveryEnded } from '../modules/deliveries/delivery.fifo.js';
import type { WrittenDelivery } from '../services.js';

export interface Job {
  delivery: DeliveryRow;
  attempt: AttemptRow;
  event: EventRow;
  hook: HookRow;
  endpoint: EndpointRow;
  tenant: TenantRow;
  hasDependents: boolean;
  /** what the hooks it runs after captured for this event, by their id and name (TemplateScope.captures); null for none */
  captures: Record<string, unknown> | null;
  /** set when stop() gives a claimed job back before it started, or the commit that leased it could not be synced */
  interrupted: boolean;
  /**
   * The request may be built at once but goes out only once this resolves: the commit that leased
   * the delivery is still syncing (Dispatcher.leaseAsWritten). Null when it is durable already.
   */
  sendAfter: Promise<void> | null;
}

const INTERRUPTED = 'the worker stopped before this attempt finished; the delivery was claimed again when its lease expired';

/**
 * Inside the claim transaction: loads what the requests need in a few batched reads, records the
 * attempts of taken-over leases as interrupted, and fails deliveries that may no longer be
 * attempted. A job's attempt row is written once, with its outcome (outcome-writer.ts); until then
 * it is IN_FLIGHT in memory and on the live `attempt` topic only.
 */
export async function prepareJobs(
  trx: Executor,
  claimed: DeliveryRow[],
  now: number,
  log: ChangeLog,
  /** just written, so never attempted, with the rows they were routed from */
  fresh?: ReadonlyMap<string, WrittenDelivery>,
): Promise<Job[]> {
  const known = fresh ? [...fresh.values()] : null;
  const events = known
    ? new Map(known.map((written) => [written.event.id, written.event]))
    : await rowsById(trx, findManyEventsById, claimed.map((d) => d.event_id));
  const hooks = known
    ? new Map(known.map((written) => [written.hook.id, written.hook]))
    : await rowsById(trx, findManyHooksById, claimed.flatMap((d) => (d.hook_id ? [d.hook_id] : [])));
  const endpoints = await rowsById(trx, findManyEndpointsById, claimed.map((d) => d.endpoint_id));
  const tenants = await rowsById(trx, findManyTenantsById, claimed.map((d) => d.tenant_id));
  const withDependents = known
    ? new Set<string>(known.filter((written) => written.hasDependents).map((written) => written.hook.id))
    : await findHooksWaitedFor(trx, [...hooks.keys()]);
  if (!fresh) await recordLostAttempts(trx, claimed, hooks, endpoints, now);
  const jobs: Job[] = [];
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
      await refuse(trx, delivery, refusal ?? 'cannot be attempted', withDependents, now, log);
      continue;
    }
    const attempt = inFlightAttempt(delivery, hook, endpoint, now);
    jobs.push({ delivery, attempt, event, hook, endpoint, tenant, hasDependents: withDependents.has(hook.id), captures: null, interrupted: false, sendAfter: null });
  }
  await attachCaptures(trx, jobs);
  return jobs;
}

/**
 * Only a delivery attempted before (this claim counted its second attempt or later) can have lost
 * an attempt: a worker stopped (or lost its lease) between the claim and the outcome, so the
 * previous number has no row. It is recorded as interrupted, started and ended when found; if that
 * worker still finishes, its outcome replaces this row (replaceInterruptedAttempt).
 */
async function recordLostAttempts(
  trx: Executor,
  claimed: readonly DeliveryRow[],
  hooks: ReadonlyMap<string, HookRow>,
  endpoints: ReadonlyMap<string, EndpointRow>,
  now: number,
): Promise<void> {
  const retried = claimed.filter((d) => d.attempt_count > 1);
  if (retried.length === 0) return;
  const recorded = await recordedAttemptNumbers(trx, retried.map((d) => d.id));
  const lost: AttemptRow[] = [];
  for (const delivery of retried) {
    const number = delivery.attempt_count - 1;
    if (recorded.has(`${delivery.id}:${number}`)) continue;
    const hook = delivery.hook_id ? hooks.get(delivery.hook_id) : undefined;
    const attempt = inFlightAttempt({ ...delivery, attempt_count: number }, hook, endpoints.get(delivery.endpoint_id), now);
    lost.push({ ...attempt, outcome: 'INTERRUPTED', error_class: 'interrupted', error_message: INTERRUPTED, finished_at: now });
  }
  await insertAttempts(trx, lost);
}

/**
 * Gives the jobs whose hook may read `captures` what their runAfter hooks captured for the same
 * event: one read for the whole batch, and none when no job's hook mentions them.
 */
async function attachCaptures(trx: Executor, jobs: Job[]): Promise<void> {
  const readers = jobs.filter(({ hook }) => mayReadCaptures([hook.transform, hook.path, hook.template, hook.headers]));
  if (readers.length === 0) return;
  const rows = await findDependencyCaptures(
    trx,
    [...new Set(readers.map((job) => job.hook.id))],
    [...new Set(readers.map((job) => job.event.id))],
  );
  const byWaiterAndEvent = new Map<string, Record<string, unknown>>();
  for (const row of rows) {
    const key = `${row.waiter_id} ${row.event_id}`;
    let captures = byWaiterAndEvent.get(key);
    if (captures === undefined) byWaiterAndEvent.set(key, (captures = {}));
    const value = parseJson<unknown>(row.captured);
    captures[row.hook_name] = value;
    captures[row.hook_id] = value;
  }
  for (const job of readers) job.captures = byWaiterAndEvent.get(`${job.hook.id} ${job.event.id}`) ?? null;
}

/** The rows of these ids (each read once), by id. */
async function rowsById<Row extends { id: string }>(
  trx: Executor,
  findMany: (db: Executor, ids: readonly string[]) => Promise<(Row | null)[]>,
  ids: readonly string[],
): Promise<Map<string, Row>> {
  const rows = new Map<string, Row>();
  for (const row of await findMany(trx, [...new Set(ids)])) if (row) rows.set(row.id, row);
  return rows;
}

function inFlightAttempt(delivery: DeliveryRow, hook: HookRow | undefined, endpoint: EndpointRow | undefined, now: number): AttemptRow {
  return {
    id: newId('attempt', now),
    delivery_id: delivery.id,
    tenant_id: delivery.tenant_id,
    event_id: delivery.event_id,
    endpoint_id: delivery.endpoint_id,
    hook_id: delivery.hook_id,
    number: delivery.attempt_count,
    trigger: delivery.next_trigger,
    outcome: 'IN_FLIGHT',
    request_method: hook?.method ?? 'POST',
    request_url: endpoint?.url ?? '',
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
}

/** A claimed delivery that may not be attempted any more: FAILED with the reason, no attempt row. */
async function refuse(
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
  await refuseDelivery(trx, delivery, changes);
  const failed = { ...delivery, ...changes };
  log.deliveries.push({ delivery: failed, previousStatus: 'SENDING' });
  if (delivery.hook_id === null || withDependents.has(delivery.hook_id)) await skipDependents(trx, failed, now, log);
  // the next of its FIFO queue goes on (and is refused in turn while the hook stays inactive)
  await afterFifoDeliveryEnded(trx, failed, 'FIFO', now, log);
}
