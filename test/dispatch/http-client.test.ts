// The outbound client against hostile receivers started on 127.0.0.1:0 inside each test.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type AddressPolicy, createAddressPolicy } from '../../src/webhook/address-policy.js';
import { createHttpClient } from '../../src/dispatch/http-client.js';
import type { HttpClient, HttpClientOptions, OutboundRequest, OutboundResult } from '../../src/dispatch/http-exchange.js';
import { createThreadedHttpClient } from '../../src/dispatch/http-thread.js';

const MAX_BODY = 64 * 1024;

interface Receiver {
  port: number;
  url: string;
  /** TCP connections accepted so far. */
  connections: () => number;
  server: http.Server;
}

async function listen(server: net.Server, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

async function startReceiver(
  t: TestContext,
  handler: http.RequestListener,
  host = '127.0.0.1',
): Promise<Receiver> {
  const server = http.createServer(handler);
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  const port = await listen(server, host);
  t.after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  return { port, url: `http://${host}:${port}`, connections: () => connections, server };
}

/** A raw TCP receiver; every accepted socket is destroyed at the end of the test. */
async function startTcpReceiver(t: TestContext, onSocket: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  const port = await listen(server, '127.0.0.1');
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  });
  return port;
}

/**
 * The in-process client, or (HTTP_CLIENT_VARIANT=thread, see http-thread.test.ts) the threaded one:
 * both keep the same contract, so this one suite runs against each. A policy given as CIDRs works
 * for both; a policy object (a test double) only in process, since functions do not cross threads.
 */
const VARIANT = process.env.HTTP_CLIENT_VARIANT === 'thread' ? 'thread' : 'in-process';
const inProcessOnly = VARIANT === 'thread' ? 'a policy object cannot cross to the HTTP thread' : false;

function makeClient(
  t: TestContext,
  policy: readonly string[] | AddressPolicy = ['127.0.0.1/32'],
  options: Partial<HttpClientOptions> = {},
): HttpClient {
  let client: HttpClient;
  if (VARIANT === 'thread') {
    if (!Array.isArray(policy)) throw new Error('the threaded client takes its policy as CIDRs');
    const { policy: _ignored, ...rest } = options;
    client = createThreadedHttpClient({ allowPrivateCidrs: policy as string[], userAgent: 'Switchyard/test', ...rest });
  } else {
    const resolved = Array.isArray(policy) ? createAddressPolicy(policy) : (policy as AddressPolicy);
    client = createHttpClient({ policy: resolved, userAgent: 'Switchyard/test', ...options });
  }
  t.after(() => client.close());
  return client;
}

function get(url: string, timeoutMs = 2_000): OutboundRequest {
  return { method: 'GET', url, headers: {}, body: null, timeoutMs };
}

// Node's server adds these to every keep-alive response.
const KEEP_ALIVE = { connection: 'keep-alive', 'keep-alive': 'timeout=5' } as const;

interface Expected {
  status: number | null;
  headers: Record<string, string> | null; // without `date`
  body: Buffer | string;
  bodyTruncated: boolean;
  errorClass: OutboundResult['errorClass'];
  errorMessage: string | RegExp | null;
  firstByte: boolean;
  minDurationMs?: number;
  maxDurationMs?: number;
}

/** Asserts every field of a result; timings are checked for shape and bounds. */
function assertResult(actual: OutboundResult, expected: Expected): void {
  const { durationMs, timeToFirstByteMs, headers, errorMessage, ...rest } = actual;
  const { date: _date, ...headersWithoutDate } = headers ?? {};
  assert.deepEqual(
    { ...rest, headers: headers === null ? null : headersWithoutDate },
    {
      status: expected.status,
      headers: expected.headers,
      body: Buffer.isBuffer(expected.body) ? expected.body : Buffer.from(expected.body),
      bodyTruncated: expected.bodyTruncated,
      errorClass: expected.errorClass,
      // no client here bounds its concurrency, so nothing ever waits for a slot
      waitedMs: 0,
    },
  );
  if (expected.errorMessage instanceof RegExp) {
    assert.ok(errorMessage !== null);
    assert.match(errorMessage, expected.errorMessage);
  } else {
    assert.equal(errorMessage, expected.errorMessage);
  }
  assert.ok(Number.isFinite(durationMs) && durationMs >= 0, `durationMs ${durationMs}`);
  if (expected.firstByte) {
    assert.ok(timeToFirstByteMs !== null && timeToFirstByteMs >= 0 && timeToFirstByteMs <= durationMs);
  } else {
    assert.equal(timeToFirstByteMs, null);
  }
  if (expected.minDurationMs !== undefined) {
    assert.ok(durationMs >= expected.minDurationMs, `durationMs ${durationMs} < ${expected.minDurationMs}`);
  }
  if (expected.maxDurationMs !== undefined) {
    assert.ok(durationMs < expected.maxDurationMs, `durationMs ${durationMs} >= ${expected.maxDurationMs}`);
  }
}

