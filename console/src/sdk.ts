// The SDK's browser half as the console's data layer: the generated client, without verifyWebhook
// (node:crypto), which a browser never needs.
export { createClient, type SwitchyardClient } from '../../sdk/src/client.js';
export { SwitchyardGraphQLError } from '../../sdk/src/errors.js';
export type * from '../../sdk/generated/graphql.js';
