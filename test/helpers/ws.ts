// graphql-ws from a test: a client for a test app, one operation's outcome, and a way to know the
// server has set up a subscription (graphql-ws acknowledges none) before an event is sent.
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import WebSocket from 'ws';
import type { TopicName } from '../../src/pubsub/topics.js';
import { ADMIN_TOKEN, type TestApp } from './app.js';

export type WsResult = { data?: any; errors?: readonly { message: string; extensions?: Record<string, any> }[] };

/** A client of `t`'s graphql-ws endpoint with `token` (none when null); it never retries. */
export function wsClient(t: Pick<TestApp, 'url'>, token: string | null = ADMIN_TOKEN, extra: Partial<ClientOptions> = {}): Client {
  return createClient({
    url: `${t.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    ...extra,
  });
}

/** One operation over graphql-ws: its last result, or the errors it was refused with. */
export function runWs(client: Client, payload: { query: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> } | string): Promise<WsResult> {
  const operation = typeof payload === 'string' ? { query: payload } : payload;
  return new Promise((resolve, reject) => {
    let last: WsResult = {};
    client.subscribe(operation, {
      next: (value) => (last = value as WsResult),
      error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
      complete: () => resolve(last),
    });
  });
}

/** Resolves once the server has registered a live subscriber on `topic` (the subscription is live). */
export function serverSubscribed(t: TestApp, topic: TopicName): Promise<void> {
  const bus = t.app.services.bus;
  const original = bus.subscribe;
  return new Promise((resolve) => {
    bus.subscribe = ((name, listener) => {
      const unsubscribe = original.call(bus, name, listener as never);
      if (name === topic) {
        bus.subscribe = original;
        resolve();
      }
      return unsubscribe;
    }) as typeof bus.subscribe;
  });
}
