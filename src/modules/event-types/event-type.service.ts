import type { EventTypeRow } from '../../db/schema.js';
import { newId } from '../../db/ids.js';
import { parseJsonOrNull, toJson, toJsonOrNull } from '../../db/json.js';
import type { PageArgs } from '../../db/pagination.js';
import { ConflictError, NotFoundError, ProblemList, ValidationError } from '../../errors.js';
import { isReservedEventType } from '../operations/operational-kinds.js';
import { invalidateCatalog } from '../events/catalog-cache.js';
import type { Services } from '../../services.js';
import { findEventTypeByName, insertEventType, listEventTypes, updateEventTypeRow } from './event-type.repository.js';

/** `group.event`: segments of letters, digits, `_` and `-`, joined by dots (at least two). */
export const EVENT_TYPE_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;
const MAX_NAME_LENGTH = 256;
const MAX_EXAMPLES = 20;

export interface EventTypeInput {
  name: string;
  description?: string | null;
  /** undefined = keep; null = remove */
  schema?: unknown;
  examples?: unknown[] | null;
}

export function nameProblem(name: string): string | null {
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (!EVENT_TYPE_NAME.test(name)) {
    return 'must look like `group.event`: letters, digits, "_" or "-" in dot-separated segments';
  }
  if (isReservedEventType(name)) return RESERVED_MESSAGE;
  return null;
}

const RESERVED_MESSAGE = '`switchyard.*` event types are reserved for Switchyard\'s operational events';

function refuseReserved(name: string): void {
  if (isReservedEventType(name)) throw ValidationError.field(['input', 'name'], RESERVED_MESSAGE);
}

/** The cache key of a type's compiled schema: changes whenever the schema can have changed. */
export function schemaKey(type: EventTypeRow): string {
  return `${type.id}@${type.updated_at}`;
}

function checkInput(services: Services, input: EventTypeInput, schema: unknown): void {
  const problems = new ProblemList();
  const nameIssue = nameProblem(input.name);
  if (nameIssue) problems.add(['input', 'name'], nameIssue);
  if ((input.description ?? '').length > 2000) problems.add(['input', 'description'], 'must be at most 2000 characters');
  let schemaUsable = schema !== null && schema !== undefined;
  if (schemaUsable) {
    const schemaProblems = services.jsonSchemas.check(schema);
    problems.addAll(['input', 'schema'], schemaProblems);
    schemaUsable = schemaProblems.length === 0;
  }
  const examples = input.examples ?? [];
  if (examples.length > MAX_EXAMPLES) problems.add(['input', 'examples'], `at most ${MAX_EXAMPLES} examples`);
  if (schemaUsable) {
    const checker = services.jsonSchemas;
    examples.forEach((example, index) => {
      // A throwaway key: the schema is not saved yet, and examples must agree with it.
      problems.addAll(['input', 'examples', String(index)], checker.validate(`check:${toJson(schema)}`, schema, example));
    });
  }
  problems.throwIfAny();
}

/** Creates a type; creating an archived type again unarchives it with the new definition. */
export async function createEventType(services: Services, input: EventTypeInput): Promise<EventTypeRow> {
  checkInput(services, input, input.schema);
  const created = await services.db.transaction().execute(async (trx) => {
    const existing = await findEventTypeByName(trx, input.name);
    const now = services.clock.now();
    if (existing && !existing.archived) throw new ConflictError(`event type ${input.name} already exists`);
    if (existing) {
      const changes: Partial<EventTypeRow> = {
        archived: 0,
        description: input.description ?? existing.description,
        schema: input.schema === undefined ? existing.schema : toJsonOrNull(input.schema),
        examples: input.examples ? toJson(input.examples) : existing.examples,
        updated_at: Math.max(now, existing.updated_at + 1),
      };
      await updateEventTypeRow(trx, existing.id, changes);
      return { ...existing, ...changes };
    }
    const row: EventTypeRow = {
      id: newId('eventType', now),
      name: input.name,
      description: input.description ?? '',
      schema: toJsonOrNull(input.schema),
      examples: toJson(input.examples ?? []),
      archived: 0,
      created_at: now,
      updated_at: now,
    };
    await insertEventType(trx, row);
    return row;
  });
  invalidateCatalog(services);
  return created;
}

export async function updateEventType(services: Services, input: EventTypeInput): Promise<EventTypeRow> {
  refuseReserved(input.name);
  const existing = await findEventTypeByName(services.db, input.name);
  if (!existing) throw new NotFoundError('EventType', input.name);
  const schema = input.schema === undefined ? parseJsonOrNull(existing.schema) : input.schema;
  checkInput(services, { ...input, examples: input.examples ?? parseJsonOrNull<unknown[]>(existing.examples) }, schema);
  const changes: Partial<EventTypeRow> = {
    // strictly increasing, so the compiled-schema cache key changes even within one millisecond
    updated_at: Math.max(services.clock.now(), existing.updated_at + 1),
  };
  if (input.description !== undefined && input.description !== null) changes.description = input.description;
  if (input.schema !== undefined) changes.schema = toJsonOrNull(input.schema);
  if (input.examples !== undefined && input.examples !== null) changes.examples = toJson(input.examples);
  await updateEventTypeRow(services.db, existing.id, changes);
  invalidateCatalog(services);
  return { ...existing, ...changes };
}

export async function archiveEventType(services: Services, name: string): Promise<EventTypeRow> {
  refuseReserved(name);
  const existing = await findEventTypeByName(services.db, name);
  if (!existing) throw new NotFoundError('EventType', name);
  if (existing.archived) return existing;
  const changes = { archived: 1, updated_at: Math.max(services.clock.now(), existing.updated_at + 1) };
  await updateEventTypeRow(services.db, existing.id, changes);
  invalidateCatalog(services);
  return { ...existing, ...changes };
}

export function pageEventTypes(services: Services, includeArchived: boolean, args: PageArgs) {
  return listEventTypes(services.db, includeArchived, args);
}
