// The operations in sdk/operations/ against the committed schema: every public root field has an
// operation, so a field added to the server without one fails here rather than going unnoticed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildSchema, type OperationDefinitionNode, parse, validate } from 'graphql';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const schema = buildSchema(readFileSync(root('schema/schema.graphql'), 'utf8'));
const files = readdirSync(root('sdk/operations')).filter((name) => name.endsWith('.graphql'));
const document = parse(files.map((name) => readFileSync(root(`sdk/operations/${name}`), 'utf8')).join('\n'));
const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === 'OperationDefinition');

/** The root field an operation selects. */
function rootField(operation: OperationDefinitionNode): string {
  const [selection] = operation.selectionSet.selections;
  assert.ok(selection?.kind === 'Field', `${operation.name?.value} must select one root field`);
  return selection.name.value;
}

describe('sdk/operations', () => {
  it('are valid against schema/schema.graphql', () => {
    assert.deepEqual(validate(schema, document).map((error) => error.message), []);
  });

  it('cover every query, mutation and subscription field', () => {
    const covered = new Set(operations.map((operation) => `${operation.operation}.${rootField(operation)}`));
    const missing: string[] = [];
    for (const [kind, type] of [
      ['query', schema.getQueryType()],
      ['mutation', schema.getMutationType()],
      ['subscription', schema.getSubscriptionType()],
    ] as const) {
      for (const field of Object.keys(type?.getFields() ?? {})) {
        if (!covered.has(`${kind}.${field}`)) missing.push(`${kind} ${field}`);
      }
    }
    assert.deepEqual(missing, [], 'add an operation for each to sdk/operations/, then `npm run codegen`');
  });

  it('have unique camelCase names, which become the client’s method names', () => {
    const names = operations.map((operation) => operation.name?.value ?? '');
    assert.ok(names.every((name) => /^[a-z][A-Za-z]*$/.test(name)), names.join(', '));
    assert.equal(new Set(names).size, names.length);
  });

  it('select __typename and every error’s fields in each mutation, so callers can narrow', () => {
    for (const operation of operations.filter((candidate) => candidate.operation === 'mutation')) {
      const [field] = operation.selectionSet.selections;
      assert.ok(field?.kind === 'Field' && field.selectionSet);
      const selections = field.selectionSet.selections;
      const name = operation.name?.value;
      assert.ok(selections.some((s) => s.kind === 'Field' && s.name.value === '__typename'), `${name}: __typename`);
      assert.ok(selections.some((s) => s.kind === 'FragmentSpread' && s.name.value === 'ErrorFields'), `${name}: ...ErrorFields`);
    }
  });
});
