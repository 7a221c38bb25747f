import type { EndpointRow, EndpointSecretRow } from '../../db/schema.js';
import { canSee, hasScope } from '../../auth/actor.js';
import { fromFlag, parseJson, parseJsonOrNull } from '../../db/json.js';
import type { RetryPolicy } from '../../webhook/schedule.js';
import { NotFoundError } from '../../errors.js';
import { MANAGE_SCOPES, READ_SCOPES } from '../../graphql/access.js';
import { builder } from '../../graphql/builder.js';
import { LOADER_OPTIONS, requireRows } from '../../graphql/loadable.js';
import { connectionOf, orderArg, pageArgs } from '../../graphql/connection.js';
import { defineMutation } from '../../graphql/mutation.js';
import { findManyTenantsById } from '../tenants/tenant.repository.js';
import { TenantRef } from '../tenants/tenant.schema.js';
import { findEndpointById, findSecretById } from './endpoint.repository.js';
import { SignatureSchemeEnum } from './signature-scheme.schema.js';
import {
  createEndpoint,
  deleteEndpoint,
  describeEndpointAuth,
  disableEndpoint,
  enableEndpoint,
  getEndpoint,
  pageEndpoints,
  revealEndpointSecret,
  rotateEndpointSecret,
  updateEndpoint,
  validSecretsOf,
  type EndpointAuthView,
  type EndpointDisabledReason,
} from './endpoint.service.js';

export const EndpointAuthTypeEnum = builder.enumType('EndpointAuthType', {
  description: 'How Switchyard authenticates to the receiver.',
  values: {
    NONE: { description: 'No credentials; the receiver relies on the signature alone.' },
    BASIC: { description: 'HTTP Basic: `Authorization: Basic base64(username:password)`.' },
    BEARER: { description: '`Authorization: Bearer <token>`.' },
    API_KEY: { description: 'The key in a header of your choice (`headerName: key`).' },
  } as const,
});

export const EndpointDisabledReasonEnum = builder.enumType('EndpointDisabledReason', {
  description: 'Why an endpoint receives nothing.',
  values: {
    MANUAL: { description: 'Someone disabled it (`disableEndpoint`).' },
    FAILING: { description: 'Every delivery failed for too long (default 5 days), so it was disabled automatically.' },
    GONE: { description: 'The receiver answered 410 Gone.' },
  } as const,
});

const EndpointAuthRef = builder.objectRef<EndpointAuthView>('EndpointAuth').implement({
  description: 'How Switchyard authenticates to the receiver. The password, token or key is write-only and never shown.',
  fields: (t) => ({
    type: t.field({ type: EndpointAuthTypeEnum, description: 'The kind of auth.', resolve: (a) => a.type }),
    username: t.exposeString('username', { nullable: true, description: 'The Basic auth user name; null for other types.' }),
    headerName: t.exposeString('headerName', { nullable: true, description: 'The header carrying the API key; null for other types.' }),
  }),
});

export const RetryPolicyRef = builder.objectRef<RetryPolicy>('RetryPolicy').implement({
  description:
    'When failed deliveries are retried: an explicit `scheduleMs`, or exponential backoff from the other fields (unset ones take their defaults).',
  fields: (t) => ({
    maxAttempts: t.int({ nullable: true, description: 'Attempts in all, first one included (1–50).', resolve: (p) => p.maxAttempts ?? null }),
    initialDelayMs: t.int({ nullable: true, description: 'Delay before the first retry, in ms.', resolve: (p) => p.initialDelayMs ?? null }),
    backoffMultiplier: t.float({ nullable: true, description: 'Each retry waits this many times longer than the previous one (1–10).', resolve: (p) => p.backoffMultiplier ?? null }),
    maxDelayMs: t.int({ nullable: true, description: 'Upper bound of any one delay, in ms.', resolve: (p) => p.maxDelayMs ?? null }),
    scheduleMs: t.intList({
      nullable: true,
      description: 'Explicit delays in ms; element i is the delay before attempt i+1, its length the number of attempts.',
      resolve: (p) => (p.scheduleMs ? [...p.scheduleMs] : null),
    }),
  }),
});

export const EndpointSecretRef = builder.objectRef<EndpointSecretRow>('EndpointSecret');

builder.node(EndpointSecretRef, {
  description: 'A signing secret of an endpoint, without its value (shown once, when created or rotated).',
  id: { resolve: (secret) => secret.id },
  loadOne: async (id, context) => {
    const secret = await findSecretById(context.services.db, id);
    if (!secret) return null;
    const endpoint = await findEndpointById(context.services.db, secret.endpoint_id);
    return endpoint && canSee(context.actor, endpoint.tenant_id) ? secret : null;
  },
  fields: (t) => ({
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (s) => s.created_at }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it stops signing (set when rotated out); null for the current secret.',
      resolve: (s) => s.expires_at,
    }),
    current: t.boolean({ description: 'Whether it is the current secret (the newest one, without expiry).', resolve: (s) => s.expires_at === null }),
    revealed: t.boolean({ description: 'Whether its value was already shown (it is shown at most once).', resolve: (s) => s.revealed_at !== null }),
  }),
});

