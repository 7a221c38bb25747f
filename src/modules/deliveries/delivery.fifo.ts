// FIFO hooks: their deliveries go one at a time, in event order. Only the head of a hook's queue is
// ever due; each one after it waits BLOCKED until the one before it is final, and its end releases
// the next. A delivery that fails for good lets the next go (FIFO) or holds the rest until it is
// retried (FIFO_HOLD). The ordering belongs to the hook, not the endpoint: one receiver may take
// several independent streams, and a slow or failing one must not hold the others back.
//
// A delivery is in a hook's queue when its `fifo_hook_id` names the hook: set when it is routed
// (or retried, recovered) while the hook is FIFO, cleared when the hook stops being FIFO. Every
// look-up here reads that column's partial index, which only queued deliveries are in; a delivery
// that was open before its hook became FIFO is in no queue, and nothing waits for it.
//
// Accepting an event and finishing a delivery are different transactions. With several workers on
// PostgreSQL both take the hook's row lock first, so an event is never routed BLOCKED behind a
// delivery whose end (and release) is committing at that moment. SQLite has one writer.
import type { DeliveryRow, DeliveryStatus, Executor, HookOrdering, HookRow } from '../../db/schema.js';
import { dialectOf } from '../../db/statement.js';
import type { ChangeLog } from './delivery.effects.js';

/** The status reason of a delivery waiting behind earlier ones of its FIFO hook. */
export const FIFO_WAITING_REASON = 'waiting for the earlier deliveries of this FIFO hook';

const OPEN: readonly DeliveryStatus[] = ['PENDING', 'RETRYING', 'SENDING', 'BLOCKED'];

export const isFifo = (ordering: HookOrdering): boolean => ordering !== 'UNORDERED';

/** PostgreSQL: serialises routing and releases of these hooks (in id order: no two transactions wait on each other in a cycle). */
export async function lockFifoHooks(db: Executor, hookIds: readonly string[]): Promise<void> {
  if (hookIds.length === 0 || dialectOf(db) !== 'postgres') return;
  await db.selectFrom('hooks').select('id').where('id', 'in', [...hookIds].sort()).orderBy('id').forUpdate().execute();
}

/** The deliveries in these hooks' queues (the `is not null` lets the planner use the queue's partial index). */
function inQueues(db: Executor, hookIds: readonly string[]) {
  return db.selectFrom('deliveries').where('fifo_hook_id', 'is not', null).where('fifo_hook_id', 'in', [...hookIds]);
}

/** Of these FIFO hooks, those held by a FIFO_HOLD failure or with a delivery in one of these statuses. */
async function heldOrHaving(db: Executor, hookIds: readonly string[], statuses: readonly DeliveryStatus[]): Promise<Set<string>> {
  const busy = new Set<string>();
  if (hookIds.length === 0) return busy;
  const ids = [...hookIds];
  const held = await db.selectFrom('hooks').select('id').where('id', 'in', ids).where('fifo_held_by', 'is not', null).execute();
  for (const row of held) busy.add(row.id);
  const having = await inQueues(db, ids).select('fifo_hook_id').distinct().where('status', 'in', [...statuses]).execute();
  for (const row of having) if (row.fifo_hook_id) busy.add(row.fifo_hook_id);
  return busy;
}

/**
 * Before routing an event to these hooks: locks the FIFO ones and answers those whose new delivery
 * must wait (routeEvent's `fifoBusy`): some delivery of theirs is not final yet, or a hold stops them.
 */
export async function lockFifoQueues(db: Executor, hooks: readonly Pick<HookRow, 'id' | 'ordering'>[]): Promise<Set<string>> {
  const fifoHookIds = hooks.filter((hook) => isFifo(hook.ordering)).map((hook) => hook.id);
  await lockFifoHooks(db, fifoHookIds);
  return heldOrHaving(db, fifoHookIds, OPEN);
}

/**
 * After a delivery in a FIFO hook's queue became final: the oldest one waiting behind it becomes
 * due, unless it FAILED under FIFO_HOLD (`ordering`, as the hook was when it was claimed, and still
 * is), which holds the hook until that delivery is retried.
 */
