// Hooks: the rules that route a tenant's events to one endpoint and shape the request. The
// operations live here (transactions, tenancy); the input rules in hook.validation.ts, the runAfter
// graph check in hook.run-after.ts, routing in hook.matching.ts.
import { canSee, targetTenant, tenantFilter, type Actor } from '../../auth/actor.js';
import { newId } from '../../db/ids.js';
import { parseJson, parseJsonOrNull, toFlag, toJson, toJsonOrNull } from '../../db/json.js';
import type { PageArgs } from '../../db/pagination.js';
import type { HookRow } from '../../db/schema.js';
import { NotFoundError, ProblemList } from '../../errors.js';
import type { Services } from '../../services.js';
import { findEndpointById } from '../endpoints/endpoint.repository.js';
import { listEventTypeNames } from '../event-types/event-type.repository.js';
import { afterOrderingChanged } from '../deliveries/delivery.fifo.js';
import { cancelWaitingDeliveriesOfHook, detachDeliveriesOfHook } from '../deliveries/delivery.purge.js';
import { newChangeLog } from '../deliveries/delivery.effects.js';
import { publishRaised } from '../operations/operational-event.service.js';
import { findTenantById } from '../tenants/tenant.repository.js';
import { deleteHookRow, findDependencies, findHookById, insertHook, listHooks, lockTenantHookGraph, replaceDependencies, updateHookRow } from './hook.repository.js';
import type { BodyTemplate } from '../../webhook/body-template.js';
import { dryRunBodyShaper } from './hook.dry-run.js';
import { hookSecrets, secretsAndHeadersColumns } from './hook.secrets.js';
import { checkRunAfter } from './hook.run-after.js';
import {
  asTemplate,
  blankToNull,
  bodyShaperParses,
  checkCaptureEvent,
  checkEventTypes,
  checkFields,
  checkOneBodyShaper,
  checkOrdering,
  deliveryOptionColumns,
  unique,
  type HookInput,
} from './hook.validation.js';

// What the schema passes in: the service's signature is where it looks for them.
export type { HookInput } from './hook.validation.js';
export type { HttpMethod, PayloadFormat } from '../../webhook/request.js';

/** The reason recorded on deliveries cancelled because their hook was deleted. */
export const HOOK_DELETED_REASON = 'hook deleted';

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
  const transform = blankToNull(input.transform) ?? null;
  const template = asTemplate(input.template) ?? null;
  checkOneBodyShaper({ transform, template }, problems);
  if (problems.empty) {
    // Before the transaction: a transform may run for its whole time budget, and holds no lock meanwhile.
    const endpoint = input.endpointId ? await findEndpointById(services.db, input.endpointId) : undefined;
    const tenant = await findTenantById(services.db, tenantId ?? endpoint?.tenant_id ?? '');
    await dryRunBodyShaper(
      services,
      {
        id: null,
        name: (input.name ?? '').trim(),
        tenant: { id: tenant?.id ?? '', name: tenant?.name ?? '' },
        eventTypes,
        channels: unique(input.channels ?? []),
        transform,
        template,
        settings,
        secrets: input.secrets ?? {},
        testPayload: input.testPayload ?? null,
      },
      problems,
    );
  }
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
    const typeNames = await listEventTypeNames(trx, false);
    checkEventTypes(eventTypes, typeNames, problems);
    checkCaptureEvent({ capture: blankToNull(input.capture) ?? null, captureEventType: input.captureEvent?.type ?? null, eventTypes }, typeNames, problems);
    await checkRunAfter(trx, tenantId, null, runAfter, problems);
    checkOrdering(input.ordering ?? 'UNORDERED', runAfter, problems);
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
      transform,
      template: toJsonOrNull(template),
      settings: toJson(settings),
      settings_schema: toJsonOrNull(settingsSchema),
      test_payload: toJsonOrNull(input.testPayload),
      metadata: '{}',
      timeout_ms: null,
      retry_policy: null,
      secrets: null,
      headers: '{}',
      ordering: input.ordering ?? 'UNORDERED',
      fifo_held_by: null,
      capture: blankToNull(input.capture) ?? null,
      capture_event_type: input.captureEvent?.type ?? null,
      ...deliveryOptionColumns(input),
      ...secretsAndHeadersColumns(services, input),
      created_at: now,
      updated_at: now,
    };
    await insertHook(trx, row);
    await replaceDependencies(trx, row.id, runAfter);
    return row;
  });
}

