import type { HookRow } from '../../db/schema.js';
import type { InputFieldBuilder } from '@pothos/core';
import { canSee } from '../../auth/actor.js';
import { fromFlag, parseJson, parseJsonOrNull } from '../../db/json.js';
import { NotFoundError } from '../../errors.js';
import { MANAGE_SCOPES, READ_SCOPES } from '../../graphql/access.js';
import { builder, type SchemaTypes } from '../../graphql/builder.js';
import { LOADER_OPTIONS, requireRows } from '../../graphql/loadable.js';
import { connectionOf, pageArgs } from '../../graphql/connection.js';
import { defineMutation } from '../../graphql/mutation.js';
import { findManyEndpointsById } from '../endpoints/endpoint.repository.js';
import { EndpointRef, RetryPolicyInputRef, RetryPolicyRef } from '../endpoints/endpoint.schema.js';
import type { RetryPolicy } from '../../webhook/schedule.js';
import { findManyTenantsById } from '../tenants/tenant.repository.js';
import { TenantRef } from '../tenants/tenant.schema.js';
import type { BodyTemplate } from '../../webhook/body-template.js';
import { MAX_CAPTURE_BYTES, MAX_CAPTURE_CHAIN } from '../../webhook/capture.js';
import { findHookById, findManyRunAfterHooks } from './hook.repository.js';
import { BodyTemplateInputRef, BodyTemplateRef } from './hook.template.schema.js';
import { hookSecretKeys } from './hook.secrets.js';
import {
  createHook,
  deleteHook,
  getHook,
  pageHooks,
  updateHook,
  type HttpMethod,
  type PayloadFormat,
} from './hook.service.js';

export const HttpMethodEnum = builder.enumType('HttpMethod', {
  description: 'The HTTP method of the requests a hook sends.',
  values: {
    GET: { description: 'GET, without a body (the signature covers an empty body).' },
    HEAD: { description: 'HEAD, without a body (the signature covers an empty body).' },
    POST: { description: 'POST (the default).' },
    PUT: { description: 'PUT.' },
    PATCH: { description: 'PATCH.' },
    DELETE: { description: 'DELETE.' },
  } as const,
});

export const HookOrderingEnum = builder.enumType('HookOrdering', {
  description: 'Whether a hook delivers its events one at a time, in the order they were sent.',
  values: {
    UNORDERED: { description: 'Deliveries go side by side, each retried on its own (the default).' },
    FIFO: {
      description: 'One at a time in event order: each waits BLOCKED until the one before is final; one that fails for good lets the next go.',
    },
    FIFO_HOLD: {
      description: 'As FIFO, but one that fails for good holds the rest until it is retried (retryDelivery makes it the head again).',
    },
  } as const,
});

export const PayloadFormatEnum = builder.enumType('PayloadFormat', {
  description: 'How a request body is built from the event.',
  values: {
    STANDARD: { description: 'The envelope `{"type", "timestamp", "data"}` with the payload as `data` (the default).' },
    RAW: { description: 'The payload exactly as the producer sent it.' },
    CLOUDEVENTS: { description: 'CloudEvents 1.0 structured mode (`application/cloudevents+json`).' },
    CLOUDEVENTS_BINARY: { description: 'CloudEvents 1.0 binary mode: `ce-*` headers, the payload as the body.' },
  } as const,
});

export const HookRef = builder.objectRef<HookRow>('Hook');

const CaptureEventRef = builder.objectRef<{ type: string }>('CaptureEvent').implement({
  description: "An event a hook's capture sends: its result as the payload, in the hook's tenant.",
  fields: (t) => ({ type: t.exposeString('type', { description: 'The event type sent; the result must match its schema.' }) }),
});

const CaptureEventInputRef = builder.inputType('CaptureEventInput', {
  description: "Sends each result of the hook's capture as an event of this type, so an answer can start a chain of hooks.",
  fields: (t) => ({
    type: t.string({ required: true, description: 'An existing event type the hook does not receive itself; a result its schema refuses is a captureError and sends nothing.' }),
  }),
});

