// Small field helpers shared by the domain schemas.
import { parseJson } from '../db/json.js';

/** Reads a JSON text column as its value (the column names come from our own row types). */
export function jsonColumn<Row, K extends keyof Row>(column: K) {
  return (row: Row) => {
    const value = row[column];
    return value === null || value === undefined ? null : parseJson(String(value));
  };
}
