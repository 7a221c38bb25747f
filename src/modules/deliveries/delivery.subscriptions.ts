// Live views: every attempt as it starts and finishes, every delivery state change, every endpoint
// change. Messages are filtered per subscriber at the source (tenant first), buffered up to a bound.
import type { Actor } from '../../auth/actor.js';
import type { AttemptOutcome, DeliveryStatus, AttemptRow, DeliveryRow } from '../../db/schema.js';
import { READ_SCOPES, idOrNull } from '../../graphql/access.js';
import { builder, type GraphQLContext } from '../../graphql/builder.js';
import { SLOW_CONSUMER_CLOSE_CODE, subscribeStream } from '../../pubsub/subscription-stream.js';
import type { AttemptMessage, DeliveryMessage, EndpointMessage } from '../../pubsub/topics.js';
import { EndpointRef } from '../endpoints/endpoint.schema.js';
import { eventTypeMatcher } from '../../webhook/event-type-pattern.js';
import { AttemptOutcomeEnum, AttemptRef, DeliveryRef, DeliveryStatusEnum, rememberDelivery } from './delivery.schema.js';

/** The tenant a subscriber may see: its own for a tenant token, the asked one (or all) for the admin. */
function visibleTenant(actor: Actor, requested: string | null | undefined): string | null {
  if (actor.kind === 'tenant') return actor.tenantId;
  return requested ?? null;
}

/** Options of one subscriber's stream; counts against the token's live subscriptions (throws past the cap). */
function streamOptions(context: GraphQLContext) {
  return {
    onOverflow: (error: Error) => context.socket?.close(SLOW_CONSUMER_CLOSE_CODE, error.message),
    onFinish: context.holdSubscription(context.actor),
  };
}

interface ScopeFilter {
  tenantId?: string | null;
  endpointId?: string | null;
  hookId?: string | null;
  eventId?: string | null;
  eventTypes?: readonly string[] | null;
}

/** The tenant / endpoint / hook / event / type part every attempt and delivery filter shares. */
function scopeMatcher(actor: Actor, filter: ScopeFilter | null | undefined) {
  const tenant = visibleTenant(actor, idOrNull(filter?.tenantId));
  const endpointId = idOrNull(filter?.endpointId);
  const hookId = idOrNull(filter?.hookId);
  const eventId = idOrNull(filter?.eventId);
  // compiled once per subscription: the check runs for every message
  const typeMatches = filter?.eventTypes && filter.eventTypes.length > 0 ? eventTypeMatcher(filter.eventTypes) : () => true;
  return (row: { tenant_id: string; endpoint_id: string; hook_id: string | null; event_id: string }, eventType: string) =>
    (tenant === null || row.tenant_id === tenant) &&
    (endpointId === null || row.endpoint_id === endpointId) &&
    (hookId === null || row.hook_id === hookId) &&
    (eventId === null || row.event_id === eventId) &&
    typeMatches(eventType);
}

const AttemptSubscriptionFilter = builder.inputType('AttemptSubscriptionFilter', {
  description: 'Which live attempts to receive. A tenant token only ever receives its own tenant’s.',
  fields: (t) => ({
    tenantId: t.id({ description: 'Only this tenant (admin); a tenant token sees only its own.' }),
    endpointId: t.id({ description: 'Only to this endpoint.' }),
    hookId: t.id({ description: 'Only routed by this hook.' }),
    eventId: t.id({ description: 'Only of this event.' }),
    eventTypes: t.stringList({ description: 'Only of these event types (`group.*` wildcards allowed).' }),
    outcomes: t.field({ type: [AttemptOutcomeEnum], description: 'Only these outcomes (IN_FLIGHT = attempts starting).' }),
    includeStarted: t.boolean({
      defaultValue: false,
      description: 'Also receive each attempt when it starts (outcome IN_FLIGHT), not only when it finishes.',
    }),
  }),
});

