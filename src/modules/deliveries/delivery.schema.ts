import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import { canSee, tenantFilter } from '../../auth/actor.js';
import { fromFlag, parseJson, parseJsonOrNull } from '../../db/json.js';
import type { AttemptOutcome, DeliveryStatus, AttemptRow, DeliveryRow } from '../../db/schema.js';
import { READ_SCOPES, idOrNull } from '../../graphql/access.js';
import { builder, type GraphQLContext } from '../../graphql/builder.js';
import { LOADER_OPTIONS, requireRows } from '../../graphql/loadable.js';
import { connectionOf, orderArg, pageArgs } from '../../graphql/connection.js';
import { EndpointRef } from '../endpoints/endpoint.schema.js';
import { findManyEndpointsById } from '../endpoints/endpoint.repository.js';
import { EventRef } from '../events/event.schema.js';
import { findManyEventsById } from '../events/event.repository.js';
import { HookRef, HttpMethodEnum } from '../hooks/hook.schema.js';
import { findManyHooksById } from '../hooks/hook.repository.js';
import { findAttemptById, findDeliveryById, findManyDeliveriesById, listAttempts, listDeliveries } from './delivery.repository.js';

export const DeliveryStatusEnum = builder.enumType('DeliveryStatus', {
  description: 'Where a delivery stands in its life cycle.',
  values: {
    PENDING: { description: 'Due now; waiting for the dispatcher.' },
    SENDING: { description: 'An attempt is in flight.' },
    RETRYING: { description: 'The last attempt failed; the next one is scheduled at `nextAttemptAt`.' },
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    FAILED: { description: 'No attempt is left, the receiver answered 410, or the endpoint was disabled.' },
    BLOCKED: { description: 'Waiting for the deliveries of its `runAfter` hooks to succeed.' },
    SKIPPED: { description: 'A `runAfter` dependency failed or was cancelled, so it was never sent.' },
    CANCELLED: { description: 'Cancelled by a user.' },
  } as const,
});

export const AttemptTriggerEnum = builder.enumType('AttemptTrigger', {
  description: 'What caused an attempt.',
  values: {
    SCHEDULED: { description: 'The dispatcher, on schedule.' },
    MANUAL: { description: 'A user: retryDelivery, recoverEndpoint or replayEvent.' },
    TEST: { description: 'testHook.' },
  } as const,
});

export const AttemptOutcomeEnum = builder.enumType('AttemptOutcome', {
  description: 'How an attempt ended.',
  values: {
    IN_FLIGHT: { description: 'Not finished yet: seen only on the deliveryAttempts subscription as an attempt starts (its row is stored once it ends).' },
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    FAILED: { description: 'An error or a non-2xx answer.' },
    INTERRUPTED: { description: 'The worker stopped mid-attempt; the delivery was claimed again.' },
  } as const,
});

export const AttemptErrorClassEnum = builder.enumType('AttemptErrorClass', {
  description: 'Why an attempt failed.',
  values: {
    TIMEOUT: { description: 'The whole-request deadline passed.' },
    CONNECT: { description: 'The connection could not be made (refused, unreachable, connect timeout).' },
    DNS: { description: 'The host name did not resolve.' },
    TLS: { description: 'The TLS handshake failed.' },
    BLOCKED: { description: 'The address is private or reserved and not allowed (SSRF guard).' },
    NETWORK: { description: 'The connection broke during the exchange.' },
    HTTP_STATUS: { description: 'The receiver answered with a non-2xx status.' },
    TRANSFORM: { description: 'The request could not be built (transform or path template error).' },
    INTERRUPTED: { description: 'The worker stopped before the attempt finished.' },
  } as const,
});

export const DeliveryRef = builder.objectRef<DeliveryRow>('Delivery');

// Live attempts carry their delivery; remembering it lets `DeliveryAttempt.delivery` answer without a read.
const knownDeliveries = new WeakMap<AttemptRow, DeliveryRow>();
export function rememberDelivery(attempt: AttemptRow, delivery: DeliveryRow): void {
  knownDeliveries.set(attempt, delivery);
}
export const AttemptRef = builder.objectRef<AttemptRow>('DeliveryAttempt');
// Not `t.loadable`: the field answers from `knownDeliveries` first, so it needs the parent, not just its id.
const deliveryLoader = createContextCache(
  (context: GraphQLContext) =>
    new DataLoader<string, DeliveryRow>(
      async (ids) => requireRows('delivery', ids, await findManyDeliveriesById(context.services.db, ids)),
      LOADER_OPTIONS,
    ),
);
const AttemptConnection = connectionOf(AttemptRef, 'DeliveryAttempt');
const DeliveryConnection = connectionOf(DeliveryRef, 'Delivery');

