// Standard Webhooks signatures (https://www.standardwebhooks.com/): what a receiver checks with
// `verifyWebhook` or any Standard Webhooks library.
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** Bytes of key material in a generated secret; Standard Webhooks asks for 24..64. */
const SECRET_BYTES = 32;

/**
 * Standard base64, its padding optional (secrets made by other senders often drop it), '=' nowhere
 * else: Buffer.from(…, 'base64') silently skips junk, which would hide a typo.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/**
 * The key bytes of a `whsec_…` secret (the base64 after the prefix).
 * Throws an Error naming the problem (missing prefix, not base64, empty) — never echoing the secret.
 */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw new Error(`malformed signing secret: expected the "${SECRET_PREFIX}" prefix`);
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (encoded.length === 0) throw new Error('malformed signing secret: empty key after the prefix');
  if (!BASE64.test(encoded)) throw new Error('malformed signing secret: the key is not valid base64');
  return Buffer.from(encoded, 'base64');
}

/**
 * The `webhook-signature` header value: one `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>` entry
 * per secret, space-separated, in the order given (during a rotation each secret alone verifies).
 * `body` is the exact bytes sent (`null` or empty for GET/HEAD); a string is signed as UTF-8.
 * `secrets` are `whsec_…` strings or raw key bytes. Throws on a malformed secret, a non-integer
 * timestamp or an empty secret list.
 */
export function signPayload(input: {
  id: string;
  timestamp: number;
  body: Buffer | string | null;
  secrets: readonly (string | Buffer)[];
}): string {
  const { id, timestamp, body, secrets } = input;
  if (!Number.isSafeInteger(timestamp)) throw new Error('timestamp must be integer unix seconds');
  if (secrets.length === 0) throw new Error('at least one signing secret is required');
  const prefix = `${id}.${timestamp}.`;
  const entries: string[] = [];
  for (const secret of secrets) {
    const key = typeof secret === 'string' ? secretKey(secret) : secret;
    if (key.length === 0) throw new Error('a raw signing key must not be empty');
    // Feeding the parts separately avoids copying a large body into one new string per secret.
    const hmac = createHmac('sha256', key).update(prefix, 'utf8');
    if (typeof body === 'string') hmac.update(body, 'utf8');
    else if (body !== null) hmac.update(body);
    entries.push(`v1,${hmac.digest('base64')}`);
  }
  return entries.join(' ');
}
