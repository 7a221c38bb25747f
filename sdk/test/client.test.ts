// The client's own logic, without a server: how answers map to results and exceptions, what is sent,
// pagination edge cases. The end-to-end tests against the real server are in test/sdk/.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createClient,
  paginate,
  SwitchyardGraphQLError,
  SwitchyardHttpError,
  SwitchyardNetworkError,
  type Connection,
} from '../src/index.js';
import { persistedDocumentIds } from '../generated/graphql.js';
import { operationOf, toWebSocketUrl } from '../src/requester.js';

interface Sent {
  url: string;
  headers: Headers;
  body: { query: string; variables: unknown; operationName?: string; extensions?: Record<string, unknown> };
}

/** A client whose `fetch` records the request and answers with `respond`'s Response. */
function fakeClient(respond: () => Response | Promise<Response>, persistedDocuments = false) {
  const sent: Sent[] = [];
  const client = createClient({
    url: 'https://switchyard.test/graphql',
    token: 'sy_token',
    persistedDocuments,
    fetch: async (input, init) => {
      sent.push({ url: String(input), headers: new Headers(init?.headers), body: JSON.parse(String(init?.body)) });
      return respond();
    },
  });
  return { client, sent };
}

const json = (status: number, body: unknown, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });

describe('requests', () => {
  it('POSTs the operation as JSON with its name, variables and the bearer token', async () => {
    const { client, sent } = fakeClient(() => json(200, { data: { event: null } }));
    const result = await client.event({ id: 'msg_1' });
    assert.deepEqual(result, { event: null });
    const [request] = sent;
    assert.ok(request);
    assert.equal(request.url, 'https://switchyard.test/graphql');
    assert.equal(request.headers.get('authorization'), 'Bearer sy_token');
    assert.equal(request.headers.get('content-type'), 'application/json');
    assert.match(request.headers.get('accept') ?? '', /application\/graphql-response\+json/);
    assert.equal(request.body.operationName, 'event');
    assert.deepEqual(request.body.variables, { id: 'msg_1' });
    assert.match(request.body.query, /^\s*query event\(\$id: ID!\)/);
    assert.match(request.body.query, /fragment EventFields on Event/);
  });

  it('with persistedDocuments, sends a generated operation by id and a document of its own as text', async () => {
    const { client, sent } = fakeClient(() => json(200, { data: { viewer: { kind: 'ADMIN', scopes: [], tenant: null } } }), true);
    await client.viewer();
    assert.equal(sent[0]?.body.query, undefined);
    assert.equal(sent[0]?.body.operationName, 'viewer');
    assert.deepEqual(sent[0]?.body.extensions, { persistedQuery: { version: 1, sha256Hash: persistedDocumentIds.viewer } });
    await client.request('{ viewer { kind } }');
    assert.equal(sent[1]?.body.query, '{ viewer { kind } }');
    assert.equal(sent[1]?.body.extensions, undefined);
  });

  it('sends {} for an operation called without variables', async () => {
    const { client, sent } = fakeClient(() => json(200, { data: { viewer: { kind: 'ADMIN', scopes: [], tenant: null } } }));
    await client.viewer();
    assert.deepEqual(sent[0]?.body.variables, {});
  });

  it('throws SwitchyardGraphQLError with every code, the status and partial data', async () => {
    const errors = [
      { message: 'no', path: ['a'], extensions: { code: 'FORBIDDEN' } },
      { message: 'boom', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      { message: 'again', extensions: { code: 'FORBIDDEN' } },
    ];
    const { client } = fakeClient(() => json(200, { data: { viewer: null }, errors }, 'application/graphql-response+json'));
    const error = await client.viewer().catch((caught: unknown) => caught);
    assert.ok(error instanceof SwitchyardGraphQLError);
    assert.equal(error.code, 'FORBIDDEN');
    assert.deepEqual(error.codes, ['FORBIDDEN', 'INTERNAL_SERVER_ERROR']);
    assert.equal(error.status, 200);
    assert.deepEqual(error.data, { viewer: null });
    assert.equal(error.message, 'no; boom; again');
    assert.equal(error.name, 'SwitchyardGraphQLError');
  });

  it('prefers GraphQL errors over the HTTP status (401 UNAUTHENTICATED, 400 invalid document)', async () => {
    for (const [status, code] of [
      [401, 'UNAUTHENTICATED'],
      [400, 'GRAPHQL_VALIDATION_FAILED'],
    ] as const) {
      const { client } = fakeClient(() => json(status, { errors: [{ message: 'x', extensions: { code } }] }));
      await assert.rejects(client.viewer(), (error: unknown) => error instanceof SwitchyardGraphQLError && error.code === code && error.status === status);
    }
  });

  it('throws SwitchyardHttpError for an error status without GraphQL errors, with the body', async () => {
    const { client } = fakeClient(() => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }));
    const error = await client.viewer().catch((caught: unknown) => caught);
    assert.ok(error instanceof SwitchyardHttpError);
    assert.equal(error.name, 'SwitchyardHttpError');
    assert.equal(error.status, 502);
    assert.equal(error.body, '<html>Bad gateway</html>');
  });

  it('throws SwitchyardHttpError for a 200 that is not a GraphQL result', async () => {
    for (const body of ['not json', '{"hello":"world"}', '{"data":null}']) {
      const { client } = fakeClient(() => new Response(body, { status: 200 }));
      await assert.rejects(client.viewer(), (error: unknown) => error instanceof SwitchyardHttpError && error.status === 200 && error.body === body);
    }
  });

  it('wraps a failing fetch in SwitchyardNetworkError, keeping the cause', async () => {
    const cause = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    const { client } = fakeClient(() => Promise.reject(cause));
    const error = await client.viewer().catch((caught: unknown) => caught);
    assert.ok(error instanceof SwitchyardNetworkError);
    assert.equal(error.name, 'SwitchyardNetworkError');
    assert.equal(error.cause, cause);
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('lets a failing token function reject as it did, without sending anything', async () => {
    let fetched = 0;
    const failure = new Error('session expired');
    const client = createClient({
      url: 'https://switchyard.test/graphql',
      token: () => Promise.reject(failure),
      fetch: async () => (fetched++, json(200, { data: {} })),
    });
    await assert.rejects(client.viewer(), (error: unknown) => error === failure);
    assert.equal(fetched, 0);
  });

  it('runs a hand-written document with request()', async () => {
    const { client, sent } = fakeClient(() => json(200, { data: { viewer: { kind: 'ADMIN' } } }));
    const data = await client.request<{ viewer: { kind: string } }>('query kind { viewer { kind } }', { unused: 1 });
    assert.equal(data.viewer.kind, 'ADMIN');
    assert.equal(sent[0]?.body.operationName, 'kind');
  });
});

describe('subscriptions without a WebSocket', () => {
  it('reject on the first next() with a hint to pass webSocketImpl (Node 20 has no global WebSocket)', async () => {
    if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'undefined') return;
    const client = createClient({ url: 'http://127.0.0.1:9/graphql', token: 't' });
    const subscription = client.subscribe('subscription { deliveryAttempts { id } }');
    await assert.rejects(subscription.next(), /webSocketImpl/);
    assert.deepEqual(await subscription.next(), { done: true, value: undefined });
  });

  it('end at once for an already aborted signal', async () => {
    const client = createClient({ url: 'http://127.0.0.1:9/graphql', token: 't' });
    const subscription = client.subscribe('subscription { deliveryAttempts { id } }', {}, { signal: AbortSignal.abort() });
    assert.deepEqual(await subscription.next(), { done: true, value: undefined });
  });
});