export const EndpointRef = builder.objectRef<EndpointRow>('Endpoint');

builder.node(EndpointRef, {
  description: "Where a tenant's webhooks go and how: URL, auth, static headers, timeout, rate limit, retry policy and signing secrets.",
  id: { resolve: (endpoint) => endpoint.id },
  loadOne: async (id, context) => {
    const endpoint = await findEndpointById(context.services.db, id);
    // The same rule as the `endpoint` query: its own tenant, with a token that may read.
    const allowed = hasScope(context.actor, 'READ') || hasScope(context.actor, 'MANAGE');
    return endpoint && allowed && canSee(context.actor, endpoint.tenant_id) ? endpoint : null;
  },
  fields: (t) => ({
    tenant: t.loadable({
      type: TenantRef,
      description: 'The tenant it belongs to.',
      loaderOptions: LOADER_OPTIONS,
      load: async (ids: string[], context) => requireRows('tenant', ids, await findManyTenantsById(context.services.db, ids)),
      resolve: (endpoint) => endpoint.tenant_id,
    }),
    url: t.exposeString('url', { description: 'Where requests go (a hook may append a path to it).' }),
    description: t.exposeString('description', { description: 'What it is, for people.' }),
    enabled: t.boolean({ description: 'Whether deliveries are sent to it.', resolve: (r) => fromFlag(r.enabled) }),
    disabledReason: t.field({
      type: EndpointDisabledReasonEnum,
      nullable: true,
      description: 'Why it is disabled; null while enabled.',
      resolve: (r) => r.disabled_reason as EndpointDisabledReason | null,
    }),
    disabledMessage: t.exposeString('disabled_message', { nullable: true, description: 'Details of why it was disabled, if any.' }),
    disabledAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was disabled; null while enabled.', resolve: (r) => r.disabled_at }),
    auth: t.field({
      type: EndpointAuthRef,
      description: 'How Switchyard authenticates to the receiver (never the credentials themselves).',
      resolve: (r, _args, context) => describeEndpointAuth(context.services, r),
    }),
    headers: t.field({
      type: 'JSONObject',
      description: 'Static headers sent with every request.',
      resolve: (r) => parseJson<Record<string, unknown>>(r.headers),
    }),
    timeoutMs: t.exposeInt('timeout_ms', { nullable: true, description: 'Deadline of each request in ms; null = the server default.' }),
    rateLimitPerSecond: t.exposeInt('rate_limit_per_second', { nullable: true, description: 'At most this many requests per second; null = unlimited.' }),
    retryPolicy: t.field({
      type: RetryPolicyRef,
      nullable: true,
      description: 'Its own retry schedule; null = the default schedule.',
      resolve: (r) => parseJsonOrNull<RetryPolicy>(r.retry_policy),
    }),
    metadata: t.field({ type: 'JSONObject', description: 'Free-form data.', resolve: (r) => parseJson<Record<string, unknown>>(r.metadata) }),
    signingSecrets: t.field({
      type: [EndpointSecretRef],
      description: 'The secrets requests are signed with now, newest first: the current one and any rotated-out one still in its overlap.',
      resolve: (r, _args, context) => validSecretsOf(context.services, r.id, context.services.clock.now()),
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (r) => r.created_at }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (r) => r.updated_at }),
  }),
});

const EndpointConnection = connectionOf(EndpointRef, 'Endpoint');

builder.objectField(TenantRef, 'endpoints', (t) =>
  t.field({
    type: EndpointConnection,
    description: "The tenant's endpoints, newest first.",
    authScopes: READ_SCOPES,
    args: { ...pageArgs(t.arg) },
    resolve: async (tenant, args, context) => ({ page: await pageEndpoints(context.services, context.actor, tenant.id, {}, args) }),
  }),
);

