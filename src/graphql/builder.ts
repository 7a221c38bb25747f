// The Pothos builder: plugins and shared configuration only. Types live with their domain
// (src/modules/<domain>/*.schema.ts), so this file imports no database and no module.
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin, { resolveNodes } from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import type { Actor, TokenScope } from '../auth/actor.js';
import { idKind, type IdKind } from '../db/ids.js';
import type { Services } from '../services.js';
import type { PushableResults } from './shared-execution.js';

export interface GraphQLContext {
  actor: Actor;
  services: Services;
  /**
   * Counts one live subscription against the caller's token and answers the function that ends it;
   * throws a 429 error when the token holds the most allowed already.
   */
  holdSubscription: (actor: Actor) => () => void;
  /** present on WebSocket connections only */
  socket?: SocketCapabilities;
  /** the W3C `traceparent` header the request came with (HTTP and SSE), parent of the spans its resolvers start */
  traceparent: string | null;
}

/** What a WebSocket connection offers the subscription it runs. */
export interface SocketCapabilities {
  /** closes the connection (a slow consumer) */
  close(code: number, reason: string): void;
  /** hands the subscription's shared results to the socket, which pushes them serialised once instead of iterating them */
  push(results: PushableResults): void;
}

/** Node type names by id prefix: our ids are globally unique and self-describing, so they ARE the global ids. */
export const NODE_TYPE_BY_KIND: Record<IdKind, string> = {
  tenant: 'Tenant',
  token: 'ApiToken',
  eventType: 'EventType',
  endpoint: 'Endpoint',
  secret: 'EndpointSecret',
  signingKey: 'EndpointSigningKey',
  hook: 'Hook',
  event: 'Event',
  delivery: 'Delivery',
  attempt: 'DeliveryAttempt',
  operationalEvent: 'OperationalEvent',
};

/**
 * The typename `decodeGlobalID` gives an id whose prefix names no type. No type has this name (it
 * is not a GraphQL name), so `node`/`nodes` answer null for it before any loading.
 */
export const UNKNOWN_NODE_TYPE = '(unknown id prefix)';

const isKnownNode = (globalID: { typename: string }) => globalID.typename !== UNKNOWN_NODE_TYPE;

export interface AppSchemaTypes {
  Context: GraphQLContext;
  AuthScopes: { admin: boolean; scope: TokenScope };
  DefaultFieldNullability: false;
  Scalars: {
    // Ids are prefixed strings (a number sent as an ID arrives as its string), so inputs need no coercion.
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | number };
    JSON: { Input: unknown; Output: unknown };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
}

/** The builder's full type set, for helpers that take Pothos refs and field builders. */
export type SchemaTypes = PothosSchemaTypes.ExtendDefaultTypes<AppSchemaTypes>;

export const builder: PothosSchemaTypes.SchemaBuilder<SchemaTypes> = new SchemaBuilder<AppSchemaTypes>({
  // Dataloader: relation fields (`t.loadable`) batch their reads per request and field.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      admin: context.actor.kind === 'admin',
      scope: (scope: TokenScope) => context.actor.kind === 'admin' || context.actor.scopes.has(scope),
    }),
    unauthorizedError: (_parent, context, info) =>
      new GraphQLError(
        context.actor.kind === 'admin'
          ? `not allowed: ${info.parentType.name}.${info.fieldName}`
          : `${info.parentType.name}.${info.fieldName} needs an admin token or a tenant token with the right scope`,
        { extensions: { code: 'FORBIDDEN' } },
      ),
  },
  errors: {
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName.charAt(0).toUpperCase()}${fieldName.slice(1)}Result`,
    },
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    encodeGlobalID: (_typename, id) => String(id),
    decodeGlobalID: (globalID) => {
      const kind = idKind(globalID);
      // An id with no known prefix must answer "not found" (null), not a resolver error.
      return { typename: kind ? NODE_TYPE_BY_KIND[kind] : UNKNOWN_NODE_TYPE, id: globalID };
    },
    nodeTypeOptions: { description: 'An object with a globally unique, prefixed id (e.g. `ep_…`, `msg_…`).' },
    idFieldOptions: { description: 'Globally unique id; its prefix names the type.' },
    nodeQueryOptions: {
      description: 'Any object by its id; null when it does not exist or is not visible to the caller.',
      args: { id: { description: 'A prefixed id, e.g. `ep_…` or `msg_…`.' } },
      resolve: (_root, args, _context, _info, resolveNode) => (isKnownNode(args.id) ? resolveNode(args.id) : null),
    },
    nodesQueryOptions: {
      description: 'Several objects by id, in the order asked; null for each one not visible.',
      args: { ids: { description: 'Prefixed ids, e.g. `ep_…` or `msg_…`.' } },
      // The plugin's own `resolveNodes` skips null entries (they answer null), keeping the order asked.
      resolve: (_root, args, context, info) =>
        resolveNodes(builder, context, info, args.ids.map((id) => (isKnownNode(id) ? id : null))),
    },
    pageInfoTypeOptions: { description: 'Where a page of a connection stands.' },
  },
});

builder.queryType({ description: 'Read the tenants, event types, endpoints, hooks, events, deliveries and attempts you may see.' });
builder.mutationType({ description: 'Change the configuration, send events and act on deliveries.' });
