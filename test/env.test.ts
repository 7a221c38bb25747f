// Configuration: SWITCHYARD_HTTP_THREAD, OTEL_TRACES_EXPORTER and the OTLP protocol parsed, defaulted and refused clearly.
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

test('OTEL_TRACES_EXPORTER: unset or none loads no SDK; otlp and console (a list) are taken once each; anything else refused by name', () => {
  assert.deepEqual(loadConfig({}).traceExporters, []);
  assert.deepEqual(loadConfig({ OTEL_TRACES_EXPORTER: 'none' }).traceExporters, []);
  assert.deepEqual(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).traceExporters, ['otlp']);
  assert.deepEqual(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp, console,otlp' }).traceExporters, ['otlp', 'console']);
  assert.throws(
    () => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }),
    (error: unknown) => error instanceof ConfigError && error.problems.some((problem) => problem.startsWith('OTEL_TRACES_EXPORTER')),
  );
});

test('the OTLP encoding: protobuf by default (as the specification says), JSON on request, the traces variable first; grpc refused by name', () => {
  const cases: [Record<string, string>, string][] = [
    [{}, 'http/protobuf'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'http/json'],
    [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, 'http/json'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }, 'http/protobuf'],
  ];
  for (const [env, protocol] of cases) assert.equal(loadConfig(env).otlpProtocol, protocol, JSON.stringify(env));
  assert.throws(
    () => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    (error: unknown) =>
      error instanceof ConfigError && error.problems.some((problem) => problem.startsWith('OTEL_EXPORTER_OTLP_PROTOCOL') && problem.includes('grpc is not supported')),
  );
});
