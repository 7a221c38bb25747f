// Event-type patterns, as hooks and subscription filters name the types they want: an exact name,
// `group.*` (every type under the group) or `*` (all). Validated when a hook is saved (the hook
// rules also check that a type matches), matched for every event and every live message.

/** The group part of a `group.*` pattern: the event-type name grammar, but one segment is enough. */
export const EVENT_TYPE_PATTERN_GROUP = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
export const MAX_EVENT_TYPE_PATTERN_LENGTH = 256;

/** A predicate for exact names, `group.*` wildcards and `*` (all), compiled once for hot paths. */
export function eventTypeMatcher(patterns: readonly string[]): (type: string) => boolean {
  if (patterns.includes('*')) return () => true;
  const exact = new Set<string>();
  // `invoice.*` is kept as `invoice.`: the trailing dot is what keeps `invoices.x` out.
  const prefixes: string[] = [];
  for (const pattern of patterns) {
    if (pattern.endsWith('.*')) prefixes.push(pattern.slice(0, -1));
    else exact.add(pattern);
  }
  if (prefixes.length === 0) return (type) => exact.has(type);
  return (type) => {
    if (exact.has(type)) return true;
    for (const prefix of prefixes) if (type.startsWith(prefix)) return true;
    return false;
  };
}
