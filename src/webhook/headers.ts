// Which headers a request carries besides the Standard Webhooks ones: the receiver auth, the
// endpoint's static headers, and the copy of them that is safe to store in the attempt log.

export type ReceiverAuth =
  | { type: 'NONE' }
  | { type: 'BASIC'; username: string; password: string }
  | { type: 'BEARER'; token: string }
  | { type: 'API_KEY'; headerName: string; key: string };

/**
 * Headers the HTTP client derives from the request itself (the body framing: content-type,
 * content-length, host) and hop-by-hop headers undici refuses or that would let a tenant tamper
 * with connection handling. The request builder ignores them in stored configuration; the endpoint
 * API refuses them, which is where the user learns about it.
 */
export const HTTP_CLIENT_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

/** GitHub's body HMAC (`sha256=<hex>`), sent for endpoints with the GITHUB_SHA256 signature scheme. */
export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';

const REDACTED = '[redacted]';
/** Credentials that may arrive through static headers too (e.g. auth type NONE plus a hand-made Authorization). */
const ALWAYS_REDACTED = new Set(['authorization', 'cookie', 'webhook-signature', GITHUB_SIGNATURE_HEADER]);

/**
 * Headers that describe the request Switchyard builds: who sends it (`Switchyard/<version>`, which
 * receivers may allow-list) and the body's encoding (bodies are never encoded, so a configured
 * `content-encoding` would make the receiver decode plain bytes).
 */
export const SWITCHYARD_HEADERS: ReadonlySet<string> = new Set(['user-agent', 'content-encoding']);

/**
 * Headers no static header or API key header may set: the signature schemes (webhook-*,
 * x-hub-signature-256), SWITCHYARD_HEADERS and HTTP_CLIENT_HEADERS. Ignored silently because they come from stored configuration: failing every
 * attempt over one stray header helps nobody.
 */
function isProtocolHeader(name: string): boolean {
  return name.startsWith('webhook-') || name === GITHUB_SIGNATURE_HEADER || HTTP_CLIENT_HEADERS.has(name) || SWITCHYARD_HEADERS.has(name);
}

/**
 * Adds the receiver auth header to `headers` (lower-case names, in sending order) and returns the
 * name of the API key header when one was added, so it can be redacted.
 */
export function addReceiverAuth(headers: Map<string, string>, auth: ReceiverAuth): string | null {
  switch (auth.type) {
    case 'BASIC':
      headers.set('authorization', `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`);
      return null;
    case 'BEARER':
      headers.set('authorization', `Bearer ${auth.token}`);
      return null;
    case 'API_KEY': {
      const name = auth.headerName.toLowerCase();
      // The signature and framing headers win over a misconfigured key name: a missing key shows up as
      // the receiver's 401, while a clobbered signature or content-type would fail silently.
      if (isProtocolHeader(name) || headers.has(name)) return null;
      headers.set(name, auth.key);
      return name;
    }
    case 'NONE':
      return null;
  }
}

/** Adds the endpoint's static headers that do not collide with one Switchyard sets. */
export function addStaticHeaders(headers: Map<string, string>, staticHeaders: Record<string, string>): void {
  // Most endpoints and hooks have none: then no snapshot of the names below, on every request.
  if (!hasOwnEntries(staticHeaders)) return;
  // Everything set so far is Switchyard's to decide (the receiver verifies it).
  const computed = new Set(headers.keys());
  for (const [rawName, value] of Object.entries(staticHeaders)) {
    const name = rawName.toLowerCase();
    if (isProtocolHeader(name) || computed.has(name)) continue;
    headers.set(name, value);
  }
}

const valueAsIs = (_name: string, value: string) => value;

function hasOwnEntries(record: Record<string, string>): boolean {
  for (const name in record) if (Object.hasOwn(record, name)) return true;
  return false;
}

/**
 * The headers as a record, in their order. Built per attempt with forEach, which hands each pair
 * over without the array per entry that iterating the Map (or Object.fromEntries) makes; a name
 * like `__proto__` is defined as an own property, not assigned (which would set the prototype).
 */
export function headerRecord(headers: Map<string, string>, valueOf: (name: string, value: string) => string = valueAsIs): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name === '__proto__') Object.defineProperty(record, name, { value: valueOf(name, value), enumerable: true, writable: true, configurable: true });
    else record[name] = valueOf(name, value);
  });
  return record;
}

/** The headers with credential values replaced by `[redacted]`, for the attempt log. */
export function redactHeaders(headers: Map<string, string>, apiKeyHeader: string | null): Record<string, string> {
  return headerRecord(headers, (name, value) => (ALWAYS_REDACTED.has(name) || name === apiKeyHeader ? REDACTED : value));
}
