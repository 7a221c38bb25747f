// Creates the usual tenant → event type → endpoint → hook chain through the real API.
import { randomBytes } from 'node:crypto';
import type { DeliveryStatus, DeliveryRow } from '../../src/db/schema.js';
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

// ---------------------------------------------------------------------------------------------
// Dispatcher tests: waiting for many deliveries, reading a delivery with its attempts

/** Polls `check` until it returns a truthy value (then resolves with it), at most `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 10, what = 'condition' } = options;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Resolves once `count` distinct deliveries matching `predicate` are in one of `statuses` (seen on
 * the live bus or already in the store). Meant for final statuses: a delivery is counted once.
 */
export async function waitForDeliveries(
  t: TestApp,
  predicate: (delivery: DeliveryRow) => boolean,
  statuses: DeliveryStatus | DeliveryStatus[],
  count: number,
  timeoutMs = 10_000,
): Promise<DeliveryRow[]> {
  const wanted = Array.isArray(statuses) ? statuses : [statuses];
  const { bus, db } = t.app.services;
  const seen = new Map<string, DeliveryRow>();
  return new Promise<DeliveryRow[]>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      if (error) reject(error);
      else resolve([...seen.values()]);
    };
    const add = (delivery: DeliveryRow) => {
      if (!wanted.includes(delivery.status) || !predicate(delivery)) return;
      if (!seen.has(delivery.id)) seen.set(delivery.id, delivery);
      if (seen.size >= count) finish(null);
    };
    const timer = setTimeout(
      () => finish(new Error(`only ${seen.size} of ${count} deliveries reached ${wanted.join('/')} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const unsubscribe = bus.subscribe('delivery', ({ delivery }) => add(delivery));
    void db
      .selectFrom('deliveries')
      .selectAll()
      .where('status', 'in', wanted)
      .execute()
      .then((rows) => rows.forEach(add), (error: unknown) => finish(error as Error));
  });
}

/** A delivery with every attempt (newest first), as the API shows it. */
export interface DeliveryView {
  id: string;
  status: DeliveryStatus;
  statusReason: string | null;
  attemptCount: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  finishedAt: string | null;
  endpoint: { id: string; enabled: boolean; disabledReason: string | null; disabledMessage: string | null };
  attempts: { nodes: AttemptView[] };
}

export interface AttemptView {
  id: string;
  number: number;
  trigger: string;
  outcome: string;
  durationMs: number | null;
  errorClass: string | null;
  errorMessage: string | null;
  startedAt: string;
  finishedAt: string | null;
  request: { method: string; url: string };
  response: { status: number; headers: Record<string, string>; body: string | null; bodyEncoding: string; bodyTruncated: boolean } | null;
}

export const DELIVERY_VIEW = `
  id status statusReason attemptCount lastStatusCode lastError nextAttemptAt finishedAt
  endpoint { id enabled disabledReason disabledMessage }
  attempts(first: 100) { nodes {
    id number trigger outcome durationMs errorClass errorMessage startedAt finishedAt
    request { method url }
    response { status headers body bodyEncoding bodyTruncated }
  } }`;

/** Reads a delivery and its attempts through GraphQL (fails the test when it does not exist). */
export async function readDelivery(t: TestApp, id: string): Promise<DeliveryView> {
  const data = await t.ok(`query($id: ID!) { delivery(id: $id) { ${DELIVERY_VIEW} } }`, { id });
  if (!data.delivery) throw new Error(`delivery ${id} not found`);
  return data.delivery as DeliveryView;
}

/** The deliveries of one event through GraphQL (at most 100), each read with its attempts. */
export async function readEventDeliveries(t: TestApp, eventId: string): Promise<DeliveryView[]> {
  // One query per delivery: nesting two connections of 100 goes over the API's query cost limit.
  const data = await t.ok(`query($id: ID!) { event(id: $id) { deliveries(first: 100) { nodes { id } } } }`, { id: eventId });
  return Promise.all((data.event.deliveries.nodes as { id: string }[]).map((node) => readDelivery(t, node.id)));
}

/** Mints a tenant token with the given scopes; returns its secret. */
export async function createTenantToken(t: TestApp, tenantId: string, scopes: string[]): Promise<string> {
  const data = await t.ok(
    `mutation($t: ID!, $s: [TokenScope!]) { createTenantToken(input: {tenantId: $t, name: "test", scopes: $s}) { __typename ... on CreateTenantTokenPayload { secret } } }`,
    { t: tenantId, s: scopes },
  );
  if (data.createTenantToken.__typename !== 'CreateTenantTokenPayload') throw new Error(`createTenantToken: ${JSON.stringify(data)}`);
  return data.createTenantToken.secret as string;
}

/** How many events and deliveries a tenant has in the store (read directly, not through the API). */
export async function storedCounts(t: TestApp, tenantId: string): Promise<{ events: number; deliveries: number; attempts: number }> {
  const { db } = t.app.services;
  const count = async (table: 'events' | 'deliveries' | 'attempts') => {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };
  return { events: await count('events'), deliveries: await count('deliveries'), attempts: await count('attempts') };
}

/** Resolves once every delivery of `eventId` has reached one of `statuses`; returns them. */
export async function waitForEventDeliveries(
  t: TestApp,
  eventId: string,
  count: number,
  statuses: DeliveryStatus | DeliveryStatus[],
  timeoutMs = 10_000,
): Promise<DeliveryRow[]> {
  const rows = await t.app.services.db.selectFrom('deliveries').selectAll().where('event_id', '=', eventId).execute();
  if (rows.length !== count) throw new Error(`event ${eventId} has ${rows.length} deliveries, expected ${count}`);
  return Promise.all(rows.map((row) => waitForDelivery(t, (d) => d.id === row.id, statuses, timeoutMs)));
}
