// Retention: events (with their deliveries), attempts and operational events older than the retention period are
// deleted in the background, in small batches, so a purge never holds the store for long.
import type { ExpressionBuilder } from 'kysely';
import type { Database, DeliveryStatus } from '../db/schema.js';
import { idFloor } from '../db/ids.js';
import { purgeOperationalEvents } from '../modules/operations/operational-event.repository.js';
import type { Services } from '../services.js';

const OPEN: DeliveryStatus[] = ['PENDING', 'SENDING', 'RETRYING', 'BLOCKED'];

const DAY_MS = 86_400_000;

export interface PurgeResult {
  events: number;
  attempts: number;
  operational: number;
}

/** Deletes at most `batchSize` old events, `batchSize` old attempts and `batchSize` old operational events. */
export async function purgeOnce(services: Services, batchSize = 500): Promise<PurgeResult> {
  const cutoff = services.clock.now() - services.config.retentionDays * DAY_MS;
  const { db } = services;
  // Attempts of a delivery still under way are kept with it: its log must stay whole until it ends.
  const oldAttempts = await db
    .selectFrom('attempts')
    .select('id')
    // ids carry their creation time: an id range on the primary key, no time index needed
    .where('id', '<', idFloor('attempt', cutoff))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('deliveries')
            .select('deliveries.id')
            .whereRef('deliveries.id', '=', 'attempts.delivery_id')
            .where('deliveries.status', 'in', OPEN),
        ),
      ),
    )
    .limit(batchSize)
    .execute();
  if (oldAttempts.length > 0) {
    await db.deleteFrom('attempts').where('id', 'in', oldAttempts.map((row) => row.id)).execute();
  }
  // An event still being delivered is kept until it is done, however old. The condition is repeated
  // in the DELETE: a retry or replay between the two statements must not lose its new delivery.
  const noOpenDelivery = (eb: ExpressionBuilder<Database, 'events'>) =>
    eb.not(
      eb.exists(
        eb
          .selectFrom('deliveries')
          .select('deliveries.id')
          .whereRef('deliveries.event_id', '=', 'events.id')
          .where('deliveries.status', 'in', OPEN),
      ),
    );
  const oldEvents = await db.selectFrom('events').select('id').where('id', '<', idFloor('event', cutoff)).where(noOpenDelivery).limit(batchSize).execute();
  if (oldEvents.length > 0) {
    await db
      .deleteFrom('events')
      .where('id', 'in', oldEvents.map((row) => row.id))
      .where(noOpenDelivery)
      .execute();
  }
  const operational = await purgeOperationalEvents(db, cutoff, batchSize);
  return { events: oldEvents.length, attempts: oldAttempts.length, operational };
}

/**
 * Purges every `intervalMs` until nothing old is left, yielding between batches.
 * Returns a stop function.
 */
export function startRetention(services: Services, intervalMs = 60_000): () => Promise<void> {
  let stopped = false;
  let running: Promise<void> | null = null;
  const run = async () => {
    for (let round = 0; round < 1000 && !stopped; round++) {
      const result = await purgeOnce(services);
      if (result.events > 0 || result.attempts > 0 || result.operational > 0) services.log.debug('retention: purged', { ...result });
      if (result.events < 500 && result.attempts < 500 && result.operational < 500) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = run()
      .catch((error: unknown) => services.log.warn('retention: purge failed', { error: String(error) }))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
