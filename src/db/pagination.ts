// Keyset pagination over a unique, sortable column (ids are time-ordered, so "newest first" is `id desc`).
// Cursors are opaque to clients: base64url of the key value.
import type { SelectQueryBuilder } from 'kysely';
import { BadInputError } from '../errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Lists by creation either way; time-ordered ids make it the primary-key order. */
export type CreationOrder = 'NEWEST_FIRST' | 'OLDEST_FIRST';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  /** for lists whose options leave the direction open; newest first when omitted */
  order?: CreationOrder | null;
}

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  cursorOf(node: T): string;
  /** where the next page starts when it is not after the last node: the end of a bounded scan */
  resumeAfter?: string;
}

/**
 * How many rows of its index one page of a filtered list may examine. A filter no index holds
 * (a status, an event type, a channel) is checked row by row, and one that matches little would
 * otherwise read a tenant's whole history for one page: on SQLite in one statement, with the
 * writer and the event loop held, as often as the tenant's token may ask. Past this many, the page
 * ends with what it found and the cursor of where it stopped.
 */
export const SCAN_ROWS = 1_000;

export class InvalidCursorError extends BadInputError {
  constructor() {
    super('the `after` cursor is not one this API returned');
    this.name = 'InvalidCursorError';
  }
}

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (key.length === 0 || encodeCursor(key) !== cursor) throw new InvalidCursorError();
  return key;
}

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  return Math.max(0, Math.min(MAX_PAGE_SIZE, Math.floor(first)));
}

/**
 * The page of a list with nothing visible: no rows, no statement. The cursor is still checked, so a
 * bad `after` answers the same error whoever asks.
 */
export async function emptyPage<Row>(args: PageArgs): Promise<Page<Row>> {
  if (args.after) decodeCursor(args.after);
  return { nodes: [], hasNextPage: false, cursorOf: () => '' };
}

/**
 * Fetches one page of `query` ordered by `column`: `options.direction` when given (a list with one
 * fixed order), else `args.order` (`desc` = newest first for time-ordered ids); a cursor pages on in
 * the order it was made in only if `order` stays the same.
 * Asks for one extra row to learn whether another page exists without counting.
 * `options.scan`, for a list filtered beyond its index: the same table narrowed by that index alone
 * (an equality on an index of (it, `column`), or nothing for the primary key). The page then reads
 * at most SCAN_ROWS of those rows; when they hold too few matches and more rows follow, it ends early
 * with `hasNextPage` and `resumeAfter` the last row it read.
 */
export async function paginate<DB, TB extends keyof DB, Row extends Record<string, unknown>>(
  query: SelectQueryBuilder<DB, TB, Row>,
  args: PageArgs,
  options: { column: string; direction?: 'asc' | 'desc'; key?: (row: Row) => string; scan?: SelectQueryBuilder<DB, TB, object> },
): Promise<Page<Row>> {
  const limit = pageSize(args.first);
  const direction = options.direction ?? (args.order === 'OLDEST_FIRST' ? 'asc' : 'desc');
  /** the key's name in a row: `d.id` is read as `id` */
  const keyName = options.column.split('.').pop() ?? options.column;
  const key = options.key ?? ((row: Row) => String(row[keyName]));
  // Kysely cannot type a dynamic column reference; the column name comes from our own code, never input.
  const column = options.column as never;
  const after = args.after ? decodeCursor(args.after) : null;
  const onwards = <Q extends SelectQueryBuilder<DB, TB, object>>(q: Q): Q => (after === null ? q : (q.where(column, direction === 'desc' ? '<' : '>', after as never) as Q));
  /** the rows a bounded page may read, in page order */
  const scanned = options.scan ? onwards(options.scan).select(column).orderBy(column, direction) : null;
  let q = onwards(query);
  // SQLite answers `key in (…)` by looking each scanned key up, so the page reads no more than those
  if (scanned) q = q.where(column, 'in', scanned.limit(SCAN_ROWS) as never);
  const rows = await q.orderBy(column, direction).limit(limit + 1).execute();
  const cursorOf = (row: Row) => encodeCursor(key(row));
  if (rows.length > limit || !scanned) return { nodes: rows.slice(0, limit), hasNextPage: rows.length > limit, cursorOf };
  const last = (await scanned.limit(1).offset(SCAN_ROWS - 1).executeTakeFirst()) as Record<string, unknown> | undefined;
  if (last === undefined) return { nodes: rows, hasNextPage: false, cursorOf };
  return { nodes: rows, hasNextPage: true, cursorOf, resumeAfter: encodeCursor(String(last[keyName])) };
}