const DeliverySubscriptionFilter = builder.inputType('DeliverySubscriptionFilter', {
  description: 'Which delivery changes to receive.',
  fields: (t) => ({
    tenantId: t.id({ description: 'Only this tenant (admin); a tenant token sees only its own.' }),
    endpointId: t.id({ description: 'Only to this endpoint.' }),
    hookId: t.id({ description: 'Only routed by this hook.' }),
    eventId: t.id({ description: 'Only of this event.' }),
    eventTypes: t.stringList({ description: 'Only of these event types (`group.*` wildcards allowed).' }),
    statuses: t.field({ type: [DeliveryStatusEnum], description: 'Only changes into these states.' }),
  }),
});

const EndpointSubscriptionFilter = builder.inputType('EndpointSubscriptionFilter', {
  description: 'Which endpoint changes to receive.',
  fields: (t) => ({
    tenantId: t.id({ description: 'Only this tenant (admin); a tenant token sees only its own.' }),
    endpointId: t.id({ description: 'Only this endpoint.' }),
  }),
});

builder.subscriptionType({ description: 'Live views over graphql-ws (or SSE) at /graphql.' });

builder.subscriptionFields((t) => ({
  deliveryAttempts: t.field({
    type: AttemptRef,
    description: 'Every delivery attempt as it finishes (and, with includeStarted, as it starts), with its delivery.',
    authScopes: READ_SCOPES,
    args: { filter: t.arg({ type: AttemptSubscriptionFilter, description: 'Which attempts.' }) },
    subscribe: (_root, { filter }, context) => {
      const inScope = scopeMatcher(context.actor, filter);
      const outcomes = (filter?.outcomes ?? null) as AttemptOutcome[] | null;
      const includeStarted = filter?.includeStarted ?? false;
      return subscribeStream(context.services.bus, 'attempt', {
        ...streamOptions(context),
        accept: ({ phase, attempt, delivery }: AttemptMessage) =>
          (includeStarted || phase === 'finished') &&
          inScope(attempt, delivery.event_type) &&
          (outcomes === null || outcomes.length === 0 || outcomes.includes(attempt.outcome)),
      });
    },
    resolve: (message: AttemptMessage): AttemptRow => {
      rememberDelivery(message.attempt, message.delivery);
      return message.attempt;
    },
  }),
  deliveryUpdated: t.field({
    type: DeliveryRef,
    description: 'Every delivery state change (PENDING → SENDING → RETRYING / SUCCEEDED / FAILED …).',
    authScopes: READ_SCOPES,
    args: { filter: t.arg({ type: DeliverySubscriptionFilter, description: 'Which deliveries.' }) },
    subscribe: (_root, { filter }, context) => {
      const inScope = scopeMatcher(context.actor, filter);
      const statuses = (filter?.statuses ?? null) as DeliveryStatus[] | null;
      return subscribeStream(context.services.bus, 'delivery', {
        ...streamOptions(context),
        accept: ({ delivery }: DeliveryMessage) =>
          inScope(delivery, delivery.event_type) && (statuses === null || statuses.length === 0 || statuses.includes(delivery.status)),
      });
    },
    resolve: (message: DeliveryMessage): DeliveryRow => message.delivery,
  }),
  endpointUpdated: t.field({
    type: EndpointRef,
    description: 'An endpoint changing: disabled (manually, after failures, 410 Gone) or enabled.',
    authScopes: READ_SCOPES,
    args: { filter: t.arg({ type: EndpointSubscriptionFilter, description: 'Which endpoints.' }) },
    subscribe: (_root, { filter }, context) => {
      const tenant = visibleTenant(context.actor, idOrNull(filter?.tenantId));
      const endpointId = idOrNull(filter?.endpointId);
      return subscribeStream(context.services.bus, 'endpoint', {
        ...streamOptions(context),
        accept: ({ endpoint }: EndpointMessage) =>
          (tenant === null || endpoint.tenant_id === tenant) && (endpointId === null || endpoint.id === endpointId),
      });
    },
    resolve: (message: EndpointMessage) => message.endpoint,
  }),
}));
