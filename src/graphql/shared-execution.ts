// Fan-out without per-subscriber work: graphql-js runs a subscription's selection set once per
// event per subscriber. With many subscribers asking the same document, that execution and its
// JSON serialisation dominate. This plugin executes each message once per (document, variables)
// and shares the result object; the WebSocket server then serialises that object once too.
import type { Plugin } from 'graphql-yoga';
import { isPushable } from '../pubsub/subscription-stream.js';
import { exposedError, UNEXPECTED_ERROR_MESSAGE } from './mask-error.js';
import { GraphQLError, createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

type Shared = Map<string, Promise<ExecutionResult>>;

const perMessage = new WeakMap<object, WeakMap<DocumentNode, Shared>>();
const serialized = new WeakMap<ExecutionResult, string>();

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function sharedExecute(args: ExecutionArgs, key: string, message: object): Promise<ExecutionResult> {
  let byDocument = perMessage.get(message);
  if (!byDocument) perMessage.set(message, (byDocument = new WeakMap()));
  let shared = byDocument.get(args.document);
  if (!shared) byDocument.set(args.document, (shared = new Map()));
  let result = shared.get(key);
  if (!result) {
    result = Promise.resolve(execute({ ...args, rootValue: message }));
    shared.set(key, result);
  }
  return result;
}

/** Subscribers with the same document, operation and variables share one execution per message. */
function groupKey(args: ExecutionArgs): string {
  return `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
}

/**
 * The JSON text of a (possibly shared) result, computed once per result object. Results pushed this
 * way skip Yoga's result mapping, so unexpected errors are masked here the same way: only errors
 * raised deliberately as GraphQLErrors keep their message.
 */
export function serializeOnce(result: ExecutionResult): string {
  let text = serialized.get(result);
  if (text === undefined) {
    const { errors, ...rest } = result;
    text = JSON.stringify(errors ? { ...rest, errors: errors.map(maskError) } : rest);
    serialized.set(result, text);
  }
  return text;
}

function maskError(error: GraphQLError): unknown {
  return exposedError(error)?.toJSON() ?? { message: UNEXPECTED_ERROR_MESSAGE, path: error.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/** Shared results, pushed to one subscriber in message order (see PushableStream). */
export interface PushableResults extends AsyncIterableIterator<ExecutionResult> {
  attachResults(listener: (result: ExecutionResult) => void, onEnd: () => void): void;
}

export function isPushableResults(value: unknown): value is PushableResults {
  return typeof value === 'object' && value !== null && typeof (value as { attachResults?: unknown }).attachResults === 'function';
}

/**
 * Maps source messages to shared results. Written as a plain iterator, not an async generator: a
 * generator waiting for the next message cannot be returned until one arrives, which would keep a
 * closed subscription alive (and subscribed) on a quiet topic.
 */
function mapShared(source: AsyncIterable<unknown>, args: ExecutionArgs): AsyncIterableIterator<ExecutionResult> | PushableResults {
  const iterator = source[Symbol.asyncIterator]();
  const key = groupKey(args);
  const resultOf = (message: unknown): Promise<ExecutionResult> =>
    typeof message === 'object' && message !== null
      ? sharedExecute(args, key, message)
      : Promise.resolve(execute({ ...args, rootValue: message }));
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const step = await iterator.next();
      if (step.done) return { value: undefined, done: true };
      return { value: await resultOf(step.value), done: false };
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
  if (!isPushable(iterator)) return mapped;
  return Object.assign(mapped, {
    attachResults(listener: (result: ExecutionResult) => void, onEnd: () => void) {
      // Results usually resolve in message order already; the chain guarantees it.
      let tail: Promise<unknown> = Promise.resolve();
      iterator.attach(
        (message) => {
          const result = resultOf(message);
          tail = tail.then(() => result).then(listener);
        },
        () => {
          tail = tail.then(onEnd);
        },
      );
    },
  });
}

/** The part of the GraphQL context this plugin uses (src/graphql/builder.ts defines the whole). */
interface PushingContext {
  socket?: { push(results: PushableResults): void };
}

export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!isAsyncIterable(source)) return source as ExecutionResult;
        const results = mapShared(source, args);
        // Envelop wraps the iterator returned here (to map results), which hides `attachResults`: a
        // transport that pushes (the WebSocket server) is handed the pushable results through its context.
        if (isPushableResults(results)) (args.contextValue as PushingContext | null)?.socket?.push(results);
        return results;
      });
    },
  };
}
