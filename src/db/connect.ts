import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql, type KyselyConfig, type SqliteDatabase } from 'kysely';
import { LruCache } from '../lru-cache.js';
import pg from 'pg';
import type { Database } from './schema.js';
import { migrationProvider } from './migrations/index.js';
import { createGroupCommit, type GroupCommit, type GroupCommitOptions } from './group-commit.js';
import { SearchPathPostgresDialect } from './pg-introspector.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** the raw better-sqlite3 handle (the group commit's own transaction control and WAL sync) */
  sqlite: SQLite.Database | null;
  /** the hot paths' writes (accepting events, claiming, recording attempts), sharing commits on SQLite */
  writes: GroupCommit;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** `postgres://…` or `postgresql://…` selects PostgreSQL; anything else is a SQLite file path; `:memory:` works too */
  url: string;
  /** PostgreSQL pool size; default 10 */
  poolSize?: number;
  /** Called with the SQL of each statement run through Kysely, after it ran: for tests that count the statements a request costs. */
  onQuery?: (sql: string) => void;
  /** SQLite: the group commit's sync of the WAL file (default: node:fs fsync; tests inject a failing disk) */
  syncWal?: GroupCommitOptions['fsyncWal'];
  /** PostgreSQL: an idle pooled connection failed (the server restarted or cut it); the pool drops it and opens a new one when needed. */
  onConnectionLost?: (error: Error) => void;
}

const PG_INT8 = 20;
const PG_NUMERIC = 1700;

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

export function defaultSqlitePath(dataDir: string): string {
  return join(dataDir, 'switchyard.db');
}

export function openStore(options: StoreOptions): Store {
  const { onQuery } = options;
  const log: KyselyConfig['log'] = onQuery ? (event) => onQuery(event.query.sql) : undefined;
  if (isPostgresUrl(options.url)) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      // Timestamps are epoch-ms BIGINTs; they fit a JS number exactly, so parse them as numbers
      // instead of pg's default strings (set per pool, not globally, to not surprise other pg users).
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
          if (oid === PG_INT8 || oid === PG_NUMERIC) return (value: string) => Number(value);
          return pg.types.getTypeParser(oid, format);
        }) as typeof pg.types.getTypeParser,
      },
    });
    // Without a listener, a client's connection error (a server restart) would end the process: the
    // pool listens only while a client is idle, and Kysely holds clients for whole transactions.
    const connectionLost = (error: Error) => options.onConnectionLost?.(error);
    pool.on('error', connectionLost);
    pool.on('connect', (client) => client.on('error', connectionLost));
    const db = new Kysely<Database>({ dialect: new SearchPathPostgresDialect({ pool }), log });
    return { db, dialect: 'postgres', sqlite: null, writes: createGroupCommit(db, null), close: () => db.destroy() };
  }
  if (options.url !== ':memory:') mkdirSync(dirname(options.url), { recursive: true });
  const sqlite = new SQLite(options.url);
  // 8 KiB pages for a new database (an existing one keeps its own): a complete attempt row is ~1 KiB,
  // four to a 4 KiB page. Chosen by end-to-end deliveries/s in interleaved runs against 4 and
  // 16 KiB pages (the figures are in bench/README.md).
  sqlite.pragma('page_size = 8192');
  sqlite.pragma('journal_mode = WAL');
  // FULL: a delivery acknowledged to the producer survives power loss, not just a process crash
  // (the group commit keeps that guarantee with a WAL fsync of its own, off the event loop).
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // The default page cache (2 MiB) holds a few thousand index pages; with a few hundred thousand
  // deliveries every insert then reads index pages back from the OS. 32 MiB keeps the hot index
  // paths cached, so inserts and claims stay fast as the queue grows; temp_store keeps the
  // claim's small sorts off disk.
  sqlite.pragma('cache_size = -32768');
  sqlite.pragma('temp_store = MEMORY');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), log });
  const writes = createGroupCommit(db, sqlite, { onQuery, ...(options.syncWal ? { fsyncWal: options.syncWal } : {}) });
  return {
    db,
    dialect: 'sqlite',
    sqlite,
    writes,
    close: async () => {
      writes.close();
      await db.destroy();
    },
  };
}

/** Distinct statement texts kept prepared: every statement of the code, with room for list lengths of ad-hoc queries. */
const PREPARED_STATEMENTS = 500;

/**
 * The database as Kysely's SQLite driver sees it, preparing each distinct SQL text once: the driver
 * prepares every query it runs, and preparing costs about as much as running a hot-path write.
 * Pragmas are prepared anew each time: SQLite applies some (synchronous) when they are prepared.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const prepared = new LruCache<SQLite.Statement>(PREPARED_STATEMENTS);
  return {
    close: () => sqlite.close(),
    prepare: (text: string) => {
      if (/^\s*pragma/i.test(text)) return sqlite.prepare(text);
      let statement = prepared.get(text);
      if (statement === undefined) prepared.set(text, (statement = sqlite.prepare(text)));
      return statement;
    },
  };
}

async function migratorFor(db: Kysely<Database>, dialect: Dialect): Promise<Migrator> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one; with several
  // schemas in one database (one per test run, or per deployment) it must be the current one.
  const schema =
    dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  return new Migrator({ db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
}

/**
 * The migrations this code knows that the database has not applied (a query, so it also tells
 * whether the database answers: it rejects when it does not).
 */
export async function pendingMigrations(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  const migrations = await (await migratorFor(db, dialect)).getMigrations();
  return migrations.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  const migrator = await migratorFor(db, dialect);
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${detail}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
