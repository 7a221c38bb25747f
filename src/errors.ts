// Expected failures of the domain. The GraphQL layer turns each into a typed error object
// (errors as data); anything else is unexpected and is masked.

export interface FieldProblem {
  /** where in the input, e.g. ['input', 'payload', 'amount'] */
  path: string[];
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly code: string;
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_FAILED';
  constructor(
    message: string,
    readonly problems: FieldProblem[],
  ) {
    super(message);
    this.name = 'ValidationError';
  }

  static field(path: string[], message: string): ValidationError {
    return new ValidationError(message, [{ path, message }]);
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} does not exist`);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends DomainError {
  readonly code = 'CONFLICT';
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * A bad argument outside a mutation's errors-as-data (a query's cursor, say): the GraphQL layer shows
 * its message with code BAD_USER_INPUT instead of masking it as unexpected.
 */
export class BadInputError extends Error {
  readonly code = 'BAD_USER_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

/** Collects problems and throws them together, so a client fixes every field in one round trip. */
export class ProblemList {
  readonly problems: FieldProblem[] = [];

  add(path: string[], message: string): void {
    this.problems.push({ path, message });
  }

  addAll(prefix: string[], problems: readonly FieldProblem[]): void {
    for (const problem of problems) this.problems.push({ path: [...prefix, ...problem.path], message: problem.message });
  }

  get empty(): boolean {
    return this.problems.length === 0;
  }

  throwIfAny(summary = 'the input is not valid'): void {
    if (this.problems.length === 0) return;
    const first = this.problems[0];
    const message =
      this.problems.length === 1 && first ? `${first.path.join('.')}: ${first.message}` : `${summary} (${this.problems.length} problems)`;
    throw new ValidationError(message, [...this.problems]);
  }
}
