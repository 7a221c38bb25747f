// What every sendEvent reads and what rarely changes: whether its tenant exists and its event type.
// On SQLite this process is the store's only writer, so each change passes through invalidate()
// here and the answers can stay in memory. The read they replace is cheap on an idle store but
// several times dearer under many concurrent senders (a read outside a transaction, between group
// commits). On PostgreSQL other nodes write too: every look-up reads.
import type { EventTypeRow, Executor } from '../../db/schema.js';
import type { Services } from '../../services.js';
import { findEventTypeByName } from '../event-types/event-type.repository.js';
import { findTenantById } from '../tenants/tenant.repository.js';

export interface Catalog {
  tenantExists(id: string): Promise<boolean>;
  /** undefined: the type does not exist */
  eventType(name: string): Promise<EventTypeRow | undefined>;
}

interface Remembered {
  tenants: Map<string, boolean>;
  /** undefined: the type does not exist (remembered too: a typo sent in a loop should not cost a read each) */
  types: Map<string, EventTypeRow | undefined>;
  catalog: Catalog;
}

/** Bounds memory against callers that send to endless made-up tenant ids or type names. */
const MAX_ENTRIES = 10_000;

/** Each app's catalog, made once: every sendEvent asks for it. */
const remembered = new WeakMap<Services, Remembered>();
const readThroughs = new WeakMap<Services, Catalog>();

function readThrough(db: Executor): Catalog {
  return {
    tenantExists: async (id) => (await findTenantById(db, id)) !== undefined,
    eventType: (name) => findEventTypeByName(db, name),
  };
}

function rememberedCatalog(read: Catalog): Remembered {
  const tenants = new Map<string, boolean>();
  const types = new Map<string, EventTypeRow | undefined>();
  // Each answer is stored as it is read, so an invalidation that follows a read always wins.
  const catalog: Catalog = {
    tenantExists: async (id) => {
      const known = tenants.get(id);
      if (known !== undefined) return known;
      const exists = await read.tenantExists(id);
      if (tenants.size >= MAX_ENTRIES) tenants.clear();
      tenants.set(id, exists);
      return exists;
    },
    eventType: async (name) => {
      if (types.has(name)) return types.get(name);
      const row = await read.eventType(name);
      if (types.size >= MAX_ENTRIES) types.clear();
      types.set(name, row);
      return row;
    },
  };
  return { tenants, types, catalog };
}

/** The catalog of this app's store: remembered on SQLite, read each time on PostgreSQL. */
export function catalogOf(services: Services): Catalog {
  if (services.store.dialect !== 'sqlite') {
    let read = readThroughs.get(services);
    if (read === undefined) readThroughs.set(services, (read = readThrough(services.db)));
    return read;
  }
  let cache = remembered.get(services);
  if (cache === undefined) remembered.set(services, (cache = rememberedCatalog(readThrough(services.db))));
  return cache.catalog;
}

/** After a write to tenants or event types has committed. */
export function invalidateCatalog(services: Services): void {
  const cache = remembered.get(services);
  cache?.tenants.clear();
  cache?.types.clear();
}
