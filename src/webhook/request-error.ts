/**
 * The hook's transform, body template or path template cannot produce a request for this event. Deterministic for
 * the same hook and event (except a transform timeout), so retrying the same attempt will not help.
 * Never contains secrets; `message` is safe to store in the attempt log and show to the tenant.
 */
export class RequestBuildError extends Error {
  /** which part of the hook failed */
  readonly stage: 'transform' | 'template' | 'path';
  /** JSONata error code (e.g. `S0202`, `T2001`, `D1012`) when the transform failed inside JSONata */
  readonly code: string | undefined;
  /** character offset in the transform source JSONata reported, when it did */
  readonly position: number | undefined;

  constructor(
    stage: 'transform' | 'template' | 'path',
    message: string,
    details: { code?: string | undefined; position?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RequestBuildError';
    this.stage = stage;
    this.code = details.code;
    this.position = details.position;
  }
}
