// Standard Webhooks asymmetric signatures (`v1a`, ed25519): the receiver verifies with a public key
// alone, so it never holds anything that could forge a request.
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** Standard Webhooks' prefixes for an ed25519 public key and secret (private) key. */
export const PUBLIC_KEY_PREFIX = 'whpk_';
export const PRIVATE_KEY_PREFIX = 'whsk_';

// DER headers of an ed25519 key: what precedes the 32 raw key bytes in PKCS#8 and SPKI (RFC 8410).
// The raw bytes are what Standard Webhooks encodes after its prefixes; node:crypto speaks DER.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_BYTES = 32;

export interface SigningKeyPair {
  /** `whsk_` + base64 of the 32-byte private seed: the value kept (encrypted) by Switchyard */
  privateKey: string;
  /** `whpk_` + base64 of the 32-byte public key: what receivers verify with */
  publicKey: string;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  return { privateKey: PRIVATE_KEY_PREFIX + seed.toString('base64'), publicKey: PUBLIC_KEY_PREFIX + raw.toString('base64') };
}

/** The 32 seed bytes of a `whsk_…` key; throws on anything else, never echoing the key. */
export function privateKeySeed(privateKey: string): Buffer {
  const seed = privateKey.startsWith(PRIVATE_KEY_PREFIX) ? Buffer.from(privateKey.slice(PRIVATE_KEY_PREFIX.length), 'base64') : null;
  if (seed?.length !== KEY_BYTES) throw new Error(`malformed signing key: expected "${PRIVATE_KEY_PREFIX}" and the base64 of ${KEY_BYTES} bytes`);
  return seed;
}

/** A node:crypto private key from the 32 seed bytes (made once per loaded endpoint, not per request). */
export function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== KEY_BYTES) throw new Error(`an ed25519 seed is ${KEY_BYTES} bytes`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/**
 * The `v1a,<base64 ed25519 signature>` entries over `id.timestamp.body`, one per key in the order
 * given. ed25519 signs the whole message in one pass (no streaming API), hence the one buffer.
 */
export function signV1a(signedContent: Buffer, keys: readonly KeyObject[]): string[] {
  return keys.map((key) => `v1a,${sign(null, signedContent, key).toString('base64')}`);
}
