// Iterates every item of a Relay connection, page after page, following `pageInfo.endCursor`.

/** What `paginate` needs of a connection: the generated `…Query` types' connections all fit. */
export interface Connection<T> {
  nodes: readonly T[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

/** The arguments of one page, to spread into the query's variables. */
export interface PageArgs {
  first: number;
  after: string | null;
}

export interface PaginateOptions {
  /** Page size (the server caps it at 100). Default 100. */
  first?: number;
  /** Stop after this many items in all. Default: every item. */
  limit?: number;
  /**
   * Stop after this many pages. A list filtered on what the server holds no index for (statuses,
   * outcomes, event types, channels, kinds) reads a bounded stretch of history per page, so a page
   * may hold few items or none; this bounds how far back a search for rare ones goes. Default: no bound.
   */
  maxPages?: number;
}

/** The server's largest page. */
const MAX_PAGE_SIZE = 100;

/**
 * Yields every node of a connection, fetching the next page only when the previous one is used up.
 * `fetchPage` gets `{ first, after }` and returns the connection:
 *
 * ```ts
 * for await (const delivery of paginate((page) => client.deliveries({ ...page, filter }).then((r) => r.deliveries))) { … }
 * ```
 *
 * Throws what `fetchPage` throws, and an Error when the server says there is a next page but gives no
 * new cursor (which would otherwise loop forever).
 */
export async function* paginate<T>(
  fetchPage: (page: PageArgs) => Promise<Connection<T>>,
  options: PaginateOptions = {},
): AsyncGenerator<T, void, undefined> {
  const first = options.first ?? MAX_PAGE_SIZE;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const maxPages = options.maxPages ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(first) || first < 1) throw new RangeError('paginate: `first` must be a positive integer');
  if (options.maxPages !== undefined && (!Number.isInteger(maxPages) || maxPages < 1)) throw new RangeError('paginate: `maxPages` must be a positive integer');
  let after: string | null = null;
  let yielded = 0;
  for (let pages = 0; yielded < limit && pages < maxPages; pages++) {
    const page: Connection<T> = await fetchPage({ first, after });
    for (const node of page.nodes) {
      if (yielded >= limit) return;
      yield node;
      yielded++;
    }
    if (!page.pageInfo.hasNextPage) return;
    const next = page.pageInfo.endCursor ?? null;
    if (next === null || next === after) throw new Error('paginate: the server reported a next page without a new endCursor');
    after = next;
  }
}
