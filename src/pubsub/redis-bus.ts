// The scale-out event target: every node publishes to Redis and every node's local subscribers
// receive from Redis, so a subscriber on any API node sees attempts made on any worker.
// Plain Redis pub/sub (at-most-once, no persistence) is right for live views: the store keeps the
// truth, and a subscriber that reconnects reads what it missed through queries.
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { createLocalBus, type Bus } from './bus.js';
import type { TopicName } from './topics.js';

const TOPICS: readonly TopicName[] = ['attempt', 'delivery', 'endpoint', 'operational'];
const CONNECT_TIMEOUT_MS = 5_000;

export interface RedisBus extends Bus {
  /** tells every node that deliveries are due now */
  announceDue(): void;
  /** called when any node announces due deliveries */
  onDue(listener: () => void): void;
  ready: Promise<void>;
  /** resolves when Redis answers a PING (readiness); rejects otherwise */
  ping(): Promise<void>;
}

/**
 * `prefix` namespaces the channels, so several deployments (or test runs) can share one Redis.
 * `ready` rejects when Redis cannot be reached within a few seconds.
 */
export function createRedisBus(url: string, log: Logger, prefix = 'switchyard:'): RedisBus {
  const PREFIX = prefix;
  // Not a topic for subscribers: a wake-up signal, so an API node's sendEvent wakes remote dispatchers at once.
  const DUE_CHANNEL = `${PREFIX}due`;
  const publisher = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  const subscriber = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  const local = createLocalBus((error) => log.warn('a live subscriber failed', { error: String(error) }));
  const dueListeners = new Set<() => void>();
  for (const client of [publisher, subscriber]) client.on('error', (error) => log.warn('redis error', { error: error.message }));
  let timer: NodeJS.Timeout | undefined;
  const ready = Promise.race([
    subscriber.subscribe(DUE_CHANNEL, ...TOPICS.map((topic) => `${PREFIX}${topic}`)).then(() => undefined),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis at ${url} did not answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  subscriber.on('message', (channel: string, text: string) => {
    if (channel === DUE_CHANNEL) {
      for (const listener of dueListeners) listener();
      return;
    }
    const topic = channel.slice(PREFIX.length) as TopicName;
    if (!TOPICS.includes(topic)) return;
    try {
      local.publish(topic, JSON.parse(text));
    } catch (error) {
      log.warn('redis: unreadable message', { channel, error: String(error) });
    }
  });
  return {
    ready,
    async ping() {
      await publisher.ping();
    },
    publish(topic, message) {
      // Local subscribers get it back through Redis like everyone else: one path, one order.
      publisher.publish(`${PREFIX}${topic}`, JSON.stringify(message)).catch((error: unknown) => {
        log.warn('redis publish failed', { topic, error: String(error) });
      });
    },
    subscribe: (topic, listener) => local.subscribe(topic, listener),
    announceDue() {
      publisher.publish(DUE_CHANNEL, '1').catch(() => {});
    },
    onDue(listener) {
      dueListeners.add(listener);
    },
    async close() {
      await local.close();
      await Promise.allSettled([subscriber.quit(), publisher.quit()]);
    },
  };
}
