import type { TokenRow } from '../../db/schema.js';
import { paginate, type PageArgs } from '../../db/pagination.js';
import type { Executor } from '../../db/schema.js';

export function findTokenByHash(db: Executor, hash: string): Promise<TokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
}

export function findTokenById(db: Executor, id: string): Promise<TokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function countAdminTokens(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('api_tokens')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('tenant_id', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export function listTokens(db: Executor, tenantId: string | null, args: PageArgs) {
  let query = db.selectFrom('api_tokens').selectAll();
  query = tenantId === null ? query.where('tenant_id', 'is not', null) : query.where('tenant_id', '=', tenantId);
  return paginate(query, args, { column: 'id' });
}

export async function insertToken(db: Executor, row: TokenRow): Promise<void> {
  await db.insertInto('api_tokens').values(row).execute();
}

export async function updateTokenRow(db: Executor, id: string, changes: Partial<TokenRow>): Promise<void> {
  await db.updateTable('api_tokens').set(changes).where('id', '=', id).execute();
}
