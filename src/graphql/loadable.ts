// Batch loading for relation fields (Pothos dataloader plugin): one statement per relation per
// page instead of one per parent row.

/**
 * Loaders batch but do not remember: a subscription keeps one context for its whole life, so a
 * cached row would be served, stale, to every later event. Batching alone gives the statement count.
 */
export const LOADER_OPTIONS = { cache: false } as const;

/**
 * A batch of rows for a non-null relation: a missing row becomes an Error, so the one field whose
 * row is gone fails (with what is missing) and its siblings still resolve.
 */
export function requireRows<Row>(what: string, ids: readonly string[], rows: readonly (Row | null)[]): (Row | Error)[] {
  return rows.map((row, index) => row ?? new Error(`${what} ${ids[index]} is missing`));
}