builder.node(HookRef, {
  description: 'A rule that routes events of some types (and channels, and a filter) to one endpoint, and shapes the request.',
  id: { resolve: (hook) => hook.id },
  loadOne: async (id, context) => {
    const hook = await findHookById(context.services.db, id);
    return hook && canSee(context.actor, hook.tenant_id) ? hook : null;
  },
  fields: (t) => ({
    tenant: t.loadable({
      type: TenantRef,
      description: 'The tenant it belongs to.',
      loaderOptions: LOADER_OPTIONS,
      load: async (ids: string[], context) => requireRows('tenant', ids, await findManyTenantsById(context.services.db, ids)),
      resolve: (hook) => hook.tenant_id,
    }),
    endpoint: t.loadable({
      type: EndpointRef,
      description: 'Where its requests go.',
      loaderOptions: LOADER_OPTIONS,
      load: async (ids: string[], context) => requireRows('endpoint', ids, await findManyEndpointsById(context.services.db, ids)),
      resolve: (hook) => hook.endpoint_id,
    }),
    name: t.exposeString('name', { description: 'Display name.' }),
    description: t.exposeString('description', { description: 'What it is for.' }),
    active: t.boolean({ description: 'Inactive hooks receive no new events.', resolve: (r) => fromFlag(r.active) }),
    eventTypes: t.field({
      type: ['String'],
      description: 'Event type names, `group.*` wildcards (`invoice.*` matches `invoice.paid` and `invoice.line.added`), or `*` for every type.',
      resolve: (r) => parseJson<string[]>(r.event_types),
    }),
    channels: t.field({
      type: ['String'],
      description: 'Only events sent to at least one of these channels; empty = every channel.',
      resolve: (r) => parseJson<string[]>(r.channels),
    }),
    filter: t.field({
      type: 'JSONObject',
      nullable: true,
      description: 'Conditions on the event `{type, channels, data}` (e.g. `{"data.amount": {"$gt": 100}}`); null = every event.',
      resolve: (r) => parseJsonOrNull<Record<string, unknown>>(r.filter),
    }),
    method: t.field({ type: HttpMethodEnum, description: 'HTTP method of its requests.', resolve: (r) => r.method as HttpMethod }),
    ordering: t.field({ type: HookOrderingEnum, description: 'Whether its deliveries go one at a time, in event order.', resolve: (r) => r.ordering }),
    heldBy: t.string({
      nullable: true,
      description: 'FIFO_HOLD: the id of the delivery that failed for good and holds the others until it is retried; null when none does.',
      resolve: (r) => r.fifo_held_by,
    }),
    path: t.exposeString('path', {
      nullable: true,
      description: 'RFC 6570 URI template appended to the endpoint url, e.g. `/documents/{data.id}`; null = the endpoint url.',
    }),
    format: t.field({ type: PayloadFormatEnum, description: 'How the body is built.', resolve: (r) => r.format as PayloadFormat }),
    transform: t.exposeString('transform', {
      nullable: true,
      description: 'JSONata expression over `{event, data, settings, secrets, hook, tenant, captures}` whose result is the body; null = by `format`.',
    }),
    capture: t.exposeString('capture', {
      nullable: true,
      description: `JSONata expression over \`{response: {status, headers, body}, event, data}\` run after each 2xx answer; its result (at most ${MAX_CAPTURE_BYTES / 1024} KiB of JSON) is kept as the delivery's \`captured\` and read by the hooks that run after this one as \`captures.<name or id>\`; null = none.`,
    }),
    captureEvent: t.field({
      type: CaptureEventRef,
      nullable: true,
      description: "The event type the capture's result is also sent as; null = none.",
      resolve: (r) => (r.capture_event_type === null ? null : { type: r.capture_event_type }),
    }),
    template: t.field({
      type: BodyTemplateRef,
      nullable: true,
      description: 'A `{{path}}` body template that replaces the body (instead of a transform); null = by `format` or `transform`.',
      resolve: (r) => parseJsonOrNull<BodyTemplate>(r.template),
    }),
    settings: t.field({
      type: 'JSONObject',
      description: 'Values for the transform, the template and the path template (as `settings`), valid against `settingsSchema`.',
      resolve: (r) => parseJson<Record<string, unknown>>(r.settings),
    }),
    settingsSchema: t.field({
      type: 'JSON',
      nullable: true,
      description: 'JSON Schema `settings` must match; null = any object.',
      resolve: (r) => parseJsonOrNull(r.settings_schema),
    }),
    runAfter: t.loadableList({
      type: HookRef,
      description: 'Hooks of the same tenant whose delivery of the same event must succeed before this one is sent.',
      loaderOptions: LOADER_OPTIONS,
      load: (hookIds: string[], context) => findManyRunAfterHooks(context.services.db, hookIds),
      resolve: (hook) => hook.id,
    }),
    testPayload: t.field({
      type: 'JSON',
      nullable: true,
      description: 'A saved example payload for trying the hook out.',
      resolve: (r) => parseJsonOrNull(r.test_payload),
    }),
    metadata: t.field({ type: 'JSONObject', description: 'Free-form data.', resolve: (r) => parseJson<Record<string, unknown>>(r.metadata) }),
    secretKeys: t.stringList({
      description: 'The names of its secrets (their values are never shown: they are readable only by its transform, templates and headers as `secrets`).',
      resolve: (r, _args, context) => hookSecretKeys(context.services, r),
    }),
    headers: t.field({
      type: 'JSONObject',
      description: "Its own request headers, over the endpoint's of the same name; values may hold `{{path}}` placeholders such as `{{secrets.token}}`.",
      resolve: (r) => parseJson<Record<string, unknown>>(r.headers),
    }),
    timeoutMs: t.exposeInt('timeout_ms', { nullable: true, description: "Deadline of each request in ms, over the endpoint's; null = the endpoint's." }),
    retryPolicy: t.field({
      type: RetryPolicyRef,
      nullable: true,
      description: "Its own retry schedule, replacing the endpoint's as a whole; null = the endpoint's.",
      resolve: (r) => parseJsonOrNull<RetryPolicy>(r.retry_policy),
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (r) => r.created_at }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (r) => r.updated_at }),
  }),
});

