// What a client may see of an error: deliberate GraphQLErrors, bad arguments and domain errors
// (a query naming a tenant the caller cannot see: NOT_FOUND) keep their message and code; a database
// that cannot be reached right now is STORE_UNAVAILABLE (try again); anything else is a server
// fault and becomes "Unexpected error." (its details go to the log only).
// Mutations answer domain errors as data; this covers queries and subscriptions.
import { GraphQLError } from 'graphql';
import { isStoreUnavailable } from '../db/unavailable.js';
import { BadInputError, DomainError, ValidationError } from '../errors.js';

export const STORE_UNAVAILABLE_CODE = 'STORE_UNAVAILABLE';

/** The error as it goes on the wire, or null when it must be masked. */
export function exposedError(error: GraphQLError): GraphQLError | null {
  const original = error.originalError;
  if (!original || original instanceof GraphQLError) return error;
  if (isStoreUnavailable(original)) {
    return new GraphQLError('the database cannot be reached right now; nothing was changed by this operation: try again shortly', {
      nodes: error.nodes,
      path: error.path,
      originalError: original,
      extensions: { code: STORE_UNAVAILABLE_CODE },
    });
  }
  if (original instanceof BadInputError || original instanceof DomainError) {
    return new GraphQLError(original.message, {
      nodes: error.nodes,
      path: error.path,
      originalError: original,
      extensions: { code: original.code, ...(original instanceof ValidationError ? { problems: original.problems } : {}) },
    });
  }
  return null;
}

export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.';
