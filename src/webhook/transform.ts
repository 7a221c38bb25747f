// A hook's JSONata transform: compiled once per source text, evaluated per event over the template
// scope, and held to bounds (time, depth, sequence length, result size) so one tenant's expression
// cannot stall the dispatcher or bloat the attempt log.
import jsonata from 'jsonata';
import { decodeJsonataError, describeJsonataFailure, type JsonataFailure } from './jsonata-error.js';
import { LinearRegExp, compileLinear } from './linear-regex.js';
import { hookTextCache } from './hook-text-cache.js';
import { RequestBuildError } from './request-error.js';
import type { TemplateScope } from './template-scope.js';

/**
 * Wall-clock budget of one transform evaluation. JSONata checks it between evaluation steps, which
 * is what bounds an infinite loop; a single slow built-in call (a huge `$sort`) is not interrupted.
 * Regular expressions cannot be that call: they run on the linear-time engine. And the budget is not
 * a time the event loop waits: evaluation yields to it every TRANSFORM_SLICE_MS (see below). The dispatcher's event loop is blocked while a transform runs, so the
 * budget is small next to the request deadline.
 */
export const TRANSFORM_TIMEOUT_MS = 500;
/** JSONata evaluation depth limit against runaway recursion, far above what a mapping needs. */
export const TRANSFORM_MAX_DEPTH = 2000;
/** Longest sequence a transform may build: above any array a 1 MiB payload can hold, far below `[1..9999999]`. */
export const TRANSFORM_MAX_SEQUENCE = 1_000_000;
/** Largest serialised transform result: the body is stored with every attempt, so a transform must not inflate it unboundedly. */
export const MAX_TRANSFORM_BODY_BYTES = 2 * 1024 * 1024;

/**
 * How long transforms may run before they let the event loop serve other work. JSONata awaits an
 * entry hook before every evaluation step; the hook yields (setImmediate) once the slice is used up,
 * so a transform that spends its whole budget costs its own delivery that time, not every request
 * the process serves meanwhile. One slice for all transforms of the process: together they never hold
 * the loop longer than this (a single built-in call aside).
 */
export const TRANSFORM_SLICE_MS = 4;
let sliceEndsAt = 0;
let lastStepAt = Number.NEGATIVE_INFINITY;
/** No transform step for this long: the next one starts a fresh slice instead of yielding at once. */
const QUIET_MS = 50;
const EVALUATE_ENTRY = Symbol.for('jsonata.__evaluate_entry');

function yieldWhenSliceIsUsed(): Promise<void> | undefined {
  const now = performance.now();
  const quiet = now - lastStepAt > QUIET_MS;
  lastStepAt = now;
  if (quiet) sliceEndsAt = now + TRANSFORM_SLICE_MS;
  if (now < sliceEndsAt) return undefined;
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      sliceEndsAt = performance.now() + TRANSFORM_SLICE_MS;
      resolve();
    }),
  );
}

// A syntax error is cached too, so a broken hook on a busy event type does not re-parse per attempt.
type CompiledTransform = { ok: true; expression: jsonata.Expression } | { ok: false; failure: JsonataFailure };

const transforms = hookTextCache<CompiledTransform>();

function compiled(source: string): CompiledTransform {
  let entry = transforms.get(source);
  if (entry === undefined) {
    try {
      const expression = jsonata(source, {
        timeout: TRANSFORM_TIMEOUT_MS,
        stack: TRANSFORM_MAX_DEPTH,
        sequence: TRANSFORM_MAX_SEQUENCE,
        // JSONata constructs it from each regex literal and calls only exec and lastIndex.
        RegexEngine: LinearRegExp as unknown as RegExpConstructor,
      });
      // JSONata looks its hooks up by symbol in the bindings.
      expression.assign(EVALUATE_ENTRY as unknown as string, yieldWhenSliceIsUsed);
      entry = { ok: true, expression };
    } catch (error) {
      entry = { ok: false, failure: decodeJsonataError(error) };
    }
    transforms.set(source, entry);
  }
  return entry;
}

/**
 * Why `source` does not parse as JSONata, or null when it does; hook validation asks this on save.
 * Not cached: text that is never saved should not push the transforms of live hooks out of the cache.
 */
export function transformSyntaxFailure(source: string): JsonataFailure | null {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source);
  } catch (error) {
    return decodeJsonataError(error);
  }
  return unsupportedRegexFailure(expression.ast());
}

