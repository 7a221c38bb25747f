// JSON Schema through ajv: schemas are checked when saved and compiled once, then cached by
// (owner id, version) so validating an event costs one function call.
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FieldProblem } from './errors.js';

// ajv-formats ships CommonJS with a default export; under NodeNext it arrives wrapped.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

const MAX_CACHED = 5_000;

export interface JsonSchemaCache {
  /** Problems that make `schema` unusable (not a schema, unresolvable $ref, …); empty when fine. */
  check(schema: unknown): FieldProblem[];
  /**
   * Validates `value` against the schema cached under `key`, compiled on first use; `schema` may be
   * a function giving it, so the hot path does not parse a stored schema it already has compiled.
   */
  validate(key: string, schema: unknown, value: unknown): FieldProblem[];
}

function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function toProblems(errors: ErrorObject[] | null | undefined): FieldProblem[] {
  return (errors ?? []).map((error) => {
    const path = pointerToPath(error.instancePath);
    // ajv reports a missing property at its parent; name the property itself so the path points at it.
    if (error.keyword === 'required' && typeof error.params.missingProperty === 'string') {
      path.push(error.params.missingProperty);
    }
    if (error.keyword === 'additionalProperties' && typeof error.params.additionalProperty === 'string') {
      path.push(error.params.additionalProperty);
    }
    return { path, message: error.message ?? error.keyword };
  });
}

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
  addFormats(ajv);
  return ajv;
}

export function createJsonSchemaCache(): JsonSchemaCache {
  const ajv = newAjv();
  const compiled = new Map<string, ValidateFunction>();
  return {
    check(schema) {
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
        if (typeof schema === 'boolean') return [];
        return [{ path: [], message: 'a JSON Schema must be an object or a boolean' }];
      }
      // A throwaway instance: checking must not register the schema's $id in the shared one.
      const checker = newAjv();
      const valid = checker.validateSchema(schema as object);
      if (!valid) {
        return toProblems(checker.errors).map((p) => ({ ...p, message: `not a valid JSON Schema: ${p.message}` }));
      }
      try {
        checker.compile(schema as object);
      } catch (error) {
        return [{ path: [], message: `not a usable JSON Schema: ${(error as Error).message}` }];
      }
      return [];
    },
    validate(key, schema, value) {
      let validator = compiled.get(key);
      if (!validator) {
        if (typeof schema === 'function') schema = (schema as () => unknown)();
        // A new version of a schema may keep its $id; ajv refuses a second schema with the same id.
        const id = (schema as { $id?: unknown }).$id;
        if (typeof id === 'string') ajv.removeSchema(id);
        validator = ajv.compile(schema as object);
        if (compiled.size >= MAX_CACHED) {
          const oldest = compiled.keys().next().value;
          if (oldest !== undefined) {
            ajv.removeSchema(compiled.get(oldest)?.schema as object);
            compiled.delete(oldest);
          }
        }
        compiled.set(key, validator);
      }
      return validator(value) ? [] : toProblems(validator.errors);
    },
  };
}
