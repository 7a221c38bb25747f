// Cursor connections (Relay style, forward only: `first`/`after`, default 20, max 100).
import type { ArgBuilder, ObjectRef } from '@pothos/core';
import type { Page } from '../db/pagination.js';
import { builder, type SchemaTypes } from './builder.js';

export interface ConnectionShape<T> {
  page: Page<T>;
}

const PageInfo = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo').implement({
  description: 'Where a page of a connection stands.',
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage', {
      description:
        'Whether another page follows. A list filtered on what no index holds (statuses, event types, channels, outcomes, kinds) reads a bounded stretch of history per page, so a page may hold fewer items than asked for, even none, and still have a next one: go on with `endCursor` until this is false.',
    }),
    endCursor: t.exposeString('endCursor', {
      nullable: true,
      description: 'Pass as `after` to get the next page; null on an empty page that ends the list.',
    }),
  }),
});

const connections = new Map<string, unknown>();

/** `<Name>Connection` and `<Name>Edge` for a node type, created once per node type. */
export function connectionOf<T>(node: ObjectRef<SchemaTypes, T>, name: string): ObjectRef<SchemaTypes, ConnectionShape<T>> {
  const existing = connections.get(name);
  if (existing) return existing as ObjectRef<SchemaTypes, ConnectionShape<T>>;
  const edge = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    description: `One ${name} in a page, with its cursor.`,
    fields: (t) => ({
      cursor: t.exposeString('cursor', { description: 'Opaque position of this item.' }),
      // T is opaque to Pothos inside a generic helper; the ref guarantees the shape.
      node: t.field({ type: node, description: `The ${name}.`, resolve: (e) => e.node as never }),
    }),
  });
  const connection = builder.objectRef<ConnectionShape<T>>(`${name}Connection`).implement({
    description: `A page of ${name} objects.`,
    fields: (t) => ({
      edges: t.field({
        type: [edge],
        description: 'The items with their cursors.',
        resolve: ({ page }) => page.nodes.map((n) => ({ cursor: page.cursorOf(n), node: n })),
      }),
      nodes: t.field({ type: [node], description: 'The items.', resolve: ({ page }) => page.nodes }),
      pageInfo: t.field({
        type: PageInfo,
        description: 'Whether more pages follow, and the cursor to get the next one.',
        resolve: ({ page }) => {
          const last = page.nodes[page.nodes.length - 1];
          return { hasNextPage: page.hasNextPage, endCursor: page.resumeAfter ?? (last === undefined ? null : page.cursorOf(last)) };
        },
      }),
    }),
  });
  connections.set(name, connection);
  return connection;
}

/** The `first`/`after` arguments every list field takes: `args: { ...pageArgs(t.arg), … }`. */
export function pageArgs(arg: ArgBuilder<SchemaTypes>) {
  return {
    first: arg.int({ required: false, description: 'How many items (default 20, at most 100).' }),
    after: arg.string({ required: false, description: 'The `endCursor` of the previous page.' }),
  };
}

export const CreationOrderEnum = builder.enumType('CreationOrder', {
  description: 'Which end of a list by creation comes first.',
  values: {
    NEWEST_FIRST: { description: 'Most recently created first (the default).' },
    OLDEST_FIRST: { description: 'Oldest first.' },
  } as const,
});

/** `order` for the lists that may be read either way: `args: { ...pageArgs(t.arg), ...orderArg(t.arg) }`. */
export function orderArg(arg: ArgBuilder<SchemaTypes>) {
  return {
    order: arg({
      type: CreationOrderEnum,
      required: false,
      description: 'NEWEST_FIRST (default) or OLDEST_FIRST; keep it the same while paging with `after`.',
    }),
  };
}
