// What every service and resolver can reach. Built once in app.ts; tests build their own.
import type { Kysely } from 'kysely';
import type { Clock } from './clock.js';
import type { Cipher } from './crypto.js';
import type { Store } from './db/connect.js';
import type { Database } from './db/schema.js';
import type { AddressPolicy } from './dispatch/guard.js';
import type { Config } from './env.js';
import type { Logger } from './log.js';
import type { JsonSchemaCache } from './json-schema.js';
import type { Bus } from './pubsub/bus.js';
import type { Dispatcher } from './dispatch/dispatcher.js';
import type { DeliveryRow } from './modules/deliveries/delivery.repository.js';
import type { EventRow } from './modules/events/event.repository.js';
import type { HookRow } from './modules/hooks/hook.repository.js';

/** Hooks the services call after a commit; the dispatcher and the pub/sub plug in here. */
export interface Signals {
  /** new deliveries are due now: wake the dispatcher instead of waiting for its next poll */
  deliveriesDue(): void;
  /**
   * Called inside the write that just created these due deliveries, before it commits: a dispatcher
   * in this process may lease them in the same commit. True if it took them all (then deliveriesDue
   * is not needed).
   */
  deliveriesWritten(due: readonly WrittenDelivery[]): boolean;
}

/** A due delivery just written, with the rows it was routed from (the dispatcher need not read them again). */
export interface WrittenDelivery {
  delivery: DeliveryRow;
  event: EventRow;
  hook: HookRow;
  /** other hooks wait for this hook (runAfter) */
  hasDependents: boolean;
}

export interface Services {
  config: Config;
  store: Store;
  db: Kysely<Database>;
  cipher: Cipher;
  clock: Clock;
  log: Logger;
  addressPolicy: AddressPolicy;
  jsonSchemas: JsonSchemaCache;
  signals: Signals;
  /** live topics: attempts, delivery state changes, endpoint changes */
  bus: Bus;
  /** sends attempts; also used synchronously by testHook in every role */
  dispatcher: Dispatcher;
}
