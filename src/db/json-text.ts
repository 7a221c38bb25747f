// Lists stored as JSON arrays in text columns (channels, event type patterns) are matched with LIKE
// on the quoted element: one portable predicate for both dialects, with no JSON functions that differ.
import { sql, type RawBuilder, type SqlBool } from 'kysely';

/** `column` (JSON array text of strings) has `value` as an element. `column` is a name from our code, never input. */
export function jsonTextHas(column: string, value: string): RawBuilder<SqlBool> {
  // A quoted element cannot match inside another element: its quotes would be escaped there.
  const pattern = `%${JSON.stringify(value).replace(/[%_\\]/g, '\\$&')}%`;
  return sql<SqlBool>`${sql.ref(column)} like ${pattern} escape '\\'`;
}
