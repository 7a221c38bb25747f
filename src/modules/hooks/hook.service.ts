import jsonata from 'jsonata';
import { parseTemplate } from 'url-template';
import { canSee, targetTenant, tenantFilter, type Actor } from '../../auth/actor.js';
import { newId } from '../../db/ids.js';
import { parseJson, parseJsonOrNull, toFlag, toJson, toJsonOrNull } from '../../db/json.js';
import type { PageArgs } from '../../db/pagination.js';
import type { HttpMethod, PayloadFormat } from '../../webhook/request.js';
import { NotFoundError, ProblemList } from '../../errors.js';
import type { Services } from '../../services.js';
import { findEndpointById } from '../endpoints/endpoint.repository.js';
import { listEventTypeNames } from '../event-types/event-type.repository.js';
import { findTenantById } from '../tenants/tenant.repository.js';
import { compileFilter, validateFilter } from '../../webhook/filter.js';
import { cancelOpenDeliveriesOfHook, deleteHookRow, findHookById, findHooksByIds, findRunAfterHooks, findTenantDependencyEdges, insertHook, listHooks, lockTenantHookGraph, replaceDependencies, updateHookRow } from './hook.repository.js';
import type { Executor, HookRow } from '../../db/schema.js';

export type { HttpMethod, PayloadFormat };

export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = ['STANDARD', 'RAW', 'CLOUDEVENTS', 'CLOUDEVENTS_BINARY'];

export const HOOK_MAX_NAME_LENGTH = 200;
export const HOOK_MAX_DESCRIPTION_LENGTH = 2000;
export const HOOK_MAX_EVENT_TYPES = 100;
export const HOOK_MAX_CHANNELS = 50;
export const HOOK_MAX_RUN_AFTER = 20;
export const HOOK_MAX_PATH_LENGTH = 2048;
export const HOOK_MAX_TRANSFORM_BYTES = 64 * 1024;
export const HOOK_MAX_SETTINGS_BYTES = 64 * 1024;
/** A filter is compiled once per hook version, but its size still bounds the memory it holds and each recompile. */
export const HOOK_MAX_FILTER_BYTES = 64 * 1024;
export const HOOK_MAX_TEST_PAYLOAD_BYTES = 1024 * 1024;

/** The reason recorded on deliveries cancelled because their hook was deleted. */
export const HOOK_DELETED_REASON = 'hook deleted';

const CHANNEL = /^[A-Za-z0-9._:-]{1,128}$/;
/** The group part of a `group.*` pattern: the event-type name grammar, but one segment is enough. */
const PATTERN_GROUP = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const MAX_PATTERN_LENGTH = 256;
/** The names a path template may read: the scope request.ts builds for transforms and paths. */
const TEMPLATE_ROOTS = ['data', 'event', 'settings', 'tenant', 'hook'] as const;

export interface HookInput {
  /** create only; a tenant token may omit it, and so may the admin (the endpoint's tenant is used) */
  tenantId?: string | null;
  endpointId?: string | null;
  name?: string | null;
  description?: string | null;
  active?: boolean | null;
  eventTypes?: readonly string[] | null;
  channels?: readonly string[] | null;
  /** undefined = keep; null = remove */
  filter?: Record<string, unknown> | null;
  method?: HttpMethod | null;
  /** undefined = keep; null or '' = remove */
  path?: string | null;
  format?: PayloadFormat | null;
  /** undefined = keep; null or '' = remove */
  transform?: string | null;
  settings?: Record<string, unknown> | null;
  /** undefined = keep; null = remove */
  settingsSchema?: unknown;
  runAfter?: readonly string[] | null;
  /** undefined = keep; null = remove */
  testPayload?: unknown;
}

// ── validation without the database ─────────────────────────────────────────────────────────────

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/** An empty template or transform means "none": the dispatcher treats '' like null, so store one spelling. */
const blankToNull = (value: string | null | undefined) => (value === undefined ? undefined : value === null || value.trim() === '' ? null : value);

/**
 * Checks every field present in `input` (all of them when creating) that needs no database.
 * `settingsSchema`/`settings` are the values the hook will have after the save, so a change to either
 * is checked against the other.
 */
