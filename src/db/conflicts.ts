// PostgreSQL ends one of two transactions that wait on each other's row locks (deadlock_detected,
// 40P01), and one whose snapshot it cannot order with another's (serialization_failure, 40001).
// That transaction was rolled back whole and nothing of it stayed, so running it again is what the
// server asks of the application (PostgreSQL manual, "Deadlocks" and "Serialization Failure
// Handling"). Lock order alone cannot rule the first out here: a delivery's end locks its FIFO hook
// and then, raising an operational event, a FIFO operations hook, in the order the work needs them.
// SQLite has one writer and never raises either.

const CONFLICT_SQLSTATES = new Set(['40P01', '40001']);

/** Tries a transaction this many times in all before its conflict is the caller's error. */
export const CONFLICT_ATTEMPTS = 3;

export function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONFLICT_SQLSTATES.has(code)) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== error && isTransientConflict(cause);
}

/**
 * Runs `transaction` (which must start its transaction afresh and keep what it hands back to the
 * caller inside its value, so a run that was rolled back leaves nothing behind) again when the
 * server rolled it back for a conflict, up to CONFLICT_ATTEMPTS runs in all.
 */
export async function retryingConflicts<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= CONFLICT_ATTEMPTS || !isTransientConflict(error)) throw error;
    }
  }
}
