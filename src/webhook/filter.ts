// Payload filters on hooks (Convoy / Outpost style): a JSON document of conditions on dot paths of
// the event `{ type, data, channels, … }`, checked when a hook is saved and compiled into a
// predicate that runs for every event × hook.
//
// Semantics, for the API docs:
// - `{"path": value}` means `{"path": {"$eq": value}}`; several keys in one document are ANDed, and so
//   are several operators on one field (`{"data.amount": {"$gt": 1, "$lt": 5}}`).
// - Paths are dot-separated keys; a non-negative integer segment indexes an array (`data.items.0.sku`).
//   A key segment that meets an array applies to every element, and the condition holds if ANY
//   element satisfies it; at the end of a path an array value is tested itself and element by element
//   (`{"data.tags": "vip"}` matches `["new", "vip"]`), as in MongoDB.
// - `$eq`/`$in` use deep equality for objects and arrays. `$eq: null` matches a present null only; use
//   `$exist: false` for a missing field.
// - `$neq`, `$nin` and a field-level `$not` are the exact complements of `$eq`, `$in` and the inner
//   operators, so they also match when the path is missing.
// - `$gt $gte $lt $lte` compare numbers with numbers and strings with strings (UTF-16 code unit
//   order, which suits ISO-8601 dates); any other pairing is false.
// - `$regex` is a regular expression without flags in the common JS/RE2 syntax (no backreferences
//   or lookaround), run in linear time, tested against string values only.
// - `$and`/`$or` take non-empty arrays of filter documents; `$not` takes a filter document at document
//   level (`{"$not": {"type": "a.b"}}`) and an operator object at field level
//   (`{"data.email": {"$not": {"$regex": "@example\\.com$"}}}`).
// - `{}` matches every event.

import type { RE2JS } from 're2js';
import { compileLinear, testLinear } from './linear-regex.js';

export type FilterDocument = Record<string, unknown>;

/** `path` locates the problem within the filter document, e.g. `['$or', '0', 'data.amount', '$gt']`. */
export interface FilterProblem {
  path: string[];
  message: string;
}

/** Logical nesting ($and / $or / $not) allowed, counting the top-level document as 1. */
export const FILTER_MAX_DEPTH = 10;
/** Field conditions allowed in one filter: bounds the work per event × hook. */
export const FILTER_MAX_CONDITIONS = 200;
export const FILTER_MAX_REGEX_LENGTH = 256;

/** Thrown by compileFilter on an invalid filter; carries the same problems validateFilter reports. */
export class InvalidFilterError extends Error {
  readonly problems: FilterProblem[];
  constructor(problems: FilterProblem[]) {
    super(`invalid filter: ${problems.map((p) => `${p.path.join(' › ') || '(root)'}: ${p.message}`).join('; ')}`);
    this.name = 'InvalidFilterError';
    this.problems = problems;
  }
}

/** Checks a filter at save time; an empty list means valid. */
export function validateFilter(filter: unknown): FilterProblem[] {
  const parser = new Parser();
  parser.document(filter, [], 1);
  return parser.problems;
}

/**
 * Compiles a valid filter into a predicate over an event document. All parsing (paths, regexes, `$in`
 * sets) happens here, once. Throws InvalidFilterError when `validateFilter` would report problems.
 */
export function compileFilter(filter: FilterDocument): (document: unknown) => boolean {
  const parser = new Parser();
  const predicate = parser.document(filter, [], 1);
  if (parser.problems.length > 0) throw new InvalidFilterError(parser.problems);
  return predicate;
}

type Predicate = (document: unknown) => boolean;
type ValueTest = (value: unknown) => boolean;
/** A path segment: the key, and the array index when the segment is a canonical non-negative integer. */
type Segment = { key: string; index: number | null };

