// One frontend's tenant token cannot starve the producer: past its request or event rate it gets
// 429 with Retry-After, while the admin token and other tenants' tokens go on being served.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { createTenant, createTenantToken, ensureEventType } from '../helpers/fixtures.js';

async function post(t: TestApp, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
}

describe('per-token limits', () => {
  let t: TestApp;
  let tenantA: string;
  let noisy: string;
  let quiet: string;
  before(async () => {
    t = await startTestApp({
      env: {
        SWITCHYARD_TOKEN_REQUESTS_PER_SECOND: '2',
        SWITCHYARD_TOKEN_REQUEST_BURST: '10',
        SWITCHYARD_TOKEN_EVENTS_PER_SECOND: '1',
        SWITCHYARD_TOKEN_EVENT_BURST: '5',
        SWITCHYARD_TOKEN_MAX_SUBSCRIPTIONS: '2',
      },
    });
    tenantA = await createTenant(t, 'A');
    await ensureEventType(t, 'limit.test');
    noisy = await createTenantToken(t, tenantA, ['READ', 'SEND_EVENTS']);
    quiet = await createTenantToken(t, await createTenant(t, 'B'), ['READ']);
  });
  after(() => t.stop());

  test('past its burst a token gets 429 with Retry-After; the admin and other tokens are served', async () => {
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof post>> | null = null;
    for (let i = 0; i < 30; i++) {
      const result = await post(t, noisy, '{ viewer { __typename } }');
      statuses.push(result.status);
      if (result.status === 429) refused ??= result;
    }
    assert.ok(statuses.filter((s) => s === 200).length >= 10, statuses.join(','));
    assert.ok(refused, `some requests were refused: ${statuses.join(',')}`);
    assert.equal(refused.body.errors[0].extensions.code, 'RATE_LIMITED');
    assert.ok(Number(refused.retryAfter) >= 1, `Retry-After: ${refused.retryAfter}`);
    assert.equal((await post(t, ADMIN_TOKEN, '{ tenants { nodes { id } } }')).status, 200, 'the producer is served');
    assert.equal((await post(t, quiet, '{ viewer { __typename } }')).status, 200, 'another tenant is served');
  });

  test('events have a bucket of their own: a batch past it is refused whole', async () => {
    const send = (n: number) =>
      post(
        t,
        ADMIN_TOKEN,
        'mutation($i: SendEventsInput!) { sendEvents(input: $i) { __typename } }',
        { i: { events: Array.from({ length: n }, () => ({ tenantId: tenantA, type: 'limit.test', payload: {} })) } },
      );
    assert.equal((await send(20)).status, 200, 'admin tokens are not limited');
    const token = await createTenantToken(t, tenantA, ['SEND_EVENTS']);
    const batch = (n: number) =>
      post(t, token, 'mutation($i: SendEventsInput!) { sendEvents(input: $i) { __typename } }', {
        i: { events: Array.from({ length: n }, () => ({ type: 'limit.test', payload: {} })) },
      });
    const ok = await batch(5);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const refused = await batch(3);
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.body.errors[0].extensions.code, 'RATE_LIMITED');
    assert.match(refused.body.errors[0].message, /too many events/);
  });

  test('a token holds at most N live subscriptions; ending one frees its place', async () => {
    const token = await createTenantToken(t, tenantA, ['READ']);
    const client = createClient({
      url: `${t.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    const open = () => {
      let failed: unknown = null;
      let settle!: () => void;
      const settled = new Promise<void>((resolve) => (settle = resolve));
      const stop = client.subscribe(
        { query: 'subscription { deliveryAttempts { id } }' },
        {
          // a refused subscribe answers its errors as a result, then completes
          next: (value) => void (value.errors ? (failed = value.errors) : undefined),
          error: (error) => ((failed = error), settle()),
          complete: () => settle(),
        },
      );
      return { stop, settled, failed: () => failed };
    };
    try {
      const first = open();
      const second = open();
      // the server has both once a third one is answered
      const third = open();
      await third.settled;
      assert.match(JSON.stringify(third.failed()), /live subscriptions/);
      assert.match(JSON.stringify(third.failed()), /RATE_LIMITED/);
      first.stop();
      let fourth = open();
      // the place is freed when the server hears the complete: retry briefly instead of sleeping
      for (let i = 0; i < 50; i++) {
        const outcome = await Promise.race([fourth.settled.then(() => 'refused'), new Promise((r) => setTimeout(() => r('held'), 100))]);
        if (outcome === 'held') break;
        fourth = open();
      }
      assert.equal(fourth.failed(), null, 'a new subscription is allowed once one ended');
      second.stop();
      fourth.stop();
    } finally {
      await client.dispose();
    }
  });
});
