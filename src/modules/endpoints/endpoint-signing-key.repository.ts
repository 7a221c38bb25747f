// The ed25519 key pairs of endpoints with the V1A signature scheme: the same life cycle as signing
// secrets (endpoint.repository.ts), the current key without expiry, rotated-out ones until theirs.
import type { EndpointSigningKeyRow, Executor } from '../../db/schema.js';

/** Keys still valid at `now`, newest first (the current one has no expiry). */
export function findValidSigningKeys(db: Executor, endpointId: string, now: number): Promise<EndpointSigningKeyRow[]> {
  return db
    .selectFrom('endpoint_signing_keys')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('id', 'desc')
    .execute();
}

export function findSigningKeyById(db: Executor, id: string): Promise<EndpointSigningKeyRow | undefined> {
  return db.selectFrom('endpoint_signing_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertSigningKey(db: Executor, row: EndpointSigningKeyRow): Promise<void> {
  await db.insertInto('endpoint_signing_keys').values(row).execute();
}

export async function expireSigningKeys(db: Executor, ids: readonly string[], at: number): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('endpoint_signing_keys')
    .set({ expires_at: at })
    .where('id', 'in', ids as string[])
    .execute();
}

/** Keys that can no longer sign anything: nothing reads them again. */
export async function deleteExpiredSigningKeys(db: Executor, endpointId: string, now: number): Promise<void> {
  await db
    .deleteFrom('endpoint_signing_keys')
    .where('endpoint_id', '=', endpointId)
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', now)
    .execute();
}