const HookConnection = connectionOf(HookRef, 'Hook');

builder.objectField(TenantRef, 'hooks', (t) =>
  t.field({
    type: HookConnection,
    description: "The tenant's hooks, newest first.",
    authScopes: READ_SCOPES,
    args: { ...pageArgs(t.arg) },
    resolve: async (tenant, args, context) => ({
      page: await pageHooks(context.services, context.actor, { tenantId: tenant.id }, args),
    }),
  }),
);

builder.objectField(EndpointRef, 'hooks', (t) =>
  t.field({
    type: HookConnection,
    description: 'The hooks that send to this endpoint, newest first.',
    authScopes: READ_SCOPES,
    args: { ...pageArgs(t.arg) },
    resolve: async (endpoint, args, context) => ({
      page: await pageHooks(context.services, context.actor, { tenantId: endpoint.tenant_id, endpointId: endpoint.id }, args),
    }),
  }),
);

builder.queryFields((t) => ({
  hooks: t.field({
    type: HookConnection,
    description: "Hooks, newest first: a tenant sees its own; the admin every tenant's, or one tenant's.",
    authScopes: READ_SCOPES,
    args: {
      ...pageArgs(t.arg),
      tenantId: t.arg.id({ required: false, description: 'Only this tenant.' }),
      endpointId: t.arg.id({ required: false, description: 'Only hooks sending to this endpoint.' }),
    },
    resolve: async (_root, args, context) => ({
      page: await pageHooks(
        context.services,
        context.actor,
        { tenantId: args.tenantId || null, endpointId: args.endpointId || null },
        args,
      ),
    }),
  }),
  hook: t.field({
    type: HookRef,
    nullable: true,
    description: 'A hook by id; null when it does not exist or belongs to another tenant.',
    authScopes: READ_SCOPES,
    args: { id: t.arg.id({ required: true, description: "The hook's id (`hook_…`)." }) },
    resolve: (_root, args, context) =>
      getHook(context.services, context.actor, args.id).catch((error: unknown) => {
        if (error instanceof NotFoundError) return null;
        throw error;
      }),
  }),
}));

const HookPayload = builder.objectRef<{ hook: HookRow }>('HookPayload').implement({
  description: 'The hook after the change.',
  fields: (t) => ({ hook: t.field({ type: HookRef, description: 'The hook.', resolve: (p) => p.hook }) }),
});

/**
 * The fields createHook and updateHook share. `creating` adds the defaults (which must not exist on
 * update, where an omitted field means "unchanged").
 */
