// The token behind each request: every request with a stored token (a tenant's console or
// frontend, the admin token generated at first start) is authenticated by its hash. Read from the
// store each time, that read cost a small query more than the rest of the request, and on SQLite it
// waits for the group commit that holds the connection. On SQLite this process is the store's only
// writer, so the rows can stay in memory: every change that can end a token (revoking it,
// deleting its tenant) passes through forgetTokens() here. Expiry needs no change: it is checked
// on every use. On PostgreSQL other nodes revoke too: every look-up reads, as the catalog does.
import type { Executor, TokenRow } from '../../db/schema.js';
import { LruCache } from '../../lru-cache.js';
import type { Services } from '../../services.js';
import { findTokenByHash } from './token.repository.js';

export interface TokenLookup {
  /** the stored token with this hash, or undefined */
  byHash(hash: string): Promise<TokenRow | undefined>;
  /** after this process recorded the token's last use: the remembered row says so too */
  used(hash: string, at: number): void;
}

/**
 * Bounds memory by tokens in use, not by what callers present: only tokens that exist are kept, so
 * made-up tokens (each answered 401) read every time, as before, and fill nothing.
 */
const MAX_TOKENS = 10_000;

interface Remembered {
  rows: LruCache<TokenRow>;
  /** bumped by every forgetTokens(): a read that began before one does not store what it read */
  generation: number;
  lookup: TokenLookup;
}

const remembered = new WeakMap<Services, Remembered>();
const readThroughs = new WeakMap<Services, TokenLookup>();

function readThrough(db: Executor): TokenLookup {
  return { byHash: (hash) => findTokenByHash(db, hash), used: () => {} };
}

function rememberedLookup(db: Executor): Remembered {
  const cache: Remembered = {
    rows: new LruCache<TokenRow>(MAX_TOKENS),
    generation: 0,
    lookup: {
      byHash: async (hash) => {
        const known = cache.rows.get(hash);
        if (known !== undefined) return known;
        const generation = cache.generation;
        const row = await findTokenByHash(db, hash);
        if (row !== undefined && generation === cache.generation) cache.rows.set(hash, row);
        return row;
      },
      // Only the time of use changes: the row remembered now may be newer than the one that was used.
      used: (hash, at) => {
        const current = cache.rows.get(hash);
        if (current !== undefined) cache.rows.set(hash, { ...current, last_used_at: at });
      },
    },
  };
  return cache;
}

/** The token look-up of this app's store: remembered on SQLite, read each time on PostgreSQL. */
export function tokenLookupOf(services: Services): TokenLookup {
  if (services.store.dialect !== 'sqlite') {
    let read = readThroughs.get(services);
    if (read === undefined) readThroughs.set(services, (read = readThrough(services.db)));
    return read;
  }
  let cache = remembered.get(services);
  if (cache === undefined) remembered.set(services, (cache = rememberedLookup(services.db)));
  return cache.lookup;
}

/** After a write that revokes or deletes tokens has committed. */
export function forgetTokens(services: Services): void {
  const cache = remembered.get(services);
  if (cache === undefined) return;
  cache.generation++;
  cache.rows = new LruCache<TokenRow>(MAX_TOKENS);
}
