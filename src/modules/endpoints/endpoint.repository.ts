import { NO_TENANT, type TenantScope } from '../../auth/actor.js';
import type { EndpointRow, EndpointSecretRow } from '../../db/schema.js';
import { emptyPage, paginate, type PageArgs } from '../../db/pagination.js';
import type { Executor } from '../../db/schema.js';
import { inIdOrder } from '../../db/by-id.js';
import { jsonTextHas } from '../../db/json-text.js';
import { defineStatement } from '../../db/statement.js';

const endpointsById = defineStatement<{ ids: readonly string[] }, EndpointRow>((db, slots) => db.selectFrom('endpoints').selectAll().where(slots.in('id', 'ids')));

export function findEndpointById(db: Executor, id: string): Promise<EndpointRow | undefined> {
  return db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Endpoints by id, in the order of `ids`; null for each id without a row (one statement). */
export async function findManyEndpointsById(db: Executor, ids: readonly string[]): Promise<(EndpointRow | null)[]> {
  if (ids.length === 0) return [];
  return inIdOrder(ids, await endpointsById.rows(db, { ids }));
}

/** Which endpoints to list: those with an active hook that gets events of `eventType` on `channel`. */
export interface EndpointFilter {
  eventType?: string | null;
  channel?: string | null;
}

/** The hook patterns that match `type`: itself, `*`, and `group.*` for each of its dot prefixes (`a.*`, `a.b.*` for `a.b.c`). */
function patternsMatching(type: string): string[] {
  const patterns = [type, '*'];
  for (let dot = type.indexOf('.'); dot !== -1; dot = type.indexOf('.', dot + 1)) patterns.push(`${type.slice(0, dot)}.*`);
  return patterns;
}

export function listEndpoints(db: Executor, tenantId: TenantScope, filter: EndpointFilter, args: PageArgs) {
  if (tenantId === NO_TENANT) return emptyPage<EndpointRow>(args);
  let query = db.selectFrom('endpoints').selectAll();
  if (typeof tenantId === 'string') query = query.where('tenant_id', '=', tenantId);
  const { eventType, channel } = filter;
  if (eventType || channel) {
    query = query.where(({ exists, selectFrom }) => {
      let hooks = selectFrom('hooks').select('hooks.id').whereRef('hooks.endpoint_id', '=', 'endpoints.id').where('hooks.active', '=', 1);
      // Patterns are stored as a JSON array: the hook gets the type if one of its elements is a pattern that matches it.
      if (eventType) hooks = hooks.where((eb) => eb.or(patternsMatching(eventType).map((pattern) => jsonTextHas('hooks.event_types', pattern))));
      // A hook without channels gets every channel.
      if (channel) hooks = hooks.where((eb) => eb.or([eb('hooks.channels', '=', '[]'), jsonTextHas('hooks.channels', channel)]));
      return exists(hooks);
    });
  }
  return paginate(query, args, { column: 'id' });
}

export async function insertEndpoint(db: Executor, row: EndpointRow): Promise<void> {
  await db.insertInto('endpoints').values(row).execute();
}

export async function updateEndpointRow(db: Executor, id: string, changes: Partial<EndpointRow>): Promise<void> {
  await db.updateTable('endpoints').set(changes).where('id', '=', id).execute();
}

export async function deleteEndpointRow(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('endpoints').where('id', '=', id).execute();
}

/** Secrets still valid at `now`, newest first (the current one has no expiry). */
export function findValidSecrets(db: Executor, endpointId: string, now: number): Promise<EndpointSecretRow[]> {
  return db
    .selectFrom('endpoint_secrets')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('id', 'desc')
    .execute();
}

export async function insertSecret(db: Executor, row: EndpointSecretRow): Promise<void> {
  await db.insertInto('endpoint_secrets').values(row).execute();
}

export async function updateSecretRow(db: Executor, id: string, changes: Partial<EndpointSecretRow>): Promise<void> {
  await db.updateTable('endpoint_secrets').set(changes).where('id', '=', id).execute();
}

export function findSecretById(db: Executor, id: string): Promise<EndpointSecretRow | undefined> {
  return db.selectFrom('endpoint_secrets').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The secret new requests are signed with first: the newest one without an expiry. */
export function findCurrentSecret(db: Executor, endpointId: string): Promise<EndpointSecretRow | undefined> {
  return db
    .selectFrom('endpoint_secrets')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where('expires_at', 'is', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/**
 * Marks a secret revealed unless it already was; true when this call did it. The condition is in the
 * UPDATE itself so two concurrent reveals cannot both succeed.
 */
export async function markSecretRevealed(db: Executor, id: string, at: number): Promise<boolean> {
  const result = await db
    .updateTable('endpoint_secrets')
    .set({ revealed_at: at })
    .where('id', '=', id)
    .where('revealed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function expireSecrets(db: Executor, ids: readonly string[], at: number): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('endpoint_secrets')
    .set({ expires_at: at })
    .where('id', 'in', ids as string[])
    .execute();
}

/** Secrets that can no longer sign anything: nothing reads them again. */
export async function deleteExpiredSecrets(db: Executor, endpointId: string, now: number): Promise<void> {
  await db
    .deleteFrom('endpoint_secrets')
    .where('endpoint_id', '=', endpointId)
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', now)
    .execute();
}
