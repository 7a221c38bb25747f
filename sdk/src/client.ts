// `createClient`: one typed method per operation in sdk/operations/*.graphql (generated into
// ../generated/graphql.ts), over the transports in ./requester.ts.
import { getSdk, persistedDocumentIds } from '../generated/graphql.js';
import {
  createTransport,
  operationOf,
  type RequestOptions,
  type SubscribeOptions,
  type SwitchyardSubscription,
  type TokenSource,
} from './requester.js';

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. `https://switchyard.example.com/graphql`. */
  url: string;
  /**
   * The admin token (producer backends) or a tenant token (a tenant's webhooks page), sent as
   * `Authorization: Bearer <token>` and, for subscriptions, as `connectionParams.authorization`.
   * A function is called before every request and every WebSocket (re)connect, for tokens that expire.
   */
  token: TokenSource;
  /** The `fetch` to use. Default: the platform's `globalThis.fetch` (Node ≥ 18, browsers). */
  fetch?: typeof fetch;
  /**
   * The WebSocket class for subscriptions. Default: `globalThis.WebSocket` (browsers, Node ≥ 22);
   * on Node 20 pass the `ws` package's `WebSocket`. Only needed once a subscription starts.
   */
  webSocketImpl?: unknown;
  /** Headers sent with every HTTP request (not over the WebSocket). */
  headers?: Record<string, string>;
  /** The graphql-ws URL. Default: `url` with `http` → `ws` (same port and path). */
  wsUrl?: string;
  /**
   * Send each generated operation by its trusted-document id (Apollo's
   * `extensions.persistedQuery.sha256Hash`) instead of its text. Required for a token with
   * `trustedDocumentsOnly` (portal sessions have it by default); smaller requests for any token.
   * `request` and `subscribe` with your own documents still send the text. A server on another
   * version of the SDK answers PERSISTED_QUERY_NOT_FOUND. Default: false.
   */
  persistedDocuments?: boolean;
}

type Sdk = ReturnType<typeof getSdk<RequestOptions>>;

/** The one root field of a subscription result: what each iteration yields. */
type RootField<R> = R[Exclude<keyof R, '__typename'>];

type Method<F> = F extends (variables: infer V, options?: RequestOptions) => AsyncIterable<infer R>
  ? {} extends V
    ? (variables?: V, options?: SubscribeOptions) => SwitchyardSubscription<RootField<R>>
    : (variables: V, options?: SubscribeOptions) => SwitchyardSubscription<RootField<R>>
  : F;

/**
 * One method per operation: queries and mutations resolve to the operation's `data` (mutations'
 * expected errors included, to narrow on `__typename`); subscriptions return an async iterable of
 * the subscribed field's values.
 */
export type Operations = { [K in keyof Sdk]: Method<Sdk[K]> };

export interface SwitchyardClient extends Operations {
  /** Runs any GraphQL query or mutation, for selections the generated operations do not make. */
  request<R = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, options?: RequestOptions): Promise<R>;
  /** Subscribes with any GraphQL subscription document; yields each result's `data`. */
  subscribe<R = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, options?: SubscribeOptions): SwitchyardSubscription<R>;
  /** Closes the WebSocket, ending every subscription. Queries and mutations keep working. */
  close(): Promise<void>;
}

/**
 * A typed Switchyard client. Queries and mutations go over HTTP (`fetch`), subscriptions over
 * graphql-ws on a WebSocket opened at the first subscription and closed after the last one.
 *
 * Throws (rejects with) SwitchyardNetworkError, SwitchyardHttpError or SwitchyardGraphQLError;
 * the expected errors of mutations come back as data instead.
 */
export function createClient(options: ClientOptions): SwitchyardClient {
  const transport = createTransport(options);
  const sdk = getSdk<RequestOptions>(<R, V>(document: string, variables?: V, requestOptions?: RequestOptions) => {
    const operation = operationOf(document);
    const persistedId = options.persistedDocuments && operation.name ? persistedDocumentIds[operation.name] : undefined;
    if (operation.kind === 'subscription') {
      const results = transport.subscribe<Record<string, unknown>>(document, variables, requestOptions, persistedId);
      // Yields the root field, not `data`: `Operations` types the subscription methods accordingly.
      return mapSubscription(results, rootFieldOf) as unknown as AsyncIterable<R>;
    }
    return transport.execute<R>(document, variables, requestOptions, persistedId);
  });
  return {
    ...(sdk as unknown as Operations),
    request: (query, variables, requestOptions) => transport.execute(query, variables, requestOptions),
    subscribe: (query, variables, subscribeOptions) => transport.subscribe(query, variables, subscribeOptions),
    close: () => transport.close(),
  };
}

function rootFieldOf(data: Record<string, unknown>): unknown {
  const keys = Object.keys(data).filter((key) => key !== '__typename');
  return keys.length === 1 ? data[keys[0] as string] : data;
}

function mapSubscription<T, U>(source: SwitchyardSubscription<T>, map: (value: T) => U): SwitchyardSubscription<U> {
  return {
    async next() {
      const result = await source.next();
      return result.done ? { done: true, value: undefined } : { done: false, value: map(result.value) };
    },
    async return() {
      await source.return();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
