// What a query can return, counted before it runs. graphql-armor's cost limit counts each field once,
// whatever the list it sits in, so thirty aliases of three nested default-sized pages pass it and
// then build millions of objects. Here a list field multiplies the cost of everything below it by
// the number of items it may return: its `first` argument (literal or variable), the connection's
// default page size when `first` is absent (counted once, at the connection field), the length of `ids` for `nodes`, and a fixed estimate
// for other lists of objects. No library does this with variables known and Relay defaults, so it
// is written here; it walks the document once, each fragment once per parent type.
import {
  Kind,
  getNamedType,
  getNullableType,
  isListType,
  isCompositeType,
  isUnionType,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** Items assumed for a list of objects without `first` (signing secrets, runAfter hooks): both are small in practice. */
export const UNBOUNDED_LIST_SIZE = 10;

export interface CostOptions {
  /** the page size a connection field returns when `first` is absent */
  defaultPageSize: number;
  /** the most a connection field returns, whatever `first` asks */
  maxPageSize: number;
  /** items assumed for a list of objects that takes no `first` (secrets, runAfter, results) */
  unboundedListSize: number;
}

/** The operation the request runs: by name, or the only one. Null when there is none to pick. */
export function selectedOperation(document: DocumentNode, operationName?: string | null): OperationDefinitionNode | null {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return operations.find((o) => o.name?.value === operationName) ?? null;
  return operations.length === 1 ? (operations[0] ?? null) : null;
}

/**
 * The number of objects (and leaves) the operation may produce at most. Scalars count 1, an object
 * counts 1 plus its selection, a list multiplies its items' cost. Unknown fields count as leaves:
 * validation refuses them anyway, and this runs after validation.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null | undefined,
  options: CostOptions,
): number {
  return measureOperation(schema, document, operation, variables, options).cost;
}

/** operationCost, and whether it read a variable: a cost that read none is the operation's whatever the variables. */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null | undefined,
  options: CostOptions,
): { cost: number; readsVariables: boolean } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const rootType =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!rootType) return { cost: 0, readsVariables: false };
  let readsVariables = false;

  // Cost of a fragment by (name, parent type): a fragment spread many times is counted once per
  // parent type and reused, so a fragment "bomb" costs a walk of its text, not of its expansion.
  const fragmentCosts = new Map<string, number>();
  const visiting = new Set<string>();

  const argumentValue = (field: FieldNode, name: string): unknown => {
    const argument = field.arguments?.find((a) => a.name.value === name);
    if (!argument) return undefined;
    // only a whole argument given as a variable can change a count (a list's length is in the text)
    if (argument.value.kind === Kind.VARIABLE) readsVariables = true;
    return valueFromASTUntyped(argument.value, variables ?? undefined);
  };

  const multiplier = (field: FieldNode, definition: GraphQLField<unknown, unknown>, parent: GraphQLCompositeType): number => {
    // A connection's `nodes` and `edges` hold the page its field already counted.
    if (parent.name.endsWith('Connection')) return 1;
    if (definition.args.some((a) => a.name === 'first')) {
      const first = argumentValue(field, 'first');
      const asked = typeof first === 'number' && Number.isFinite(first) ? Math.max(0, Math.floor(first)) : options.defaultPageSize;
      return Math.min(asked, options.maxPageSize);
    }
    if (!isListType(getNullableType(definition.type))) return 1;
    if (definition.args.some((a) => a.name === 'ids')) {
      const ids = argumentValue(field, 'ids');
      return Array.isArray(ids) ? ids.length : 1;
    }
    return isCompositeType(getNamedType(definition.type)) ? options.unboundedListSize : 1;
  };

  const selectionCost = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        total += fieldCost(selection, parent);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typeName = selection.typeCondition?.name.value;
        const type = typeName ? schema.getType(typeName) : parent;
        total += isCompositeType(type) ? selectionCost(selection.selectionSet, type) : 0;
      } else {
        total += fragmentCost(selection.name.value);
      }
    }
    return total;
  };

  const fragmentCost = (name: string): number => {
    const fragment = fragments.get(name);
    if (!fragment) return 0;
    const type = schema.getType(fragment.typeCondition.name.value);
    if (!isCompositeType(type)) return 0;
    const key = `${name}@${type.name}`;
    const known = fragmentCosts.get(key);
    if (known !== undefined) return known;
    // A cycle is a validation error; count it as nothing rather than recursing forever.
    if (visiting.has(key)) return 0;
    visiting.add(key);
    const cost = selectionCost(fragment.selectionSet, type);
    visiting.delete(key);
    fragmentCosts.set(key, cost);
    return cost;
  };

  const fieldCost = (field: FieldNode, parent: GraphQLCompositeType): number => {
    if (field.name.value.startsWith('__')) return 1;
    const resolved = isUnionType(parent) ? undefined : parent.getFields()[field.name.value];
    if (!resolved) return 1;
    const named = getNamedType(resolved.type);
    if (!field.selectionSet || !isCompositeType(named)) return 1;
    return 1 + multiplier(field, resolved, parent) * selectionCost(field.selectionSet, named);
  };

  const cost = selectionCost(operation.selectionSet, rootType);
  return { cost, readsVariables };
}
