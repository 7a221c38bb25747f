// What every service and resolver can reach. Built once in app.ts; tests build their own.
import type { Kysely } from 'kysely';
import type { Clock } from './clock.js';
import type { Cipher } from './crypto.js';
import type { Store } from './db/connect.js';
import type { AttemptRow, Database, DeliveryRow, EventRow, HookRow } from './db/schema.js';
import type { AddressPolicy } from './webhook/address-policy.js';
import type { Config } from './env.js';
import type { Logger } from './log.js';
import type { JsonSchemaCache } from './json-schema.js';
import type { Bus } from './pubsub/bus.js';

/** Hooks the services call after a commit; the dispatcher and the pub/sub plug in here. */
export interface Signals {
  /** new deliveries are due now: wake the dispatcher instead of waiting for its next poll */
  deliveriesDue(): void;
  /**
   * Called inside the write that is about to insert these due deliveries, before it does: a
   * dispatcher in this process with room leases them as they are written (the write inserts the
   * leased rows it hands back instead, so each row is written once). Null if it took none.
   */
  leaseAsWritten(due: readonly WrittenDelivery[]): NewDeliveryLease | null;
  /** these many new events were accepted (committed); duplicates by idempotency key are not counted */
  eventsAccepted(count: number): void;
}

/** What a dispatcher took of a write's new deliveries (Signals.leaseAsWritten). */
export interface NewDeliveryLease {
  /** it took every due delivery: nobody need wake it after the commit */
  readonly tookAll: boolean;
  /** by id, the rows to insert in place of those routed: SENDING, under its lease */
  readonly leased: ReadonlyMap<string, DeliveryRow>;
  /** the write has inserted the rows (call it in the same write): their requests start at its commit */
  inserted(): void;
}

/** A due delivery about to be written, with the rows it was routed from (the dispatcher need not read them again). */
export interface WrittenDelivery {
  delivery: DeliveryRow;
  event: EventRow;
  hook: HookRow;
  /** other hooks wait for this hook (runAfter) */
  hasDependents: boolean;
}

/** What services need of the dispatcher, and no more: the dispatcher is not a service others reach through. */
export interface ImmediateSender {
  /** Attempts these deliveries now (the caller made them due for nobody else) and answers their attempts. */
  runNow(deliveryIds: readonly string[]): Promise<AttemptRow[]>;
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
  /** sends deliveries at once, outside the claim loop (testHook, in every role) */
  sender: ImmediateSender;
}
