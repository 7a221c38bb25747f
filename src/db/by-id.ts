// Batch reads by primary key answer in the order they were asked, with null for each id that has
// no row: the contract of a DataLoader batch function, so loaders can hand the rows back as they are.

/** `rows` (any order, ids unique) re-ordered to `ids`; null where no row has that id. */
export function inIdOrder<Row extends { id: string }>(ids: readonly string[], rows: readonly Row[]): (Row | null)[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}
