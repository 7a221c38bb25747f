// Statements of the hot paths, each written once with Kysely and compiled once per dialect.
//
// Kysely builds and compiles a query every time it runs; at thousands of rows a second that costs
// more than the statement itself. A statement defined here is built once against placeholders,
// compiled once for each dialect it meets, and every run only binds its values into the compiled
// parameters and executes through the caller's executor (its transaction, its connection, its
// query log). On SQLite the dialect's database keeps prepared statements by SQL text (connect.ts),
// so a run is a bind and a step; on a connection its caller holds for a whole group of writes (the
// group commit's units), the prepared statement runs directly, without Kysely's hand-off of the
// connection for each query, which costs more than the statement. Kysely has no "prepare once,
// bind many" of its own, hence this file.
//
// Lists are one parameter on both dialects (a JSON array read by json_each on SQLite, an array
// compared with any/all on PostgreSQL): a statement does not change with the length of its list,
// and no list runs into a dialect's limit on parameters.
import { PostgresAdapter, sql, type Compilable, type CompiledQuery, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type SQLite from 'better-sqlite3';
import type { Database, Executor } from './schema.js';

type DialectName = 'sqlite' | 'postgres';

/** The dialect an executor runs on (read off its adapter: transactions and connections carry it). */
export function dialectOf(db: Executor): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** What a statement's builder gets: a placeholder per value, and list comparisons bound as one parameter. */
export interface Slots<P> {
  /** placeholders, typed as the values they stand for so the builder type-checks as usual */
  readonly value: { readonly [K in keyof P]: P[K] };
  /** `column in (the list values[key])` */
  in(column: string, key: ListKey<P>): RawBuilder<SqlBool>;
  /** `column not in (the list values[key])`; an empty list excludes nothing */
  notIn(column: string, key: ListKey<P>): RawBuilder<SqlBool>;
}

type ListKey<P> = { [K in keyof P]: P[K] extends readonly unknown[] ? K : never }[keyof P] & string;

/**
 * On a held connection a run is synchronous and its result is returned as it is, not wrapped in a
 * promise: callers await either, and the hot paths (a handful of statements per delivery) skip a
 * promise and a turn of the microtask queue per statement.
 */
export type MaybePromise<T> = T | Promise<T>;

export interface Statement<P, O> {
  run(db: Executor, values: P): MaybePromise<{ rows: O[]; changes: number }>;
  /** runs once per item of `values`, in order (on a held connection without a turn of the event loop between them) */
  runEach(db: Executor, values: readonly P[]): Promise<void>;
  rows(db: Executor, values: P): MaybePromise<O[]>;
  first(db: Executor, values: P): MaybePromise<O | undefined>;
  /** rows written (inserted, updated or deleted) */
  changes(db: Executor, values: P): MaybePromise<number>;
}

// A placeholder is a string no caller sends: the builder passes it through as a parameter, and the
// compiled parameter list then tells which value goes where.
const SLOT = '\u0000slot\u0000';

/** how a compiled parameter is filled: a constant of the builder, a value, or a list of values */
const enum Fill {
  Constant,
  Value,
  List,
}

interface Compiled {
  query: CompiledQuery;
  /** per parameter, what fills it */
  fills: Fill[];
  /** fills `parameters` from a run's values, in the compiled order */
  bind: (values: object, parameters: unknown[]) => unknown[];
  /** the statement prepared on the held connection it last ran on */
  prepared: Prepared | null;
  /** the parameters of a run on a held connection, reused: such a run is synchronous, so one array serves every run */
  scratch: unknown[];
}

/** A SQLite connection its caller holds (Kysely's lock taken) for as long as the executor is in use. */
export interface HeldConnection {
  database: SQLite.Database;
  /** the store's query log, which Kysely would have called */
  onQuery?: ((sql: string) => void) | undefined;
}

const heldConnections = new WeakMap<Executor, HeldConnection>();

/** Marks `executor` as bound to a connection its caller holds: statements then run on it directly. */
export function holdConnection(executor: Executor, connection: HeldConnection): void {
  heldConnections.set(executor, connection);
}

/** The caller gives the connection back: a statement run on `executor` later goes through Kysely. */
export function releaseConnection(executor: Executor): void {
  heldConnections.delete(executor);
}

/** A statement prepared on a held connection; a reader returns rows as arrays, made into objects by `row`. */
interface Prepared {
  on: SQLite.Database;
  statement: SQLite.Statement;
  row: ((values: unknown[]) => unknown) | null;
}

/**
 * Makes a row object from an array in the statement's column order. better-sqlite3 builds a named
 * row property by property through V8's API; an object literal compiled for the statement's columns
 * is built the way V8 builds any literal, with one shape for every row. Column names come from our
 * own SQL (quoted with JSON.stringify), never from input.
 */
function rowMaker(columns: readonly string[]): (values: unknown[]) => unknown {
  const fields = columns.map((name, index) => `${JSON.stringify(name)}: values[${index}]`).join(', ');
  return new Function('values', `return { ${fields} };`) as (values: unknown[]) => unknown;
}

interface Ran<O> {
  rows: O[];
  changes: number;
}

function preparedOn(compiled: Compiled, connection: HeldConnection): Prepared {
  let prepared = compiled.prepared;
  if (prepared?.on !== connection.database) {
    const statement = connection.database.prepare(compiled.query.sql);
    // Prepared here for this connection alone (not the dialect's shared cache), so raw mode touches no other caller.
    const row = statement.reader ? rowMaker(statement.raw(true).columns().map((column) => column.name)) : null;
    prepared = compiled.prepared = { on: connection.database, statement, row };
  }
  return prepared;
}

const NO_ROWS: never[] = [];

function runHeld<O>(compiled: Compiled, connection: HeldConnection, parameters: unknown[]): Ran<O> {
  const { statement, row } = preparedOn(compiled, connection);
  let ran: Ran<O>;
  if (row) {
    const rows = statement.all(parameters) as unknown[];
    for (let index = 0; index < rows.length; index++) rows[index] = row(rows[index] as unknown[]);
    ran = { rows: rows as O[], changes: 0 };
  } else ran = { rows: NO_ROWS, changes: statement.run(parameters).changes };
  connection.onQuery?.(compiled.query.sql);
  return ran;
}

/**
 * A statement's binder, compiled for its parameters: named property reads, one per parameter, are
 * what V8 optimises best for the one shape of values a statement is called with; reading them by a
 * key taken from a list is a lookup by name on every run. Keys come from our own statement
 * definitions (quoted with JSON.stringify), never from input.
 */
function binder(fills: readonly Fill[], sources: readonly unknown[], dialect: DialectName): Compiled['bind'] {
  const lines = fills.map((fill, index) => {
    if (fill === Fill.Constant) return `parameters[${index}] = constants[${index}];`;
    const key = JSON.stringify(sources[index]);
    const read = `value = values[${key}]; if (value === undefined) missing(${key});`;
    const list = dialect === 'postgres' ? '[...value]' : 'JSON.stringify(value)';
    return `${read} parameters[${index}] = ${fill === Fill.List ? list : 'value'};`;
  });
  const make = new Function('constants', 'missing', `return function bind(values, parameters) { let value; ${lines.join(' ')} return parameters; };`);
  const missing = (key: string) => {
    throw new Error(`statement value ${key} is missing`);
  };
  return make(sources, missing) as Compiled['bind'];
}

type Buildable<O> = Compilable<O> | RawBuilder<O>;

export function defineStatement<P extends object, O>(build: (db: Kysely<Database>, slots: Slots<P>) => Buildable<O>): Statement<P, O> {
  const compiled = new Map<DialectName, Compiled>();
  const compile = (db: Executor, dialect: DialectName): Compiled => {
    const lists = new Set<string>();
    const list = (column: string, key: string, negated: boolean) => {
      lists.add(key);
      const values = SLOT + key;
      if (dialect === 'postgres') return negated ? sql<SqlBool>`${sql.ref(column)} <> all(${values})` : sql<SqlBool>`${sql.ref(column)} = any(${values})`;
      const members = sql`(select value from json_each(${values}))`;
      return negated ? sql<SqlBool>`${sql.ref(column)} not in ${members}` : sql<SqlBool>`${sql.ref(column)} in ${members}`;
    };
    const value = new Proxy({}, { get: (_target, key) => SLOT + String(key) }) as Slots<P>['value'];
    const slots: Slots<P> = { value, in: (column, key) => list(column, key, false), notIn: (column, key) => list(column, key, true) };
    const built = build(db as Kysely<Database>, slots);
    // A raw builder compiles against an executor; a query builder's compile takes none and ignores it.
    const query = (built.compile as (executorProvider: Executor) => CompiledQuery<O>).call(built, db);
    const fills: Fill[] = [];
    const sources: unknown[] = [];
    for (const parameter of query.parameters) {
      const key = typeof parameter === 'string' && parameter.startsWith(SLOT) ? parameter.slice(SLOT.length) : null;
      fills.push(key === null ? Fill.Constant : lists.has(key) ? Fill.List : Fill.Value);
      sources.push(key ?? parameter);
    }
    return { query, fills, bind: binder(fills, sources, dialect), prepared: null, scratch: new Array<unknown>(fills.length) };
  };
  const compiledFor = (db: Executor, dialect: DialectName): Compiled => {
    let statement = compiled.get(dialect);
    if (!statement) compiled.set(dialect, (statement = compile(db, dialect)));
    return statement;
  };
  const bind = (statement: Compiled, values: P, parameters = new Array<unknown>(statement.fills.length)): unknown[] =>
    statement.bind(values, parameters);
  const runThroughKysely = async (db: Executor, statement: Compiled, parameters: unknown[]): Promise<Ran<O>> => {
    const result = await db.executeQuery<O>({ ...statement.query, parameters } as CompiledQuery<O>);
    return { rows: result.rows as O[], changes: Number(result.numAffectedRows ?? 0) };
  };
  const run = (db: Executor, values: P): MaybePromise<Ran<O>> => {
    // Held connections are SQLite's (the group commit's): no need to ask the executor.
    const connection = heldConnections.get(db);
    const dialect = connection ? 'sqlite' : dialectOf(db);
    const statement = compiledFor(db, dialect);
    if (connection) return runHeld<O>(statement, connection, bind(statement, values, statement.scratch));
    return runThroughKysely(db, statement, bind(statement, values));
  };
  const then = <T>(ran: MaybePromise<Ran<O>>, pick: (ran: Ran<O>) => T): MaybePromise<T> => (ran instanceof Promise ? ran.then(pick) : pick(ran));
  const runEach = async (db: Executor, items: readonly P[]): Promise<void> => {
    const connection = heldConnections.get(db);
    if (!connection) {
      for (const values of items) await run(db, values);
      return;
    }
    const statement = compiledFor(db, 'sqlite');
    const { statement: prepared } = preparedOn(statement, connection);
    for (const values of items) {
      prepared.run(bind(statement, values, statement.scratch));
      connection.onQuery?.(statement.query.sql);
    }
  };
  return {
    run,
    runEach,
    rows: (db, values) => then(run(db, values), (ran) => ran.rows),
    first: (db, values) => then(run(db, values), (ran) => ran.rows[0]),
    changes: (db, values) => then(run(db, values), (ran) => ran.changes),
  };
}

/** Rows inserted per statement on PostgreSQL: a bounded statement, however many rows a write has. */
const PG_ROWS_PER_INSERT = 500;

/**
 * Inserts whole rows of a table, every column listed (the list is checked against the row type).
 * SQLite runs the one-row statement once per row (no round trips: a bind and a step each, cheaper
 * than compiling a statement per batch size); PostgreSQL inserts a part of the rows per statement,
 * one round trip for many rows, read from one JSON parameter as the table's own row type (one
 * statement whatever the part's length, compiled once).
 */
export function defineInsert<T extends keyof Database & string>(table: T, columns: readonly (keyof Database[T] & string)[]) {
  const oneRow = defineStatement<Database[T], unknown>((db, slots) =>
    db.insertInto(table).values(Object.fromEntries(columns.map((column) => [column, slots.value[column]])) as never),
  );
  const listed = sql.join(columns.map((column) => sql.ref(column)));
  const inJson = [...columns];
  const manyRows = defineStatement<{ rows: string }, unknown>(
    (_db, slots) =>
      sql`insert into ${sql.table(table)} (${listed}) select ${listed} from json_populate_recordset(null::${sql.table(table)}, ${slots.value.rows}::json)`,
  );
  return async (db: Executor, rows: readonly Database[T][]): Promise<void> => {
    if (rows.length === 0) return;
    if (dialectOf(db) === 'sqlite') {
      await oneRow.runEach(db, rows);
      return;
    }
    for (let start = 0; start < rows.length; start += PG_ROWS_PER_INSERT) {
      await manyRows.run(db, { rows: JSON.stringify(rows.slice(start, start + PG_ROWS_PER_INSERT), inJson) });
    }
  };
}

/** Missing<Row, typeof COLUMNS> is never when the list names every column of the row. */
export type Missing<Row, Listed extends readonly unknown[]> = Exclude<keyof Row, Listed[number]>;

/**
 * Updates rows of a table, each with values of its own: the `set` columns from the row's values of
 * the same names, where every `key` column matches; returns per row whether it was updated. SQLite
 * runs the one-row statement once per row (a bind and a step each); PostgreSQL updates every row
 * in one statement, one round trip, the rows read from one JSON parameter as the table's own row
 * type (so no column's type is written twice). A column more is one more name in `set`.
 */
export function defineUpdateEach<T extends keyof Database & string, K extends keyof Database[T] & string, S extends keyof Database[T] & string>(
  table: T,
  key: readonly K[],
  set: readonly S[],
) {
  type Values = Pick<Database[T], K | S>;
  const oneRow = defineStatement<Values, unknown>((_db, slots) => {
    const values = slots.value as Record<string, unknown>;
    return sql`update ${sql.table(table)} set ${sql.join(set.map((column) => sql`${sql.ref(column)} = ${values[column]}`))} where ${sql.join(
      key.map((column) => sql`${sql.ref(column)} = ${values[column]}`),
      sql` and `,
    )}`;
  });
  const allRows = defineStatement<{ rows: string }, Record<K, unknown>>(
    (_db, slots) => sql<Record<K, unknown>>`
      update ${sql.table(table)} as target
         set ${sql.join(set.map((column) => sql`${sql.ref(column)} = ${sql.ref(`given.${column}`)}`))}
        from json_populate_recordset(null::${sql.table(table)}, ${slots.value.rows}::json) as given
       where ${sql.join(
         key.map((column) => sql`${sql.ref(`target.${column}`)} = ${sql.ref(`given.${column}`)}`),
         sql` and `,
       )}
      returning ${sql.join(key.map((column) => sql.ref(`target.${column}`)))}`,
  );
  // the rows' JSON carries the listed columns only
  const listed = [...key, ...set];
  const keyOf = (row: Record<string, unknown>) => key.map((column) => String(row[column])).join('\u0000');
  return async (db: Executor, rows: readonly Values[]): Promise<boolean[]> => {
    if (rows.length === 0) return [];
    if (dialectOf(db) === 'sqlite') {
      const updated: boolean[] = [];
      for (const row of rows) updated.push((await oneRow.changes(db, row)) > 0);
      return updated;
    }
    const written = new Set((await allRows.rows(db, { rows: JSON.stringify(rows, listed) })).map(keyOf));
    return rows.map((row) => written.has(keyOf(row as Record<string, unknown>)));
  };
}
