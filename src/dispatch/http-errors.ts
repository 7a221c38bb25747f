// How an outbound exchange failed, named once: the error classes the attempt log records, the
// errors Switchyard raises itself, and the mapping from OS, OpenSSL and undici errors to a class.

/**
 * Why an exchange failed:
 * - `timeout`: the request deadline passed (the receiver was too slow, even if it kept sending);
 * - `connect`: no TCP connection (refused, unreachable, connect timeout);
 * - `dns`: the host name did not resolve;
 * - `tls`: the TLS handshake failed (certificate, protocol);
 * - `blocked`: the SSRF guard refused the address (see AddressPolicy);
 * - `network`: the connection was reset or closed mid-exchange, or the response was malformed.
 */
export type ErrorClass = 'timeout' | 'connect' | 'dns' | 'tls' | 'blocked' | 'network';

/** The SSRF guard refused the address. A dedicated class and code so no OS error can be mistaken for it. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_SWITCHYARD_BLOCKED_ADDRESS';
  override readonly name = 'BlockedAddressError';
}

export class DeadlineExceededError extends Error {
  readonly code = 'ERR_SWITCHYARD_DEADLINE_EXCEEDED';
  override readonly name = 'DeadlineExceededError';
  constructor(timeoutMs: number) {
    super(`deadline of ${timeoutMs} ms exceeded`);
  }
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA']);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const IDLE_TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
// OpenSSL verification codes are bare names (no ERR_ prefix).
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;
// Bugs in the request the caller built, not failures of the network: they reject.
export const CALLER_ERROR_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

// The connector knows in which phase (DNS, TCP, TLS) an error happened; undici hands the very same
// error object to the request, so the phase travels with it here instead of being guessed from codes.
export const connectPhaseClass = new WeakMap<object, ErrorClass>();

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

export function classifyError(error: unknown): ErrorClass {
  if (error instanceof BlockedAddressError) return 'blocked';
  if (error instanceof DeadlineExceededError) return 'timeout';
  if (typeof error === 'object' && error !== null) {
    const tagged = connectPhaseClass.get(error);
    if (tagged !== undefined) return tagged;
  }
  // Happy eyeballs (autoSelectFamily) reports a failure of every address as one AggregateError.
  if (error instanceof AggregateError && error.errors.length > 0) return classifyError(error.errors[0]);
  const code = errorCode(error);
  if (DNS_CODES.has(code)) return 'dns';
  if (CONNECT_CODES.has(code)) return 'connect';
  if (IDLE_TIMEOUT_CODES.has(code)) return 'timeout';
  if (TLS_CODE.test(code)) return 'tls';
  return 'network';
}

export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map(describeError).join('; ');
  }
  // OpenSSL failures carry a raw "<hex>:error:0A00010B:SSL routines:…" message; the short
  // reason ("wrong version number") is what an operator can act on.
  const reason = (error as { reason?: unknown } | null)?.reason;
  if (error instanceof Error && error.message.includes(':error:') && typeof reason === 'string') {
    const code = errorCode(error);
    return `TLS handshake failed: ${reason}${code === '' ? '' : ` (${code})`}`;
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

export function classifyConnectError(error: Error): ErrorClass {
  if (error instanceof BlockedAddressError) return 'blocked';
  const cls = classifyError(error);
  return cls === 'dns' || cls === 'tls' ? cls : 'connect';
}

