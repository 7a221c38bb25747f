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

function resultRefusal(result: ExecutionResult, maxBytes: number): GraphQLError | null {
  return sizeRefusal(JSON.stringify(result), maxBytes);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Runs `run` with an AbortSignal that fires at the deadline: the executor then starts no further
 * resolver and its pending ones are no longer awaited. Work that never yields to the event loop
 * (a synchronous store) cannot be interrupted; it is answered with the timeout when it returns.
 */
async function withinDeadline<T>(maxMs: number, outer: AbortSignal | undefined, run: (signal: AbortSignal) => T | Promise<T>): Promise<T | ExecutionResult> {
  const error = executionTimeout(maxMs);
  const controller = new AbortController();
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ExecutionResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(error);
      resolve({ errors: [error] });
    }, maxMs);
  });
  try {
    const result = await Promise.race([Promise.resolve(run(signal)), deadline]);
    return performance.now() - started > maxMs ? { errors: [error] } : result;
  } catch (thrown) {
    if (thrown === error || controller.signal.aborted) return { errors: [error] };
    throw thrown;
  } finally {
    clearTimeout(timer);
  }
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
          const error = resultRefusal(result, options.maxResponseBytes);
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