function checkFields(
  services: Services,
  input: HookInput,
  creating: boolean,
  effective: { settings: Record<string, unknown>; settingsSchema: unknown },
  problems: ProblemList,
): void {
  if (creating || (input.name !== undefined && input.name !== null)) {
    const name = input.name?.trim() ?? '';
    if (name.length === 0 || name.length > HOOK_MAX_NAME_LENGTH) {
      problems.add(['input', 'name'], `must be 1 to ${HOOK_MAX_NAME_LENGTH} characters`);
    }
  }
  if ((input.description ?? '').length > HOOK_MAX_DESCRIPTION_LENGTH) {
    problems.add(['input', 'description'], `must be at most ${HOOK_MAX_DESCRIPTION_LENGTH} characters`);
  }
  if (creating && !input.endpointId) problems.add(['input', 'endpointId'], 'is required');
  if (creating || (input.eventTypes !== undefined && input.eventTypes !== null)) {
    const eventTypes = input.eventTypes ?? [];
    if (eventTypes.length === 0) problems.add(['input', 'eventTypes'], 'give at least one event type or `group.*` pattern');
    if (eventTypes.length > HOOK_MAX_EVENT_TYPES) problems.add(['input', 'eventTypes'], `at most ${HOOK_MAX_EVENT_TYPES} entries`);
  }
  const channels = input.channels ?? [];
  if (channels.length > HOOK_MAX_CHANNELS) problems.add(['input', 'channels'], `at most ${HOOK_MAX_CHANNELS} channels`);
  channels.forEach((channel, index) => {
    if (!CHANNEL.test(channel)) {
      problems.add(['input', 'channels', String(index)], 'must be 1 to 128 letters, digits, ".", "_", ":" or "-"');
    }
  });
  if (input.filter !== undefined && input.filter !== null) {
    if (byteLength(toJson(input.filter)) > HOOK_MAX_FILTER_BYTES) {
      problems.add(['input', 'filter'], `must be at most ${HOOK_MAX_FILTER_BYTES} bytes of JSON`);
    } else {
      problems.addAll(['input', 'filter'], validateFilter(input.filter));
    }
  }
  if (input.method !== undefined && input.method !== null && !HTTP_METHODS.includes(input.method)) {
    problems.add(['input', 'method'], `must be one of ${HTTP_METHODS.join(', ')}`);
  }
  if (input.format !== undefined && input.format !== null && !PAYLOAD_FORMATS.includes(input.format)) {
    problems.add(['input', 'format'], `must be one of ${PAYLOAD_FORMATS.join(', ')}`);
  }
  const path = blankToNull(input.path);
  if (path) for (const message of pathTemplateProblems(path)) problems.add(['input', 'path'], message);
  const transform = blankToNull(input.transform);
  if (transform) {
    const message = transformProblem(transform);
    if (message) problems.add(['input', 'transform'], message);
  }
  checkSettings(services, input, effective, problems);
  if (input.testPayload !== undefined && input.testPayload !== null) {
    if (byteLength(toJson(input.testPayload)) > HOOK_MAX_TEST_PAYLOAD_BYTES) {
      problems.add(['input', 'testPayload'], `must be at most ${HOOK_MAX_TEST_PAYLOAD_BYTES} bytes of JSON`);
    }
  }
  if ((input.runAfter ?? []).length > HOOK_MAX_RUN_AFTER) {
    problems.add(['input', 'runAfter'], `at most ${HOOK_MAX_RUN_AFTER} hooks`);
  }
}

function checkSettings(
  services: Services,
  input: HookInput,
  effective: { settings: Record<string, unknown>; settingsSchema: unknown },
  problems: ProblemList,
): void {
  const settingsGiven = input.settings !== undefined && input.settings !== null;
  if (settingsGiven && byteLength(toJson(input.settings)) > HOOK_MAX_SETTINGS_BYTES) {
    problems.add(['input', 'settings'], `must be at most ${HOOK_MAX_SETTINGS_BYTES} bytes of JSON`);
    return;
  }
  const schema = effective.settingsSchema;
  if (schema === null || schema === undefined) return;
  if (input.settingsSchema !== undefined) {
    const schemaProblems = services.jsonSchemas.check(schema);
    problems.addAll(['input', 'settingsSchema'], schemaProblems);
    if (schemaProblems.length > 0) return;
  }
  // Unchanged settings under an unchanged schema were valid when saved: do not re-judge them on
  // every rename (the schema cache or ajv may have changed since, the tenant did not).
  if (!settingsGiven && input.settingsSchema === undefined) return;
  const key = `hook-settings:${toJson(schema)}`;
  const suffix = settingsGiven ? '' : ' (the saved settings do not match the new settingsSchema)';
  for (const problem of services.jsonSchemas.validate(key, schema, effective.settings)) {
    problems.add(['input', 'settings', ...problem.path], `${problem.message}${suffix}`);
  }
}

