// Hook input rules: every field of a create or update checked, every problem collected with its
// field path, before the service writes anything. The grammars live in src/webhook (path templates,
// JSONata, channels, event-type patterns); this file applies them to a HookInput.
import { toJson } from '../../db/json.js';
import { ProblemList } from '../../errors.js';
import type { Services } from '../../services.js';
import { CHANNEL_NAME } from '../../webhook/channel.js';
import { EVENT_TYPE_PATTERN_GROUP, MAX_EVENT_TYPE_PATTERN_LENGTH, eventTypeMatcher } from '../../webhook/event-type-pattern.js';
import { isReservedEventType } from '../operations/operational-kinds.js';
import { validateFilter } from '../../webhook/filter.js';
import { describeJsonataFailure } from '../../webhook/jsonata-error.js';
import { bodyTemplateProblems } from '../../webhook/body-template.js';
import { pathTemplateProblems } from '../../webhook/path-template.js';
import type { BodyTemplate, BodyTemplateKind, HttpMethod, PayloadFormat } from '../../webhook/request.js';
import { validateRetryPolicy, type RetryPolicy } from '../../webhook/schedule.js';
import { transformSyntaxFailure } from '../../webhook/transform.js';
import { MAX_METADATA_BYTES, MIN_TIMEOUT_MS, storedRetryPolicy } from '../endpoints/endpoint.validation.js';
import { checkSecretsAndHeaders, type HookSecretsInput } from './hook.secrets.js';
import type { HookOrdering } from '../../db/schema.js';

export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = ['STANDARD', 'RAW', 'CLOUDEVENTS', 'CLOUDEVENTS_BINARY'];
export const BODY_TEMPLATE_KINDS: readonly BodyTemplateKind[] = ['JSON', 'TEXT', 'FORM'];

export const HOOK_MAX_NAME_LENGTH = 200;
export const HOOK_MAX_DESCRIPTION_LENGTH = 2000;
export const HOOK_MAX_EVENT_TYPES = 100;
export const HOOK_MAX_CHANNELS = 50;
export const HOOK_MAX_RUN_AFTER = 20;
export const HOOK_MAX_PATH_LENGTH = 2048;
export const HOOK_MAX_TRANSFORM_BYTES = 64 * 1024;
export const HOOK_MAX_SETTINGS_BYTES = 64 * 1024;
/** As for a transform: the template is held per hook version and walked for every request. */
export const HOOK_MAX_TEMPLATE_BYTES = 64 * 1024;
/** A filter is compiled once per hook version, but its size still bounds the memory it holds and each recompile. */
export const HOOK_MAX_FILTER_BYTES = 64 * 1024;
export const HOOK_MAX_TEST_PAYLOAD_BYTES = 1024 * 1024;

/** Order-preserving de-duplication: repeating an entry changes nothing, so it is not an error. */
export const unique = (values: readonly string[]) => [...new Set(values)];

export interface HookInput extends HookSecretsInput {
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
  /** undefined = keep; null = remove; `body` is checked to be there */
  template?: { kind: BodyTemplateKind; body?: unknown } | null;
  settings?: Record<string, unknown> | null;
  /** undefined = keep; null = remove */
  settingsSchema?: unknown;
  runAfter?: readonly string[] | null;
  /** undefined = keep; null = remove */
  testPayload?: unknown;
  /** undefined = keep; null = empty */
  metadata?: Record<string, unknown> | null;
  /** undefined = keep; null = the endpoint's */
  timeoutMs?: number | null;
  /** undefined or null = keep (UNORDERED when creating) */
  ordering?: HookOrdering | null;
  /** undefined = keep; null or '' = remove */
  capture?: string | null;
  /** undefined = keep; null = remove; the capture's result is also sent as an event of this type */
  captureEvent?: { type: string } | null;
  /** undefined = keep; null = the endpoint's */
  retryPolicy?: RetryPolicy | null;
}

const HOOK_ORDERINGS: readonly HookOrdering[] = ['UNORDERED', 'FIFO', 'FIFO_HOLD'];

/**
 * A FIFO hook may not wait for other hooks: its deliveries would then wait in two orders at once
 * (its queue, and each event's runAfter hooks), and either could hold the other up for good.
 */
