// Expected errors as data: each domain error class maps to a GraphQL object implementing `Error`.
import { ConflictError, DomainError, NotFoundError, ValidationError, type FieldProblem } from '../errors.js';
import { builder } from './builder.js';

export const ErrorCode = builder.enumType('ErrorCode', {
  description: 'Machine-readable kind of an expected error.',
  values: {
    VALIDATION_FAILED: { description: 'The input is invalid; see `problems` for each field.' },
    NOT_FOUND: { description: 'The object does not exist, or is not visible to the caller.' },
    CONFLICT: { description: 'The object is in a state that forbids the operation.' },
  } as const,
});

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'An expected failure of a mutation, returned as data.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, for humans.' }),
    code: t.field({
      type: ErrorCode,
      description: 'What went wrong, for programs.',
      resolve: (error) => error.code as 'VALIDATION_FAILED' | 'NOT_FOUND' | 'CONFLICT',
    }),
  }),
});

const FieldProblemRef = builder.objectRef<FieldProblem>('FieldProblem').implement({
  description: 'One invalid input field.',
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path of the field, e.g. `["input", "payload", "amount"]`.' }),
    message: t.exposeString('message', { description: 'Why the value is refused.' }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input was refused; nothing was written.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    problems: t.field({
      type: [FieldProblemRef],
      description: 'Every problem found, each with its field path.',
      resolve: (error) => error.problems,
    }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The object does not exist or is not visible to the caller.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    entity: t.exposeString('entity', { description: 'The kind of object looked for.' }),
    id: t.exposeString('id', { description: 'The id looked for.' }),
  }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  description: 'The operation conflicts with the current state.',
  interfaces: [ErrorInterface],
});

export const MUTATION_ERRORS = [ValidationError, NotFoundError, ConflictError];