export async function afterFifoDeliveryEnded(db: Executor, ended: DeliveryRow, ordering: HookOrdering, now: number, log: ChangeLog, nextDueAt = now): Promise<void> {
  const hookId = ended.fifo_hook_id;
  if (hookId === null) return;
  await lockFifoHooks(db, [hookId]);
  // Read again under the lock: the hook may have stopped being FIFO (and left its queue) while this
  // delivery was in flight, and then its end must not release the next of a newer queue.
  const current = await db.selectFrom('deliveries').select('fifo_hook_id').where('id', '=', ended.id).executeTakeFirst();
  if (current?.fifo_hook_id !== hookId) return;
  if (ended.status === 'FAILED' && ordering === 'FIFO_HOLD') {
    const held = await db.updateTable('hooks').set({ fifo_held_by: ended.id }).where('id', '=', hookId).where('ordering', '=', 'FIFO_HOLD').executeTakeFirst();
    if (Number(held.numUpdatedRows) > 0) return;
  }
  await releaseOldestWaiting(db, hookId, now, log, nextDueAt);
}

/** The status reason of a queue's next delivery while the request of a cancelled one before it may still be in flight. */
export const AFTER_CANCELLED_REQUEST_REASON = "waiting for the request of a cancelled delivery before it to end (at the latest when that attempt's lease ends)";

/**
 * When the next of a queue may go after a user cancelled this delivery: at once, unless its request
 * was in flight. That request goes on to its end, so the next waits for it: for the end of the
 * cancelled attempt's lease (the latest its outcome can come, and all a worker that died leaves
 * behind), or until that outcome is recorded (afterCancelledRequestEnded), whichever is first. A
 * cancelled delivery that was itself waiting so hands its wait on to the next.
 */
export function nextDueAfterCancel(cancelled: Pick<DeliveryRow, 'status' | 'due_at' | 'status_reason'>, now: number): number {
  const waitedForRequest = cancelled.status === 'SENDING' || (cancelled.status === 'PENDING' && cancelled.status_reason === AFTER_CANCELLED_REQUEST_REASON);
  return waitedForRequest && cancelled.due_at !== null ? Math.max(now, cancelled.due_at) : now;
}

/** What a waiting delivery becomes when its turn comes. */
const dueAt = (at: number, now: number) => ({
  status: 'PENDING' as const,
  due_at: at,
  next_attempt_at: at,
  status_reason: at > now ? AFTER_CANCELLED_REQUEST_REASON : null,
  updated_at: now,
});
const dueNow = (now: number) => dueAt(now, now);

/** The hook's oldest waiting delivery becomes due (at `at`, now unless it waits for a cancelled request). */
async function releaseOldestWaiting(db: Executor, hookId: string, now: number, log: ChangeLog, at = now): Promise<void> {
  const next = await inQueues(db, [hookId]).selectAll().where('status', '=', 'BLOCKED').orderBy('id').limit(1).executeTakeFirst();
  if (!next) return;
  const changes = dueAt(at, now);
  const updated = await db.updateTable('deliveries').set(changes).where('id', '=', next.id).where('status', '=', 'BLOCKED').executeTakeFirst();
  if (Number(updated.numUpdatedRows) > 0) {
    log.deliveries.push({ delivery: { ...next, ...changes }, previousStatus: 'BLOCKED' });
    if (at > now) log.retryAt = Math.min(log.retryAt ?? Infinity, at);
    else log.due = true;
  }
}

/**
 * The request of a cancelled delivery of this FIFO hook has ended (its outcome found the lease gone):
 * the next of the queue, waiting for that end (nextDueAfterCancel), is due now.
 */
export async function afterCancelledRequestEnded(db: Executor, hookId: string, now: number, log: ChangeLog): Promise<void> {
  await lockFifoHooks(db, [hookId]);
  const waiting = await inQueues(db, [hookId])
    .selectAll()
    .where('status', '=', 'PENDING')
    .where('status_reason', '=', AFTER_CANCELLED_REQUEST_REASON)
    .where('due_at', '>', now)
    .execute();
  for (const next of waiting) {
    const changes = dueNow(now);
    const updated = await db.updateTable('deliveries').set(changes).where('id', '=', next.id).where('status', '=', 'PENDING').where('lease_token', '=', next.lease_token).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) continue;
    log.deliveries.push({ delivery: { ...next, ...changes }, previousStatus: 'PENDING' });
    log.due = true;
  }
}

