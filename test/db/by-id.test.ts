// Batch reads by id hand rows back in the order asked, null for a missing id: what a DataLoader needs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inIdOrder } from '../../src/db/by-id.js';

test('rows come back in the order of the ids, null where none matched, repeats repeated', () => {
  const rows = [{ id: 'b', n: 2 }, { id: 'a', n: 1 }];
  assert.deepEqual(inIdOrder(['a', 'x', 'b', 'a'], rows), [{ id: 'a', n: 1 }, null, { id: 'b', n: 2 }, { id: 'a', n: 1 }]);
  assert.deepEqual(inIdOrder([], rows), []);
});
