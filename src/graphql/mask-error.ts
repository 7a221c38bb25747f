// What a client may see of an error: deliberate GraphQLErrors and bad arguments keep their message;
// anything else is a server fault and becomes "Unexpected error." (its details go to the log only).
import { GraphQLError } from 'graphql';
import { BadInputError } from '../errors.js';

/** The error as it goes on the wire, or null when it must be masked. */
export function exposedError(error: GraphQLError): GraphQLError | null {
  const original = error.originalError;
  if (!original || original instanceof GraphQLError) return error;
  if (original instanceof BadInputError) {
    return new GraphQLError(original.message, {
      nodes: error.nodes,
      path: error.path,
      originalError: original,
      extensions: { code: original.code },
    });
  }
  return null;
}

export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.';