/**
 * After updateHook changed a hook's ordering (its row updated, so locked, in this transaction).
 * No longer FIFO: the queue is gone; every delivery waiting in it is due at once, since no end of
 * another would release it now. FIFO_HOLD to FIFO while held: the hold is gone, and the queue goes
 * on with its oldest waiting delivery. Made FIFO: the queue starts with the next event; what is
 * open already goes on as it was.
 */
export async function afterOrderingChanged(
  db: Executor,
  hook: Pick<HookRow, 'id' | 'ordering' | 'fifo_held_by'>,
  ordering: HookOrdering,
  now: number,
  log: ChangeLog,
): Promise<void> {
  if (!isFifo(hook.ordering) || ordering === hook.ordering) return;
  if (!isFifo(ordering)) {
    // One statement however long the queue, and like recovering an endpoint not streamed delivery
    // by delivery: a queue of a hundred thousand must not be read into memory to let it go.
    const queue = inQueues(db, [hook.id]).select('id');
    const released = await db
      .updateTable('deliveries')
      .set({ ...dueNow(now), fifo_hook_id: null })
      .where('id', 'in', queue.where('status', '=', 'BLOCKED'))
      .executeTakeFirst();
    await db.updateTable('deliveries').set({ fifo_hook_id: null }).where('id', 'in', queue.where('status', 'in', [...OPEN])).execute();
    if (Number(released.numUpdatedRows) > 0) log.due = true;
  } else if (hook.fifo_held_by !== null) {
    await queueManually(db, [hook.id], now, log);
  }
}

/** A manual retry of the delivery a FIFO_HOLD hook is held by: it is the head of the queue again. */
export async function releaseFifoHold(db: Executor, delivery: Pick<DeliveryRow, 'id' | 'hook_id'>): Promise<void> {
  if (!delivery.hook_id) return;
  await lockFifoHooks(db, [delivery.hook_id]);
  await db.updateTable('hooks').set({ fifo_held_by: null }).where('id', '=', delivery.hook_id).where('fifo_held_by', '=', delivery.id).execute();
}

/** A FIFO hook's delivery in one of these is the head of its queue: due, or in flight. */
const HEAD: readonly DeliveryStatus[] = ['PENDING', 'RETRYING', 'SENDING'];

/** How a delivery a user retries or recovers waits in its FIFO hook's queue (with `fifo_hook_id` naming it), until queueManually releases it. */
export function waitingInQueue(now: number) {
  return { status: 'BLOCKED' as const, due_at: null, next_attempt_at: null, status_reason: FIFO_WAITING_REASON, finished_at: null, updated_at: now };
}

/**
 * After a user made deliveries of these FIFO hooks wait (a retry, recovering an endpoint): sent at
 * once, they would be a second request of the hook in flight. Each hook that has nothing due or in
 * flight and is not held releases its oldest waiting delivery; the others go as their turn comes.
 * Call with the hooks' rows locked (lockFifoHooks), taken before their deliveries were made to wait.
 */
export async function queueManually(db: Executor, hookIds: readonly string[], now: number, log: ChangeLog): Promise<void> {
  const ids = [...new Set(hookIds)];
  const busy = await heldOrHaving(db, ids, HEAD);
  for (const hookId of ids) if (!busy.has(hookId)) await releaseOldestWaiting(db, hookId, now, log);
}

/** The endpoint's FIFO hooks. */
export async function fifoHooksOfEndpoint(db: Executor, endpointId: string): Promise<string[]> {
  const rows = await db.selectFrom('hooks').select('id').where('endpoint_id', '=', endpointId).where('ordering', '!=', 'UNORDERED').execute();
  return rows.map((row) => row.id);
}

/** Lifts the hold of those FIFO_HOLD hooks whose holder now waits in the queue again (it was recovered). */
export async function liftHoldsOfWaiting(db: Executor, hookIds: readonly string[]): Promise<void> {
  if (hookIds.length === 0) return;
  await db
    .updateTable('hooks')
    .set({ fifo_held_by: null })
    .where('id', 'in', [...hookIds])
    .where('fifo_held_by', 'in', () => inQueues(db, hookIds).select('id').where('status', '=', 'BLOCKED'))
    .execute();
}
