// Whether an error means the database cannot be reached right now (down, restarting, the connection
// cut), as opposed to a fault in a statement: the caller may try again later, and the API says so
// instead of answering "Unexpected error.".

/** SQLSTATE classes and codes of PostgreSQL that mean the server went away or refuses connections for now. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03']);
/** Node socket errors of a server that is not there, or that cut the connection. */
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);
/** What pg throws for a connection that ended under a query (it carries no code). */
const TERMINATED = /^Connection terminated\b|^Client has encountered a connection error|^timeout exceeded when trying to connect/;

export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08') || UNAVAILABLE_SOCKET_CODES.has(code))) return true;
  if (TERMINATED.test(error.message)) return true;
  // pg-pool and Kysely wrap some of these: look one level down
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isStoreUnavailable(cause);
}
