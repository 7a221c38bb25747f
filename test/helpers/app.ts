// Starts the real server on port 0 against a fresh store, and talks to it over real HTTP.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp, type App, type AppOptions } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/env.js';
import { createLogger } from '../../src/log.js';

export const ADMIN_TOKEN = 'sy_test_admin_token_0123456789';

export type TestDialect = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL too when SWITCHYARD_TEST_DATABASE_URL is set (as .ci/run does). */
export const TEST_DIALECTS: TestDialect[] = process.env.SWITCHYARD_TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/** A private PostgreSQL schema per test app, so test files can run in parallel on one database (also for child processes). */
export async function createPgSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.SWITCHYARD_TEST_DATABASE_URL;
  if (!base) throw new Error('SWITCHYARD_TEST_DATABASE_URL is not set');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

export interface TestApp {
  app: App;
  url: string;
  config: Config;
  /** POST a GraphQL document; returns the parsed JSON body (and the HTTP status). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<{ status: number; data: T; errors?: any[] }>;
  /** Like gql, but fails the test on any GraphQL error and returns data. */
  ok<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<T>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  dialect?: TestDialect;
  clock?: Clock;
  env?: Record<string, string>;
  /** sees the SQL of every Kysely statement the app runs */
  onQuery?: (sql: string) => void;
  /** syncs SQLite's WAL file for the group commit instead of fsync (a test holds or fails a sync) */
  syncWal?: AppOptions['syncWal'];
  /** receives the app's log lines instead of stderr (the level is still SWITCHYARD_LOG_LEVEL in `env`) */
  logSink?: (line: string) => void;
}

/** `gql` and `ok` against a server at `url` (this process's test app, or a child's). */
export function graphqlClient(url: string): Pick<TestApp, 'gql' | 'ok'> {
  const gql: TestApp['gql'] = async (query, variables, token = ADMIN_TOKEN) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data: any; errors?: any[] };
    return { status: response.status, data: body.data, ...(body.errors ? { errors: body.errors } : {}) };
  };
  return {
    gql,
    async ok(query, variables, token) {
      const result = await gql(query, variables, token);
      if (result.errors) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors, null, 2)}`);
      return result.data;
    },
  };
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-'));
  const pgSchema = options.dialect === 'postgres' ? await createPgSchema() : null;
  const config = loadConfig({
    NODE_ENV: 'test',
    SWITCHYARD_PORT: '0',
    SWITCHYARD_HOST: '127.0.0.1',
    SWITCHYARD_DATA_DIR: dir,
    SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
    SWITCHYARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SWITCHYARD_ALLOW_HTTP: 'true',
    SWITCHYARD_ALLOW_PRIVATE_CIDRS: '127.0.0.1/32',
    SWITCHYARD_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(pgSchema ? { SWITCHYARD_DATABASE_URL: pgSchema.url } : {}),
    ...options.env,
  });
  const app = await buildApp({
    config,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.onQuery ? { onQuery: options.onQuery } : {}),
    ...(options.syncWal ? { syncWal: options.syncWal } : {}),
    log: createLogger(config.logLevel, options.logSink),
    announce: () => {},
  });
  await app.start();
  return {
    app,
    url: app.url,
    config,
    ...graphqlClient(app.url),
    async stop() {
      await app.stop();
      await pgSchema?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
