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
}

/** Bounds memory against callers that send to endless made-up tenant ids or type names. */
const MAX_ENTRIES = 10_000;

const remembered = new WeakMap<Services, Remembered>();

function readThrough(db: Executor): Catalog {
  return {
    tenantExists: async (id) => (await findTenantById(db, id)) !== undefined,
    eventType: (name) => findEventTypeByName(db, name),
  };
}

/** The catalog of this app's store: remembered on SQLite, read each time on PostgreSQL. */
export function catalogOf(services: Services): Catalog {
  const read = readThrough(services.db);
  if (services.store.dialect !== 'sqlite') return read;
  let cache = remembered.get(services);
  if (cache === undefined) remembered.set(services, (cache = { tenants: new Map(), types: new Map() }));
  if (cache.tenants.size > MAX_ENTRIES) cache.tenants.clear();
  if (cache.types.size > MAX_ENTRIES) cache.types.clear();
  const { tenants, types } = cache;
  // Each answer is stored as it is read, so an invalidation that follows a read always wins.
  return {
    tenantExists: async (id) => {
      const known = tenants.get(id);
      if (known !== undefined) return known;
      const exists = await read.tenantExists(id);
      tenants.set(id, exists);
      return exists;
    },
    eventType: async (name) => {
      if (types.has(name)) return types.get(name);
      const row = await read.eventType(name);
      types.set(name, row);
      return row;
    },
  };
}

/** After a write to tenants or event types has committed. */
export function invalidateCatalog(services: Services): void {
  const cache = remembered.get(services);
  cache?.tenants.clear();
  cache?.types.clear();
}