describe('helpers', () => {
  it('derives the graphql-ws URL from the HTTP one', () => {
    assert.equal(toWebSocketUrl('http://localhost:4000/graphql'), 'ws://localhost:4000/graphql');
    assert.equal(toWebSocketUrl('https://hooks.example.com/graphql?x=1'), 'wss://hooks.example.com/graphql?x=1');
  });

  it('reads the kind and name of a document', () => {
    assert.deepEqual(operationOf('\n    subscription deliveryAttempts($f: X) { a }'), { kind: 'subscription', name: 'deliveryAttempts' });
    assert.deepEqual(operationOf('mutation { a }'), { kind: 'mutation', name: undefined });
    assert.deepEqual(operationOf('{ a }'), { kind: 'query', name: undefined });
  });
});

describe('paginate', () => {
  const pages: Record<string, Connection<number>> = {
    start: { nodes: [1, 2], pageInfo: { hasNextPage: true, endCursor: 'c2' } },
    c2: { nodes: [3, 4], pageInfo: { hasNextPage: true, endCursor: 'c4' } },
    c4: { nodes: [5], pageInfo: { hasNextPage: false, endCursor: 'c5' } },
  };

  it('follows endCursor until hasNextPage is false, passing first and after', async () => {
    const asked: unknown[] = [];
    const items: number[] = [];
    for await (const item of paginate(
      async (page) => {
        asked.push(page);
        return pages[page.after ?? 'start']!;
      },
      { first: 2 },
    )) {
      items.push(item);
    }
    assert.deepEqual(items, [1, 2, 3, 4, 5]);
    assert.deepEqual(asked, [
      { first: 2, after: null },
      { first: 2, after: 'c2' },
      { first: 2, after: 'c4' },
    ]);
  });

  it('defaults to pages of 100 and stops at limit without fetching further', async () => {
    const asked: unknown[] = [];
    const items: number[] = [];
    for await (const item of paginate(async (page) => (asked.push(page), pages[page.after ?? 'start']!), { limit: 3 })) items.push(item);
    assert.deepEqual(items, [1, 2, 3]);
    assert.deepEqual(asked, [
      { first: 100, after: null },
      { first: 100, after: 'c2' },
    ]);
  });

  it('goes on through pages with nothing on them, and stops at maxPages', async () => {
    const sparse: Record<string, Connection<number>> = {
      start: { nodes: [], pageInfo: { hasNextPage: true, endCursor: 'e1' } },
      e1: { nodes: [], pageInfo: { hasNextPage: true, endCursor: 'e2' } },
      e2: { nodes: [7], pageInfo: { hasNextPage: true, endCursor: 'e3' } },
      e3: { nodes: [8], pageInfo: { hasNextPage: false, endCursor: 'e4' } },
    };
    const all: number[] = [];
    for await (const item of paginate(async (page) => sparse[page.after ?? 'start']!)) all.push(item);
    assert.deepEqual(all, [7, 8]);
    const asked: unknown[] = [];
    const bounded: number[] = [];
    for await (const item of paginate(async (page) => (asked.push(page.after), sparse[page.after ?? 'start']!), { maxPages: 3 })) bounded.push(item);
    assert.deepEqual(bounded, [7]);
    assert.deepEqual(asked, [null, 'e1', 'e2']);
    for (const maxPages of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(async () => {
        for await (const _ of paginate(async (page) => sparse[page.after ?? 'start']!, { maxPages })) void _;
      }, /`maxPages` must be a positive integer/);
    }
  });

  it('fetches the next page lazily, only when the previous one is used up', async () => {
    let fetched = 0;
    for await (const item of paginate(async (page) => (fetched++, pages[page.after ?? 'start']!))) {
      assert.equal(item, 1);
      break;
    }
    assert.equal(fetched, 1);
  });

  it('refuses to loop on a next page without a new cursor', async () => {
    const stuck = paginate(async () => ({ nodes: [1], pageInfo: { hasNextPage: true, endCursor: null } }));
    await assert.rejects(async () => {
      for await (const _ of stuck) void _;
    }, /without a new endCursor/);
    const repeating = paginate(async () => ({ nodes: [1], pageInfo: { hasNextPage: true, endCursor: 'same' } }));
    await assert.rejects(async () => {
      for await (const _ of repeating) void _;
    }, /without a new endCursor/);
  });

  it('rejects a page size that is not a positive integer', async () => {
    await assert.rejects(paginate(async () => pages.start!, { first: 0 }).next(), RangeError);
  });
});
