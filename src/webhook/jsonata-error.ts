// JSONata reports failures as plain objects `{ code, position, token, message }`, not Errors (host
// functions may throw real Errors). Decoded once here, for the request builder (per event) and for
// hook validation (when a transform is saved), so both tell the tenant the same thing.

export interface JsonataFailure {
  message: string;
  /** JSONata error code, e.g. `S0202`, `T2001`, `D1012` */
  code: string | undefined;
  /** character offset in the expression source */
  position: number | undefined;
}

export function decodeJsonataError(error: unknown): JsonataFailure {
  if (typeof error === 'object' && error !== null) {
    const { message, code, position } = error as { message?: unknown; code?: unknown; position?: unknown };
    return {
      message: typeof message === 'string' ? message : String(error),
      code: typeof code === 'string' ? code : undefined,
      position: typeof position === 'number' ? position : undefined,
    };
  }
  return { message: String(error), code: undefined, position: undefined };
}

/** `<what> at position 12 (S0202): <message>`, leaving out the parts JSONata did not report. */
export function describeJsonataFailure(what: string, failure: JsonataFailure): string {
  const where = failure.position === undefined ? '' : ` at position ${failure.position}`;
  const code = failure.code === undefined ? '' : ` (${failure.code})`;
  return `${what}${where}${code}: ${failure.message}`;
}
