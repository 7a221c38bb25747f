import type { EventRow } from '../../db/schema.js';
import { canSee, tenantFilter } from '../../auth/actor.js';
import { parseJson } from '../../db/json.js';
import type { InputFieldBuilder } from '@pothos/core';
import { READ_SCOPES, idOrNull } from '../../graphql/access.js';
import { builder, type SchemaTypes } from '../../graphql/builder.js';
import { LOADER_OPTIONS, requireRows } from '../../graphql/loadable.js';
import { connectionOf, orderArg, pageArgs } from '../../graphql/connection.js';
import { defineMutation } from '../../graphql/mutation.js';
import { findManyTenantsById } from '../tenants/tenant.repository.js';
import { TenantRef } from '../tenants/tenant.schema.js';
import { findEventById, listEvents } from './event.repository.js';
import { MAX_BATCH, sendEvent, sendEvents, type SentEvent } from './event.service.js';

export const EventRef = builder.objectRef<EventRow>('Event');

builder.node(EventRef, {
  description: 'Something that happened at the producer, sent to one tenant and delivered to its matching hooks.',
  id: { resolve: (event) => event.id },
  loadOne: async (id, context) => {
    const event = await findEventById(context.services.db, id);
    return event && canSee(context.actor, event.tenant_id) ? event : null;
  },
  fields: (t) => ({
    tenant: t.loadable({
      type: TenantRef,
      description: 'The tenant it was sent to.',
      loaderOptions: LOADER_OPTIONS,
      load: async (ids: string[], context) => requireRows('tenant', ids, await findManyTenantsById(context.services.db, ids)),
      resolve: (event) => event.tenant_id,
    }),
    type: t.exposeString('type', { description: 'Its event type name.' }),
    payload: t.field({ type: 'JSON', description: 'The payload as sent.', resolve: (event) => parseJson(event.payload) }),
    channels: t.field({ type: ['String'], description: 'Channels it was sent on.', resolve: (event) => parseJson<string[]>(event.channels) }),
    idempotencyKey: t.exposeString('idempotency_key', {
      nullable: true,
      description: 'The key that de-duplicates repeated sends within the idempotency window.',
    }),
    occurredAt: t.field({ type: 'DateTime', description: 'When it happened, per the producer.', resolve: (event) => event.occurred_at }),
    createdAt: t.field({ type: 'DateTime', description: 'When Switchyard accepted it.', resolve: (event) => event.created_at }),
    traceparent: t.exposeString('traceparent', { nullable: true, description: 'The W3C trace context kept with it and sent on its delivery requests.' }),
  }),
});

const EventConnection = connectionOf(EventRef, 'Event');

const EventFilterInput = builder.inputType('EventFilter', {
  description: 'Which events to list.',
  fields: (t) => ({
    tenantId: t.id({ description: 'Only this tenant (admin); a tenant token always sees only its own.' }),
    types: t.stringList({ description: 'Only these event type names.' }),
    channel: t.string({ description: 'Only events sent on this channel.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Accepted at or after this instant.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Accepted before this instant.' }),
  }),
});

builder.queryFields((t) => ({
  events: t.field({
    type: EventConnection,
    description: 'Events, newest first unless `order` says otherwise.',
    authScopes: READ_SCOPES,
    args: { ...pageArgs(t.arg), ...orderArg(t.arg), filter: t.arg({ type: EventFilterInput, description: 'Which events.' }) },
    resolve: async (_root, args, context) => ({
      page: await listEvents(
        context.services.db,
        {
          tenantId: tenantFilter(context.actor, idOrNull(args.filter?.tenantId)),
          types: args.filter?.types ?? null,
          channel: args.filter?.channel ?? null,
          createdAfter: args.filter?.createdAfter?.getTime() ?? null,
          createdBefore: args.filter?.createdBefore?.getTime() ?? null,
        },
        args,
      ),
    }),
  }),
  event: t.field({
    type: EventRef,
    nullable: true,
    description: 'An event by id (`msg_…`); null when it does not exist or is not visible.',
    authScopes: READ_SCOPES,
    args: { id: t.arg.id({ required: true, description: 'The event id.' }) },
    resolve: async (_root, args, context) => {
      const event = await findEventById(context.services.db, args.id);
      return event && canSee(context.actor, event.tenant_id) ? event : null;
    },
  }),
}));

const SendEventPayload = builder.objectRef<SentEvent>('SendEventPayload').implement({
  description: 'The accepted event.',
  fields: (t) => ({
    event: t.field({ type: EventRef, description: 'The event (the earlier one for a repeated idempotency key).', resolve: (r) => r.event }),
    duplicate: t.exposeBoolean('duplicate', { description: 'True when an earlier event with the same idempotency key was returned.' }),
    deliveryCount: t.int({ description: 'Deliveries created for it by this call (0 for a duplicate).', resolve: (r) => r.deliveries.length }),
  }),
});

const sendEventFields = (t: InputFieldBuilder<SchemaTypes, 'InputObject'>) => ({
  tenantId: t.id({ description: 'The tenant to send to (a tenant token with SEND_EVENTS may omit it).' }),
  type: t.string({ required: true, description: 'An existing, non-archived event type name.' }),
  payload: t.field({ type: 'JSON', required: true, description: "The payload; must match the type's JSON Schema; at most 1 MiB." }),
  channels: t.stringList({ description: 'Channels, for hooks that listen to some channels only.' }),
  idempotencyKey: t.string({ description: 'Repeating a key within 24 h returns the first event instead of a new one.' }),
  occurredAt: t.field({ type: 'DateTime', description: 'When it happened (default: now).' }),
  traceparent: t.string({
    description: "W3C trace context (`00-<trace id>-<span id>-<flags>`) of the producer's trace: kept with the event and sent as `traceparent` on every delivery request. Without it, the event continues the trace of the request (its own `traceparent` header).",
  }),
});

const EventInput = builder.inputType('EventInput', { description: 'One event of a batch.', fields: sendEventFields });

const sendScopes = { $any: { admin: true, scope: 'SEND_EVENTS' as const } };

defineMutation('sendEvent', {
  description:
    'Sends one event: validated, then written with one delivery per matching hook in one transaction, and delivered at once.',
  authScopes: sendScopes,
  input: sendEventFields,
  payload: SendEventPayload,
  resolve: (input, context) =>
    sendEvent(context.services, context.actor, { ...input, tenantId: idOrNull(input.tenantId) }, { requestTraceparent: context.traceparent }),
});

const SendEventsPayload = builder.objectRef<{ results: SentEvent[] }>('SendEventsPayload').implement({
  description: 'The accepted events, in the order sent.',
  fields: (t) => ({
    results: t.field({ type: [SendEventPayload], description: 'One result per event.', resolve: (r) => r.results }),
  }),
});

defineMutation('sendEvents', {
  description: `Sends up to ${MAX_BATCH} events atomically: all are valid and accepted, or none is.`,
  authScopes: sendScopes,
  input: (t) => ({ events: t.field({ type: [EventInput], required: true, description: `The events (1 to ${MAX_BATCH}).` }) }),
  payload: SendEventsPayload,
  resolve: async ({ events }, context) => ({
    results: await sendEvents(
      context.services,
      context.actor,
      events.map((event) => ({ ...event, tenantId: idOrNull(event.tenantId) })),
      { requestTraceparent: context.traceparent },
    ),
  }),
});
