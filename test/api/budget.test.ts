// The second line behind the cost limit: a result over the size budget and a query over the time
// budget answer one typed error (RESPONSE_TOO_LARGE, EXECUTION_TIMEOUT), never a 5xx or a closed
// socket, on HTTP and graphql-ws; everything within the budgets answers as usual.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/env.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createTenant } from '../helpers/fixtures.js';
import { runWs, serverSubscribed, wsClient, type WsResult } from '../helpers/ws.js';

/** Small enough that a page of the endpoints below is over it, big enough for everything else here. */
const SMALL_RESPONSE_BYTES = 2_000;
const LIST = '{ endpoints(first: 100) { nodes { id url description } } }';


test('the budgets default to 10 s and 32 MiB', () => {
  const config = loadConfig({});
  assert.equal(config.maxExecutionMs, 10_000);
  assert.equal(config.maxResponseBytes, 32 * 1024 * 1024);
});

describe('the response size budget', () => {
  let t: TestApp;
  let tenantId: string;
  let endpointId = '';
  before(async () => {
    t = await startTestApp({ env: { SWITCHYARD_MAX_RESPONSE_BYTES: String(SMALL_RESPONSE_BYTES) } });
    tenantId = await createTenant(t);
    for (let i = 0; i < 20; i++) await createEndpoint(t, tenantId, `http://127.0.0.1:9/${i}`, { description: 'd'.repeat(120) });
    // its live updates, with metadata, are over the budget
    ({ endpointId } = await createEndpoint(t, tenantId, 'http://127.0.0.1:9/big', { metadata: { note: 'm'.repeat(SMALL_RESPONSE_BYTES) } }));
  });
  after(() => t.stop());

  test('over HTTP a result over the budget answers RESPONSE_TOO_LARGE; a small one answers', async () => {
    const refused = await t.gql(LIST);
    assert.equal(refused.status, 200);
    assert.equal(refused.data ?? null, null);
    assert.equal(refused.errors?.[0]?.extensions?.code, 'RESPONSE_TOO_LARGE', JSON.stringify(refused.errors));
    assert.ok(refused.errors![0].extensions.bytes > SMALL_RESPONSE_BYTES);
    const small = await t.ok('{ endpoints(first: 2) { nodes { id } } }');
    assert.equal(small.endpoints.nodes.length, 2);
  });

  test('over graphql-ws the same, for that operation and each subscription message; the socket goes on', async () => {
    const client = wsClient(t);
    try {
      const refused = await runWs(client, LIST);
      assert.equal(refused.errors?.[0]?.extensions?.code, 'RESPONSE_TOO_LARGE', JSON.stringify(refused));
      const small = await runWs(client, '{ viewer { kind } }');
      assert.equal(small.data.viewer.kind, 'ADMIN');

      // one subscription whose message is too big, one whose message fits, on the same socket
      const messages: Record<'big' | 'small', Promise<WsResult>> = { big: null!, small: null! };
      let subscribed = serverSubscribed(t, 'endpoint');
      messages.big = new Promise((resolve, reject) => {
        const stop = client.subscribe(
          { query: `subscription { endpointUpdated { id description metadata } }` },
          { next: (value) => (stop(), resolve(value as WsResult)), error: reject, complete: () => {} },
        );
      });
      await subscribed;
      subscribed = serverSubscribed(t, 'endpoint');
      messages.small = new Promise((resolve, reject) => {
        const stop = client.subscribe(
          { query: `subscription { endpointUpdated { id } }` },
          { next: (value) => (stop(), resolve(value as WsResult)), error: reject, complete: () => {} },
        );
      });
      await subscribed;
      await t.ok(`mutation($id: ID!) { disableEndpoint(input: {id: $id}) { __typename } }`, { id: endpointId });
      const big = await messages.big;
      assert.equal(big.errors?.[0]?.extensions?.code, 'RESPONSE_TOO_LARGE', JSON.stringify(big).slice(0, 300));
      assert.equal((await messages.small).data.endpointUpdated.id, endpointId);
      const after = await runWs(client, '{ viewer { kind } }');
      assert.equal(after.data.viewer.kind, 'ADMIN');
    } finally {
      await client.dispose();
    }
  });
});

describe('the response size budget over SSE', () => {
  let t: TestApp;
  let endpointId = '';
  before(async () => {
    t = await startTestApp({ env: { SWITCHYARD_MAX_RESPONSE_BYTES: String(SMALL_RESPONSE_BYTES) } });
    const tenantId = await createTenant(t);
    ({ endpointId } = await createEndpoint(t, tenantId, 'http://127.0.0.1:9/big', { metadata: { note: 'm'.repeat(SMALL_RESPONSE_BYTES) } }));
  });
  after(() => t.stop());

  test('a subscription message over the budget streams RESPONSE_TOO_LARGE as its event', async () => {
    const controller = new AbortController();
    const subscribed = serverSubscribed(t, 'endpoint');
    const response = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: 'subscription { endpointUpdated { id description metadata } }' }),
    });
    assert.equal(response.status, 200);
    await subscribed;
    await t.ok(`mutation($id: ID!) { disableEndpoint(input: {id: $id}) { __typename } }`, { id: endpointId });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let message: WsResult | null = null;
    for (let reads = 0; reads < 50 && !message; reads++) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      const line = buffer.split('\n').find((l) => l.startsWith('data: ') && l.length > 'data: '.length + 2);
      if (line) message = JSON.parse(line.slice(6)) as WsResult;
    }
    controller.abort();
    assert.equal(message?.errors?.[0]?.extensions?.code, 'RESPONSE_TOO_LARGE', JSON.stringify(message)?.slice(0, 300));
  });
});

describe('the execution time budget', () => {
  let t: TestApp;
  before(async () => {
    // 1 ms: no page of 100 endpoints, each with its tenant and hooks, is built that fast
    t = await startTestApp({ env: { SWITCHYARD_MAX_EXECUTION_MS: '1' } });
    const tenantId = await createTenant(t);
    for (let i = 0; i < 100; i++) await createEndpoint(t, tenantId, `http://127.0.0.1:9/${i}`);
  });
  after(() => t.stop());

  const SLOW = '{ endpoints(first: 100) { nodes { id url tenant { name } hooks { nodes { id } } signingSecrets { id } } } }';

  test('a query over it answers EXECUTION_TIMEOUT over HTTP and graphql-ws, and the socket goes on', async () => {
    const refused = await t.gql(SLOW);
    assert.equal(refused.status, 200);
    assert.equal(refused.data ?? null, null);
    assert.equal(refused.errors?.[0]?.extensions?.code, 'EXECUTION_TIMEOUT', JSON.stringify(refused.errors));
    const client = wsClient(t);
    try {
      const overWs = await runWs(client, SLOW);
      assert.equal(overWs.errors?.[0]?.extensions?.code, 'EXECUTION_TIMEOUT', JSON.stringify(overWs));
      const again = await runWs(client, SLOW);
      assert.equal(again.errors?.[0]?.extensions?.code, 'EXECUTION_TIMEOUT');
    } finally {
      await client.dispose();
    }
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
  });

  test('mutations are not cut off: a change written is never answered as a failure', async () => {
    const tenantId = await createTenant(t, 'Written');
    assert.match(tenantId, /^tnt_/);
  });
});
