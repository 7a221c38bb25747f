// The SDK's browser half as the console's data layer: the generated client, without verifyWebhook
// (node:crypto), which a browser never needs, and the first load of a view's list.
import { paginate, type Connection, type PageArgs } from '../../sdk/src/paginate.js';

export { createClient, type SwitchyardClient } from '../../sdk/src/client.js';
export { SwitchyardGraphQLError } from '../../sdk/src/errors.js';
export type * from '../../sdk/generated/graphql.js';

/** How far back a view's first load looks for items its filter matches: pages of a bounded stretch each. */
const FIRST_LOAD_PAGES = 20;

/** The newest `count` items of a list (fewer when the list ends, or its matches lie further back than the first load looks). */
export async function newest<T>(count: number, fetchPage: (page: PageArgs) => Promise<Connection<T>>): Promise<T[]> {
  const found: T[] = [];
  for await (const item of paginate(fetchPage, { first: count, limit: count, maxPages: FIRST_LOAD_PAGES })) found.push(item);
  return found;
}
