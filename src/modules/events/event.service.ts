// Accepting events: validate, then write the event and one delivery per matching hook in ONE
// transaction, so an acknowledged event is never lost and never half-routed.
import { targetTenant, type Actor } from '../../auth/actor.js';
import { CONFLICT_ATTEMPTS, isTransientConflict } from '../../db/conflicts.js';
import { newId } from '../../db/ids.js';
import { parseJson } from '../../db/json.js';
import type { DeliveryStatus, DeliveryRow, EventRow, EventTypeRow, HookRow } from '../../db/schema.js';
import { ProblemList } from '../../errors.js';
import { CHANNEL_NAME as CHANNEL } from '../../webhook/channel.js';
import type { Services, WrittenDelivery } from '../../services.js';
import { schemaKey } from '../event-types/event-type.service.js';
import { findDependencies, findRoutableHooks } from '../hooks/hook.repository.js';
import { compileHookMatcher } from '../hooks/hook.matching.js';
import type { Executor } from '../../db/schema.js';
import { isReservedEventType } from '../operations/operational-kinds.js';
import { endWithError, parseTraceparent, requestContext, traceparentOf, tracer } from '../../tracing.js';
import { catalogOf, type Catalog } from './catalog-cache.js';
import { findEventByIdempotencyKey, insertDeliveries, insertEvents, releaseIdempotencyKey } from './event.repository.js';
import { FIFO_WAITING_REASON, isFifo, lockFifoQueues } from '../deliveries/delivery.fifo.js';

export const MAX_BATCH = 100;
const MAX_CHANNELS = 10;
const MAX_IDEMPOTENCY_KEY = 256;

export interface SendEventInput {
  tenantId?: string | null;
  type: string;
  payload?: unknown;
  channels?: readonly string[] | null;
  idempotencyKey?: string | null;
  occurredAt?: Date | null;
  /** W3C trace context of the producer's trace; default: the sendEvent span's when an SDK records it */
  traceparent?: string | null;
}

export interface SentEvent {
  event: EventRow;
  /** true when an earlier event with the same idempotency key was returned instead */
  duplicate: boolean;
  deliveries: DeliveryRow[];
}

interface CheckedEvent {
  tenantId: string;
  input: SendEventInput;
  payloadJson: string;
  channels: string[];
  traceparent: string | null;
}

/** Lookups shared by the events of one call: a batch of 100 reads its tenant and type once, not 100 times. */
interface LookupCache {
  tenants: Map<string, Promise<boolean>>;
  types: Map<string, Promise<EventTypeRow | undefined>>;
}

/** Validates one event; problems are reported under `prefix` (e.g. ['input', 'events', '3']). */
async function checkEvent(
  services: Services,
  actor: Actor,
  input: SendEventInput,
  prefix: string[],
  problems: ProblemList,
  cache: LookupCache,
  catalog: Catalog,
): Promise<CheckedEvent | null> {
  const before = problems.problems.length;
  let tenantId = '';
  try {
    tenantId = targetTenant(actor, input.tenantId);
    let exists = cache.tenants.get(tenantId);
    if (!exists) cache.tenants.set(tenantId, (exists = catalog.tenantExists(tenantId)));
    if (!(await exists)) problems.add([...prefix, 'tenantId'], `tenant ${tenantId} does not exist`);
  } catch (error) {
    problems.add([...prefix, 'tenantId'], (error as Error).message);
  }
  const payloadJson = JSON.stringify(input.payload ?? null);
  const size = Buffer.byteLength(payloadJson, 'utf8');
  if (size > services.config.maxPayloadBytes) {
    problems.add([...prefix, 'payload'], `payload is ${size} bytes; the limit is ${services.config.maxPayloadBytes}`);
  }
  let typeLookup = cache.types.get(input.type);
  if (!typeLookup) cache.types.set(input.type, (typeLookup = catalog.eventType(input.type)));
  const type = await typeLookup;
  if (isReservedEventType(input.type)) problems.add([...prefix, 'type'], `${input.type}: \`switchyard.*\` events are raised by Switchyard only`);
  else if (!type) problems.add([...prefix, 'type'], `unknown event type ${input.type}`);
  else if (type.archived) problems.add([...prefix, 'type'], `event type ${input.type} is archived`);
  else if (type.schema !== null && size <= services.config.maxPayloadBytes) {
    const stored = type.schema;
    const schemaProblems = services.jsonSchemas.validate(schemaKey(type), () => parseJson(stored), input.payload ?? null);
    problems.addAll([...prefix, 'payload'], schemaProblems);
  }
  // Checked in the order given, so a problem's index points at the value the client sent.
  (input.channels ?? []).forEach((channel, index) => {
    if (!CHANNEL.test(channel)) problems.add([...prefix, 'channels', String(index)], 'must be 1–128 of A-Z a-z 0-9 . _ : -');
  });
  const channels = [...new Set(input.channels ?? [])];
  if (channels.length > MAX_CHANNELS) problems.add([...prefix, 'channels'], `at most ${MAX_CHANNELS} channels`);
  if (input.idempotencyKey !== undefined && input.idempotencyKey !== null) {
    if (input.idempotencyKey.length === 0 || input.idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      problems.add([...prefix, 'idempotencyKey'], `must be 1–${MAX_IDEMPOTENCY_KEY} characters`);
    }
  }
  if (input.occurredAt && Number.isNaN(input.occurredAt.getTime())) problems.add([...prefix, 'occurredAt'], 'not a valid time');
  const traceparent = input.traceparent ?? null;
  if (traceparent !== null && parseTraceparent(traceparent) === null) {
    problems.add([...prefix, 'traceparent'], 'must be a W3C traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, ids not all zeros');
  }
  return problems.problems.length === before ? { tenantId, input, payloadJson, channels, traceparent } : null;
}

