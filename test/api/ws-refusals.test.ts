// On graphql-ws, a document refused by parsing, validation or a limit answers an `error` message for
// that operation id; the socket and the live subscription beside it carry on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup, type Setup } from '../helpers/fixtures.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

interface Message {
  id?: string;
  type: string;
  payload?: any;
}

const REFUSED: Record<string, string> = {
  'a syntax error': '{ endpoints { nodes { id }',
  'depth 50': `query { ${'endpoints { nodes { tenant { '.repeat(17)} id ${'} } }'.repeat(17)} }`,
  '1,000 aliases': `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: viewer { __typename }`).join(' ')} }`,
  'a fragment bomb': `${Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F30 on Query { __typename } { ...F0 }`,
  '21 directives': `{ __typename ${'@include(if: true) '.repeat(21)} }`,
  'brackets nested 5,000 deep': `{ nodes(ids: ${'['.repeat(5000)}"x"${']'.repeat(5000)}) { id } }`,
  'a cost over the limit': `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: endpoints { nodes { tenant { endpoints { nodes { tenant { endpoints { nodes { id } } } } } } } }`).join(' ')} }`,
};

describe('graphql-ws: refused documents answer per operation', () => {
  let t: TestApp;
  let receiver: Receiver;
  let s: Setup;
  before(async () => {
    t = await startTestApp();
    receiver = await startReceiver();
    s = await setup(t, receiver.url);
  });
  after(async () => {
    await t.stop();
    await receiver.close();
  });

  test('each refusal is an error for its id; the live subscription still gets the next attempt', async () => {
    const socket = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const inbox: Message[] = [];
    const waiters = new Set<() => void>();
    let closed: number | null = null;
    socket.on('message', (raw) => {
      inbox.push(JSON.parse(String(raw)) as Message);
      for (const waiter of [...waiters]) waiter();
    });
    socket.on('close', (code) => {
      closed = code;
      for (const waiter of [...waiters]) waiter();
    });
    const next = (accept: (m: Message) => boolean, timeoutMs = 5_000) =>
      new Promise<Message>((resolve, reject) => {
        const timer = setTimeout(() => done(() => reject(new Error(`no message in ${timeoutMs} ms; inbox ${JSON.stringify(inbox).slice(0, 500)}`))), timeoutMs);
        const done = (then: () => void) => {
          clearTimeout(timer);
          waiters.delete(look);
          then();
        };
        const look = () => {
          const index = inbox.findIndex(accept);
          if (index >= 0) done(() => resolve(inbox.splice(index, 1)[0]!));
          else if (closed !== null) done(() => reject(new Error(`the socket closed with ${closed}`)));
        };
        waiters.add(look);
        look();
      });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    await next((m) => m.type === 'connection_ack');
    socket.send(
      JSON.stringify({ id: 'live', type: 'subscribe', payload: { query: 'subscription { deliveryAttempts { id outcome } }' } }),
    );

    for (const [name, query] of Object.entries(REFUSED)) {
      const id = `refused-${name}`;
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
      const answer = await next((m) => m.id === id);
      assert.ok(answer.type === 'error' || (answer.type === 'next' && answer.payload.errors?.length), `${name}: ${JSON.stringify(answer).slice(0, 300)}`);
      const errors = answer.type === 'error' ? answer.payload : answer.payload.errors;
      assert.ok(!JSON.stringify(errors).includes('Unexpected error.'), `${name}: ${JSON.stringify(errors).slice(0, 300)}`);
      assert.equal(closed, null, `${name}: the socket is still open`);
    }

    await sendEvent(t, s.tenantId, { id: 'after-refusals' });
    const attempt = await next((m) => m.id === 'live' && m.type === 'next' && m.payload.data?.deliveryAttempts?.outcome === 'SUCCEEDED', 10_000);
    assert.ok(attempt.payload.data.deliveryAttempts.id);
    socket.close(1000);
  });
});