const FIELD_OPERATORS = new Set(['$eq', '$neq', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exist', '$regex', '$not']);
const NEVER: Predicate = () => false;
const ALWAYS: ValueTest = () => true;

class Parser {
  readonly problems: FilterProblem[] = [];
  private conditions = 0;

  private problem(path: string[], message: string): Predicate {
    this.problems.push({ path, message });
    return NEVER;
  }

  document(value: unknown, path: string[], depth: number): Predicate {
    if (!isPlainObject(value)) return this.problem(path, 'must be a JSON object (a filter document)');
    if (depth > FILTER_MAX_DEPTH) return this.problem(path, `nests $and/$or/$not deeper than ${FILTER_MAX_DEPTH} levels`);
    const parts: Predicate[] = [];
    for (const [key, operand] of Object.entries(value)) {
      const at = [...path, key];
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(operand) || operand.length === 0) {
          parts.push(this.problem(at, 'must be a non-empty array of filter documents'));
          continue;
        }
        const children = operand.map((child, i) => this.document(child, [...at, String(i)], depth + 1));
        parts.push(key === '$and' ? every(children) : any(children));
      } else if (key === '$not') {
        parts.push(not(this.document(operand, at, depth + 1)));
      } else if (key.startsWith('$')) {
        const hint = FIELD_OPERATORS.has(key) ? ' at document level; put it under a field, e.g. {"data.amount": {"$gt": 1}}' : '';
        parts.push(this.problem(at, `unknown operator ${key}${hint}`));
      } else {
        parts.push(this.field(key, operand, at, depth));
      }
    }
    return every(parts);
  }

  private field(key: string, operand: unknown, path: string[], depth: number): Predicate {
    const segments = parsePath(key);
    if (!segments) return this.problem(path, 'is not a valid path: use dot-separated non-empty keys, e.g. data.items.0.sku');
    if (isPlainObject(operand)) {
      const keys = Object.keys(operand);
      const operators = keys.filter((k) => k.startsWith('$'));
      if (operators.length > 0 && operators.length < keys.length) {
        return this.problem(path, 'mixes operators and plain keys; use either {"$op": value} or a plain value to compare');
      }
      if (operators.length > 0) return this.operators(segments, operand, path, depth);
    }
    const nested = findOperatorKey(operand);
    if (nested) {
      return this.problem(path, `contains the operator ${nested} inside a plain value; use a dot path instead, e.g. {"data.amount": {"$gt": 1}}`);
    }
    return this.condition(path, () => matches(segments, equalsTest(operand)));
  }

  /** An operator object at field level, e.g. `{"$gt": 1, "$lt": 5}`: its operators are ANDed. */
  private operators(segments: Segment[], object: Record<string, unknown>, path: string[], depth: number): Predicate {
    const parts: Predicate[] = [];
    for (const [op, operand] of Object.entries(object)) {
      const at = [...path, op];
      switch (op) {
        case '$eq':
        case '$neq': {
          const nested = findOperatorKey(operand);
          if (nested) {
            parts.push(this.problem(at, `contains the operator ${nested} inside a plain value`));
            break;
          }
          const test = equalsTest(operand);
          parts.push(this.condition(at, () => (op === '$eq' ? matches(segments, test) : not(matches(segments, test)))));
          break;
        }
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte':
          if (typeof operand === 'string' || (typeof operand === 'number' && Number.isFinite(operand))) {
            parts.push(this.condition(at, () => matches(segments, compareTest(op, operand))));
          } else {
            parts.push(this.problem(at, 'must be a number or a string'));
          }
          break;
        case '$in':
        case '$nin':
          if (Array.isArray(operand)) {
            const test = inTest(operand);
            parts.push(this.condition(at, () => (op === '$in' ? matches(segments, test) : not(matches(segments, test)))));
          } else {
            parts.push(this.problem(at, 'must be an array of values'));
          }
          break;
        case '$exist':
          if (typeof operand === 'boolean') {
            parts.push(this.condition(at, () => (operand ? matches(segments, ALWAYS) : not(matches(segments, ALWAYS)))));
          } else {
            parts.push(this.problem(at, 'must be true or false'));
          }
          break;
        case '$regex': {
          const regex = typeof operand === 'string' ? compileRegex(operand) : 'must be a string (a JavaScript regular expression)';
          if (typeof regex === 'string') parts.push(this.problem(at, regex));
          else parts.push(this.condition(at, () => matches(segments, (v) => typeof v === 'string' && testLinear(regex, v))));
          break;
        }
        case '$not':
          if (depth + 1 > FILTER_MAX_DEPTH) {
            parts.push(this.problem(at, `nests $and/$or/$not deeper than ${FILTER_MAX_DEPTH} levels`));
          } else if (isPlainObject(operand) && Object.keys(operand).length > 0 && Object.keys(operand).every((k) => k.startsWith('$'))) {
            parts.push(not(this.operators(segments, operand, at, depth + 1)));
          } else {
            parts.push(this.problem(at, 'must be an operator object, e.g. {"$regex": "^test"}'));
          }
          break;
        case '$and':
        case '$or':
          parts.push(this.problem(at, `is only allowed at document level, e.g. {"${op}": [{"data.a": 1}, {"data.b": 2}]}`));
          break;
        default:
          parts.push(this.problem(at, `unknown operator ${op}`));
      }
    }
    return every(parts);
  }

  /** Counts one condition against FILTER_MAX_CONDITIONS and builds it (lazily, so an over-limit filter builds nothing). */
  private condition(path: string[], build: () => Predicate): Predicate {
    this.conditions += 1;
    if (this.conditions === FILTER_MAX_CONDITIONS + 1) {
      return this.problem([], `has more than ${FILTER_MAX_CONDITIONS} conditions`);
    }
    return this.conditions > FILTER_MAX_CONDITIONS ? NEVER : build();
  }
}

// ── evaluation ──────────────────────────────────────────────────────────────────────────────────

