import type { EventTypeRow } from '../../db/schema.js';
import { fromFlag, parseJson, parseJsonOrNull } from '../../db/json.js';
import { builder } from '../../graphql/builder.js';
import { connectionOf, pageArgs } from '../../graphql/connection.js';
import { defineMutation } from '../../graphql/mutation.js';
import { findEventTypeById, findEventTypeByName } from './event-type.repository.js';
import { archiveEventType, createEventType, pageEventTypes, updateEventType } from './event-type.service.js';

export const EventTypeRef = builder.objectRef<EventTypeRow>('EventType');

builder.node(EventTypeRef, {
  description: 'A kind of event the producer sends, e.g. `invoice.paid`, with an optional JSON Schema for its payload.',
  id: { resolve: (type) => type.id },
  loadOne: async (id, context) => (await findEventTypeById(context.services.db, id)) ?? null,
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Unique name, `group.event`.' }),
    description: t.exposeString('description', { description: 'What it means, for the people writing receivers.' }),
    schema: t.field({
      type: 'JSON',
      nullable: true,
      description: 'JSON Schema every payload must match; null = any JSON.',
      resolve: (r) => parseJsonOrNull(r.schema),
    }),
    examples: t.field({ type: ['JSON'], description: 'Example payloads.', resolve: (r) => parseJson<unknown[]>(r.examples) }),
    archived: t.boolean({ description: 'Archived types are hidden and refuse new events.', resolve: (r) => fromFlag(r.archived) }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (r) => r.created_at }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (r) => r.updated_at }),
  }),
});

const EventTypeConnection = connectionOf(EventTypeRef, 'EventType');

builder.queryFields((t) => ({
  eventTypes: t.field({
    type: EventTypeConnection,
    description: 'Event types by name.',
    args: {
      ...pageArgs(t.arg),
      includeArchived: t.arg.boolean({ defaultValue: false, description: 'Also list archived types.' }),
    },
    resolve: async (_root, args, context) => ({
      page: await pageEventTypes(context.services, args.includeArchived ?? false, args),
    }),
  }),
  eventType: t.field({
    type: EventTypeRef,
    nullable: true,
    description: 'An event type by name (archived ones too).',
    args: { name: t.arg.string({ required: true, description: 'e.g. `invoice.paid`' }) },
    resolve: async (_root, args, context) => (await findEventTypeByName(context.services.db, args.name)) ?? null,
  }),
}));

const EventTypePayload = builder.objectRef<{ eventType: EventTypeRow }>('EventTypePayload').implement({
  description: 'The event type after the change.',
  fields: (t) => ({ eventType: t.field({ type: EventTypeRef, description: 'The event type.', resolve: (p) => p.eventType }) }),
});

defineMutation('createEventType', {
  description: 'Declares an event type (admin only). Creating an archived type again unarchives it.',
  authScopes: { admin: true },
  input: (t) => ({
    name: t.string({ required: true, description: '`group.event`: letters, digits, `_`, `-` in dot-separated segments.' }),
    description: t.string({ description: 'What it means.' }),
    schema: t.field({ type: 'JSON', description: 'JSON Schema for payloads (checked to be a valid schema).' }),
    examples: t.field({ type: ['JSON'], description: 'Example payloads; each must match the schema.' }),
  }),
  payload: EventTypePayload,
  resolve: async (input, context) => ({ eventType: await createEventType(context.services, input) }),
});

defineMutation('updateEventType', {
  description: 'Changes an event type (admin only). Omitted fields stay; `schema: null` removes the schema.',
  authScopes: { admin: true },
  input: (t) => ({
    name: t.string({ required: true, description: 'The type to change.' }),
    description: t.string({ description: 'New description.' }),
    schema: t.field({ type: 'JSON', description: 'New JSON Schema; null removes it.' }),
    examples: t.field({ type: ['JSON'], description: 'New examples (replace the old).' }),
  }),
  payload: EventTypePayload,
  resolve: async (input, context) => ({ eventType: await updateEventType(context.services, input) }),
});

defineMutation('archiveEventType', {
  description: 'Archives an event type (admin only): hidden from lists, new events of it are refused.',
  authScopes: { admin: true },
  input: (t) => ({ name: t.string({ required: true, description: 'The type to archive.' }) }),
  payload: EventTypePayload,
  resolve: async ({ name }, context) => ({ eventType: await archiveEventType(context.services, name) }),
});