function hookFields(t: InputFieldBuilder<SchemaTypes, 'InputObject'>, creating: boolean) {
  const keep = creating ? '' : ' Omitted = unchanged.';
  const clear = creating ? '' : ' Omitted = unchanged; null removes it.';
  return {
    endpointId: t.id({ required: creating, description: `The endpoint it sends to, of the same tenant.${keep}` }),
    name: t.string({ required: creating, description: `Display name, 1–200 characters.${keep}` }),
    description: t.string({ description: `What it is for, at most 2000 characters.${keep}` }),
    active: t.boolean({
      ...(creating ? { defaultValue: true } : {}),
      description: `Whether it receives new events (default true).${keep}`,
    }),
    eventTypes: t.stringList({
      required: creating,
      description: `1–100 existing event type names, \`group.*\` patterns matching at least one type, or \`*\` for all.${keep}`,
    }),
    channels: t.stringList({
      description: `At most 50 channels (1–128 of A-Z a-z 0-9 . _ : -); empty = every channel.${keep}`,
    }),
    filter: t.field({
      type: 'JSONObject',
      description: `Conditions on \`{type, channels, data}\`, e.g. \`{"data.amount": {"$gt": 100}}\`.${clear}`,
    }),
    method: t.field({
      type: HttpMethodEnum,
      ...(creating ? { defaultValue: 'POST' as const } : {}),
      description: `HTTP method (default POST).${keep}`,
    }),
    ordering: t.field({
      type: HookOrderingEnum,
      ...(creating ? { defaultValue: 'UNORDERED' as const } : {}),
      description: `UNORDERED (default), FIFO or FIFO_HOLD; a FIFO hook cannot also runAfter other hooks. Made FIFO, a hook orders the events sent from then on; made UNORDERED, what waits in its queue goes at once.${keep}`,
    }),
    path: t.string({
      description: `RFC 6570 URI template appended to the endpoint url, at most 2048 characters; variables start with \`data.\`, \`event.\`, \`settings.\`, \`secrets.\`, \`tenant.\`, \`hook.\` or \`captures.\` (what the hooks it runs after captured).${clear}`,
    }),
    format: t.field({
      type: PayloadFormatEnum,
      ...(creating ? { defaultValue: 'STANDARD' as const } : {}),
      description: `Body format (default STANDARD).${keep}`,
    }),
    transform: t.string({ description: `JSONata expression (at most 64 KiB) whose result is the body; tried on the test payload or the examples at save.${clear}` }),
    template: t.field({ type: BodyTemplateInputRef, description: `A \`{{path}}\` body template, instead of a transform.${clear}` }),
    capture: t.string({
      description: `JSONata expression (at most 64 KiB) over \`{response: {status, headers, body}, event, data}\`, run after each 2xx answer; the body is parsed when its content type is JSON, and is what the attempt log keeps of it (its first 64 KiB). The result, at most ${MAX_CAPTURE_BYTES / 1024} KiB of JSON, is kept on the delivery and read by the hooks that runAfter this one as \`captures.<name or id>\`.${clear}`,
    }),
    captureEvent: t.field({
      type: CaptureEventInputRef,
      description: `Also sends each capture result as an event of this type in the hook's tenant (needs a capture), at most ${MAX_CAPTURE_CHAIN} such events deep in one chain.${clear}`,
    }),
    settings: t.field({
      type: 'JSONObject',
      description: `Values passed to the transform and the path template, at most 64 KiB; must match \`settingsSchema\`.${keep}`,
    }),
    settingsSchema: t.field({ type: 'JSON', description: `JSON Schema for \`settings\`.${clear}` }),
    runAfter: t.idList({
      description: `At most 20 hooks of the same tenant that must succeed first for the same event; a cycle is refused.${creating ? '' : ' Omitted = unchanged; replaces the list.'}`,
    }),
    testPayload: t.field({ type: 'JSON', description: `A saved example payload, at most 1 MiB.${clear}` }),
    metadata: t.field({ type: 'JSONObject', description: `Free-form data, at most 16 KiB as JSON.${creating ? '' : ' Omitted = unchanged; replaces the old.'}` }),
    secrets: t.field({
      type: 'JSONObject',
      description: `Secrets for the transform, templates, path and headers (as \`secrets\`), at most 16 KiB as JSON; stored encrypted, never shown again, kept out of the attempt log.${creating ? '' : ' Omitted = unchanged; an object replaces them all; null removes them.'}`,
    }),
    headers: t.field({
      type: 'JSONObject',
      description: `Request headers of this hook (names as for endpoint headers, values with \`{{path}}\` placeholders).${creating ? '' : ' Omitted = unchanged; replaces the old; null = none.'}`,
    }),
    timeoutMs: t.int({ description: `Deadline of each request in ms (100 to twice the server's default), over the endpoint's.${creating ? '' : " Omitted = unchanged; null = the endpoint's."}` }),
    retryPolicy: t.field({
      type: RetryPolicyInputRef,
      description: `Its own retry schedule, replacing the endpoint's.${creating ? '' : " Omitted = unchanged; null = the endpoint's."}`,
    }),
  };
}

defineMutation('createHook', {
  description: 'Creates a hook (admin, or the tenant with MANAGE).',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({
    tenantId: t.id({ description: "The tenant; a tenant token may omit it, and so may the admin (then the endpoint's tenant)." }),
    ...hookFields(t, true),
  }),
  payload: HookPayload,
  resolve: async ({ tenantId, ...values }, context) => ({
    hook: await createHook(context.services, context.actor, {
      ...values,
      tenantId: tenantId ?? null,
    }),
  }),
});

defineMutation('updateHook', {
  description: 'Changes a hook (admin, or the tenant with MANAGE). Omitted fields stay; null removes the optional ones.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({
    id: t.id({ required: true, description: 'The hook.' }),
    ...hookFields(t, false),
  }),
  payload: HookPayload,
  resolve: async ({ id, ...values }, context) => ({
    hook: await updateHook(context.services, context.actor, id, values),
  }),
});

defineMutation('deleteHook', {
  description: 'Deletes a hook (admin, or the tenant with MANAGE); its deliveries not yet final are cancelled.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({ id: t.id({ required: true, description: 'The hook.' }) }),
  payload: HookPayload,
  resolve: async ({ id }, context) => ({ hook: await deleteHook(context.services, context.actor, id) }),
});