test('200: returns status, lower-cased headers and body, and sends method, body and user-agent', async (t) => {
  let seen: { method?: string; userAgent?: string; contentType?: string; body?: string } = {};
  const receiver = await startReceiver(t, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      seen = {
        method: req.method,
        userAgent: req.headers['user-agent'],
        contentType: req.headers['content-type'],
        body: Buffer.concat(parts).toString(),
      };
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Receiver': 'yes', 'Content-Length': '11' });
      res.end('{"ok":true}');
    });
  });
  const client = makeClient(t);

  const result = await client.send({
    method: 'POST',
    url: `${receiver.url}/hooks`,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"type":"a.b"}'),
    timeoutMs: 2_000,
  });

  assertResult(result, {
    status: 200,
    headers: {
      ...KEEP_ALIVE,
      'set-cookie': 'a=1, b=2',
      'content-type': 'application/json',
      'x-receiver': 'yes',
      'content-length': '11',
    },
    body: '{"ok":true}',
    bodyTruncated: false,
    errorClass: null,
    errorMessage: null,
    firstByte: true,
  });
  assert.deepEqual(seen, {
    method: 'POST',
    userAgent: 'Switchyard/test',
    contentType: 'application/json',
    body: '{"type":"a.b"}',
  });
});

test('500 is a response, not an error', async (t) => {
  const receiver = await startReceiver(t, (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain', 'content-length': '4' }).end('boom');
  });
  const result = await makeClient(t).send(get(receiver.url));
  assertResult(result, {
    status: 500,
    headers: { ...KEEP_ALIVE, 'content-type': 'text/plain', 'content-length': '4' },
    body: 'boom',
    bodyTruncated: false,
    errorClass: null,
    errorMessage: null,
    firstByte: true,
  });
});

test('301 to the metadata address is returned, not followed', async (t) => {
  const receiver = await startReceiver(t, (_req, res) => {
    res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/', 'content-length': '0' }).end();
  });
  const result = await makeClient(t).send(get(receiver.url));
  assertResult(result, {
    status: 301,
    headers: { ...KEEP_ALIVE, location: 'http://169.254.169.254/latest/meta-data/', 'content-length': '0' },
    body: '',
    bodyTruncated: false,
    errorClass: null,
    errorMessage: null,
    firstByte: true,
  });
});

test('a receiver that never answers hits the deadline, and its connection is closed', async (t) => {
  const receiver = await startReceiver(t, () => {
    // never answers
  });
  const serverSocketClosed = once(receiver.server, 'request').then(([req]) =>
    once((req as http.IncomingMessage).socket, 'close'),
  );
  const result = await makeClient(t).send(get(receiver.url, 300));
  assertResult(result, {
    status: null,
    headers: null,
    body: '',
    bodyTruncated: false,
    errorClass: 'timeout',
    errorMessage: 'deadline of 300 ms exceeded',
    firstByte: false,
    minDurationMs: 299,
    maxDurationMs: 700,
  });
  await serverSocketClosed;
});

test('a receiver dripping one byte every 100 ms is cut off at the deadline', async (t) => {
  const receiver = await startReceiver(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.write('x');
    let sent = 1;
    const drip = setInterval(() => {
      res.write('x');
      sent += 1;
      if (sent >= 50) {
        clearInterval(drip);
        res.end();
      }
    }, 100);
    res.on('close', () => clearInterval(drip));
  });
  const serverResponseClosed = once(receiver.server, 'request').then(([, res]) =>
    once(res as http.ServerResponse, 'close'),
  );

  const result = await makeClient(t).send(get(receiver.url, 500));

  // How many drops arrived before the deadline depends on the scheduler; they are all there.
  const received = result.body.length;
  assert.ok(received >= 1 && received <= 7, `received ${received} bytes`);
  assertResult(result, {
    status: 200,
    headers: { ...KEEP_ALIVE, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    body: 'x'.repeat(received),
    bodyTruncated: false,
    errorClass: 'timeout',
    errorMessage: 'deadline of 500 ms exceeded',
    firstByte: true,
    minDurationMs: 499,
    maxDurationMs: 900,
  });
  await serverResponseClosed;
});

