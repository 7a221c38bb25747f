// Prefixed, time-ordered ids (prefix + ULID). Time order keeps B-tree inserts at the right edge
// (random ids scatter inserts over the whole tree, which costs more the bigger it grows) and makes
// `ORDER BY id` mean "by creation".
import { randomFillSync } from 'node:crypto';
import { encodeTime, monotonicFactory } from 'ulid';

export const ID_PREFIXES = {
  tenant: 'tnt',
  token: 'tok',
  eventType: 'evty',
  endpoint: 'ep',
  secret: 'whs',
  signingKey: 'whk',
  hook: 'hook',
  event: 'msg',
  delivery: 'dlv',
  attempt: 'atm',
  operationalEvent: 'opev',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

// ulid's default source calls crypto.getRandomValues once per character (16 calls, 16 small
// allocations per id in a new millisecond), a visible share of what an idle process spends on a
// sent event. The same CSPRNG, drawn 4 KiB at a time, costs a small fraction of it.
const randomPool = Buffer.allocUnsafe(4096);
let randomOffset = randomPool.length;
function pooledRandom(): number {
  if (randomOffset === randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  return randomPool[randomOffset++]! / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${nextUlid(now)}`;
}

export function idKind(id: string): IdKind | null {
  const prefix = id.slice(0, id.indexOf('_'));
  for (const [kind, candidate] of Object.entries(ID_PREFIXES)) {
    if (candidate === prefix) return kind as IdKind;
  }
  return null;
}

/** The smallest id of a kind created at or after `time`: lets retention and time ranges use the primary key. */
export function idFloor(kind: IdKind, time: number): string {
  return `${ID_PREFIXES[kind]}_${encodeTime(Math.max(0, Math.floor(time)), 10)}${'0'.repeat(16)}`;
}
