// A second line behind the cost limit: the cost is counted before execution from list sizes, but a
// query within it can still run long (a slow store) or answer big (large payloads and bodies). Each
// query has a time budget and each result (of a query, or of one subscription message) a size
// budget; past either the answer is one typed error in place of the data, never a 5xx or a closed
// socket. Mutations are exempt: a change already written must not be answered as a failure, which
// would invite the caller to make it again.
import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { selectedOperation } from './cost.js';
import { serializeOnce } from './shared-execution.js';

export const EXECUTION_TIMEOUT_CODE = 'EXECUTION_TIMEOUT';
export const RESPONSE_TOO_LARGE_CODE = 'RESPONSE_TOO_LARGE';

export interface BudgetOptions {
  /** How long a query may run, in milliseconds. */
  maxExecutionMs: number;
  /** The largest JSON text of one result, in UTF-8 bytes. */
  maxResponseBytes: number;
}

export function executionTimeout(maxMs: number): GraphQLError {
  return new GraphQLError(`the operation ran longer than its budget of ${maxMs} ms: ask for smaller pages (\`first\`) or fewer fields`, {
    extensions: { code: EXECUTION_TIMEOUT_CODE, maxExecutionMs: maxMs },
  });
}

export function responseTooLarge(bytes: number, maxBytes: number): GraphQLError {
  return new GraphQLError(
    `the result is ${bytes} bytes, over the budget of ${maxBytes}: ask for smaller pages (\`first\`) or fewer fields (payloads and bodies are the big ones)`,
    { extensions: { code: RESPONSE_TOO_LARGE_CODE, bytes, maxResponseBytes: maxBytes } },
  );
}

/** The size refusal for a result's JSON text, or null when it is within the budget. */
export function sizeRefusal(text: string, maxBytes: number): GraphQLError | null {
  // A UTF-8 byte is at most one UTF-16 unit, and a unit at most three bytes: count only when unsure.
  if (text.length * 3 <= maxBytes) return null;
  if (text.length > maxBytes) return responseTooLarge(Buffer.byteLength(text), maxBytes);
  const bytes = Buffer.byteLength(text);
  return bytes > maxBytes ? responseTooLarge(bytes, maxBytes) : null;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Runs `run` with an AbortSignal that fires at the deadline: the executor then starts no further
 * resolver and its pending ones are no longer awaited. Work that never yields to the event loop
 * (a synchronous store) cannot be interrupted; it is answered with the timeout when it returns.
 * Every query passes through here, so nothing is built for a deadline that does not pass: the
 * error (a GraphQLError captures a stack trace) only when it does, and the request's own signal
 * is followed by one listener rather than an `AbortSignal.any`, which costs more than the rest of
 * a small query (bench/README.md).
 */
async function withinDeadline<T>(maxMs: number, outer: AbortSignal | undefined, run: (signal: AbortSignal) => T | Promise<T>): Promise<T | ExecutionResult> {
  const controller = new AbortController();
  const started = performance.now();
  let timedOut: GraphQLError | null = null;
  const timeout = (): ExecutionResult => ({ errors: [(timedOut ??= executionTimeout(maxMs))] });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ExecutionResult>((resolve) => {
    timer = setTimeout(() => {
      const result = timeout();
      controller.abort(timedOut);
      resolve(result);
    }, maxMs);
  });
  const followOuter = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', followOuter, { once: true });
  try {
    const result = await Promise.race([Promise.resolve(run(controller.signal)), deadline]);
    return timedOut !== null || performance.now() - started > maxMs ? timeout() : result;
  } catch (thrown) {
    // whatever a resolver threw once the deadline passed (the abort reason, or its own error)
    if (timedOut !== null) return timeout();
    throw thrown;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', followOuter);
  }
}

/**
 * The JSON text of `result`. A result without errors or extensions, which nothing after this
 * changes, keeps the text for Yoga to write instead of serialising the result a second time (Yoga
 * answers with `result.stringify` when a result has one, as graphql-jit's results do).
 */
function serializeForAnswer(result: ExecutionResult & { stringify?: (value: unknown) => string }): string {
  const text = JSON.stringify(result);
  if (result.errors === undefined && result.extensions === undefined) {
    result.stringify = (value) => (value === result ? text : JSON.stringify(value));
  }
  return text;
}

export function useBudget(options: BudgetOptions): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (selectedOperation(args.document, args.operationName)?.operation === 'mutation') return;
      setExecuteFn((executeArgs: ExecutionArgs & { signal?: AbortSignal }) =>
        withinDeadline(options.maxExecutionMs, executeArgs.signal, (signal) => executeFn({ ...executeArgs, signal } as ExecutionArgs)) as never,
      );
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const error = sizeRefusal(serializeForAnswer(result), options.maxResponseBytes);
          if (error) setResult({ errors: [error] });
        },
      };
    },
    onSubscribe() {
      return {
        onSubscribeResult() {
          return {
            onNext({ result, setResult }) {
              // Messages may be shared by many subscribers: their text is computed once, and reused.
              const error = sizeRefusal(serializeOnce(result), options.maxResponseBytes);
              if (error) setResult({ errors: [error] });
            },
          };
        },
      };
    },
  };
}