/** JSONata throws plain objects `{ code, position, token, message }`, not Errors. */
function transformProblem(source: string): string | null {
  if (byteLength(source) > HOOK_MAX_TRANSFORM_BYTES) return `must be at most ${HOOK_MAX_TRANSFORM_BYTES} bytes`;
  try {
    jsonata(source);
    return null;
  } catch (error) {
    const { message, code, position } = (typeof error === 'object' && error !== null ? error : {}) as {
      message?: unknown;
      code?: unknown;
      position?: unknown;
    };
    const text = typeof message === 'string' ? message : String(error);
    const where = typeof position === 'number' ? ` at position ${position}` : '';
    const what = typeof code === 'string' ? ` (${code})` : '';
    return `is not a valid JSONata expression${where}${what}: ${text}`;
  }
}

// RFC 6570 grammar (section 2). url-template's parseTemplate accepts any string and skips what it
// cannot read, so a typo would silently expand to the wrong URL: the grammar is checked here.
const TEMPLATE_OPERATORS = '+#./;?&';
/** Reserved by RFC 6570 for future extensions; url-template would read them as part of the name. */
const FUTURE_OPERATORS = '=,!@|';
const VARNAME = /^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+(?:\.(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+)*$/;
const MODIFIER = /^(?::[1-9][0-9]{0,3}|\*)?$/;
const LITERAL_FORBIDDEN = /[\x00-\x20"'<>\\^`|\x7f]/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** Every problem of a hook path template, as messages for ['input', 'path']. */
export function pathTemplateProblems(source: string): string[] {
  if (source.length > HOOK_MAX_PATH_LENGTH) return [`must be at most ${HOOK_MAX_PATH_LENGTH} characters`];
  const problems: string[] = [];
  const names: string[] = [];
  let literal = '';
  const checkLiteral = () => {
    const bad = LITERAL_FORBIDDEN.exec(literal);
    if (bad) problems.push(`literal text may not contain ${JSON.stringify(bad[0])} (percent-encode it)`);
    if (BAD_PERCENT.test(literal)) problems.push('a "%" in literal text must start a percent-encoded byte like %20');
    literal = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '}') {
      problems.push(`unexpected "}" at position ${i}`);
    } else if (c === '{') {
      const close = source.indexOf('}', i + 1);
      const nextOpen = source.indexOf('{', i + 1);
      if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
        problems.push(`the expression opened at position ${i} is not closed with "}"`);
        break;
      }
      checkLiteral();
      expressionProblems(source.slice(i + 1, close), i, problems, names);
      i = close;
    } else {
      literal += c;
    }
  }
  checkLiteral();
  for (const name of names) {
    if (!TEMPLATE_ROOTS.some((root) => name === root || name.startsWith(`${root}.`))) {
      problems.push(`variable "${name}" must start with one of ${TEMPLATE_ROOTS.map((r) => `${r}.`).join(', ')}`);
    }
  }
  if (problems.length > 0) return problems;
  // A trial expansion: the request must stay on the endpoint's origin whatever the values are
  // (request.ts refuses it again per event, but a hook that can never be sent should not be saved).
  const sample = Object.fromEntries(names.map((name) => [name, 'x']));
  const expanded = parseTemplate(source).expand(sample);
  if (HAS_SCHEME.test(expanded) || expanded.startsWith('//')) {
    problems.push("must be a path: it may not change the endpoint's scheme, host or port");
  }
  return problems;
}

