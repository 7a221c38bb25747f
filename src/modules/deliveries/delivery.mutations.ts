// What a person does to deliveries: retry, cancel, recover an endpoint's failures, replay an event, test a hook.
import type { AttemptRow, DeliveryRow, EndpointRow, EventRow } from '../../db/schema.js';
import { MANAGE_SCOPES } from '../../graphql/access.js';
import { builder } from '../../graphql/builder.js';
import { defineMutation } from '../../graphql/mutation.js';
import { EndpointRef } from '../endpoints/endpoint.schema.js';
import { findEndpointById } from '../endpoints/endpoint.repository.js';
import { EventRef } from '../events/event.schema.js';
import { AttemptRef, DeliveryRef } from './delivery.schema.js';
import { cancelDelivery, recoverEndpoint, replayEvent, retryDelivery, testHook } from './delivery.service.js';

const DeliveryPayload = builder.objectRef<{ delivery: DeliveryRow }>('DeliveryPayload').implement({
  description: 'The delivery after the change.',
  fields: (t) => ({ delivery: t.field({ type: DeliveryRef, description: 'The delivery.', resolve: (p) => p.delivery }) }),
});

defineMutation('retryDelivery', {
  description: "Makes a manual attempt due now, also for a delivery that already succeeded or failed. A FIFO hook's delivery goes next: it waits (BLOCKED) while another of the hook is due or in flight.",
  authScopes: MANAGE_SCOPES,
  input: (t) => ({ id: t.id({ required: true, description: 'The delivery.' }) }),
  payload: DeliveryPayload,
  resolve: async ({ id }, context) => ({ delivery: await retryDelivery(context.services, context.actor, id) }),
});

defineMutation('cancelDelivery', {
  description: 'Cancels a delivery that has not ended; hooks that run after it are skipped.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({ id: t.id({ required: true, description: 'The delivery.' }) }),
  payload: DeliveryPayload,
  resolve: async ({ id }, context) => ({ delivery: await cancelDelivery(context.services, context.actor, id) }),
});

const RecoverEndpointPayload = builder.objectRef<{ count: number; endpoint: EndpointRow }>('RecoverEndpointPayload').implement({
  description: 'How many failed deliveries were made due again.',
  fields: (t) => ({
    recovered: t.exposeInt('count', { description: 'Failed deliveries now due again.' }),
    endpoint: t.field({ type: EndpointRef, description: 'The endpoint.', resolve: (p) => p.endpoint }),
  }),
});

defineMutation('recoverEndpoint', {
  description: 'Resends every FAILED delivery of an endpoint created in [since, until) — e.g. after an outage. Those of a FIFO hook go one at a time, in order, as its queue allows.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({
    id: t.id({ required: true, description: 'The endpoint.' }),
    since: t.field({ type: 'DateTime', required: true, description: 'Deliveries created at or after this instant.' }),
    until: t.field({ type: 'DateTime', description: 'Deliveries created before this instant (default now).' }),
  }),
  payload: RecoverEndpointPayload,
  resolve: async ({ id, since, until }, context) => {
    const count = await recoverEndpoint(context.services, context.actor, id, since, until ?? null);
    const endpoint = await findEndpointById(context.services.db, id);
    if (!endpoint) throw new Error(`endpoint ${id} vanished`);
    return { count, endpoint };
  },
});

const ReplayEventPayload = builder.objectRef<{ event: EventRow; deliveries: DeliveryRow[] }>('ReplayEventPayload').implement({
  description: 'The new deliveries of the replayed event.',
  fields: (t) => ({
    event: t.field({ type: EventRef, description: 'The event.', resolve: (p) => p.event }),
    deliveries: t.field({ type: [DeliveryRef], description: 'One new delivery per hook that matches it now.', resolve: (p) => p.deliveries }),
  }),
});

defineMutation('replayEvent', {
  description: 'Delivers an event again to the hooks that match it now (new deliveries, manual attempts); a FIFO hook sends it after the deliveries it already has open.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({ id: t.id({ required: true, description: 'The event (`msg_…`).' }) }),
  payload: ReplayEventPayload,
  resolve: ({ id }, context) => replayEvent(context.services, context.actor, id),
});

const TestHookPayload = builder.objectRef<{ attempt: AttemptRow }>('TestHookPayload').implement({
  description: 'The finished test attempt.',
  fields: (t) => ({ attempt: t.field({ type: AttemptRef, description: 'The attempt, with the response.', resolve: (p) => p.attempt }) }),
});

defineMutation('testHook', {
  description: "Sends a test request through a hook now and returns the finished attempt (the hook's test payload unless one is given).",
  authScopes: MANAGE_SCOPES,
  input: (t) => ({
    id: t.id({ required: true, description: 'The hook.' }),
    payload: t.field({ type: 'JSON', description: "Payload to send (default: the hook's testPayload, else the type's first example)." }),
    eventType: t.string({ description: "Event type to send as (default: the hook's first exact event type)." }),
  }),
  payload: TestHookPayload,
  resolve: async ({ id, payload, eventType }, context) => ({
    attempt: await testHook(context.services, context.actor, id, { payload, eventType: eventType ?? null }),
  }),
});
