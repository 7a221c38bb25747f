// The kinds of operational events, and the reserved `switchyard.*` event types that carry them.
import { ProblemList } from '../../errors.js';

export const OPERATIONAL_KINDS = [
  'endpoint.disabled',
  'endpoint.enabled',
  'endpoint.failing',
  'endpoint.recovered',
  'delivery.exhausted',
  'delivery.recovered',
] as const;

export type OperationalKind = (typeof OPERATIONAL_KINDS)[number];

/** Event types under this prefix are Switchyard's own: no producer creates or sends them. */
export const RESERVED_EVENT_TYPE_PREFIX = 'switchyard.';

export const isReservedEventType = (name: string): boolean => name.startsWith(RESERVED_EVENT_TYPE_PREFIX);

export const eventTypeOf = (kind: OperationalKind): string => `${RESERVED_EVENT_TYPE_PREFIX}${kind}`;

const KNOWN = new Set<string>(OPERATIONAL_KINDS);

/** The kinds a filter names, each checked; an unknown one is a problem at its index. */
export function checkKinds(kinds: readonly string[] | null | undefined, at: string[]): OperationalKind[] | null {
  if (kinds === null || kinds === undefined) return null;
  const problems = new ProblemList();
  kinds.forEach((kind, index) => {
    if (!KNOWN.has(kind)) problems.add([...at, String(index)], `unknown operational event kind ${JSON.stringify(kind)}: one of ${OPERATIONAL_KINDS.join(', ')}`);
  });
  problems.throwIfAny();
  return kinds as OperationalKind[];
}