export function checkOrdering(ordering: HookOrdering, runAfter: readonly string[], problems: ProblemList): void {
  if (!HOOK_ORDERINGS.includes(ordering)) {
    problems.add(['input', 'ordering'], `must be one of ${HOOK_ORDERINGS.join(', ')}`);
  } else if (ordering !== 'UNORDERED' && runAfter.length > 0) {
    problems.add(['input', 'ordering'], 'a FIFO hook cannot also runAfter other hooks: remove runAfter, or keep the hook UNORDERED');
  }
}

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/** An empty template or transform means "none": the dispatcher treats '' like null, so store one spelling. */
export const blankToNull = (value: string | null | undefined) => (value === undefined ? undefined : value === null || value.trim() === '' ? null : value);

/**
 * Checks every field present in `input` (all of them when creating) that needs no database.
 * `settingsSchema`/`settings` are the values the hook will have after the save, so a change to either
 * is checked against the other.
 */
export function checkFields(
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
    if (!CHANNEL_NAME.test(channel)) {
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
  if (path) {
    const messages = path.length > HOOK_MAX_PATH_LENGTH ? [`must be at most ${HOOK_MAX_PATH_LENGTH} characters`] : pathTemplateProblems(path);
    for (const message of messages) problems.add(['input', 'path'], message);
  }
  const transform = blankToNull(input.transform);
  if (transform) {
    const message = transformProblem(transform);
    if (message) problems.add(['input', 'transform'], message);
  }
  if (input.template !== undefined && input.template !== null) checkTemplate(asTemplate(input.template), problems);
  const capture = blankToNull(input.capture);
  if (capture) {
    const message = transformProblem(capture);
    if (message) problems.add(['input', 'capture'], message);
  }
  checkSettings(services, input, effective, problems);
  if (input.testPayload !== undefined && input.testPayload !== null) {
    if (byteLength(toJson(input.testPayload)) > HOOK_MAX_TEST_PAYLOAD_BYTES) {
      problems.add(['input', 'testPayload'], `must be at most ${HOOK_MAX_TEST_PAYLOAD_BYTES} bytes of JSON`);
    }
  }
  checkDeliveryOptions(services, input, problems);
  checkSecretsAndHeaders(input, problems);
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

/** Metadata, and the timeout and retry policy that override the endpoint's: the endpoint's bounds apply. */
function checkDeliveryOptions(services: Services, input: HookInput, problems: ProblemList): void {
  if (input.metadata !== undefined && input.metadata !== null && byteLength(toJson(input.metadata)) > MAX_METADATA_BYTES) {
    problems.add(['input', 'metadata'], `must be at most ${MAX_METADATA_BYTES} bytes as JSON`);
  }
  const timeout = input.timeoutMs;
  const max = services.config.requestTimeoutMs * 2;
  if (timeout !== undefined && timeout !== null && (!Number.isInteger(timeout) || timeout < MIN_TIMEOUT_MS || timeout > max)) {
    problems.add(['input', 'timeoutMs'], `must be an integer between ${MIN_TIMEOUT_MS} and ${max} (twice the server's request timeout)`);
  }
  if (input.retryPolicy !== undefined && input.retryPolicy !== null) {
    problems.addAll(['input', 'retryPolicy'], validateRetryPolicy(input.retryPolicy));
  }
}

/** The columns of the delivery options given in `input` (absent ones are left out). */
export function deliveryOptionColumns(input: HookInput): Partial<{ metadata: string; timeout_ms: number | null; retry_policy: string | null }> {
  const columns: Partial<{ metadata: string; timeout_ms: number | null; retry_policy: string | null }> = {};
  if (input.metadata !== undefined) columns.metadata = toJson(input.metadata ?? {});
  if (input.timeoutMs !== undefined) columns.timeout_ms = input.timeoutMs;
  if (input.retryPolicy !== undefined) columns.retry_policy = input.retryPolicy === null ? null : storedRetryPolicy(input.retryPolicy);
  return columns;
}

function checkTemplate(template: BodyTemplate, problems: ProblemList): void {
  const at = ['input', 'template'];
  if (!BODY_TEMPLATE_KINDS.includes(template.kind)) {
    problems.add([...at, 'kind'], `must be one of ${BODY_TEMPLATE_KINDS.join(', ')}`);
    return;
  }
  if (byteLength(toJson(template.body ?? null)) > HOOK_MAX_TEMPLATE_BYTES) {
    problems.add([...at, 'body'], `must be at most ${HOOK_MAX_TEMPLATE_BYTES} bytes of JSON`);
    return;
  }
  if (template.body === undefined || template.body === null) {
    problems.add([...at, 'body'], 'is required (a JSON value, or a string for TEXT and FORM)');
    return;
  }
  problems.addAll([...at, 'body'], bodyTemplateProblems(template));
}

/** Whether the transform or template `input` gives (if any) parses: only then is running it worth anything. */
export function bodyShaperParses(input: Pick<HookInput, 'transform' | 'template'>): boolean {
  const problems = new ProblemList();
  const transform = blankToNull(input.transform);
  if (transform && transformProblem(transform) !== null) return false;
  if (input.template) checkTemplate(asTemplate(input.template), problems);
  return problems.empty;
}

/** The input's template as stored (null for none); undefined when the input leaves it unchanged. */
export function asTemplate(input: { kind: BodyTemplateKind; body?: unknown }): BodyTemplate;
export function asTemplate(input: { kind: BodyTemplateKind; body?: unknown } | null | undefined): BodyTemplate | null | undefined;
export function asTemplate(input: { kind: BodyTemplateKind; body?: unknown } | null | undefined): BodyTemplate | null | undefined {
  return input ? { kind: input.kind, body: input.body } : input;
}

/** A transform and a template each make the whole body: a hook has at most one. */
export function checkOneBodyShaper(effective: { transform: string | null; template: BodyTemplate | null }, problems: ProblemList): void {
  if (effective.transform !== null && effective.template !== null) {
    problems.add(['input', 'template'], 'a hook has a transform or a template, not both (set the other to null)');
  }
}

/** What is wrong with a JSONata expression (a transform, a capture) at save: its size, or its syntax. */
function transformProblem(source: string): string | null {
  if (byteLength(source) > HOOK_MAX_TRANSFORM_BYTES) return `must be at most ${HOOK_MAX_TRANSFORM_BYTES} bytes`;
  const failure = transformSyntaxFailure(source);
  return failure === null ? null : describeJsonataFailure('is not a valid JSONata expression', failure);
}

export function checkEventTypes(patterns: readonly string[], existing: readonly string[], problems: ProblemList): void {
  const names = new Set(existing);
  patterns.forEach((pattern, index) => {
    const at = ['input', 'eventTypes', String(index)];
    if (pattern === '*') return;
    if (pattern.length > MAX_EVENT_TYPE_PATTERN_LENGTH) {
      problems.add(at, `must be at most ${MAX_EVENT_TYPE_PATTERN_LENGTH} characters`);
    } else if (pattern.endsWith('.*')) {
      const group = pattern.slice(0, -2);
      const prefix = pattern.slice(0, -1);
      if (!EVENT_TYPE_PATTERN_GROUP.test(group)) {
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


/**
 * A capture event's type, as the hook will be after the save: a type of the catalog (not archived,
 * not Switchyard's own) that the hook does not receive itself, sent only when there is a capture.
 */
export function checkCaptureEvent(
  effective: { capture: string | null; captureEventType: string | null; eventTypes: readonly string[] },
  existingTypes: readonly string[],
  problems: ProblemList,
): void {
  const type = effective.captureEventType;
  if (type === null) return;
  const at = ['input', 'captureEvent', 'type'];
  if (effective.capture === null) problems.add(['input', 'captureEvent'], 'needs a capture: its result is the payload of the event sent');
  if (isReservedEventType(type)) problems.add(at, `${type} is one of Switchyard's own event types`);
  else if (!existingTypes.includes(type)) problems.add(at, `event type ${type} does not exist (or is archived)`);
  else if (eventTypeMatcher(effective.eventTypes)(type)) {
    problems.add(at, `the hook receives ${type} itself, so each event it sends would make it send another`);
  }
}
