// Batch loading for relation fields (Pothos dataloader plugin): one statement per relation per
// page instead of one per parent row.

/**
 * A batch of rows for a non-null relation: a missing row becomes an Error, so the one field whose
 * row is gone fails (with what is missing) and its siblings still resolve.
 */
export function requireRows<Row>(what: string, ids: readonly string[], rows: readonly (Row | null)[]): (Row | Error)[] {
  return rows.map((row, index) => row ?? new Error(`${what} ${ids[index]} is missing`));
}
