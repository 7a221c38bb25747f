// Creates the usual tenant → event type → endpoint → hook chain through the real API.
import { randomBytes } from 'node:crypto';
import type { DeliveryStatus } from '../../src/db/schema.js';
import type { DeliveryRow } from '../../src/modules/deliveries/delivery.repository.js';
import type { TestApp } from './app.js';

export interface Setup {
  tenantId: string;
  endpointId: string;
  hookId: string;
  secret: string;
  eventType: string;
}

export async function createTenant(t: TestApp, name = 'Acme'): Promise<string> {
  const data = await t.ok(`mutation($n: String!) { createTenant(input: {name: $n}) { ... on TenantPayload { tenant { id } } } }`, { n: name });
  return data.createTenant.tenant.id;
}

export async function ensureEventType(t: TestApp, name: string, schema?: unknown): Promise<void> {
  const data = await t.ok(
    `mutation($n: String!, $s: JSON) { createEventType(input: {name: $n, schema: $s}) { __typename } }`,
    { n: name, s: schema ?? null },
  );
  if (!['EventTypePayload', 'ConflictError'].includes(data.createEventType.__typename)) {
    throw new Error(`createEventType: ${JSON.stringify(data)}`);
  }
}

export async function createEndpoint(t: TestApp, tenantId: string, url: string, extra: Record<string, unknown> = {}) {
  const data = await t.ok(
    `mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) { __typename ... on CreateEndpointPayload { endpoint { id } secret } ... on Error { message } ... on ValidationError { problems { path message } } } }`,
    { input: { tenantId, url, ...extra } },
  );
  if (data.createEndpoint.__typename !== 'CreateEndpointPayload') throw new Error(`createEndpoint: ${JSON.stringify(data)}`);
  return { endpointId: data.createEndpoint.endpoint.id as string, secret: data.createEndpoint.secret as string };
}

export async function createHook(t: TestApp, tenantId: string, endpointId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const data = await t.ok(
    `mutation($input: CreateHookInput!) { createHook(input: $input) { __typename ... on HookPayload { hook { id } } ... on Error { message } ... on ValidationError { problems { path message } } } }`,
    { input: { tenantId, endpointId, name: `hook-${randomBytes(3).toString('hex')}`, eventTypes: ['invoice.paid'], ...extra } },
  );
  if (data.createHook.__typename !== 'HookPayload') throw new Error(`createHook: ${JSON.stringify(data)}`);
  return data.createHook.hook.id;
}

/** tenant + `invoice.paid` + endpoint at `url` + one hook; returns the ids and the signing secret. */
export async function setup(
  t: TestApp,
  url: string,
  options: { endpoint?: Record<string, unknown>; hook?: Record<string, unknown> } = {},
): Promise<Setup> {
  const tenantId = await createTenant(t);
  await ensureEventType(t, 'invoice.paid');
  const { endpointId, secret } = await createEndpoint(t, tenantId, url, options.endpoint);
  const hookId = await createHook(t, tenantId, endpointId, options.hook);
  return { tenantId, endpointId, hookId, secret, eventType: 'invoice.paid' };
}

export async function sendEvent(t: TestApp, tenantId: string, payload: unknown, extra: Record<string, unknown> = {}) {
  const data = await t.ok(
    `mutation($input: SendEventInput!) { sendEvent(input: $input) { __typename ... on SendEventPayload { event { id } deliveryCount duplicate } ... on ValidationError { problems { path message } } } }`,
    { input: { tenantId, type: 'invoice.paid', payload, ...extra } },
  );
  if (data.sendEvent.__typename !== 'SendEventPayload') throw new Error(`sendEvent: ${JSON.stringify(data)}`);
  return data.sendEvent as { event: { id: string }; deliveryCount: number; duplicate: boolean };
}

/** Resolves with the delivery once one matching `predicate` reaches `status` (seen on the live bus, or already in the store). */
export async function waitForDelivery(
  t: TestApp,
  predicate: (delivery: DeliveryRow) => boolean,
  statuses: DeliveryStatus | DeliveryStatus[],
  timeoutMs = 10_000,
): Promise<DeliveryRow> {
  const wanted = Array.isArray(statuses) ? statuses : [statuses];
  const { bus, db } = t.app.services;
  return new Promise<DeliveryRow>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, delivery?: DeliveryRow) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      if (error) reject(error);
      else resolve(delivery!);
    };
    const timer = setTimeout(() => finish(new Error(`no delivery reached ${wanted.join('/')} within ${timeoutMs} ms`)), timeoutMs);
    const unsubscribe = bus.subscribe('delivery', ({ delivery }) => {
      if (wanted.includes(delivery.status) && predicate(delivery)) finish(null, delivery);
    });
    void db
      .selectFrom('deliveries')
      .selectAll()
      .where('status', 'in', wanted)
      .execute()
      .then((rows) => {
        const found = rows.find(predicate);
        if (found) finish(null, found);
      });
  });
}
