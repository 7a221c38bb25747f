// What the client throws. Expected errors of a mutation (validation, not found, conflict) are never
// thrown: they come back as data, typed, for the caller to narrow on `__typename`. These classes are
// for everything else: the request did not get through, the server answered something other than a
// GraphQL result, or the result carries GraphQL errors (authentication, scopes, masked failures).

/** One entry of a GraphQL response's `errors`, as the server sent it. */
export interface GraphQLErrorEntry {
  message: string;
  path?: readonly (string | number)[];
  locations?: readonly { line: number; column: number }[];
  /** `code` is the machine-readable kind, e.g. `UNAUTHENTICATED`, `FORBIDDEN`, `BAD_USER_INPUT`. */
  extensions?: { code?: string; [key: string]: unknown };
}

/** The base class of every error the client throws; `instanceof SwitchyardError` catches them all. */
export class SwitchyardError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Spelled out rather than `new.target.name`, which minifiers rename.
    this.name = 'SwitchyardError';
  }
}

/**
 * The request did not complete: DNS, connection refused, TLS, reset, or (for subscriptions) the
 * WebSocket closed. Usually worth retrying. A caller's own abort is rethrown as is, not wrapped.
 */
export class SwitchyardNetworkError extends SwitchyardError {
  /** For a closed WebSocket: its close code (e.g. 1006 abnormal, 4413 too slow); otherwise undefined. */
  readonly closeCode: number | undefined;

  constructor(message: string, options?: { cause?: unknown; closeCode?: number }) {
    super(message, options);
    this.name = 'SwitchyardNetworkError';
    this.closeCode = options?.closeCode;
  }
}

/** The server answered with an HTTP error status, or with a body that is not a GraphQL result. */
export class SwitchyardHttpError extends SwitchyardError {
  /** The HTTP status. */
  readonly status: number;
  /** The response body as text (possibly empty). */
  readonly body: string;

  constructor(status: number, body: string, message = `HTTP ${status}`) {
    super(message);
    this.name = 'SwitchyardHttpError';
    this.status = status;
    this.body = body;
  }
}

/**
 * The response carries GraphQL errors: authentication (`UNAUTHENTICATED`, answered with HTTP 401),
 * a missing scope (`FORBIDDEN`), an invalid document, or an unexpected server failure (masked).
 */
export class SwitchyardGraphQLError extends SwitchyardError {
  /** Every error of the response. */
  readonly errors: readonly GraphQLErrorEntry[];
  /** `extensions.code` of the first error that has one, e.g. `UNAUTHENTICATED`; undefined if none. */
  readonly code: string | undefined;
  /** The HTTP status it came with (undefined over WebSocket). */
  readonly status: number | undefined;
  /** Partial data, when the server sent some along with the errors. */
  readonly data: unknown;

  constructor(errors: readonly GraphQLErrorEntry[], options: { status?: number; data?: unknown } = {}) {
    super(errors.map((error) => error.message).join('; ') || 'GraphQL error');
    this.name = 'SwitchyardGraphQLError';
    this.errors = errors;
    this.code = errors.find((error) => typeof error.extensions?.code === 'string')?.extensions?.code;
    this.status = options.status;
    this.data = options.data ?? null;
  }

  /** Every distinct `extensions.code`, in order. */
  get codes(): string[] {
    return [...new Set(this.errors.flatMap((error) => (typeof error.extensions?.code === 'string' ? [error.extensions.code] : [])))];
  }
}
