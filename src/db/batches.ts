// Long deletes and updates as many short transactions: a statement over a tenant's, an endpoint's
// or a hook's whole history would hold the SQLite writer, and with it every tenant, for as long as
// that history. Each batch is one statement (its own transaction); between batches the next turn
// of the event loop comes first, since better-sqlite3 answers synchronously and awaiting its
// statements alone would never let a request in.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Rows per statement: a few milliseconds of writer time each. */
export const BATCH_ROWS = 1_000;

/** Runs `batch` (which changes at most BATCH_ROWS rows and answers how many) until it changes fewer. */
export async function inBatches(batch: () => Promise<number | bigint>): Promise<void> {
  for (;;) {
    if (Number(await batch()) < BATCH_ROWS) return;
    await nextTurn();
  }
}
