// Runs the README's walk-through documents as written (ids and the receiver URL substituted), so the
// product page cannot drift from what the server accepts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Webhook } from 'standardwebhooks';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

interface Block {
  lang: string;
  text: string;
}

function walkthroughBlocks(): Block[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Five-minute walk-through'), readme.indexOf('## What leaves Switchyard'));
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

describe('the README walk-through works as written', () => {
  let t: TestApp;
  let receiver: Receiver;
  before(async () => {
    t = await startTestApp();
    receiver = await startReceiver();
  });
  after(async () => {
    await t.stop();
    await receiver.close();
  });

  test('event type, tenant, endpoint, hook, live attempt, event, signature, log', async () => {
    const blocks = walkthroughBlocks();
    const graphql = blocks.filter((b) => b.lang === 'graphql').map((b) => b.text);
    const filterVariables = JSON.parse(blocks.find((b) => b.lang === 'json')!.text) as Record<string, unknown>;
    assert.equal(graphql.length, 6, 'six GraphQL documents in the walk-through');
    const ids: Record<string, string> = {};
    const fill = (doc: string) =>
      doc
        .replaceAll('"tnt_…"', JSON.stringify(ids.tenant ?? ''))
        .replaceAll('"ep_…"', JSON.stringify(ids.endpoint ?? ''))
        .replaceAll('http://127.0.0.1:4000/webhooks', `${receiver.url}/webhooks`);

    const [typeAndTenant, endpoint, hook, subscription, send, log] = graphql as [string, string, string, string, string, string];
    const first = await t.ok(fill(typeAndTenant));
    assert.equal(first.createEventType.__typename, 'EventTypePayload');
    ids.tenant = first.createTenant.tenant.id;

    const second = await t.ok(fill(endpoint));
    assert.equal(second.createEndpoint.__typename, 'CreateEndpointPayload', JSON.stringify(second));
    ids.endpoint = second.createEndpoint.endpoint.id;
    const secret: string = second.createEndpoint.secret;

    const third = await t.ok(fill(hook), filterVariables);
    assert.equal(third.createHook.__typename, 'HookPayload', JSON.stringify(third));

    const client = createClient({
      url: `${t.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
      retryAttempts: 0,
    });
    const live: any[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: fill(subscription) },
        {
          next: (value) => {
            if (value.errors) reject(new Error(JSON.stringify(value.errors)));
            live.push(value.data);
            if (live.length === 2) resolve();
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    await new Promise<void>((resolve) => client.on('connected', () => resolve()));
    await t.ok('{ viewer { kind } }');

    const sent = await t.ok(fill(send));
    assert.equal(sent.sendEvent.__typename, 'SendEventPayload');
    assert.equal(sent.sendEvent.deliveryCount, 1);
    const [request] = await receiver.waitFor(1);
    new Webhook(secret).verify(request!.body.toString('utf8'), request!.headers);

    await finished;
    assert.deepEqual(
      live.map((l) => l.deliveryAttempts.outcome),
      ['IN_FLIGHT', 'SUCCEEDED'],
    );
    assert.equal(live[1].deliveryAttempts.delivery.event.type, 'invoice.paid');
    await client.dispose();

    const again = await t.ok(fill(send));
    assert.equal(again.sendEvent.duplicate, true, 'the idempotency key de-duplicates');

    const read = await t.ok(fill(log));
    assert.ok(Array.isArray(read.deliveries.nodes));
    assert.equal(read.endpoint.health.successRate, 1);
  });
});
