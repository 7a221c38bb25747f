// Operational events in the API: a node type, a list (newest first, filtered, cursors) and a live
// subscription; tenant tokens see their own tenant's, the admin all.
import { GraphQLError } from 'graphql';
import { canSee, tenantFilter, type Actor } from '../../auth/actor.js';
import { ValidationError } from '../../errors.js';
import { parseJson } from '../../db/json.js';
import type { OperationalEventRow } from '../../db/schema.js';
import { READ_SCOPES, idOrNull } from '../../graphql/access.js';
import { builder } from '../../graphql/builder.js';
import { connectionOf, pageArgs } from '../../graphql/connection.js';
import { SLOW_CONSUMER_CLOSE_CODE, subscribeStream } from '../../pubsub/subscription-stream.js';
import type { OperationalMessage } from '../../pubsub/topics.js';
import { findManyOperationalEventsById, listOperationalEvents } from './operational-event.repository.js';
import { OPERATIONAL_KINDS, checkKinds, eventTypeOf, type OperationalKind } from './operational-kinds.js';

const KIND_LIST = OPERATIONAL_KINDS.join(', ');

export const OperationalEventRef = builder.objectRef<OperationalEventRow>('OperationalEvent');

builder.node(OperationalEventRef, {
  description:
    'Something an operator should know: an endpoint disabled, enabled, failing or recovered; a delivery exhausted or recovered. ' +
    'Also delivered to hooks that name its `switchyard.*` event type.',
  id: { resolve: (row) => row.id },
  loadOne: async (id, context) => {
    const [row] = await findManyOperationalEventsById(context.services.db, [id]);
    return row && canSee(context.actor, row.tenant_id) ? row : null;
  },
  fields: (t) => ({
    kind: t.exposeString('kind', { description: `What happened: ${KIND_LIST}.` }),
    eventType: t.string({ description: 'The reserved event type that carries it to hooks (`switchyard.<kind>`).', resolve: (row) => eventTypeOf(row.kind as OperationalKind) }),
    tenantId: t.exposeID('tenant_id', { description: 'The tenant it concerns.' }),
    endpointId: t.exposeID('endpoint_id', { nullable: true, description: 'The endpoint it concerns.' }),
    deliveryId: t.exposeID('delivery_id', { nullable: true, description: 'The delivery it concerns (delivery.* kinds).' }),
    eventId: t.exposeID('event_id', { nullable: true, description: 'The `switchyard.*` event delivering it to hooks; null when no hook asked for it.' }),
    data: t.field({
      type: 'JSONObject',
      description: 'What the kind tells: reason and message (endpoint.disabled), threshold (ATTEMPTS, HALF_WINDOW or NINETY_PERCENT_WINDOW of the auto-disable window), failingSince, disablesAt, lastStatusCode and lastError, plus consecutiveFailures for ATTEMPTS (endpoint.failing), eventId, attempts and lastError (delivery.*).',
      resolve: (row) => parseJson<Record<string, unknown>>(row.data),
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was raised.', resolve: (row) => row.created_at }),
  }),
});

const OperationalEventConnection = connectionOf(OperationalEventRef, 'OperationalEvent');

const OperationalEventFilter = builder.inputType('OperationalEventFilter', {
  description: 'Which operational events to list.',
  fields: (t) => ({
    tenantId: t.id({ description: 'Only this tenant (admin); a tenant token sees only its own.' }),
    kinds: t.stringList({ description: `Only these kinds (${KIND_LIST}); an unknown kind is a VALIDATION_FAILED error.` }),
    endpointId: t.id({ description: 'Only about this endpoint.' }),
    deliveryId: t.id({ description: 'Only about this delivery.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Raised at or after.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Raised before.' }),
  }),
});

const OperationalEventSubscriptionFilter = builder.inputType('OperationalEventSubscriptionFilter', {
  description: 'Which operational events to receive.',
  fields: (t) => ({
    tenantId: t.id({ description: 'Only this tenant (admin); a tenant token sees only its own.' }),
    kinds: t.stringList({ description: `Only these kinds (${KIND_LIST}); an unknown kind is a VALIDATION_FAILED error.` }),
  }),
});

builder.queryFields((t) => ({
  operationalEvents: t.field({
    type: OperationalEventConnection,
    description: 'Operational events, newest first.',
    authScopes: READ_SCOPES,
    args: { ...pageArgs(t.arg), filter: t.arg({ type: OperationalEventFilter, description: 'Which operational events.' }) },
    resolve: async (_root, args, context) => ({
      page: await listOperationalEvents(
        context.services.db,
        {
          tenantId: tenantFilter(context.actor, idOrNull(args.filter?.tenantId)),
          kinds: checkKinds(args.filter?.kinds, ['filter', 'kinds']),
          endpointId: idOrNull(args.filter?.endpointId),
          deliveryId: idOrNull(args.filter?.deliveryId),
          createdAfter: args.filter?.createdAfter?.getTime() ?? null,
          createdBefore: args.filter?.createdBefore?.getTime() ?? null,
        },
        args,
      ),
    }),
  }),
}));

/** A subscription refused before it starts is answered 400 (over SSE a thrown error would be a 500). */
function kindsOrRefusal(kinds: readonly string[] | null | undefined) {
  try {
    return checkKinds(kinds, ['filter', 'kinds']);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new GraphQLError(error.message, { extensions: { code: error.code, problems: error.problems, http: { status: 400 } } });
  }
}

/** The tenant a subscriber may see: its own for a tenant token, the asked one (or all) for the admin. */
function visibleTenant(actor: Actor, requested: string | null): string | null {
  return actor.kind === 'tenant' ? actor.tenantId : requested;
}

builder.subscriptionFields((t) => ({
  operationalEvents: t.field({
    type: OperationalEventRef,
    description: 'Every operational event as it is raised.',
    authScopes: READ_SCOPES,
    args: { filter: t.arg({ type: OperationalEventSubscriptionFilter, description: 'Which operational events.' }) },
    subscribe: (_root, { filter }, context) => {
      const kinds = kindsOrRefusal(filter?.kinds);
      const wanted = kinds && kinds.length > 0 ? new Set<string>(kinds) : null;
      const tenant = visibleTenant(context.actor, idOrNull(filter?.tenantId));
      return subscribeStream(context.services.bus, 'operational', {
        onOverflow: (error: Error) => context.socket?.close(SLOW_CONSUMER_CLOSE_CODE, error.message),
        onFinish: context.holdSubscription(context.actor),
        accept: ({ event }: OperationalMessage) => (tenant === null || event.tenant_id === tenant) && (wanted === null || wanted.has(event.kind)),
      });
    },
    resolve: (message: OperationalMessage) => message.event,
  }),
}));