builder.node(DeliveryRef, {
  description: 'One event to one hook: its state, and every attempt made.',
  id: { resolve: (delivery) => delivery.id },
  loadOne: async (id, context) => {
    const delivery = await findDeliveryById(context.services.db, id);
    return delivery && canSee(context.actor, delivery.tenant_id) ? delivery : null;
  },
  fields: (t) => ({
    status: t.field({ type: DeliveryStatusEnum, description: 'Where it stands.', resolve: (d) => d.status }),
    statusReason: t.exposeString('status_reason', { nullable: true, description: 'Why it is BLOCKED, SKIPPED, FAILED or CANCELLED.' }),
    eventType: t.exposeString('event_type', { description: 'The event type name.' }),
    event: t.loadable({
      type: EventRef,
      description: 'The event delivered.',
      loaderOptions: LOADER_OPTIONS,
      load: async (ids: string[], context) => requireRows('event', ids, await findManyEventsById(context.services.db, ids)),
      resolve: (d) => d.event_id,
    }),
    hook: t.loadable({
      type: HookRef,
      nullable: true,
      description: 'The hook that routed it; null once the hook is deleted.',
      loaderOptions: LOADER_OPTIONS,
      load: (ids: string[], context) => findManyHooksById(context.services.db, ids),
      resolve: (d) => d.hook_id,
    }),
    endpoint: t.loadable({
      type: EndpointRef,
      description: 'Where it goes.',
      loaderOptions: LOADER_OPTIONS,
      load: async (ids: string[], context) => requireRows('endpoint', ids, await findManyEndpointsById(context.services.db, ids)),
      resolve: (d) => d.endpoint_id,
    }),
    attemptCount: t.exposeInt('attempt_count', { description: 'Attempts made so far.' }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due (PENDING, RETRYING).',
      resolve: (d) => (d.status === 'PENDING' || d.status === 'RETRYING' ? d.next_attempt_at : null),
    }),
    lastStatusCode: t.exposeInt('last_status_code', { nullable: true, description: 'HTTP status of the last attempt.' }),
    lastError: t.exposeString('last_error', { nullable: true, description: 'What went wrong last.' }),
    captured: t.field({
      type: 'JSON',
      nullable: true,
      description: "What the hook's `capture` made of the last 2xx answer (at most 16 KiB of JSON); null when it has none or it failed.",
      resolve: (d) => parseJsonOrNull(d.captured),
    }),
    captureError: t.exposeString('capture_error', {
      nullable: true,
      description: "Why the hook's `capture` made nothing of the last 2xx answer; the delivery's own status is unaffected.",
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (d) => d.created_at }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (d) => d.updated_at }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it reached its current final state.', resolve: (d) => d.finished_at }),
    attempts: t.field({
      type: AttemptConnection,
      description: 'Its attempts, newest first.',
      args: { ...pageArgs(t.arg) },
      resolve: async (d, args, context) => ({
        page: await listAttempts(context.services.db, { tenantId: d.tenant_id, deliveryId: d.id }, args),
      }),
    }),
  }),
});

const AttemptRequest = builder.objectRef<AttemptRow>('AttemptRequest').implement({
  description: 'The request as sent (auth and signature headers redacted).',
  fields: (t) => ({
    method: t.field({ type: HttpMethodEnum, description: 'HTTP method.', resolve: (a) => a.request_method as 'POST' }),
    url: t.exposeString('request_url', { description: 'Full URL.' }),
    headers: t.field({ type: 'JSONObject', description: 'Headers, secrets redacted.', resolve: (a) => parseJson<Record<string, unknown>>(a.request_headers) }),
    body: t.exposeString('request_body', { nullable: true, description: 'Body as sent; null for GET/HEAD.' }),
  }),
});

const AttemptResponse = builder.objectRef<AttemptRow>('AttemptResponse').implement({
  description: 'What the receiver answered.',
  fields: (t) => ({
    status: t.int({ description: 'HTTP status.', resolve: (a) => a.response_status ?? 0 }),
    headers: t.field({ type: 'JSONObject', description: 'Response headers.', resolve: (a) => parseJsonOrNull<Record<string, unknown>>(a.response_headers) ?? {} }),
    body: t.exposeString('response_body', { nullable: true, description: 'The first 64 KiB of the body, never decompressed.' }),
    bodyEncoding: t.string({
      description: '`utf8`, or `base64` when the body is not UTF-8 text.',
      resolve: (a) => a.response_body_encoding,
    }),
    bodyTruncated: t.boolean({ description: 'True when the body was longer than what is kept.', resolve: (a) => fromFlag(a.response_body_truncated) }),
  }),
});

