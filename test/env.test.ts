// Configuration: SWITCHYARD_HTTP_THREAD (this session's setting) parsed, defaulted and refused clearly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/env.js';

test('SWITCHYARD_HTTP_THREAD: on by default, off with false/0/no, anything else refused by name with the rest of the problems', () => {
  assert.equal(loadConfig({}).httpThread, true);
  for (const off of ['false', '0', 'no']) assert.equal(loadConfig({ SWITCHYARD_HTTP_THREAD: off }).httpThread, false);
  for (const on of ['true', '1', 'yes']) assert.equal(loadConfig({ SWITCHYARD_HTTP_THREAD: on }).httpThread, true);
  assert.throws(
    () => loadConfig({ SWITCHYARD_HTTP_THREAD: 'maybe', SWITCHYARD_MAX_IN_FLIGHT: '0' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.problems.some((problem) => problem.startsWith('SWITCHYARD_HTTP_THREAD')) &&
      error.problems.some((problem) => problem.startsWith('SWITCHYARD_MAX_IN_FLIGHT')),
  );
});