test('a connection reset before the response is a network error', async (t) => {
  const receiver = await startReceiver(t, (req) => {
    req.socket.resetAndDestroy();
  });
  const result = await makeClient(t).send(get(receiver.url));
  assertResult(result, {
    status: null,
    headers: null,
    body: '',
    bodyTruncated: false,
    errorClass: 'network',
    errorMessage: /ECONNRESET|other side closed/,
    firstByte: false,
  });
});

test('a connection reset in the middle of the body keeps what arrived', async (t) => {
  const receiver = await startReceiver(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
    res.write('partial', () => req.socket.resetAndDestroy());
  });
  const result = await makeClient(t).send(get(receiver.url));
  assertResult(result, {
    status: 200,
    headers: { ...KEEP_ALIVE, 'content-type': 'text/plain', 'content-length': '100' },
    body: result.body.length === 0 ? '' : 'partial', // the reset may overtake the bytes
    bodyTruncated: false,
    errorClass: 'network',
    errorMessage: /ECONNRESET|other side closed/,
    firstByte: true,
  });
});

test('a 10 MiB response keeps the first 64 KiB and stops reading', async (t) => {
  const big = Buffer.alloc(10 * 1024 * 1024, 'a');
  const receiver = await startReceiver(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(big.length) });
    res.end(big);
  });
  const serverResponseClosed = once(receiver.server, 'request').then(([, res]) =>
    once(res as http.ServerResponse, 'close'),
  );

  const result = await makeClient(t).send(get(receiver.url));

  assertResult(result, {
    status: 200,
    headers: { ...KEEP_ALIVE, 'content-type': 'text/plain', 'content-length': String(big.length) },
    body: big.subarray(0, MAX_BODY),
    bodyTruncated: true,
    errorClass: null,
    errorMessage: null,
    firstByte: true,
    maxDurationMs: 1_000,
  });
  // The client hung up instead of draining: the server's response ends closed, not finished.
  await serverResponseClosed;
});

test('a gzip bomb is stored as raw compressed bytes, never inflated', async (t) => {
  const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
  assert.ok(bomb.length <= MAX_BODY);
  const receiver = await startReceiver(t, (_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'content-length': String(bomb.length),
    });
    res.end(bomb);
  });
  const result = await makeClient(t).send(get(receiver.url));
  assertResult(result, {
    status: 200,
    headers: {
      ...KEEP_ALIVE,
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'content-length': String(bomb.length),
    },
    body: bomb,
    bodyTruncated: false,
    errorClass: null,
    errorMessage: null,
    firstByte: true,
  });
  assert.deepEqual([...result.body.subarray(0, 2)], [0x1f, 0x8b]);
});

test('a closed port is a connect error', async (t) => {
  const probe = net.createServer();
  const port = await listen(probe, '127.0.0.1');
  probe.close();
  await once(probe, 'close');

  const result = await makeClient(t).send(get(`http://127.0.0.1:${port}/`));
  assertResult(result, {
    status: null,
    headers: null,
    body: '',
    bodyTruncated: false,
    errorClass: 'connect',
    errorMessage: `connect ECONNREFUSED 127.0.0.1:${port}`,
    firstByte: false,
  });
});

test('an IP literal outside the allow-list is blocked before any connection', async (t) => {
  // A receiver really listening on 127.0.0.2 makes "no connection" meaningful; where the OS has
  // no 127.0.0.2 (macOS), 127.0.0.1 still proves the request was refused before connecting.
  let receiver: Receiver;
  try {
    receiver = await startReceiver(t, (_req, res) => res.end('should not happen'), '127.0.0.2');
  } catch {
    receiver = await startReceiver(t, (_req, res) => res.end('should not happen'));
  }
  const result = await makeClient(t).send(get(`http://127.0.0.2:${receiver.port}/`));
  assertResult(result, {
    status: null,
    headers: null,
    body: '',
    bodyTruncated: false,
    errorClass: 'blocked',
    errorMessage: '127.0.0.2 is a loopback address',
    firstByte: false,
  });
  assert.equal(receiver.connections(), 0);
});