/**
 * Routes one checked event inside the transaction: one delivery per matching active hook on an
 * enabled endpoint. A hook whose runAfter hooks also match this event starts BLOCKED; dependencies
 * that do not match the event impose nothing (there is nothing to wait for). A FIFO hook's delivery
 * starts BLOCKED behind the hook's earlier ones while `fifoBusy` names the hook, and names it after.
 */
export function routeEvent(
  event: EventRow,
  payload: unknown,
  hooks: readonly HookRow[],
  dependencies: ReadonlyMap<string, string[]>,
  now: number,
  trigger: 'SCHEDULED' | 'MANUAL' = 'SCHEDULED',
  fifoBusy: Set<string> | null = null,
): DeliveryRow[] {
  const document = { type: event.type, channels: parseJson<string[]>(event.channels), data: payload };
  const matched = hooks.filter((hook) => compileHookMatcher(hook)({ type: event.type, channels: document.channels, document }));
  const matchedIds = new Set(matched.map((hook) => hook.id));
  return matched.map((hook) => {
    const waitsFor = (dependencies.get(hook.id) ?? []).filter((id) => matchedIds.has(id));
    const queued = fifoBusy !== null && isFifo(hook.ordering);
    const behindEarlier = queued && fifoBusy.has(hook.id);
    if (queued) fifoBusy.add(hook.id);
    const status: DeliveryStatus = waitsFor.length > 0 || behindEarlier ? 'BLOCKED' : 'PENDING';
    return {
      id: newId('delivery', now),
      tenant_id: event.tenant_id,
      event_id: event.id,
      hook_id: hook.id,
      endpoint_id: hook.endpoint_id,
      event_type: event.type,
      status,
      attempt_count: 0,
      due_at: status === 'PENDING' ? now : null,
      next_attempt_at: status === 'PENDING' ? now : null,
      lease_token: 0,
      next_trigger: trigger,
      last_status_code: null,
      last_error: null,
      status_reason: behindEarlier ? FIFO_WAITING_REASON : waitsFor.length > 0 ? `waiting for ${waitsFor.join(', ')}` : null,
      captured: null,
      capture_error: null,
      fifo_hook_id: queued ? hook.id : null,
      created_at: now,
      updated_at: now,
      finished_at: null,
    };
  });
}

/** A new event's row: what every path that makes an event (sendEvents, a test send, an operational event) writes. */
export function newEventRow(
  fields: { tenantId: string; type: string; payloadJson: string; channels?: readonly string[]; idempotencyKey?: string | null; occurredAt?: number; traceparent?: string | null; captureDepth?: number | null },
  now: number,
): EventRow {
  return {
    id: newId('event', now),
    tenant_id: fields.tenantId,
    type: fields.type,
    payload: fields.payloadJson,
    channels: JSON.stringify(fields.channels ?? []),
    idempotency_key: fields.idempotencyKey ?? null,
    occurred_at: fields.occurredAt ?? now,
    created_at: now,
    traceparent: fields.traceparent ?? null,
    capture_depth: fields.captureDepth ?? null,
  };
}

