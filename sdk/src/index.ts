// @switchyard/sdk: a typed client for Switchyard's GraphQL API, and webhook verification for receivers.
export { createClient, type ClientOptions, type Operations, type SwitchyardClient } from './client.js';
export {
  type GraphQLErrorEntry,
  SwitchyardError,
  SwitchyardGraphQLError,
  SwitchyardHttpError,
  SwitchyardNetworkError,
} from './errors.js';
export { type Connection, type PageArgs, type PaginateOptions, paginate } from './paginate.js';
export type { RequestOptions, SubscribeOptions, SwitchyardSubscription, TokenSource } from './requester.js';
export { type VerifiedWebhook, type VerifyWebhookInput, WebhookVerificationError, type WebhookVerificationErrorCode, verifyWebhook } from './verify.js';
// Every operation's result and variables types, the fragments' types, the enums and the input types.
export type * from '../generated/graphql.js';