test('a host name resolving only to refused addresses is blocked before any connection', async (t) => {
  const receiver = await startReceiver(t, (_req, res) => res.end('should not happen'));
  const result = await makeClient(t, []).send(get(`http://localhost:${receiver.port}/`));
  assertResult(result, {
    status: null,
    headers: null,
    body: '',
    bodyTruncated: false,
    errorClass: 'blocked',
    // localhost may resolve to 127.0.0.1, ::1, or both, in either order.
    errorMessage: /^localhost resolves only to refused addresses: (127\.0\.0\.1|::1) is a loopback address/,
    firstByte: false,
  });
  assert.equal(receiver.connections(), 0);
});

test('a host name is connected to through its allowed addresses only', async (t) => {
  const receiver = await startReceiver(t, (_req, res) => res.writeHead(204).end());
  // ::1 is allowed too because localhost may list it first; nothing listens there, so the
  // connection can only succeed through 127.0.0.1.
  const client = makeClient(t, ['127.0.0.1/32', '::1/128']);
  const result = await client.send(get(`http://localhost:${receiver.port}/`));
  assertResult(result, {
    status: 204,
    headers: { ...KEEP_ALIVE },
    body: '',
    bodyTruncated: false,
    errorClass: null,
    errorMessage: null,
    firstByte: true,
  });
});

test('the connected address is checked again before anything is written (DNS rebinding)', { skip: inProcessOnly }, async (t) => {
  let bytesReceived = 0;
  let onConnected: (socket: net.Socket) => void = () => {};
  const connected = new Promise<net.Socket>((resolve) => {
    onConnected = resolve;
  });
  const port = await startTcpReceiver(t, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      bytesReceived += chunk.length;
    });
    onConnected(socket);
  });
  // Allows the first look (the host) and refuses the second (the connected socket), as a
  // resolver that answers differently between lookup and connect would.
  let checks = 0;
  const flipping: AddressPolicy = {
    check: (address) =>
      ++checks === 1 ? { allowed: true } : { allowed: false, reason: `${address} is refused on the second look` },
  };

  const result = await makeClient(t, flipping).send(get(`http://127.0.0.1:${port}/`));

  assertResult(result, {
    status: null,
    headers: null,
    body: '',
    bodyTruncated: false,
    errorClass: 'blocked',
    errorMessage: '127.0.0.1 is refused on the second look',
    firstByte: false,
  });
  assert.equal(checks, 2);
  const socket = await connected;
  if (!socket.destroyed) await once(socket, 'close');
  assert.equal(bytesReceived, 0);
});

test('https to a plain-HTTP receiver is a TLS error', async (t) => {
  const receiver = await startReceiver(t, (_req, res) => res.end('plain'));
  const result = await makeClient(t).send(get(`https://127.0.0.1:${receiver.port}/`));
  assertResult(result, {
    status: null,
    headers: null,
    body: '',
    bodyTruncated: false,
    errorClass: 'tls',
    errorMessage: /^TLS handshake failed: |ECONNRESET|socket disconnected/,
    firstByte: false,
  });
});

test('a name that does not resolve is a DNS error', async (t) => {
  // .invalid never resolves (RFC 6761).
  const result = await makeClient(t).send(get('http://switchyard-test.invalid/'));
  assertResult(result, {
    status: null,
    headers: null,
    body: '',
    bodyTruncated: false,
    errorClass: 'dns',
    errorMessage: /^getaddrinfo (ENOTFOUND|EAI_AGAIN) switchyard-test\.invalid$/,
    firstByte: false,
  });
});

test('two sequential requests to one origin reuse one keep-alive connection', async (t) => {
  const receiver = await startReceiver(t, (_req, res) => res.end('ok'));
  const client = makeClient(t);
  const first = await client.send(get(`${receiver.url}/one`));
  const second = await client.send(get(`${receiver.url}/two`));
  assert.deepEqual([first.status, second.status], [200, 200]);
  assert.deepEqual([first.errorClass, second.errorClass], [null, null]);
  assert.equal(receiver.connections(), 1);
});

test("the caller's abort rejects with its reason and closes the connection", async (t) => {
  const receiver = await startReceiver(t, () => {
    // never answers
  });
  const requestArrived = once(receiver.server, 'request');
  const controller = new AbortController();
  const pending = makeClient(t).send(get(receiver.url), controller.signal);
  const [req] = (await requestArrived) as [http.IncomingMessage];
  const reason = new Error('dispatcher stopping');
  controller.abort(reason);
  await assert.rejects(pending, (error) => error === reason);
  if (!req.socket.destroyed) await once(req.socket, 'close');
});
