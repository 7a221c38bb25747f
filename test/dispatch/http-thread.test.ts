// The outbound client on its own thread keeps the in-process client's whole contract: the same
// suite, run against createThreadedHttpClient, plus what only the thread has (its concurrency gate,
// the response as stored).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createThreadedHttpClient, type ThreadedHttpClient } from '../../src/dispatch/http-thread.js';
import type { OutboundRequest } from '../../src/dispatch/http-exchange.js';
import { body, gate, startReceiver, type Receiver } from '../helpers/receiver.js';

process.env.HTTP_CLIENT_VARIANT = 'thread';
await import('./http-client.test.js');

function post(url: string, key?: string): OutboundRequest {
  return { method: 'POST', url, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}'), timeoutMs: 5_000, ...(key ? { key } : {}) };
}

describe('the HTTP thread', () => {
  let receiver: Receiver;
  let client: ThreadedHttpClient;
  before(async () => {
    receiver = await startReceiver();
    client = createThreadedHttpClient({ allowPrivateCidrs: ['127.0.0.1/32'], maxConcurrent: 3, maxConcurrentPerKey: 2 });
    await client.ready;
  });
  after(async () => {
    await client.close();
    await receiver.close();
  });

  test('runs at most maxConcurrent at once and maxConcurrentPerKey of a key; the rest start as slots free, in order, with their wait reported', async () => {
    const held = gate();
    receiver.setDefault(held.behaviour);
    const seenBefore = receiver.requests.length;
    const sent = [post(`${receiver.url}/a1`, 'a'), post(`${receiver.url}/a2`, 'a'), post(`${receiver.url}/a3`, 'a'), post(`${receiver.url}/b1`, 'b'), post(`${receiver.url}/b2`, 'b')].map(
      (request) => client.send(request),
    );
    await receiver.waitFor(seenBefore + 3);
    // a1 and a2 fill key a's two slots; b1 takes the third and last slot overall
    assert.deepEqual(receiver.requests.slice(seenBefore).map((r) => r.url).sort(), ['/a1', '/a2', '/b1']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(receiver.requests.length - seenBefore, 3, 'nothing else starts while every slot is taken');
    held.open();
    const results = await Promise.all(sent);
    assert.deepEqual(receiver.requests.slice(seenBefore).map((r) => r.url).sort(), ['/a1', '/a2', '/a3', '/b1', '/b2']);
    assert.ok(results.every((r) => r.status === 200));
    const [a1, , a3, , b2] = results;
    assert.equal(a1!.waitedMs, 0);
    assert.ok(a3!.waitedMs >= 40 && b2!.waitedMs >= 40, `waited ${a3!.waitedMs} and ${b2!.waitedMs} ms`);
  });

  test("a request waiting for a slot that is aborted rejects with the caller's reason and is never sent", async () => {
    const held = gate();
    receiver.setDefault(held.behaviour);
    const seenBefore = receiver.requests.length;
    const running = [1, 2, 3].map((n) => client.send(post(`${receiver.url}/run${n}`, `k${n}`)));
    await receiver.waitFor(seenBefore + 3);
    const controller = new AbortController();
    const waiting = client.send(post(`${receiver.url}/never`, 'k9'), controller.signal);
    const reason = new Error('given up');
    controller.abort(reason);
    await assert.rejects(waiting, (error) => error === reason);
    held.open();
    await Promise.all(running);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(!receiver.requests.some((r) => r.url === '/never'), 'the aborted request never reached the receiver');
  });

  test('a thread that dies fails what it held as network errors, and the next request starts a new one', async () => {
    const dying = createThreadedHttpClient({ allowPrivateCidrs: ['127.0.0.1/32'], threadEntry: new URL('../helpers/http-thread-dying.ts', import.meta.url) });
    try {
      await dying.ready;
      const held = gate();
      receiver.setDefault(held.behaviour);
      const seenBefore = receiver.requests.length;
      const inFlight = [dying.send(post(`${receiver.url}/held1`)), dying.sendAndStore(post(`${receiver.url}/held2`), undefined, '{}')];
      await receiver.waitFor(seenBefore + 2);
      const killer = dying.send(post(`${receiver.url}/die`));
      const [first, second, third] = await Promise.all([...inFlight, killer]);
      for (const result of [first!, second!, third!]) {
        assert.equal(result.status, null);
        assert.equal(result.errorClass, 'network');
        assert.match(result.errorMessage ?? '', /the HTTP thread exited \(code 3\)/);
      }
      held.open();
      receiver.setDefault(body(200, 'again'));
      const after = await dying.sendAndStore(post(`${receiver.url}/after`), undefined, '{}');
      assert.equal(after.status, 200);
      assert.equal(after.body, 'again');
    } finally {
      await dying.close();
    }
  });

  test('the thread loads whatever the working directory (npm start from elsewhere)', async () => {
    const child = fileURLToPath(new URL('../helpers/http-thread-child.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), child], { cwd: tmpdir(), timeout: 30_000 });
    assert.equal(stdout.trim(), 'ready');
  });

  test('sendAndStore answers with the response as the attempt log stores it', async () => {
    receiver.setDefault(body(429, 'slow down', { 'retry-after': '7', 'x-seen': 'yes' }));
    const text = await client.sendAndStore(post(`${receiver.url}/text`), undefined, '{}');
    assert.equal(text.status, 429);
    assert.equal(text.retryAfter, '7');
    assert.equal(JSON.parse(text.headersJson!)['x-seen'], 'yes');
    assert.deepEqual([text.body, text.bodyEncoding, text.bodyTruncated, text.errorClass], ['slow down', 'utf8', false, null]);
    assert.deepEqual(receiver.requests.at(-1)!.body.toString(), '{}', 'the body text crossed as it was given');

    receiver.setDefault(body(200, Buffer.from([0xff, 0x00, 0x01])));
    const binary = await client.sendAndStore(post(`${receiver.url}/binary`));
    assert.deepEqual([binary.body, binary.bodyEncoding], [Buffer.from([0xff, 0x00, 0x01]).toString('base64'), 'base64']);

    const refused = await client.sendAndStore(post('http://127.0.0.1:1/closed'));
    assert.deepEqual([refused.status, refused.headersJson, refused.errorClass], [null, null, 'connect']);
  });
});