builder.node(AttemptRef, {
  description: 'One HTTP try of a delivery, with its request, response, timing and error.',
  id: { resolve: (attempt) => attempt.id },
  loadOne: async (id, context) => {
    const attempt = await findAttemptById(context.services.db, id);
    return attempt && canSee(context.actor, attempt.tenant_id) ? attempt : null;
  },
  fields: (t) => ({
    number: t.exposeInt('number', { description: '1 for the first attempt of its delivery, then 2, 3, …' }),
    trigger: t.field({ type: AttemptTriggerEnum, description: 'What caused it.', resolve: (a) => a.trigger }),
    outcome: t.field({ type: AttemptOutcomeEnum, description: 'How it ended.', resolve: (a) => a.outcome }),
    request: t.field({ type: AttemptRequest, description: 'The request sent.', resolve: (a) => a }),
    response: t.field({
      type: AttemptResponse,
      nullable: true,
      description: 'The answer; null when none arrived.',
      resolve: (a) => (a.response_status === null ? null : a),
    }),
    durationMs: t.float({ nullable: true, description: 'Start to end, in milliseconds.', resolve: (a) => a.duration_ms }),
    errorClass: t.field({
      type: AttemptErrorClassEnum,
      nullable: true,
      description: 'Why it failed; null on success.',
      resolve: (a) => (a.error_class ? (a.error_class.toUpperCase() as 'TIMEOUT') : null),
    }),
    errorMessage: t.exposeString('error_message', { nullable: true, description: 'What went wrong, for humans.' }),
    startedAt: t.field({ type: 'DateTime', description: 'When it started.', resolve: (a) => a.started_at }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it ended.', resolve: (a) => a.finished_at }),
    deliveryId: t.exposeID('delivery_id', { description: 'Its delivery.' }),
    eventId: t.exposeID('event_id', { description: 'The event delivered.' }),
    endpointId: t.exposeID('endpoint_id', { description: 'The endpoint tried.' }),
    hookId: t.exposeID('hook_id', { nullable: true, description: 'The hook that routed it.' }),
    endpoint: t.loadable({
      type: EndpointRef,
      description: 'The endpoint tried.',
      loaderOptions: LOADER_OPTIONS,
      load: async (ids: string[], context) => requireRows('endpoint', ids, await findManyEndpointsById(context.services.db, ids)),
      resolve: (a) => a.endpoint_id,
    }),
    hook: t.loadable({
      type: HookRef,
      nullable: true,
      description: 'The hook that routed it; null once deleted.',
      loaderOptions: LOADER_OPTIONS,
      load: (ids: string[], context) => findManyHooksById(context.services.db, ids),
      resolve: (a) => a.hook_id,
    }),
    event: t.loadable({
      type: EventRef,
      description: 'The event delivered.',
      loaderOptions: LOADER_OPTIONS,
      load: async (ids: string[], context) => requireRows('event', ids, await findManyEventsById(context.services.db, ids)),
      resolve: (a) => a.event_id,
    }),
    delivery: t.field({
      type: DeliveryRef,
      description: 'Its delivery.',
      // A live attempt carries its delivery; the others share one batched read per request.
      resolve: (a, _args, context) => knownDeliveries.get(a) ?? deliveryLoader(context).load(a.delivery_id),
    }),
  }),
});

const DeliveryFilterInput = builder.inputType('DeliveryFilter', {
  description: 'Which deliveries to list.',
  fields: (t) => ({
    tenantId: t.id({ description: 'Only this tenant (admin); a tenant token sees only its own.' }),
    statuses: t.field({ type: [DeliveryStatusEnum], description: 'Only these states.' }),
    endpointId: t.id({ description: 'Only to this endpoint.' }),
    hookId: t.id({ description: 'Only routed by this hook.' }),
    eventId: t.id({ description: 'Only of this event.' }),
    eventTypes: t.stringList({ description: 'Only of these event types.' }),
    channel: t.string({ description: 'Only of events sent on this channel.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Created at or after.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Created before.' }),
  }),
});

const AttemptFilterInput = builder.inputType('AttemptFilter', {
  description: 'Which attempts to list.',
  fields: (t) => ({
    tenantId: t.id({ description: 'Only this tenant (admin); a tenant token sees only its own.' }),
    deliveryId: t.id({ description: 'Only of this delivery.' }),
    endpointId: t.id({ description: 'Only to this endpoint.' }),
    hookId: t.id({ description: 'Only routed by this hook.' }),
    eventId: t.id({ description: 'Only of this event.' }),
    outcomes: t.field({ type: [AttemptOutcomeEnum], description: 'Only these outcomes.' }),
    eventTypes: t.stringList({ description: 'Only of events of these types.' }),
    channel: t.string({ description: 'Only of events sent on this channel.' }),
    startedAfter: t.field({ type: 'DateTime', description: 'Started at or after.' }),
    startedBefore: t.field({ type: 'DateTime', description: 'Started before.' }),
  }),
});

builder.queryFields((t) => ({
  deliveries: t.field({
    type: DeliveryConnection,
    description: 'Deliveries, newest first unless `order` says otherwise.',
    authScopes: READ_SCOPES,
    args: { ...pageArgs(t.arg), ...orderArg(t.arg), filter: t.arg({ type: DeliveryFilterInput, description: 'Which deliveries.' }) },
    resolve: async (_root, args, context) => ({
      page: await listDeliveries(
        context.services.db,
        {
          tenantId: tenantFilter(context.actor, idOrNull(args.filter?.tenantId)),
          statuses: (args.filter?.statuses ?? null) as DeliveryStatus[] | null,
          endpointId: idOrNull(args.filter?.endpointId),
          hookId: idOrNull(args.filter?.hookId),
          eventId: idOrNull(args.filter?.eventId),
          eventTypes: args.filter?.eventTypes ?? null,
          channel: args.filter?.channel ?? null,
          createdAfter: args.filter?.createdAfter?.getTime() ?? null,
          createdBefore: args.filter?.createdBefore?.getTime() ?? null,
        },
        args,
      ),
    }),
  }),
  delivery: t.field({
    type: DeliveryRef,
    nullable: true,
    description: 'A delivery by id; null when it does not exist or is not visible.',
    authScopes: READ_SCOPES,
    args: { id: t.arg.id({ required: true, description: 'The delivery id (`dlv_…`).' }) },
    resolve: async (_root, args, context) => {
      const delivery = await findDeliveryById(context.services.db, args.id);
      return delivery && canSee(context.actor, delivery.tenant_id) ? delivery : null;
    },
  }),
  deliveryAttempts: t.field({
    type: AttemptConnection,
    description: 'Attempts, newest first unless `order` says otherwise: per delivery, endpoint, hook, event, event type or channel.',
    authScopes: READ_SCOPES,
    args: { ...pageArgs(t.arg), ...orderArg(t.arg), filter: t.arg({ type: AttemptFilterInput, description: 'Which attempts.' }) },
    resolve: async (_root, args, context) => ({
      page: await listAttempts(
        context.services.db,
        {
          tenantId: tenantFilter(context.actor, idOrNull(args.filter?.tenantId)),
          deliveryId: idOrNull(args.filter?.deliveryId),
          endpointId: idOrNull(args.filter?.endpointId),
          hookId: idOrNull(args.filter?.hookId),
          eventId: idOrNull(args.filter?.eventId),
          outcomes: (args.filter?.outcomes ?? null) as AttemptOutcome[] | null,
          eventTypes: args.filter?.eventTypes ?? null,
          channel: args.filter?.channel ?? null,
          startedAfter: args.filter?.startedAfter?.getTime() ?? null,
          startedBefore: args.filter?.startedBefore?.getTime() ?? null,
        },
        args,
      ),
    }),
  }),
}));

builder.objectField(EventRef, 'deliveries', (t) =>
  t.field({
    type: DeliveryConnection,
    description: 'Its deliveries, one per matching hook (and more after a replay).',
    args: { ...pageArgs(t.arg) },
    resolve: async (event, args, context) => ({
      page: await listDeliveries(context.services.db, { tenantId: event.tenant_id, eventId: event.id }, args),
    }),
  }),
);

builder.objectField(EndpointRef, 'attempts', (t) =>
  t.field({
    type: AttemptConnection,
    description: 'Attempts to this endpoint, newest first.',
    args: { ...pageArgs(t.arg), outcomes: t.arg({ type: [AttemptOutcomeEnum], description: 'Only these outcomes.' }) },
    resolve: async (endpoint, args, context) => ({
      page: await listAttempts(
        context.services.db,
        { tenantId: endpoint.tenant_id, endpointId: endpoint.id, outcomes: (args.outcomes ?? null) as AttemptOutcome[] | null },
        args,
      ),
    }),
  }),
);
