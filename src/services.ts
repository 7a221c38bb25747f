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

/** Hooks the services call after a commit; the dispatcher and the pub/sub plug in here. */
export interface Signals {
  /** new deliveries are due now: wake the dispatcher instead of waiting for its next poll */
  deliveriesDue(): void;
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
