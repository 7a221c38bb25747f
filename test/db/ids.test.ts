// Ids: prefixed ULIDs, ordered by creation (the B-tree locality the stores rely on), unique, and
// with a random part that really is random (drawn from a pooled CSPRNG, not a constant or a counter).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ID_PREFIXES, idFloor, idKind, newId } from '../../src/db/ids.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

test('every kind gets its prefix and a 26-character ULID, and idKind reads the prefix back', () => {
  for (const kind of Object.keys(ID_PREFIXES) as (keyof typeof ID_PREFIXES)[]) {
    const id = newId(kind);
    const [prefix, ulid] = id.split('_');
    assert.equal(prefix, ID_PREFIXES[kind]);
    assert.match(ulid!, ULID);
    assert.equal(idKind(id), kind);
  }
  assert.equal(idKind('nope_01H0000000000000000000000'), null);
});

test('ids sort in creation order, within one millisecond and across milliseconds, and never repeat', () => {
  // the factory is monotonic for the whole process: seeds before its last time reuse that time
  const t0 = Date.now() + 1_000_000;
  const ids: string[] = [];
  for (let ms = 0; ms < 50; ms++) for (let i = 0; i < 100; i++) ids.push(newId('delivery', t0 + ms));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(idFloor('delivery', t0) <= ids[0]! && idFloor('delivery', t0 + 1) > ids[99]!);
});

test('the random part of a new millisecond is uniformly spread over the alphabet', () => {
  // 5,000 new milliseconds × 16 random characters = 80,000 draws over 32 symbols: each symbol
  // expects 2,500; a constant, a counter or a biased byte → symbol mapping lands far outside ±15 %.
  const counts = new Map<string, number>();
  const t0 = Date.now() + 2_000_000;
  for (let ms = 0; ms < 5_000; ms++) {
    const random = newId('event', t0 + ms).slice(-16);
    for (const char of random) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  assert.equal(counts.size, 32);
  for (const [char, count] of counts) assert.ok(count > 2_125 && count < 2_875, `${char}: ${count}`);
});
