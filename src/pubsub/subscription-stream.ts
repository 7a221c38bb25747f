// One subscriber's view of a bus topic: filtered at the source, buffered up to a bound. A consumer
// that falls behind past the bound is dropped instead of slowing the publisher or other subscribers.
import type { Bus } from './bus.js';
import type { TopicName, Topics } from './topics.js';

/** WebSocket close code for a subscriber dropped as a slow consumer (4xxx: application-defined). */
export const SLOW_CONSUMER_CLOSE_CODE = 4413;

export class SlowConsumerError extends Error {
  constructor(readonly capacity: number) {
    super(`subscriber dropped: more than ${capacity} messages waiting (slow consumer)`);
    this.name = 'SlowConsumerError';
  }
}

export interface StreamOptions<T extends TopicName> {
  /** keep only the messages this subscriber may and wants to see */
  accept: (message: Topics[T]) => boolean;
  /** messages held for a consumer that has not pulled them yet; default 1000 */
  capacity?: number;
  /** called once when the bound is passed (e.g. to close the WebSocket with a clear code) */
  onOverflow?: (error: SlowConsumerError) => void;
  /** ends the stream */
  signal?: AbortSignal;
  /** called once when the stream ends, however it ends (completed, overflowed, aborted) */
  onFinish?: () => void;
}

/**
 * A stream that can also push: a transport that fans out itself (the WebSocket server) attaches a
 * listener and receives accepted messages synchronously, with no queue and no promise per message.
 * Pulling (`next()`) keeps working for transports that iterate (SSE).
 */
export interface PushableStream<T> extends AsyncIterableIterator<T> {
  /** From now on, accepted messages go to `listener` (queued ones first); `onEnd` when the stream ends. */
  attach(listener: (message: T) => void, onEnd: () => void): void;
}

export function isPushable<T>(value: unknown): value is PushableStream<T> {
  return typeof value === 'object' && value !== null && typeof (value as { attach?: unknown }).attach === 'function';
}

export function subscribeStream<T extends TopicName>(bus: Bus, topic: T, options: StreamOptions<T>): PushableStream<Topics[T]> {
  const capacity = options.capacity ?? 1000;
  const queue: Topics[T][] = [];
  let waiting: ((result: IteratorResult<Topics[T]>) => void) | null = null;
  let failure: SlowConsumerError | null = null;
  let done = false;
  let pushTo: ((message: Topics[T]) => void) | null = null;
  let onPushEnd: (() => void) | null = null;

  const finish = () => {
    if (done) return;
    done = true;
    unsubscribe();
    options.signal?.removeEventListener('abort', finish);
    options.onFinish?.();
    onPushEnd?.();
    if (waiting && !failure) {
      waiting({ value: undefined, done: true });
      waiting = null;
    }
  };

  const unsubscribe = bus.subscribe(topic, (message) => {
    if (done || !options.accept(message)) return;
    if (pushTo) {
      pushTo(message);
      return;
    }
    if (waiting) {
      const resolve = waiting;
      waiting = null;
      resolve({ value: message, done: false });
      return;
    }
    if (queue.length >= capacity) {
      failure = new SlowConsumerError(capacity);
      queue.length = 0;
      options.onOverflow?.(failure);
      finish();
      return;
    }
    queue.push(message);
  });
  options.signal?.addEventListener('abort', finish);

  return {
    attach(listener, onEnd) {
      pushTo = listener;
      onPushEnd = onEnd;
      for (const message of queue.splice(0)) listener(message);
      if (done) onEnd();
    },
    next() {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
      if (failure) return Promise.reject(failure);
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      queue.length = 0;
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error?: unknown) {
      finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