/** A changed hook's updated_at: strictly increasing, so the compiled-matcher cache key changes even within one millisecond. */
const nextVersion = (hook: Pick<HookRow, 'updated_at'>, now: number): number => Math.max(now, hook.updated_at + 1);

/** Omitted fields stay; null clears the nullable ones (and empties channels, runAfter, settings, description). */
export async function updateHook(services: Services, actor: Actor, id: string, input: HookInput): Promise<HookRow> {
  const problems = new ProblemList();
  const before = await findHookById(services.db, id);
  if (!before || !canSee(actor, before.tenant_id)) throw new NotFoundError('Hook', id);
  // Before the transaction, as on create; what it read is checked against the row inside it.
  await dryRunUpdate(services, before, input, problems);
  // the deliveries a change of ordering releases, published after the commit
  const log = newChangeLog();
  const updated = await services.db.transaction().execute(async (trx) => {
    const existing = await findHookById(trx, id);
    if (!existing || !canSee(actor, existing.tenant_id)) throw new NotFoundError('Hook', id);
    const settings = input.settings === undefined ? parseJson<Record<string, unknown>>(existing.settings) : (input.settings ?? {});
    const settingsSchema = input.settingsSchema === undefined ? parseJsonOrNull(existing.settings_schema) : input.settingsSchema;
    checkFields(services, input, false, { settings, settingsSchema }, problems);
    checkOneBodyShaper(effectiveBodyShaper(existing, input), problems);
    const eventTypes = input.eventTypes ? unique(input.eventTypes) : null;
    const runAfter = input.runAfter === undefined ? null : unique(input.runAfter ?? []);

    if (input.endpointId) {
      const endpoint = await findEndpointById(trx, input.endpointId);
      if (!endpoint || endpoint.tenant_id !== existing.tenant_id) {
        problems.add(['input', 'endpointId'], `Endpoint ${input.endpointId} does not exist`);
      }
    }
    if (eventTypes) checkEventTypes(eventTypes, await listEventTypeNames(trx, false), problems);
    if (input.capture !== undefined || input.captureEvent !== undefined || eventTypes !== null) {
      checkCaptureEvent(
        {
          capture: input.capture === undefined ? existing.capture : (blankToNull(input.capture) ?? null),
          captureEventType: input.captureEvent === undefined ? existing.capture_event_type : (input.captureEvent?.type ?? null),
          eventTypes: eventTypes ?? parseJson<string[]>(existing.event_types),
        },
        await listEventTypeNames(trx, false),
        problems,
      );
    }
    if (runAfter) {
      await lockTenantHookGraph(trx, existing.tenant_id);
      await checkRunAfter(trx, existing.tenant_id, existing, runAfter, problems);
    }
    if ((input.ordering !== undefined && input.ordering !== null) || runAfter) {
      const effectiveRunAfter = runAfter ?? (await findDependencies(trx, [existing.id])).get(existing.id) ?? [];
      checkOrdering(input.ordering ?? existing.ordering, effectiveRunAfter, problems);
    }
    problems.throwIfAny();

    const changes: Partial<HookRow> = { updated_at: nextVersion(existing, services.clock.now()) };
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
    if (input.capture !== undefined) changes.capture = blankToNull(input.capture) ?? null;
    if (input.captureEvent !== undefined) changes.capture_event_type = input.captureEvent?.type ?? null;
    if (input.template !== undefined) changes.template = toJsonOrNull(asTemplate(input.template));
    if (input.settings !== undefined) changes.settings = toJson(settings);
    if (input.settingsSchema !== undefined) changes.settings_schema = toJsonOrNull(input.settingsSchema);
    if (input.testPayload !== undefined) changes.test_payload = toJsonOrNull(input.testPayload);
    Object.assign(changes, deliveryOptionColumns(input), secretsAndHeadersColumns(services, input));
    if (input.ordering !== undefined && input.ordering !== null) {
      changes.ordering = input.ordering;
      // leaving FIFO_HOLD lets a held queue go on with its next delivery
      if (input.ordering !== 'FIFO_HOLD') changes.fifo_held_by = null;
    }
    await updateHookRow(trx, id, changes);
    if (runAfter) await replaceDependencies(trx, id, runAfter);
    if (changes.ordering) await afterOrderingChanged(trx, existing, changes.ordering, services.clock.now(), log);
    return { ...existing, ...changes };
  });
  publishRaised(services, log);
  return updated;
}

