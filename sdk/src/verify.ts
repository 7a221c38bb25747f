// Verifies a Standard Webhooks request (https://www.standardwebhooks.com/) as sent by Switchyard or any
// other compliant sender. Depends on node:crypto only, so receivers pull in nothing else.
import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

export type WebhookVerificationErrorCode =
  | 'MISSING_HEADERS'
  | 'INVALID_TIMESTAMP'
  | 'TIMESTAMP_TOO_OLD'
  | 'TIMESTAMP_TOO_NEW'
  | 'NO_MATCHING_SIGNATURE'
  | 'INVALID_SECRET'
  | 'INVALID_PUBLIC_KEY';

/** Why a request was refused; `code` is stable, the message is for humans. */
export class WebhookVerificationError extends Error {
  readonly code: WebhookVerificationErrorCode;
  constructor(code: WebhookVerificationErrorCode, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}

export interface VerifyWebhookInput {
  /** A signing secret, `whsec_…` or bare base64. */
  secret?: string;
  /** Several secrets (e.g. both sides of a rotation): the request passes if any one verifies. */
  secrets?: readonly string[];
  /** An ed25519 public key for `v1a` signatures, `whpk_…` (Switchyard's `Endpoint.signingPublicKeys`) or bare base64. */
  publicKey?: string;
  /** Several public keys (e.g. both sides of a key rotation): the request passes if any one verifies. */
  publicKeys?: readonly string[];
  /** The request headers; names are matched case-insensitively. */
  headers: Record<string, string | string[] | undefined> | Headers;
  /** The raw body exactly as received; a string is taken as its UTF-8 bytes. Never a re-serialised JSON. */
  body: string | Uint8Array;
  /** Allowed clock skew either way, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** Clock in epoch ms, for tests. Default Date.now. */
  now?: () => number;
}

const SECRET_PREFIX = 'whsec_';
const PUBLIC_KEY_PREFIX = 'whpk_';
const ED25519_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
const DEFAULT_TOLERANCE_SECONDS = 300;
/** Padding optional, as in the secrets Switchyard accepts. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const TIMESTAMP = /^\d{1,15}$/;
/** `v1,<base64>`; a trailing comma is tolerated because proxies may join repeated headers with ", ". */
const V1_ENTRY = /^v1,([A-Za-z0-9+/]+={0,2}),?$/;
const V1A_ENTRY = /^v1a,([A-Za-z0-9+/]+={0,2}),?$/;
const SHA256_BYTES = 32;

/** What a verified request says about itself. */
export interface VerifiedWebhook {
  /** `webhook-id`: Switchyard's delivery id (`dlv_…`), one per event × hook, kept by every retry: de-duplicate on it. */
  id: string;
  /**
   * `webhook-event-id`: the producer event (`msg_…`) behind the delivery, the same for every hook it
   * reaches; null when the sender does not set it (other Standard Webhooks senders). The signature
   * covers `webhook-id`, the timestamp and the body, not this header; CloudEvents bodies carry it signed as `id`.
   */
  eventId: string | null;
  /** `webhook-timestamp`, unix seconds */
  timestamp: number;
}

/** The header Switchyard names the event in, beside the Standard Webhooks ones. */
const EVENT_ID_HEADER = 'webhook-event-id';

/**
 * Verifies the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers against the raw body.
 * Returns {@link VerifiedWebhook} (de-duplicate on `id`: retries keep it; `eventId` groups the
 * deliveries of one event) or throws a WebhookVerificationError. Passes when any `v1` signature in the
 * header matches any secret, or any `v1a` (ed25519) signature verifies with any public key; give
 * secrets, public keys or both. Entries of other versions are ignored. HMACs are compared in constant time.
 */
export function verifyWebhook(input: VerifyWebhookInput): VerifiedWebhook {
  const givenSecrets = input.secret !== undefined || (input.secrets?.length ?? 0) > 0;
  const publicKeys = publicKeyObjects(input);
  if (!givenSecrets && publicKeys.length === 0) throw new WebhookVerificationError('INVALID_SECRET', 'no secret or public key given');
  const keys = givenSecrets ? secretKeys(input) : [];
  const id = header(input.headers, 'webhook-id');
  const timestampHeader = header(input.headers, 'webhook-timestamp');
  const signatureHeader = header(input.headers, 'webhook-signature');
  if (!id || !timestampHeader || !signatureHeader) {
    throw new WebhookVerificationError('MISSING_HEADERS', 'missing webhook-id, webhook-timestamp or webhook-signature header');
  }
  if (!TIMESTAMP.test(timestampHeader)) {
    throw new WebhookVerificationError('INVALID_TIMESTAMP', 'webhook-timestamp is not unix seconds');
  }
  const timestamp = Number(timestampHeader);
  const now = Math.floor((input.now ?? Date.now)() / 1000);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  // Bounding both directions is what stops a captured request from being replayed later.
  if (now - timestamp > tolerance) throw new WebhookVerificationError('TIMESTAMP_TOO_OLD', 'webhook-timestamp is too old');
  if (timestamp - now > tolerance) throw new WebhookVerificationError('TIMESTAMP_TOO_NEW', 'webhook-timestamp is in the future');

  const signatures: Buffer[] = [];
  const asymmetric: Buffer[] = [];
  for (const entry of signatureHeader.split(/\s+/)) {
    const match = V1_ENTRY.exec(entry);
    const signature = match?.[1] === undefined ? null : Buffer.from(match[1], 'base64');
    if (signature?.length === SHA256_BYTES) signatures.push(signature);
    const matchA = V1A_ENTRY.exec(entry);
    const signatureA = matchA?.[1] === undefined ? null : Buffer.from(matchA[1], 'base64');
    if (signatureA?.length === ED25519_SIGNATURE_BYTES) asymmetric.push(signatureA);
  }
  const verified = (): VerifiedWebhook => ({ id, eventId: header(input.headers, EVENT_ID_HEADER) || null, timestamp });
  // The sender signed the header text, not our parse of it, so sign the same text back.
  const signedPrefix = `${id}.${timestampHeader}.`;
  if (publicKeys.length > 0 && asymmetric.length > 0) {
    const signedContent = Buffer.concat([Buffer.from(signedPrefix, 'utf8'), typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body]);
    for (const key of publicKeys) {
      for (const signature of asymmetric) if (verify(null, signedContent, key, signature)) return verified();
    }
  }
  for (const key of keys) {
    const hmac = createHmac('sha256', key).update(signedPrefix, 'utf8');
    if (typeof input.body === 'string') hmac.update(input.body, 'utf8');
    else hmac.update(input.body);
    const expected = hmac.digest();
    for (const signature of signatures) {
      if (timingSafeEqual(signature, expected)) return verified();
    }
  }
  throw new WebhookVerificationError('NO_MATCHING_SIGNATURE', 'no signature matches the body and the secrets or public keys');
}

/** Public keys as node:crypto keys, through JWK so no DER header has to be written out by hand. */
function publicKeyObjects(input: VerifyWebhookInput): KeyObject[] {
  const given = [...(input.publicKey === undefined ? [] : [input.publicKey]), ...(input.publicKeys ?? [])];
  return given.map((publicKey) => {
    const encoded = publicKey.startsWith(PUBLIC_KEY_PREFIX) ? publicKey.slice(PUBLIC_KEY_PREFIX.length) : publicKey;
    const raw = encoded.length > 0 && BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : null;
    if (raw?.length !== ED25519_KEY_BYTES) {
      throw new WebhookVerificationError('INVALID_PUBLIC_KEY', `a public key is not "${PUBLIC_KEY_PREFIX}" followed by the base64 of ${ED25519_KEY_BYTES} bytes`);
    }
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  });
}

function secretKeys(input: VerifyWebhookInput): Buffer[] {
  const secrets = [...(input.secret === undefined ? [] : [input.secret]), ...(input.secrets ?? [])];
  return secrets.map((secret) => {
    const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
    // A typo'd secret must fail loudly, not decode leniently into a key that never matches.
    if (encoded.length === 0 || !BASE64.test(encoded)) {
      throw new WebhookVerificationError('INVALID_SECRET', 'a secret is not "whsec_" followed by base64');
    }
    return Buffer.from(encoded, 'base64');
  });
}

function header(headers: VerifyWebhookInput['headers'], name: string): string | undefined {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  let value = record[name];
  if (value === undefined) {
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === name) {
        value = record[key];
        break;
      }
    }
  }
  // Node gives repeated headers as arrays; signature entries are space-separated, so join that way.
  return Array.isArray(value) ? value.join(' ') : value;
}