function expressionProblems(body: string, at: number, problems: string[], names: string[]): void {
  let specs = body;
  const first = body.charAt(0);
  if (FUTURE_OPERATORS.includes(first)) {
    problems.push(`the operator "${first}" at position ${at + 1} is reserved and not supported`);
    return;
  }
  if (TEMPLATE_OPERATORS.includes(first)) specs = body.slice(1);
  if (specs === '') {
    problems.push(`the expression at position ${at} names no variable`);
    return;
  }
  for (const spec of specs.split(',')) {
    const [, name = '', modifier = ''] = /^([^:*]*)(.*)$/.exec(spec) ?? [];
    if (!VARNAME.test(name)) {
      problems.push(`"${name}" at position ${at} is not a variable name (letters, digits, "_", joined by ".")`);
    } else if (!MODIFIER.test(modifier)) {
      problems.push(`"${modifier}" after "${name}" is not a modifier (":1" to ":9999", or "*")`);
    } else {
      names.push(name);
    }
  }
}

// ── validation against the database ─────────────────────────────────────────────────────────────

function checkEventTypes(patterns: readonly string[], existing: readonly string[], problems: ProblemList): void {
  const names = new Set(existing);
  patterns.forEach((pattern, index) => {
    const at = ['input', 'eventTypes', String(index)];
    if (pattern === '*') return;
    if (pattern.length > MAX_PATTERN_LENGTH) {
      problems.add(at, `must be at most ${MAX_PATTERN_LENGTH} characters`);
    } else if (pattern.endsWith('.*')) {
      const group = pattern.slice(0, -2);
      const prefix = pattern.slice(0, -1);
      if (!PATTERN_GROUP.test(group)) {
        problems.add(at, `${pattern} is not a valid pattern: use \`group.*\` with letters, digits, "_" or "-" in the group`);
      } else if (!existing.some((name) => name.startsWith(prefix))) {
        problems.add(at, `no event type matches ${pattern}`);
      }
    } else if (pattern.includes('*')) {
      problems.add(at, `${pattern}: a wildcard may only end a pattern, as in \`invoice.*\`, or stand alone as \`*\``);
    } else if (!names.has(pattern)) {
      problems.add(at, `event type ${pattern} does not exist (or is archived)`);
    }
  });
}

const describeHook = (hook: Pick<HookRow, 'id' | 'name'>) => `${hook.name} (${hook.id})`;

/**
 * Checks runAfter: hooks of the same tenant, not the hook itself, and no cycle once the hook's edges
 * are replaced by `runAfter` (the other edges of the tenant stay as they are). `hook` is null when
 * creating: a new hook has no dependants yet, so it cannot close a cycle.
 */
async function checkRunAfter(
  db: Executor,
  tenantId: string | null,
  hook: Pick<HookRow, 'id' | 'name'> | null,
  runAfter: readonly string[],
  problems: ProblemList,
): Promise<void> {
  if (runAfter.length > HOOK_MAX_RUN_AFTER) return;
  const found = new Map((await findHooksByIds(db, runAfter)).map((row) => [row.id, row]));
  let usable = true;
  runAfter.forEach((id, index) => {
    const at = ['input', 'runAfter', String(index)];
    const row = found.get(id);
    if (hook && id === hook.id) {
      problems.add(at, 'a hook cannot run after itself');
      usable = false;
    } else if (!row || (tenantId !== null && row.tenant_id !== tenantId)) {
      // Another tenant's hook gets the same answer as a missing one, so ids of other tenants leak nothing.
      problems.add(at, `Hook ${id} does not exist`);
      usable = false;
    }
  });
  if (!hook || !usable || tenantId === null || runAfter.length === 0) return;

  const waitsFor = new Map<string, string[]>();
  for (const edge of await findTenantDependencyEdges(db, tenantId)) {
    if (edge.hook_id === hook.id) continue;
    const list = waitsFor.get(edge.hook_id) ?? [];
    list.push(edge.depends_on_hook_id);
    waitsFor.set(edge.hook_id, list);
  }
  const cycles: { index: number; ids: string[] }[] = [];
  runAfter.forEach((id, index) => {
    const path = shortestPath(waitsFor, id, hook.id);
    if (path) cycles.push({ index, ids: [hook.id, ...path] });
  });
  if (cycles.length === 0) return;
  const named = new Map((await findHooksByIds(db, [...new Set(cycles.flatMap((c) => c.ids))])).map((row) => [row.id, row]));
  for (const { index, ids } of cycles) {
    const text = ids.map((id) => describeHook(id === hook.id ? hook : (named.get(id) ?? { id, name: '?' }))).join(' → ');
    problems.add(['input', 'runAfter', String(index)], `runAfter would create a cycle: ${text}`);
  }
}

