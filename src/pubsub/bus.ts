// The event target behind the typed topics. In-process by default; the Redis target (scale-out)
// implements the same interface, so publishers and subscriptions never know which one runs.
import type { Publisher, TopicName, Topics } from './topics.js';

export type Listener<T extends TopicName> = (message: Topics[T]) => void;

export interface Bus extends Publisher {
  subscribe<T extends TopicName>(topic: T, listener: Listener<T>): () => void;
  close(): Promise<void>;
}

export function createLocalBus(onListenerError: (error: unknown) => void = () => {}): Bus {
  const listeners = new Map<TopicName, Set<Listener<never>>>();
  return {
    publish(topic, message) {
      const set = listeners.get(topic);
      if (!set) return;
      for (const listener of set) {
        try {
          (listener as Listener<typeof topic>)(message);
        } catch (error) {
          // A broken subscriber must never break the publisher (the dispatcher).
          onListenerError(error);
        }
      }
    },
    subscribe(topic, listener) {
      let set = listeners.get(topic);
      if (!set) listeners.set(topic, (set = new Set()));
      set.add(listener as Listener<never>);
      return () => set.delete(listener as Listener<never>);
    },
    async close() {
      listeners.clear();
    },
  };
}