/** The first regex literal the linear-time engine refuses, as a failure at its position. */
function unsupportedRegexFailure(ast: unknown): JsonataFailure | null {
  // Iterative: the tree of a long expression may be deep.
  const pending: unknown[] = [ast];
  while (pending.length > 0) {
    const node = pending.pop();
    if (node === null || typeof node !== 'object') continue;
    const { type, value, position } = node as { type?: unknown; value?: unknown; position?: unknown };
    if (type === 'regex' && value instanceof RegExp) {
      try {
        compileLinear(value.source, value.flags);
      } catch (error) {
        return { message: `the pattern /${value.source}/ ${(error as Error).message}`, code: undefined, position: typeof position === 'number' ? position : undefined };
      }
    }
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object' && !(child instanceof RegExp)) pending.push(child);
  }
  return null;
}

/** Why a JSONata expression made no JSON value for this input; the message names the expression (`transform …`, `capture …`). */
export class ExpressionError extends Error {
  readonly code: string | undefined;
  readonly position: number | undefined;

  constructor(message: string, details: { code?: string | undefined; position?: number | undefined; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ExpressionError';
    this.code = details.code;
    this.position = details.position;
  }
}

function expressionError(label: string, what: string, failure: JsonataFailure, cause?: unknown): ExpressionError {
  return new ExpressionError(describeJsonataFailure(`${label} ${what}`, failure), { code: failure.code, position: failure.position, cause });
}

export interface EvaluationBounds {
  /** names the expression in messages: `transform`, `capture` */
  label: string;
  /** largest result, in bytes of JSON */
  maxBytes: number;
  /** said after "produced no value (undefined: a path matched nothing)" */
  undefinedHint: string;
}

/**
 * Evaluates `source` over `input` under the transform bounds (time, depth, sequence length) and
 * returns its result as JSON text. Throws {@link ExpressionError} for a syntax error, an evaluation
 * error, an `undefined` result, a result that is not JSON, or one larger than `bounds.maxBytes`.
 */
export async function evaluateToJson(source: string, input: unknown, { label, maxBytes, undefinedHint }: EvaluationBounds): Promise<string> {
  const entry = compiled(source);
  if (!entry.ok) throw expressionError(label, 'has a syntax error', entry.failure);
  let result: unknown;
  try {
    result = await entry.expression.evaluate(input);
  } catch (error) {
    throw expressionError(label, 'failed', decodeJsonataError(error), error);
  }
  if (result === undefined) {
    // JSONata yields undefined when a path matches nothing, which is almost always a mapping bug.
    throw new ExpressionError(`${label} produced no value (undefined: a path matched nothing)${undefinedHint}`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch (error) {
    // In practice a JSONata lambda: it carries its (circular) environment.
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    throw new ExpressionError(`${label} result is not JSON (does it return a function?): ${reason}`, { cause: error });
  }
  // Built-in functions serialise as JSONata's internal marker object, which no receiver wants; the
  // `_jsonata_` prefix is reserved in JSONata object keys, so the marker cannot come from data.
  if (text === undefined || text.includes('"_jsonata_function":true')) {
    throw new ExpressionError(`${label} result is not JSON (does it return a function?)`);
  }
  // Length in UTF-16 units is at most the UTF-8 byte count, so the exact count is only needed near the limit.
  if (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new ExpressionError(`${label} result is larger than ${maxBytes} bytes`);
  }
  return text;
}

const TRANSFORM_BOUNDS: EvaluationBounds = {
  label: 'transform',
  maxBytes: MAX_TRANSFORM_BODY_BYTES,
  // sending `null` would mark the delivery succeeded with an empty body nobody asked for
  undefinedHint: '; return null explicitly to send a JSON null body',
};

/**
 * Evaluates the transform over `scope` and returns its result as JSON text. Throws
 * {@link RequestBuildError} (stage `transform`) for a syntax error, an evaluation error, an
 * `undefined` result, a result that is not JSON, or one larger than MAX_TRANSFORM_BODY_BYTES.
 */
export async function runTransform(source: string, scope: TemplateScope): Promise<string> {
  try {
    return await evaluateToJson(source, scope, TRANSFORM_BOUNDS);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    throw new RequestBuildError('transform', error.message, { code: error.code, position: error.position, cause: error.cause ?? error });
  }
}