/** Breadth-first, so the cycle reported is the shortest one: the easiest to read and to break. */
function shortestPath(edges: ReadonlyMap<string, readonly string[]>, from: string, to: string): string[] | null {
  const cameFrom = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const current = queue[head] as string;
    if (current === to) {
      const path: string[] = [];
      for (let step: string | null | undefined = current; step; step = cameFrom.get(step)) path.push(step);
      return path.reverse();
    }
    for (const next of edges.get(current) ?? []) {
      if (!cameFrom.has(next)) {
        cameFrom.set(next, current);
        queue.push(next);
      }
    }
  }
  return null;
}

/** Order-preserving de-duplication: repeating an entry changes nothing, so it is not an error. */
const unique = (values: readonly string[]) => [...new Set(values)];

// ── operations ──────────────────────────────────────────────────────────────────────────────────

/** A hook the actor may see, or NOT_FOUND (the same answer whether it is missing or someone else's). */
export async function getHook(services: Services, actor: Actor, id: string): Promise<HookRow> {
  const hook = await findHookById(services.db, id);
  if (!hook || !canSee(actor, hook.tenant_id)) throw new NotFoundError('Hook', id);
  return hook;
}

export function pageHooks(
  services: Services,
  actor: Actor,
  filter: { tenantId?: string | null; endpointId?: string | null },
  args: PageArgs,
) {
  return listHooks(services.db, { tenantId: tenantFilter(actor, filter.tenantId), endpointId: filter.endpointId ?? null }, args);
}

/** The hooks that must succeed first, oldest first. */
export function runAfterOf(services: Services, hook: Pick<HookRow, 'id'>): Promise<HookRow[]> {
  return findRunAfterHooks(services.db, hook.id);
}

export async function createHook(services: Services, actor: Actor, input: HookInput): Promise<HookRow> {
  // An admin may leave the tenant to the endpoint, which belongs to exactly one.
  let tenantId = actor.kind === 'admin' && !input.tenantId ? null : targetTenant(actor, input.tenantId);
  if (tenantId !== null && actor.kind === 'admin' && !(await findTenantById(services.db, tenantId))) {
    throw new NotFoundError('Tenant', tenantId);
  }
  const settings = input.settings ?? {};
  const settingsSchema = input.settingsSchema ?? null;
  const problems = new ProblemList();
  checkFields(services, input, true, { settings, settingsSchema }, problems);
  const eventTypes = unique(input.eventTypes ?? []);
  const runAfter = unique(input.runAfter ?? []);
  return services.db.transaction().execute(async (trx) => {
    const endpointId = input.endpointId ?? '';
    if (endpointId) {
      const endpoint = await findEndpointById(trx, endpointId);
      if (!endpoint || (tenantId !== null && endpoint.tenant_id !== tenantId)) {
        problems.add(['input', 'endpointId'], `Endpoint ${endpointId} does not exist`);
      } else {
        tenantId = endpoint.tenant_id;
      }
    }
    if (tenantId !== null && runAfter.length > 0) await lockTenantHookGraph(trx, tenantId);
    checkEventTypes(eventTypes, await listEventTypeNames(trx, false), problems);
    await checkRunAfter(trx, tenantId, null, runAfter, problems);
    problems.throwIfAny();
    const now = services.clock.now();
    const row: HookRow = {
      id: newId('hook', now),
      // Set whenever problems is empty: a valid endpointId always yields its tenant.
      tenant_id: tenantId as string,
      endpoint_id: endpointId,
      name: (input.name ?? '').trim(),
      description: input.description ?? '',
      active: toFlag(input.active ?? true),
      event_types: toJson(eventTypes),
      channels: toJson(unique(input.channels ?? [])),
      filter: toJsonOrNull(input.filter),
      method: input.method ?? 'POST',
      path: blankToNull(input.path) ?? null,
      format: input.format ?? 'STANDARD',
      transform: blankToNull(input.transform) ?? null,
      settings: toJson(settings),
      settings_schema: toJsonOrNull(settingsSchema),
      test_payload: toJsonOrNull(input.testPayload),
      created_at: now,
      updated_at: now,
    };
    await insertHook(trx, row);
    await replaceDependencies(trx, row.id, runAfter);
    return row;
  });
}

