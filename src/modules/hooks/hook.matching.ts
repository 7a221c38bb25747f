// Routing: whether a hook wants an event, by its event types, channels and filter, compiled once
// per hook version so sending an event to a tenant with many hooks stays a loop of predicates.
import { parseJson, parseJsonOrNull } from '../../db/json.js';
import type { HookRow } from '../../db/schema.js';
import { eventTypeMatcher } from '../../webhook/event-type-pattern.js';
import { compileFilter } from '../../webhook/filter.js';

/** What a matcher looks at. `document` is `eventDocument(event)`, built once per event and shared by every hook. */
export interface MatchableEvent {
  type: string;
  channels: readonly string[];
  document: unknown;
}

export type HookMatcher = (event: MatchableEvent) => boolean;

/** What filters are evaluated against (see filter.ts): `{ type, channels, data }`. */
export function eventDocument(event: { type: string; channels: readonly string[]; payload: unknown }): {
  type: string;
  channels: readonly string[];
  data: unknown;
} {
  return { type: event.type, channels: event.channels, data: event.payload };
}

const MATCHER_CACHE_LIMIT = 10_000;
const matchers = new Map<string, HookMatcher>();
const NEVER: HookMatcher = () => false;

/**
 * The hook's event types, channels and filter as one predicate, compiled once per hook version
 * (cached by `id@updated_at`). It does not look at `active`: findRoutableHooks already selects the
 * active hooks. A stored filter that no longer compiles matches nothing, so one bad hook cannot make
 * sending events fail for its whole tenant.
 */
export function compileHookMatcher(row: Pick<HookRow, 'id' | 'updated_at' | 'event_types' | 'channels' | 'filter'>): HookMatcher {
  const key = `${row.id}@${row.updated_at}`;
  let matcher = matchers.get(key);
  if (matcher === undefined) {
    matcher = buildMatcher(row);
    // Oldest-inserted first out: an evicted hook just compiles again, and hits stay one Map lookup.
    if (matchers.size >= MATCHER_CACHE_LIMIT) {
      const oldest = matchers.keys().next();
      if (!oldest.done) matchers.delete(oldest.value);
    }
    matchers.set(key, matcher);
  }
  return matcher;
}

/**
 * Whether the hook wants the event. Pass the row (its matcher is looked up in the cache) or a matcher
 * from compileHookMatcher; for many hooks per event, build `eventDocument` once and call matchers directly.
 */
export function hookMatchesEvent(
  hook: Pick<HookRow, 'id' | 'updated_at' | 'event_types' | 'channels' | 'filter'> | HookMatcher,
  event: { type: string; channels: readonly string[]; payload: unknown },
): boolean {
  const matcher = typeof hook === 'function' ? hook : compileHookMatcher(hook);
  return matcher({ type: event.type, channels: event.channels, document: eventDocument(event) });
}

function buildMatcher(row: Pick<HookRow, 'event_types' | 'channels' | 'filter'>): HookMatcher {
  let filter: ((document: unknown) => boolean) | null = null;
  let patterns: string[];
  let channels: string[];
  try {
    patterns = parseJson<string[]>(row.event_types);
    channels = parseJson<string[]>(row.channels);
    const filterDocument = parseJsonOrNull<Record<string, unknown>>(row.filter);
    if (filterDocument !== null) filter = compileFilter(filterDocument);
  } catch {
    return NEVER;
  }
  const typeMatches = eventTypeMatcher(patterns);
  const wanted = new Set(channels);
  const channelsMatch =
    wanted.size === 0
      ? () => true
      : (eventChannels: readonly string[]) => {
          for (const channel of eventChannels) if (wanted.has(channel)) return true;
          return false;
        };
  return (event) => typeMatches(event.type) && channelsMatch(event.channels) && (filter === null || filter(event.document));
}

