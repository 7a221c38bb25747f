// How an endpoint's credentials are kept: receiver auth and signing secrets are encrypted at rest
// with services.cipher, write-only in the API; decrypted only to describe or to send.
import type { EndpointRow, EndpointSecretRow } from '../../db/schema.js';
import { newId } from '../../db/ids.js';
import { parseJson, toJson } from '../../db/json.js';
import type { Services } from '../../services.js';
import { secretKey } from '../../webhook/signing.js';

export const ENDPOINT_AUTH_TYPES = ['NONE', 'BASIC', 'BEARER', 'API_KEY'] as const;
export type EndpointAuthType = (typeof ENDPOINT_AUTH_TYPES)[number];

/**
 * Own secrets are taken over the range Svix accepts, `whsec_` + 32 to 100 base64 characters: 32
 * characters decode to 24 bytes (the Standard Webhooks minimum), 100 to 75 bytes. Capping at the
 * 64 bytes Standard Webhooks suggests refused the secrets of 89 to 100 characters that tenants
 * bring from Svix-compatible senders. A length of 4n+1 characters holds no whole number of bytes
 * and stays refused: decoders disagree on it, so the receiver's key could differ from ours.
 */
const SECRET_MIN_BYTES = 24;
const SECRET_MAX_BYTES = 75;


// Storage of the receiver credentials: `auth_type` is plain; `auth_secret` is the cipher text of a
// JSON object with the credentials of that type — BASIC {username, password}, BEARER {token},
// API_KEY {key}. The API_KEY header name is not a secret and lives in `auth_header_name` in plain.
// The BASIC user name is kept inside the encrypted JSON rather than in a misnamed plain column;
// showing it costs one decryption, and it is often half of the credential anyway.
export type StoredCredentials = { username?: string; password?: string; token?: string; key?: string };

export interface StoredAuth {
  auth_type: EndpointAuthType;
  auth_secret: string | null;
  auth_header_name: string | null;
}

/** The columns that store `auth` (already validated): its type in plain, its credentials encrypted. */
export function storedAuth(
  services: Services,
  auth: { type: EndpointAuthType; username?: string | null; password?: string | null; token?: string | null; headerName?: string | null; key?: string | null },
): StoredAuth {
  const { username, password, token, headerName, key } = auth;
  const encrypt = (credentials: StoredCredentials) => services.cipher.encrypt(toJson(credentials));
  switch (auth.type) {
    case 'BASIC':
      return { auth_type: 'BASIC', auth_secret: encrypt({ username: username ?? '', password: password ?? '' }), auth_header_name: null };
    case 'BEARER':
      return { auth_type: 'BEARER', auth_secret: encrypt({ token: token ?? '' }), auth_header_name: null };
    case 'API_KEY':
      return { auth_type: 'API_KEY', auth_secret: encrypt({ key: key ?? '' }), auth_header_name: headerName ?? null };
    default:
      return { auth_type: 'NONE', auth_secret: null, auth_header_name: null };
  }
}

export function readCredentials(services: Services, endpoint: EndpointRow): StoredCredentials {
  if (endpoint.auth_secret === null) throw new Error(`endpoint ${endpoint.id} has ${endpoint.auth_type} auth but no stored credentials`);
  return parseJson<StoredCredentials>(services.cipher.decrypt(endpoint.auth_secret));
}

export function secretProblem(secret: string): string | null {
  let key: Buffer;
  try {
    key = secretKey(secret);
  } catch {
    // secretKey's message is safe too, but one message says what a valid secret looks like.
    return `must be "whsec_" followed by the base64 of ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES} random bytes`;
  }
  if (key.length < SECRET_MIN_BYTES || key.length > SECRET_MAX_BYTES) {
    return `must encode ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES} bytes of key material (this one has ${key.length})`;
  }
  return null;
}

/** A new current signing secret row, encrypted, counted as revealed (it is returned this once). */
export function newSecretRow(services: Services, endpointId: string, secret: string, now: number): EndpointSecretRow {
  return {
    id: newId('secret', now),
    endpoint_id: endpointId,
    secret: services.cipher.encrypt(secret),
    created_at: now,
    expires_at: null,
    revealed_at: now,
  };
}