builder.queryFields((t) => ({
  endpoints: t.field({
    type: EndpointConnection,
    description: "Endpoints, newest first unless `order` says otherwise: a tenant token sees its own; the admin every tenant's, or one tenant's.",
    authScopes: READ_SCOPES,
    args: {
      ...pageArgs(t.arg),
      ...orderArg(t.arg),
      tenantId: t.arg.id({ required: false, description: 'Only this tenant (a tenant token sees nothing of another tenant).' }),
      eventType: t.arg.string({
        required: false,
        description: 'Only endpoints with an active hook that gets this event type (by name, `group.*` or `*`).',
      }),
      channel: t.arg.string({
        required: false,
        description: 'Only endpoints with an active hook that gets this channel (a hook without channels gets every channel); with `eventType`, the same hook gets both.',
      }),
    },
    resolve: async (_root, args, context) => ({
      page: await pageEndpoints(context.services, context.actor, args.tenantId || null, { eventType: args.eventType ?? null, channel: args.channel ?? null }, args),
    }),
  }),
  endpoint: t.field({
    type: EndpointRef,
    nullable: true,
    description: 'An endpoint by id; null when it does not exist or belongs to another tenant.',
    authScopes: READ_SCOPES,
    args: { id: t.arg.id({ required: true, description: 'The endpoint, `ep_…`.' }) },
    resolve: async (_root, args, context) => {
      try {
        return await getEndpoint(context.services, context.actor, args.id);
      } catch (error) {
        if (error instanceof NotFoundError) return null;
        throw error;
      }
    },
  }),
}));

const EndpointAuthInputRef = builder.inputType('EndpointAuthInput', {
  description: 'Credentials for the receiver. Give exactly the fields of the chosen type; they are stored encrypted and never shown again.',
  fields: (t) => ({
    type: t.field({ type: EndpointAuthTypeEnum, required: true, description: 'The kind of auth.' }),
    username: t.string({ description: 'BASIC: the user name (no ":").' }),
    password: t.string({ description: 'BASIC: the password.' }),
    token: t.string({ description: 'BEARER: the token.' }),
    headerName: t.string({ description: 'API_KEY: the header to send the key in, e.g. `X-Api-Key` (not a reserved header).' }),
    key: t.string({ description: 'API_KEY: the key.' }),
  }),
});

export const RetryPolicyInputRef = builder.inputType('RetryPolicyInput', {
  description: 'A retry policy: either `scheduleMs`, or any of the exponential fields (unset ones take their defaults).',
  fields: (t) => ({
    maxAttempts: t.int({ description: 'Attempts in all, first one included (1–50).' }),
    initialDelayMs: t.int({ description: 'Delay before the first retry, in ms (0 to 1 day; default 5 s).' }),
    backoffMultiplier: t.float({ description: 'Growth of each delay over the previous one (1–10; default 2).' }),
    maxDelayMs: t.int({ description: 'Upper bound of any one delay, in ms (at most 7 days; default 10 h).' }),
    scheduleMs: t.intList({ description: 'Explicit delays in ms (1–50 entries, each up to 7 days); not combined with the other fields.' }),
  }),
});

const EndpointPayload = builder.objectRef<{ endpoint: EndpointRow }>('EndpointPayload').implement({
  description: 'The endpoint after the change.',
  fields: (t) => ({ endpoint: t.field({ type: EndpointRef, description: 'The endpoint.', resolve: (p) => p.endpoint }) }),
});

const CreateEndpointPayload = builder.objectRef<{ endpoint: EndpointRow; secret: string }>('CreateEndpointPayload').implement({
  description: 'The new endpoint and its signing secret. `secret` is shown this once: store it now.',
  fields: (t) => ({
    endpoint: t.field({ type: EndpointRef, description: 'The endpoint.', resolve: (p) => p.endpoint }),
    secret: t.exposeString('secret', { description: 'The `whsec_…` signing secret; never shown again.' }),
  }),
});

const RotateEndpointSecretPayload = builder
  .objectRef<{ endpoint: EndpointRow; secret: string }>('RotateEndpointSecretPayload')
  .implement({
    description: 'The new current signing secret, shown this once; the previous one keeps signing until its overlap ends.',
    fields: (t) => ({
      endpoint: t.field({ type: EndpointRef, description: 'The endpoint.', resolve: (p) => p.endpoint }),
      secret: t.exposeString('secret', { description: 'The new `whsec_…` signing secret; never shown again.' }),
    }),
  });

const RevealEndpointSecretPayload = builder.objectRef<{ secret: string }>('RevealEndpointSecretPayload').implement({
  description: 'The current signing secret, shown this once.',
  fields: (t) => ({ secret: t.exposeString('secret', { description: 'The `whsec_…` signing secret.' }) }),
});

