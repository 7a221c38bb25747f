// Which signatures a request carries. An endpoint lists the schemes it wants, rather than picking
// one mode: Standard Webhooks lets `webhook-signature` hold several space-separated entries, so a
// receiver moving from `v1` to `v1a` gets both until it is done, and the GitHub-style body HMAC is
// an extra header beside them, never a replacement. `V1` stays the default, so endpoints saved
// before schemes existed sign as they always did.
import { createHmac, type KeyObject } from 'node:crypto';
import { signV1a } from './ed25519-signing.js';
import { GITHUB_SIGNATURE_HEADER } from './headers.js';
import { signPayload } from './signing.js';

export const SIGNATURE_SCHEMES = ['V1', 'V1A', 'GITHUB_SHA256'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];
export const DEFAULT_SIGNATURE_SCHEMES: readonly SignatureScheme[] = ['V1'];

/**
 * Why a scheme list cannot be used, or null. At least one Standard Webhooks scheme is required: the
 * `webhook-signature` header is what every Standard Webhooks library checks, and it must never be empty.
 */
export function signatureSchemesProblem(schemes: readonly string[]): string | null {
  if (schemes.length === 0) return `must list at least one of ${SIGNATURE_SCHEMES.join(', ')}`;
  const unknown = schemes.find((scheme) => !(SIGNATURE_SCHEMES as readonly string[]).includes(scheme));
  if (unknown !== undefined) return `has an unknown scheme "${unknown}": use ${SIGNATURE_SCHEMES.join(', ')}`;
  if (new Set(schemes).size !== schemes.length) return 'lists a scheme twice';
  if (!schemes.includes('V1') && !schemes.includes('V1A')) return 'must include V1 or V1A: GITHUB_SHA256 is sent beside a Standard Webhooks signature, not instead of it';
  return null;
}

export interface SignatureInput {
  id: string;
  timestamp: number;
  /** the exact bytes sent; empty for GET/HEAD */
  body: Buffer;
  schemes: readonly SignatureScheme[];
  /** `whsec_…` secrets or their key bytes, newest first (V1, GITHUB_SHA256) */
  secrets: readonly (string | Buffer)[];
  /** ed25519 private keys, newest first (V1A) */
  signingKeys: readonly KeyObject[];
  /** GITHUB_SHA256's key: the current secret's text as UTF-8; taken from `secrets[0]` when that is a string */
  bodyHmacKey?: Buffer | null;
}

/**
 * The signature headers: `webhook-signature` with the `v1` entries (every valid secret) then the
 * `v1a` entries (every valid key), and `x-hub-signature-256` for GITHUB_SHA256. GitHub's header holds
 * one signature, so it is made with the current (newest) secret only: a receiver of that style
 * switches secrets at the moment of rotation. Its HMAC key is the secret's text (`whsec_…` as UTF-8),
 * not the decoded bytes `v1` uses: GitHub-style receivers hold the secret as a string they paste in.
 * Throws when a chosen scheme has no key to sign with.
 */
export function signatureHeaders(input: SignatureInput): [string, string][] {
  const { id, timestamp, body, schemes, secrets, signingKeys } = input;
  if (!Number.isSafeInteger(timestamp)) throw new Error('timestamp must be integer unix seconds');
  const entries: string[] = [];
  if (schemes.includes('V1')) entries.push(signPayload({ id, timestamp, body, secrets }));
  if (schemes.includes('V1A')) {
    if (signingKeys.length === 0) throw new Error('the V1A scheme needs at least one signing key');
    entries.push(...signV1a(Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]), signingKeys));
  }
  if (entries.length === 0) throw new Error('no Standard Webhooks scheme (V1 or V1A) is enabled');
  const headers: [string, string][] = [['webhook-signature', entries.join(' ')]];
  if (schemes.includes('GITHUB_SHA256')) {
    const current = secrets[0];
    const key = input.bodyHmacKey ?? (typeof current === 'string' ? Buffer.from(current, 'utf8') : null);
    if (key === null) throw new Error('the GITHUB_SHA256 scheme needs the current signing secret as text');
    headers.push([GITHUB_SIGNATURE_HEADER, `sha256=${createHmac('sha256', key).update(body).digest('hex')}`]);
  }
  return headers;
}
