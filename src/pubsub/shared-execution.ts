// Fan-out without per-subscriber work: graphql-js runs a subscription's selection set once per
// event per subscriber. With many subscribers asking the same document, that execution and its
// JSON serialisation dominate. This plugin executes each message once per (document, variables)
// and shares the result object; the WebSocket server then serialises that object once too.
import type { Plugin } from 'graphql-yoga';
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

type Shared = Map<string, Promise<ExecutionResult>>;

const perMessage = new WeakMap<object, WeakMap<DocumentNode, Shared>>();
const serialized = new WeakMap<ExecutionResult, string>();

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function sharedExecute(args: ExecutionArgs, message: object): Promise<ExecutionResult> {
  let byDocument = perMessage.get(message);
  if (!byDocument) perMessage.set(message, (byDocument = new WeakMap()));
  let shared = byDocument.get(args.document);
  if (!shared) byDocument.set(args.document, (shared = new Map()));
  const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
  let result = shared.get(key);
  if (!result) {
    result = Promise.resolve(execute({ ...args, rootValue: message }));
    shared.set(key, result);
  }
  return result;
}

/** The JSON text of a (possibly shared) result, computed once per result object. */
export function serializeOnce(result: ExecutionResult): string {
  let text = serialized.get(result);
  if (text === undefined) {
    const { errors, ...rest } = result;
    text = JSON.stringify(errors ? { ...rest, errors: errors.map((error) => (error as { toJSON?: () => unknown }).toJSON?.() ?? error) } : rest);
    serialized.set(result, text);
  }
  return text;
}

/**
 * Maps source messages to shared results. Written as a plain iterator, not an async generator: a
 * generator waiting for the next message cannot be returned until one arrives, which would keep a
 * closed subscription alive (and subscribed) on a quiet topic.
 */
function mapShared(source: AsyncIterable<unknown>, args: ExecutionArgs): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    async next() {
      const step = await iterator.next();
      if (step.done) return { value: undefined, done: true };
      const message: unknown = step.value;
      const value =
        typeof message === 'object' && message !== null
          ? await sharedExecute(args, message)
          : await execute({ ...args, rootValue: message });
      return { value, done: false };
    },
    async return() {
      await iterator.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!isAsyncIterable(source)) return source as ExecutionResult;
        return mapShared(source, args);
      });
    },
  };
}