/** Omitted fields stay; null clears the nullable ones (and empties channels, runAfter, settings, description). */
export async function updateHook(services: Services, actor: Actor, id: string, input: HookInput): Promise<HookRow> {
  return services.db.transaction().execute(async (trx) => {
    const existing = await findHookById(trx, id);
    if (!existing || !canSee(actor, existing.tenant_id)) throw new NotFoundError('Hook', id);
    const settings = input.settings === undefined ? parseJson<Record<string, unknown>>(existing.settings) : (input.settings ?? {});
    const settingsSchema = input.settingsSchema === undefined ? parseJsonOrNull(existing.settings_schema) : input.settingsSchema;
    const problems = new ProblemList();
    checkFields(services, input, false, { settings, settingsSchema }, problems);
    const eventTypes = input.eventTypes ? unique(input.eventTypes) : null;
    const runAfter = input.runAfter === undefined ? null : unique(input.runAfter ?? []);

    if (input.endpointId) {
      const endpoint = await findEndpointById(trx, input.endpointId);
      if (!endpoint || endpoint.tenant_id !== existing.tenant_id) {
        problems.add(['input', 'endpointId'], `Endpoint ${input.endpointId} does not exist`);
      }
    }
    if (eventTypes) checkEventTypes(eventTypes, await listEventTypeNames(trx, false), problems);
    if (runAfter) {
      await lockTenantHookGraph(trx, existing.tenant_id);
      await checkRunAfter(trx, existing.tenant_id, existing, runAfter, problems);
    }
    problems.throwIfAny();

    const changes: Partial<HookRow> = {
      // strictly increasing, so the compiled-matcher cache key changes even within one millisecond
      updated_at: Math.max(services.clock.now(), existing.updated_at + 1),
    };
    if (input.endpointId) changes.endpoint_id = input.endpointId;
    if (input.name !== undefined && input.name !== null) changes.name = input.name.trim();
    if (input.description !== undefined) changes.description = input.description ?? '';
    if (input.active !== undefined && input.active !== null) changes.active = toFlag(input.active);
    if (eventTypes) changes.event_types = toJson(eventTypes);
    if (input.channels !== undefined) changes.channels = toJson(unique(input.channels ?? []));
    if (input.filter !== undefined) changes.filter = toJsonOrNull(input.filter);
    if (input.method !== undefined && input.method !== null) changes.method = input.method;
    if (input.path !== undefined) changes.path = blankToNull(input.path) ?? null;
    if (input.format !== undefined && input.format !== null) changes.format = input.format;
    if (input.transform !== undefined) changes.transform = blankToNull(input.transform) ?? null;
    if (input.settings !== undefined) changes.settings = toJson(settings);
    if (input.settingsSchema !== undefined) changes.settings_schema = toJsonOrNull(input.settingsSchema);
    if (input.testPayload !== undefined) changes.test_payload = toJsonOrNull(input.testPayload);
    await updateHookRow(trx, id, changes);
    if (runAfter) await replaceDependencies(trx, id, runAfter);
    return { ...existing, ...changes };
  });
}

/** Deletes a hook; its deliveries still waiting are cancelled first, in the same transaction. */
export async function deleteHook(services: Services, actor: Actor, id: string): Promise<HookRow> {
  return services.db.transaction().execute(async (trx) => {
    const hook = await findHookById(trx, id);
    if (!hook || !canSee(actor, hook.tenant_id)) throw new NotFoundError('Hook', id);
    // Before the delete: ON DELETE SET NULL would leave them unattributable to the hook.
    await cancelOpenDeliveriesOfHook(trx, id, HOOK_DELETED_REASON, services.clock.now());
    await deleteHookRow(trx, id);
    return hook;
  });
}