function effectiveBodyShaper(existing: HookRow, input: HookInput): { transform: string | null; template: BodyTemplate | null } {
  return {
    transform: input.transform === undefined ? existing.transform : (blankToNull(input.transform) ?? null),
    template: input.template === undefined ? parseJsonOrNull<BodyTemplate>(existing.template) : (asTemplate(input.template) ?? null),
  };
}

/** Runs the hook as it will be after the update when what shapes its body, or what that reads, changes. */
async function dryRunUpdate(services: Services, existing: HookRow, input: HookInput, problems: ProblemList): Promise<void> {
  // What the run reads; a rename alone does not re-judge a saved transform (as checkSettings does not re-judge saved settings).
  const touched = [input.transform, input.template, input.settings, input.secrets, input.testPayload, input.eventTypes].some((v) => v !== undefined);
  if (!touched) return;
  const { transform, template } = effectiveBodyShaper(existing, input);
  if (transform !== null && template !== null) return;
  // One that does not even parse is reported by checkFields; running it adds nothing.
  if (!bodyShaperParses(input)) return;
  const tenant = await findTenantById(services.db, existing.tenant_id);
  await dryRunBodyShaper(
    services,
    {
      id: existing.id,
      name: input.name?.trim() || existing.name,
      tenant: { id: existing.tenant_id, name: tenant?.name ?? '' },
      eventTypes: input.eventTypes ?? parseJson<string[]>(existing.event_types),
      channels: input.channels ?? parseJson<string[]>(existing.channels),
      transform,
      template,
      settings: input.settings === undefined ? parseJson<Record<string, unknown>>(existing.settings) : (input.settings ?? {}),
      secrets: input.secrets === undefined ? hookSecrets(services, existing) : (input.secrets ?? {}),
      testPayload: input.testPayload === undefined ? parseJsonOrNull(existing.test_payload) : input.testPayload,
    },
    problems,
  );
}

/**
 * Deletes a hook. First, in one transaction, it stops routing and its deliveries still waiting are
 * cancelled (while they are still attributed to it); then its deliveries let go of it a batch at a
 * time, and the row goes. Stopped half way, the hook is left inactive, and deleting it again goes on.
 */
export async function deleteHook(services: Services, actor: Actor, id: string): Promise<HookRow> {
  const hook = await services.db.transaction().execute(async (trx) => {
    const found = await findHookById(trx, id);
    if (!found || !canSee(actor, found.tenant_id)) throw new NotFoundError('Hook', id);
    const now = services.clock.now();
    await updateHookRow(trx, id, { active: 0, updated_at: nextVersion(found, now) });
    await cancelWaitingDeliveriesOfHook(trx, id, HOOK_DELETED_REASON, now);
    return found;
  });
  await detachDeliveriesOfHook(services.db, id);
  await deleteHookRow(services.db, id);
  return hook;
}

