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
}

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
 */
export async function paginate<DB, TB extends keyof DB, Row extends Record<string, unknown>>(
  query: SelectQueryBuilder<DB, TB, Row>,
  args: PageArgs,
  options: { column: string; direction?: 'asc' | 'desc'; key?: (row: Row) => string },
): Promise<Page<Row>> {
  const limit = pageSize(args.first);
  const direction = options.direction ?? (args.order === 'OLDEST_FIRST' ? 'asc' : 'desc');
  const key = options.key ?? ((row: Row) => String(row[options.column.split('.').pop() ?? options.column]));
  let q = query;
  if (args.after) {
    const after = decodeCursor(args.after);
    // Kysely cannot type a dynamic column reference; the column name comes from our own code, never input.
    q = q.where(options.column as never, direction === 'desc' ? '<' : '>', after as never);
  }
  const rows = await q
    .orderBy(options.column as never, direction)
    .limit(limit + 1)
    .execute();
  return {
    nodes: rows.slice(0, limit),
    hasNextPage: rows.length > limit,
    cursorOf: (row) => encodeCursor(key(row)),
  };
}
