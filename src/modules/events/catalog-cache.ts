// What every sendEvent reads and what rarely changes: whether its tenant exists and its event type.
// On SQLite this process is the store's only writer, so each change passes through invalidate()
// here and the answers can stay in memory. The read they replace is cheap on an idle store but
// several times dearer under many concurrent senders (a read outside a transaction, between group
// commits). On PostgreSQL other nodes write too: nothing is cached there.
import type { EventTypeRow } from '../../db/schema.js';
import type { Services } from '../../services.js';

export interface CatalogCache {
  tenants: Map<string, boolean>;
  /** undefined: the type does not exist (cached too: a typo sent in a loop should not cost a read each) */
  types: Map<string, EventTypeRow | undefined>;
}

/** Bounds memory against callers that send to endless made-up tenant ids or type names. */
const MAX_ENTRIES = 10_000;

const caches = new WeakMap<Services, CatalogCache>();

/** The cache of this app's SQLite store (on PostgreSQL nothing calls it: it would not be kept up to date). */
export function catalogCache(services: Services): CatalogCache {
  let cache = caches.get(services);
  if (cache === undefined) {
    cache = { tenants: new Map(), types: new Map() };
    caches.set(services, cache);
  }
  if (cache.tenants.size > MAX_ENTRIES) cache.tenants.clear();
  if (cache.types.size > MAX_ENTRIES) cache.types.clear();
  return cache;
}

/** After a write to tenants or event types has committed. */
export function invalidateCatalog(services: Services): void {
  const cache = caches.get(services);
  cache?.tenants.clear();
  cache?.types.clear();
}