export interface SendOptions {
  /** where a problem with event `index` sits in the input */
  prefix?: (index: number) => string[];
  /** the `traceparent` header of the request that sends them: the sendEvent span continues its trace */
  requestTraceparent?: string | null;
}

/** Sends a batch atomically: every event is valid and written with its deliveries, or nothing is. */
export function sendEvents(services: Services, actor: Actor, inputs: readonly SendEventInput[], options: SendOptions = {}): Promise<SentEvent[]> {
  const prefix = options.prefix ?? ((index: number) => ['input', 'events', String(index)]);
  return tracer.startActiveSpan('switchyard.sendEvent', {}, requestContext(options.requestTraceparent ?? null), async (span) => {
    try {
      const results = await acceptEvents(services, actor, inputs, prefix, traceparentOf(span));
      span.end();
      return results;
    } catch (error) {
      endWithError(span, error);
      throw error;
    }
  });
}

async function acceptEvents(
  services: Services,
  actor: Actor,
  inputs: readonly SendEventInput[],
  prefix: (index: number) => string[],
  /** the sendEvent span's context, for events sent without a traceparent of their own */
  spanTraceparent: string | null,
): Promise<SentEvent[]> {
  const problems = new ProblemList();
  if (inputs.length === 0) problems.add(['input', 'events'], 'give at least one event');
  if (inputs.length > MAX_BATCH) problems.add(['input', 'events'], `at most ${MAX_BATCH} events per batch`);
  problems.throwIfAny();
  const checked: CheckedEvent[] = [];
  const cache: LookupCache = { tenants: new Map(), types: new Map() };
  const catalog = catalogOf(services);
  for (const [index, input] of inputs.entries()) {
    const result = await checkEvent(services, actor, input, prefix(index), problems, cache, catalog);
    if (result) checked.push(result.traceparent === null ? { ...result, traceparent: spanTraceparent } : result);
  }
  problems.throwIfAny('some events are not valid; none was accepted');

  const { results, leased } = await eventWriterOf(services).write(checked);
  let accepted = 0;
  for (const result of results) if (!result.duplicate) accepted++;
  services.signals.eventsAccepted(accepted);
  if (!leased && results.some((result) => result.deliveries.some((delivery) => delivery.status === 'PENDING'))) {
    services.signals.deliveriesDue();
  }
  return results;
}

/**
 * Group commit: sends that arrive while a write is in progress are written together in the next
 * transaction. With one writer (SQLite) or a pool (PostgreSQL), N concurrent sendEvent calls then
 * cost one commit instead of N, and each still answers only after its events are durable.
 */
class EventWriter {
  private queue: { checked: readonly CheckedEvent[]; resolve: (written: Written) => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly services: Services) {}

