// Secrets at rest: AES-256-GCM with a random 96-bit nonce per value. Tokens: SHA-256 hashes
// (they are 256-bit random strings, so a slow password hash would add cost and no safety).
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CIPHER_VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_FILE_NAME = 'encryption.key';

export interface Cipher {
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
}

/** Accepts 32 bytes as base64 (44 chars) or hex (64 chars); throws a clear error otherwise. */
export function parseKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new Error('SWITCHYARD_ENCRYPTION_KEY must be 32 bytes, base64 or hex encoded');
  }
  return key;
}

export function createCipher(key: Buffer): Cipher {
  return {
    encrypt(plaintext) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${CIPHER_VERSION}:${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    decrypt(ciphertext) {
      const [version, payload] = ciphertext.split(':', 2);
      if (version !== CIPHER_VERSION || payload === undefined) throw new Error('unknown ciphertext format');
      const raw = Buffer.from(payload, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
      decipher.setAuthTag(raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}

/**
 * The configured key, or in development a key generated once into the data folder (with a warning),
 * so a first `npm start` works and restarts can still read what earlier runs encrypted.
 */
export function resolveEncryptionKey(
  configured: string | null,
  dataDir: string,
  warn: (message: string) => void,
): Buffer {
  if (configured) return parseKey(configured);
  const path = join(dataDir, KEY_FILE_NAME);
  if (existsSync(path)) return parseKey(readFileSync(path, 'utf8'));
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600 });
  warn(
    `SWITCHYARD_ENCRYPTION_KEY is not set: generated a development key into ${path}. ` +
      'Set SWITCHYARD_ENCRYPTION_KEY in production and keep it safe: losing it makes stored secrets unreadable.',
  );
  return key;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

export const TOKEN_PREFIX = 'sy_';

export function generateToken(kind: 'admin' | 'tenant'): string {
  return `${TOKEN_PREFIX}${kind === 'admin' ? 'adm' : 'tnt'}_${randomBytes(32).toString('base64url')}`;
}