/** A predicate that holds when some value reached by the path satisfies `test`. */
function matches(segments: Segment[], test: ValueTest): Predicate {
  return (document) => someValue(document, segments, 0, test);
}

// `undefined` stands for "missing": JSON has no undefined, so it never collides with a real value.
function someValue(value: unknown, segments: Segment[], i: number, test: ValueTest): boolean {
  if (value === undefined) return false;
  const segment = segments[i];
  if (segment === undefined) {
    if (test(value)) return true;
    if (!Array.isArray(value)) return false;
    for (const element of value) if (test(element)) return true;
    return false;
  }
  if (Array.isArray(value)) {
    if (segment.index !== null) return someValue(value[segment.index], segments, i + 1, test);
    for (const element of value) if (someValue(element, segments, i, test)) return true;
    return false;
  }
  if (typeof value !== 'object' || value === null) return false;
  // Own properties only: a path like `data.constructor` must not reach Object.prototype.
  return Object.hasOwn(value, segment.key) && someValue((value as Record<string, unknown>)[segment.key], segments, i + 1, test);
}

function equalsTest(operand: unknown): ValueTest {
  if (operand === null || typeof operand !== 'object') return (value) => value === operand;
  return (value) => deepEqual(value, operand);
}

function compareTest(op: '$gt' | '$gte' | '$lt' | '$lte', operand: number | string): ValueTest {
  const type = typeof operand;
  // Both sides share `type`, so the casts only satisfy the checker: JS compares two strings lexically.
  const bound = operand as number;
  switch (op) {
    case '$gt':
      return (value) => typeof value === type && (value as number) > bound;
    case '$gte':
      return (value) => typeof value === type && (value as number) >= bound;
    case '$lt':
      return (value) => typeof value === type && (value as number) < bound;
    case '$lte':
      return (value) => typeof value === type && (value as number) <= bound;
  }
}

/** Primitives go in a Set so that a long `$in` list costs one lookup per value. */
function inTest(operands: unknown[]): ValueTest {
  const primitives = new Set<unknown>();
  const objects: unknown[] = [];
  for (const operand of operands) {
    if (operand !== null && typeof operand === 'object') objects.push(operand);
    else primitives.add(operand);
  }
  if (objects.length === 0) return (value) => primitives.has(value);
  return (value) =>
    value !== null && typeof value === 'object' ? objects.some((operand) => deepEqual(value, operand)) : primitives.has(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((element, i) => deepEqual(element, b[i]));
  }
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  return aKeys.every((key) => Object.hasOwn(bRecord, key) && deepEqual(aRecord[key], bRecord[key]));
}

function every(parts: Predicate[]): Predicate {
  if (parts.length === 0) return () => true;
  if (parts.length === 1) return parts[0] as Predicate;
  return (document) => {
    for (const part of parts) if (!part(document)) return false;
    return true;
  };
}

function any(parts: Predicate[]): Predicate {
  if (parts.length === 1) return parts[0] as Predicate;
  return (document) => {
    for (const part of parts) if (part(document)) return true;
    return false;
  };
}

function not(predicate: Predicate): Predicate {
  return (document) => !predicate(document);
}

// ── parsing helpers ─────────────────────────────────────────────────────────────────────────────

const INDEX = /^(?:0|[1-9]\d*)$/;

function parsePath(path: string): Segment[] | null {
  const keys = path.split('.');
  if (keys.some((key) => key === '')) return null;
  return keys.map((key) => ({ key, index: INDEX.test(key) && Number.isSafeInteger(Number(key)) ? Number(key) : null }));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The first `$`-key inside a plain value, if any: `{"data": {"amount": {"$gt": 1}}}` is almost
 * always a mistaken spelling of `{"data.amount": {"$gt": 1}}` and would silently never match.
 */
function findOperatorKey(value: unknown): string | null {
  if (Array.isArray(value)) {
    for (const element of value) {
      const found = findOperatorKey(element);
      if (found) return found;
    }
  } else if (isPlainObject(value)) {
    for (const [key, inner] of Object.entries(value)) {
      if (key.startsWith('$')) return key;
      const found = findOperatorKey(inner);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Filters are written by tenants but run on the shared dispatcher's event loop, so `$regex` runs on
 * the linear-time engine (see linear-regex.ts): no pattern can backtrack. The length limit keeps
 * compiled programs small. Returns the compiled pattern, or the problem message.
 */
function compileRegex(pattern: string): RE2JS | string {
  if (pattern.length > FILTER_MAX_REGEX_LENGTH) return `is longer than ${FILTER_MAX_REGEX_LENGTH} characters`;
  try {
    // JavaScript first, so a pattern that is not a regular expression at all says so in familiar terms.
    new RegExp(pattern);
  } catch (error) {
    return `is not a valid regular expression: ${(error as Error).message}`;
  }
  try {
    return compileLinear(pattern);
  } catch (error) {
    return (error as Error).message;
  }
}