// ── routing ─────────────────────────────────────────────────────────────────────────────────────

/** What a matcher looks at. `document` is `eventDocument(event)`, built once per event and shared by every hook. */
export interface MatchableEvent {
  type: string;
  channels: readonly string[];
  document: unknown;
}

export type HookMatcher = (event: MatchableEvent) => boolean;

/** What filters are evaluated against (see filter.ts): `{ type, channels, data }`. */
export function eventDocument(event: { type: string; channels: readonly string[]; payload: unknown }): {
  type: string;
  channels: readonly string[];
  data: unknown;
} {
  return { type: event.type, channels: event.channels, data: event.payload };
}

const MATCHER_CACHE_LIMIT = 10_000;
const matchers = new Map<string, HookMatcher>();
const NEVER: HookMatcher = () => false;

/**
 * The hook's event types, channels and filter as one predicate, compiled once per hook version
 * (cached by `id@updated_at`). It does not look at `active`: findRoutableHooks already selects the
 * active hooks. A stored filter that no longer compiles matches nothing, so one bad hook cannot make
 * sending events fail for its whole tenant.
 */
export function compileHookMatcher(row: Pick<HookRow, 'id' | 'updated_at' | 'event_types' | 'channels' | 'filter'>): HookMatcher {
  const key = `${row.id}@${row.updated_at}`;
  let matcher = matchers.get(key);
  if (matcher === undefined) {
    matcher = buildMatcher(row);
    // Oldest-inserted first out: an evicted hook just compiles again, and hits stay one Map lookup.
    if (matchers.size >= MATCHER_CACHE_LIMIT) {
      const oldest = matchers.keys().next();
      if (!oldest.done) matchers.delete(oldest.value);
    }
    matchers.set(key, matcher);
  }
  return matcher;
}

/**
 * Whether the hook wants the event. Pass the row (its matcher is looked up in the cache) or a matcher
 * from compileHookMatcher; for many hooks per event, build `eventDocument` once and call matchers directly.
 */
export function hookMatchesEvent(
  hook: Pick<HookRow, 'id' | 'updated_at' | 'event_types' | 'channels' | 'filter'> | HookMatcher,
  event: { type: string; channels: readonly string[]; payload: unknown },
): boolean {
  const matcher = typeof hook === 'function' ? hook : compileHookMatcher(hook);
  return matcher({ type: event.type, channels: event.channels, document: eventDocument(event) });
}

function buildMatcher(row: Pick<HookRow, 'event_types' | 'channels' | 'filter'>): HookMatcher {
  let filter: ((document: unknown) => boolean) | null = null;
  let patterns: string[];
  let channels: string[];
  try {
    patterns = parseJson<string[]>(row.event_types);
    channels = parseJson<string[]>(row.channels);
    const filterDocument = parseJsonOrNull<Record<string, unknown>>(row.filter);
    if (filterDocument !== null) filter = compileFilter(filterDocument);
  } catch {
    return NEVER;
  }
  const typeMatches = eventTypeMatcher(patterns);
  const wanted = new Set(channels);
  const channelsMatch =
    wanted.size === 0
      ? () => true
      : (eventChannels: readonly string[]) => {
          for (const channel of eventChannels) if (wanted.has(channel)) return true;
          return false;
        };
  return (event) => typeMatches(event.type) && channelsMatch(event.channels) && (filter === null || filter(event.document));
}

/** A predicate for exact names, `group.*` wildcards and `*` (all), compiled once for hot paths. */
export function eventTypeMatcher(patterns: readonly string[]): (type: string) => boolean {
  if (patterns.includes('*')) return () => true;
  const exact = new Set<string>();
  // `invoice.*` is kept as `invoice.`: the trailing dot is what keeps `invoices.x` out.
  const prefixes: string[] = [];
  for (const pattern of patterns) {
    if (pattern.endsWith('.*')) prefixes.push(pattern.slice(0, -1));
    else exact.add(pattern);
  }
  if (prefixes.length === 0) return (type) => exact.has(type);
  return (type) => {
    if (exact.has(type)) return true;
    for (const prefix of prefixes) if (type.startsWith(prefix)) return true;
    return false;
  };
}
