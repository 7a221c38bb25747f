// Assembles the schema: importing a domain's schema module registers its types on the builder.
// Nothing here touches a database, so the schema can be printed offline.
import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './errors.js';
import '../modules/tenants/tenant.schema.js';
import '../modules/tokens/token.schema.js';
import '../modules/tokens/portal.schema.js';
import '../modules/event-types/event-type.schema.js';
import '../modules/endpoints/endpoint.schema.js';
import '../modules/endpoints/endpoint-signing.schema.js';
import '../modules/hooks/hook.schema.js';
import '../modules/events/event.schema.js';
import '../modules/deliveries/delivery.schema.js';
import '../modules/deliveries/delivery.mutations.js';
import '../modules/deliveries/endpoint-health.schema.js';
import '../modules/deliveries/delivery.subscriptions.js';
import '../modules/operations/operational-event.schema.js';

let built: GraphQLSchema | null = null;

export function buildSchema(): GraphQLSchema {
  built ??= lexicographicSortSchema(builder.toSchema());
  return built;
}