defineMutation('createEndpoint', {
  description: 'Creates an endpoint with a new signing secret, returned this once (admin, or the tenant with MANAGE).',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({
    tenantId: t.id({ description: 'The tenant; required for the admin, optional for a tenant token (its own).' }),
    url: t.string({ required: true, description: 'Absolute https URL (http only where the server allows it), at most 2048 characters.' }),
    description: t.string({ description: 'What it is, at most 2000 characters.' }),
    auth: t.field({ type: EndpointAuthInputRef, description: 'Credentials for the receiver (default none).' }),
    headers: t.field({ type: 'JSONObject', description: 'Static headers, name → string value (at most 50; not reserved ones).' }),
    timeoutMs: t.int({ description: "Deadline of each request in ms (100 to twice the server's default); default the server's." }),
    rateLimitPerSecond: t.int({ description: 'At most this many requests per second (1–10000); default unlimited.' }),
    retryPolicy: t.field({ type: RetryPolicyInputRef, description: 'Its own retry schedule; default the server schedule.' }),
    metadata: t.field({ type: 'JSONObject', description: 'Free-form data, at most 16 KiB as JSON.' }),
    signatureSchemes: t.field({
      type: [SignatureSchemeEnum],
      description: 'The signatures requests carry (V1 or V1A at least, no repeats); default V1 alone. V1A makes a key pair.',
    }),
    secret: t.string({ description: 'Your own signing secret, `whsec_` + base64 of 24–64 bytes; generated when omitted.' }),
  }),
  payload: CreateEndpointPayload,
  resolve: ({ tenantId, secret, url, ...rest }, context) =>
    createEndpoint(context.services, context.actor, {
      ...rest,
      url,
      tenantId: tenantId ?? null,
      secret: secret ?? null,
    }),
});

defineMutation('updateEndpoint', {
  description: 'Changes an endpoint. Omitted fields stay as they are; null resets a field to its default; `auth` replaces the whole auth.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({
    id: t.id({ required: true, description: 'The endpoint.' }),
    url: t.string({ description: 'New URL (same rules as on create); null keeps the current one.' }),
    description: t.string({ description: 'New description.' }),
    auth: t.field({ type: EndpointAuthInputRef, description: 'New auth, replacing the old one; `{type: NONE}` removes it, null keeps it.' }),
    headers: t.field({ type: 'JSONObject', description: 'New static headers (replace the old); null removes them all.' }),
    timeoutMs: t.int({ description: "New request deadline in ms; null = the server's default." }),
    rateLimitPerSecond: t.int({ description: 'New rate limit; null = unlimited.' }),
    retryPolicy: t.field({ type: RetryPolicyInputRef, description: 'New retry policy; null = the default schedule.' }),
    metadata: t.field({ type: 'JSONObject', description: 'New metadata (replaces the old).' }),
    signatureSchemes: t.field({
      type: [SignatureSchemeEnum],
      description: 'New signature schemes (replace the old); null = V1 alone. Choosing V1A makes a key pair if there is none.',
    }),
  }),
  payload: EndpointPayload,
  resolve: async ({ id, ...input }, context) => ({
    endpoint: await updateEndpoint(context.services, context.actor, id, input),
  }),
});

defineMutation('deleteEndpoint', {
  description: 'Deletes an endpoint with its hooks, signing secrets, deliveries and attempts.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({ id: t.id({ required: true, description: 'The endpoint.' }) }),
  payload: EndpointPayload,
  resolve: async ({ id }, context) => ({ endpoint: await deleteEndpoint(context.services, context.actor, id) }),
});

defineMutation('enableEndpoint', {
  description: 'Enables an endpoint, whatever disabled it, and restarts its failure count.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({ id: t.id({ required: true, description: 'The endpoint.' }) }),
  payload: EndpointPayload,
  resolve: async ({ id }, context) => ({ endpoint: await enableEndpoint(context.services, context.actor, id) }),
});

defineMutation('disableEndpoint', {
  description: 'Disables an endpoint (reason MANUAL): nothing is sent to it until it is enabled again.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({
    id: t.id({ required: true, description: 'The endpoint.' }),
    message: t.string({ description: 'Why, for people (at most 1000 characters).' }),
  }),
  payload: EndpointPayload,
  resolve: async ({ id, message }, context) => ({
    endpoint: await disableEndpoint(context.services, context.actor, id, message),
  }),
});

defineMutation('rotateEndpointSecret', {
  description:
    'Replaces the current signing secret; the previous one keeps signing for the overlap (default 24 h), so receivers can switch without failures.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({
    id: t.id({ required: true, description: 'The endpoint.' }),
    secret: t.string({ description: 'Your own new secret, `whsec_` + base64 of 24–64 bytes; generated when omitted.' }),
  }),
  payload: RotateEndpointSecretPayload,
  resolve: ({ id, secret }, context) => rotateEndpointSecret(context.services, context.actor, id, secret),
});

defineMutation('revealEndpointSecret', {
  description: 'Shows the current signing secret if it was never shown; otherwise a ConflictError (rotate to get a new one).',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({ id: t.id({ required: true, description: 'The endpoint.' }) }),
  payload: RevealEndpointSecretPayload,
  resolve: ({ id }, context) => revealEndpointSecret(context.services, context.actor, id),
});