  write(checked: readonly CheckedEvent[]): Promise<Written> {
    return new Promise((resolve, reject) => {
      this.queue.push({ checked, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    // Let the sends that arrived in this turn join the first commit too.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const group = this.takeGroup();
      try {
        const { results, leased } = await writeRetryingRaces(this.services, group.flatMap((item) => item.checked));
        let offset = 0;
        for (const item of group) {
          item.resolve({ results: results.slice(offset, offset + item.checked.length), leased });
          offset += item.checked.length;
        }
      } catch (error) {
        if (group.length === 1) {
          group[0]!.reject(error);
          continue;
        }
        // One send's failure must not fail the others: write each alone.
        for (const item of group) {
          await writeRetryingRaces(this.services, item.checked).then(item.resolve, item.reject);
        }
      }
    }
    this.flushing = null;
  }

  /** Up to MAX_GROUP_EVENTS events per transaction, whole sends only. */
  private takeGroup() {
    let events = 0;
    let count = 0;
    for (const item of this.queue) {
      if (count > 0 && events + item.checked.length > MAX_GROUP_EVENTS) break;
      events += item.checked.length;
      count++;
    }
    return this.queue.splice(0, count);
  }
}

const MAX_GROUP_EVENTS = 1_000;
const writers = new WeakMap<Services, EventWriter>();

function eventWriterOf(services: Services): EventWriter {
  let writer = writers.get(services);
  if (!writer) writers.set(services, (writer = new EventWriter(services)));
  return writer;
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Two concurrent sends with one idempotency key: the second insert hits the unique index. Running
 * the transaction again finds the first event and answers it as a duplicate, as a serial run would.
 * A deadlock over FIFO hooks' locks (PostgreSQL, src/db/conflicts.ts) is run again the same way.
 */
async function writeRetryingRaces(services: Services, checked: readonly CheckedEvent[]): Promise<Written> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await services.store.writes.run(
        (trx) => writeEvents(services, trx, checked),
        // published at the commit, so a lease in the same commit is published after the deliveries it leased
        ({ results }) => {
          for (const result of results) {
            for (const delivery of result.deliveries) services.bus.publish('delivery', { delivery, previousStatus: null });
          }
        },
      );
    } catch (error) {
      if (attempt >= CONFLICT_ATTEMPTS || !(isUniqueViolation(error) || isTransientConflict(error))) throw error;
    }
  }
}

/** What a write committed; `leased`: a local dispatcher took every new due delivery, written leased. */
interface Written {
  results: SentEvent[];
  leased: boolean;
}

async function writeEvents(services: Services, trx: Executor, checked: readonly CheckedEvent[]): Promise<Written> {
  const now = services.clock.now();
  /** per tenant, read once per write: its routable hooks, their runAfter edges, the hooks others wait for */
  const routingByTenant = new Map<
    string,
    { hooks: HookRow[]; hookById: Map<string, HookRow>; dependencies: Map<string, string[]>; waitedFor: Set<string>; fifoBusy: Set<string> }
  >();
  const results: SentEvent[] = [];
  const newEvents: EventRow[] = [];
  const newDeliveries: DeliveryRow[] = [];
  const due: WrittenDelivery[] = [];
  const keysInBatch = new Map<string, SentEvent>();
  for (const item of checked) {
    const key = item.input.idempotencyKey ?? null;
    if (key !== null) {
      const batchKey = `${item.tenantId}\u0000${key}`;
      const inBatch = keysInBatch.get(batchKey);
      if (inBatch) {
        results.push({ event: inBatch.event, duplicate: true, deliveries: [] });
        continue;
      }
      const existing = await findEventByIdempotencyKey(trx, item.tenantId, key);
      if (existing && existing.created_at > now - services.config.idempotencyWindowMs) {
        results.push({ event: existing, duplicate: true, deliveries: [] });
        continue;
      }
      if (existing) await releaseIdempotencyKey(trx, existing.id);
    }
    let routing = routingByTenant.get(item.tenantId);
    if (!routing) {
      const hooks = await findRoutableHooks(trx, item.tenantId);
      const dependencies = await findDependencies(trx, hooks.map((hook) => hook.id));
      const fifoBusy = await lockFifoQueues(trx, hooks);
      routing = { hooks, hookById: new Map(hooks.map((hook) => [hook.id, hook])), dependencies, waitedFor: new Set([...dependencies.values()].flat()), fifoBusy };
      routingByTenant.set(item.tenantId, routing);
    }
    const { hooks, hookById, dependencies, waitedFor, fifoBusy } = routing;
    const event = newEventRow(
      {
        tenantId: item.tenantId,
        type: item.input.type,
        payloadJson: item.payloadJson,
        channels: item.channels,
        idempotencyKey: key,
        ...(item.input.occurredAt ? { occurredAt: item.input.occurredAt.getTime() } : {}),
        traceparent: item.traceparent,
      },
      now,
    );
    const deliveries = routeEvent(event, item.input.payload ?? null, hooks, dependencies, now, 'SCHEDULED', fifoBusy);
    newEvents.push(event);
    newDeliveries.push(...deliveries);
    for (const delivery of deliveries) {
      if (delivery.status !== 'PENDING') continue;
      const hook = delivery.hook_id === null ? undefined : hookById.get(delivery.hook_id);
      if (hook) due.push({ delivery, event, hook, hasDependents: waitedFor.has(hook.id) });
    }
    const sent = { event, duplicate: false, deliveries };
    if (key !== null) keysInBatch.set(`${item.tenantId}\u0000${key}`, sent);
    results.push(sent);
  }
  const lease = due.length > 0 ? services.signals.leaseAsWritten(due) : null;
  await insertEvents(trx, newEvents);
  await insertDeliveries(trx, lease ? newDeliveries.map((delivery) => lease.leased.get(delivery.id) ?? delivery) : newDeliveries);
  lease?.inserted();
  return { results, leased: lease?.tookAll ?? false };
}

/** One event; problems are reported under ['input', …]. */
export async function sendEvent(
  services: Services,
  actor: Actor,
  input: SendEventInput,
  options: Pick<SendOptions, 'requestTraceparent'> = {},
): Promise<SentEvent> {
  const [result] = await sendEvents(services, actor, [input], { ...options, prefix: () => ['input'] });
  if (!result) throw new Error('sendEvents returned no result');
  return result;
}
