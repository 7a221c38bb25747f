// Which errors mean "the database cannot be reached right now" (answered STORE_UNAVAILABLE), and
// which are faults of a statement (still "Unexpected error.").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStoreUnavailable } from '../../src/db/unavailable.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

const cases: [string, unknown, boolean][] = [
  ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), true],
  ['connection reset', withCode('read ECONNRESET', 'ECONNRESET'), true],
  ['pg: terminated under a query', new Error('Connection terminated unexpectedly'), true],
  ['pg: terminated, idle', new Error('Connection terminated'), true],
  ['admin shutdown (57P01)', withCode('terminating connection due to administrator command', '57P01'), true],
  ['cannot connect now (57P03)', withCode('the database system is starting up', '57P03'), true],
  ['connection exception class 08', withCode('connection failure', '08006'), true],
  ['wrapped in a cause', Object.assign(new Error('query failed'), { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') }), true],
  ['unique violation', withCode('duplicate key value violates unique constraint', '23505'), false],
  ['syntax error', withCode('syntax error at or near "selec"', '42601'), false],
  ['SQLite constraint', withCode('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE'), false],
  ['a plain error', new Error('something else'), false],
  ['not an error', 'ECONNREFUSED', false],
];

for (const [name, error, expected] of cases) {
  test(`isStoreUnavailable: ${name} → ${expected}`, () => assert.equal(isStoreUnavailable(error), expected));
}
