// The ed25519 key pairs an endpoint signs `v1a` with. Switchyard makes them (a tenant never brings
// a private key, so none can leak from outside); the private key is encrypted at rest like a
// signing secret and never leaves the server; the public key is readable by anyone who may read
// the endpoint. Rotation keeps the old key signing for SWITCHYARD_SECRET_OVERLAP_MS, as for secrets.
import type { EndpointRow, EndpointSigningKeyRow, Executor } from '../../db/schema.js';
import { canSee, type Actor } from '../../auth/actor.js';
import { newId } from '../../db/ids.js';
import { parseJson } from '../../db/json.js';
import { NotFoundError } from '../../errors.js';
import type { Services } from '../../services.js';
import { generateSigningKeyPair, privateKeySeed } from '../../webhook/ed25519-signing.js';
import type { SignatureScheme } from '../../webhook/signature-schemes.js';
import { findEndpointById, updateEndpointRow } from './endpoint.repository.js';
import { deleteExpiredSigningKeys, expireSigningKeys, findValidSigningKeys, insertSigningKey } from './endpoint-signing-key.repository.js';
import { MAX_OLD_SECRETS } from './endpoint.validation.js';

export function signatureSchemesOf(endpoint: EndpointRow): SignatureScheme[] {
  return parseJson<SignatureScheme[]>(endpoint.signature_schemes);
}

function newSigningKeyRow(services: Services, endpointId: string, now: number): EndpointSigningKeyRow {
  const pair = generateSigningKeyPair();
  return {
    id: newId('signingKey', now),
    endpoint_id: endpointId,
    private_key: services.cipher.encrypt(pair.privateKey),
    public_key: pair.publicKey,
    created_at: now,
    expires_at: null,
  };
}

/**
 * Gives the endpoint a current key pair when it signs with V1A and has none yet (it just opted in, or
 * its key expired): the request builder must never meet V1A without a key. Runs in the caller's transaction.
 */
export async function ensureSigningKey(services: Services, trx: Executor, endpoint: EndpointRow, now: number): Promise<void> {
  if (!signatureSchemesOf(endpoint).includes('V1A')) return;
  const valid = await findValidSigningKeys(trx, endpoint.id, now);
  if (valid.some((row) => row.expires_at === null)) return;
  await insertSigningKey(trx, newSigningKeyRow(services, endpoint.id, now));
}

/** Key pairs still valid at `now`, newest first (public halves for the API; private ones stay encrypted). */
export function validSigningKeysOf(services: Services, endpointId: string, now: number): Promise<EndpointSigningKeyRow[]> {
  return findValidSigningKeys(services.db, endpointId, now);
}

/** The 32-byte ed25519 seeds that sign `v1a` for the endpoint at `now`, newest first, decrypted. */
export async function loadSigningKeySeeds(services: Services, endpointId: string, now: number): Promise<Buffer[]> {
  const rows = await findValidSigningKeys(services.db, endpointId, now);
  return rows.map((row) => privateKeySeed(services.cipher.decrypt(row.private_key)));
}

/**
 * Makes a new current key pair and returns its public key. The previous current key keeps signing for
 * `config.secretOverlapMs`, so receivers can add the new public key before the old one stops;
 * beyond MAX_OLD_SECRETS still-valid old keys, the oldest expire at once (the cap of secrets).
 */
export async function rotateEndpointSigningKey(
  services: Services,
  actor: Actor,
  id: string,
): Promise<{ endpoint: EndpointRow; publicKey: string }> {
  return services.db.transaction().execute(async (trx) => {
    const existing = await findEndpointById(trx, id);
    if (!existing || !canSee(actor, existing.tenant_id)) throw new NotFoundError('Endpoint', id);
    const now = services.clock.now();
    // As for secrets: the row lock orders concurrent rotations, so there is never a second current key.
    // updated_at also makes the dispatcher reload the endpoint's keys at once.
    await updateEndpointRow(trx, id, { updated_at: now });
    const valid = await findValidSigningKeys(trx, id, now);
    await expireSigningKeys(
      trx,
      valid.filter((row) => row.expires_at === null).map((row) => row.id),
      now + services.config.secretOverlapMs,
    );
    await expireSigningKeys(trx, valid.slice(MAX_OLD_SECRETS).map((row) => row.id), now);
    await deleteExpiredSigningKeys(trx, id, now);
    const row = newSigningKeyRow(services, id, now);
    await insertSigningKey(trx, row);
    return { endpoint: { ...existing, updated_at: now }, publicKey: row.public_key };
  });
}
