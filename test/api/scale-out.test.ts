// Scale-out: an API node and a worker node on one PostgreSQL database, live events through Redis.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup } from '../helpers/fixtures.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const redisUrl = process.env.SWITCHYARD_TEST_REDIS_URL;
const pgUrl = process.env.SWITCHYARD_TEST_DATABASE_URL;

describe('scale-out: API node + worker node, PostgreSQL + Redis', { skip: !redisUrl || !pgUrl ? 'needs SWITCHYARD_TEST_DATABASE_URL and SWITCHYARD_TEST_REDIS_URL' : false }, () => {
  let api: TestApp;
  let worker: TestApp;
  let receiver: Receiver;
  before(async () => {
    const prefix = `sy-test-${randomBytes(4).toString('hex')}:`;
    api = await startTestApp({ dialect: 'postgres', env: { SWITCHYARD_ROLE: 'api', SWITCHYARD_REDIS_URL: redisUrl!, SWITCHYARD_REDIS_PREFIX: prefix } });
    worker = await startTestApp({
      env: {
        SWITCHYARD_ROLE: 'worker',
        SWITCHYARD_DATABASE_URL: api.config.databaseUrl!,
        SWITCHYARD_REDIS_URL: redisUrl!,
        SWITCHYARD_REDIS_PREFIX: prefix,
        SWITCHYARD_ENCRYPTION_KEY: api.config.encryptionKey!,
      },
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await worker?.stop();
    await api?.stop();
    await receiver?.close();
  });

  test('an event accepted by the API node is delivered by the worker, and a subscriber on the API node sees the attempt', async () => {
    const s = await setup(api, `${receiver.url}/scale`);
    const client = createClient({
      url: `${api.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
      retryAttempts: 0,
    });
    const seen = new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no attempt seen on the API node')), 10_000);
      client.subscribe(
        { query: `subscription($f: AttemptSubscriptionFilter) { deliveryAttempts(filter: $f) { eventId outcome response { status } } }`, variables: { f: { tenantId: s.tenantId } } },
        {
          next: (value) => {
            clearTimeout(timer);
            resolve(value.data);
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    await new Promise<void>((resolve) => client.on('connected', () => resolve()));
    await api.ok('{ viewer { kind } }');
    const started = performance.now();
    const sent = await sendEvent(api, s.tenantId, { id: 'scale-1' });
    const [request] = await receiver.waitFor(1);
    // the worker was woken through Redis, not by its poll interval
    assert.ok(request!.receivedAt - started < 900, `delivered after ${(request!.receivedAt - started).toFixed(0)} ms`);
    const data = await seen;
    assert.equal(data.deliveryAttempts.eventId, sent.event.id);
    assert.equal(data.deliveryAttempts.outcome, 'SUCCEEDED');
    await client.dispose();
  });
});
