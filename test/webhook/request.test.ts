import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CloudEvent, HTTP, type CloudEventV1 } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import {
  CLOUDEVENTS_SOURCE_PREFIX,
  RequestBuildError,
  buildRequest,
  type BuiltRequest,
  type HttpMethod,
  type PayloadFormat,
  type ReceiverAuth,
  type RequestContext,
} from '../../src/webhook/request.js';

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;
const SECRET = newSecret();
const OLD_SECRET = newSecret();

// Big enough that JSON.parse would round it: proves the producer's text is passed through verbatim.
const PAYLOAD_JSON = '{"id": 42, "amount": 12345678901234567890, "customer": {"id": "cus_1", "name": "Zoë"}}';
const PAYLOAD = JSON.parse(PAYLOAD_JSON) as unknown;
const OCCURRED_AT = new Date('2026-01-02T03:04:05.678Z');
const CREATED_AT = new Date('2026-01-02T03:04:06.000Z');

interface Overrides {
  event?: Partial<RequestContext['event']>;
  hook?: Partial<RequestContext['hook']>;
  endpoint?: Partial<RequestContext['endpoint']>;
}

/** standardwebhooks checks webhook-timestamp against the real clock, so every context is signed "now". */
function makeContext(overrides: Overrides = {}): RequestContext {
  return {
    event: {
      id: 'msg_01JABCDEF',
      type: 'invoice.paid',
      payload: PAYLOAD,
      payloadJson: PAYLOAD_JSON,
      channels: ['billing', 'eu'],
      occurredAt: OCCURRED_AT,
      createdAt: CREATED_AT,
      ...overrides.event,
    },
    hook: {
      id: 'hook_01',
      name: 'Invoices',
      method: 'POST',
      path: null,
      format: 'STANDARD',
      transform: null,
      template: null,
      settings: { folder: 'inbox', nested: { deep: 'x' } },
      secrets: {},
      headers: {},
      ...overrides.hook,
    },
    endpoint: {
      id: 'ep_01',
      url: 'https://receiver.test/hooks',
      auth: { type: 'NONE' },
      headers: {},
      secrets: [SECRET],
      ...overrides.endpoint,
    },
    tenant: { id: 'tnt_01ACME', name: 'Acme' },
    deliveryId: 'dlv_01',
    timestamp: Math.floor(Date.now() / 1000),
    userAgent: 'Switchyard/0.1.0',
  };
}

function bodyText(request: BuiltRequest): string {
  assert.ok(request.body, 'expected a body');
  return request.body.toString('utf8');
}

function verify(request: BuiltRequest, secret: string): void {
  // verify() throws unless one signature entry matches the exact bytes.
  new Webhook(secret).verify(request.body?.toString('utf8') ?? '', request.headers);
}

function toCloudEvent(request: BuiltRequest): CloudEventV1<unknown> {
  const parsed = HTTP.toEvent<unknown>({ headers: request.headers, body: request.body?.toString('utf8') });
  assert.ok(!Array.isArray(parsed), 'expected a single event, not a batch');
  // toEvent does not validate; the constructor in strict mode checks the spec's attribute rules (source is a URI-reference, …).
  assert.doesNotThrow(() => new CloudEvent({ ...parsed }, true));
  return parsed;
}

async function buildError(context: RequestContext): Promise<RequestBuildError> {
  try {
    await buildRequest(context);
  } catch (error) {
    assert.ok(error instanceof RequestBuildError, `expected RequestBuildError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected buildRequest to throw');
}

const SOURCE = `${CLOUDEVENTS_SOURCE_PREFIX}tnt_01ACME`;

describe('buildRequest: body by format', () => {
  const cases: { format: PayloadFormat; contentType: string; check: (request: BuiltRequest) => void }[] = [
    {
      format: 'STANDARD',
      contentType: 'application/json',
      check: (request) => {
        const text = bodyText(request);
        assert.deepEqual(JSON.parse(text), {
          type: 'invoice.paid',
          timestamp: OCCURRED_AT.toISOString(),
          data: PAYLOAD,
          settings: { folder: 'inbox', nested: { deep: 'x' } },
        });
        assert.ok(text.includes(`"data":${PAYLOAD_JSON}`), 'payload spliced in as sent');
      },
    },
    {
      format: 'RAW',
      contentType: 'application/json',
      check: (request) => assert.equal(bodyText(request), PAYLOAD_JSON),
    },
    {
      format: 'CLOUDEVENTS',
      contentType: 'application/cloudevents+json',
      check: (request) => {
        const event = toCloudEvent(request);
        assert.equal(event.specversion, '1.0');
        assert.equal(event.id, 'msg_01JABCDEF');
        assert.equal(event.type, 'invoice.paid');
        assert.equal(event.source, SOURCE);
        assert.equal(event.datacontenttype, 'application/json');
        assert.equal(new Date(String(event.time)).toISOString(), OCCURRED_AT.toISOString());
        assert.deepEqual(event.data, PAYLOAD);
        assert.ok(!Object.keys(request.headers).some((name) => name.startsWith('ce-')), 'structured mode has no ce-* headers');
      },
    },
    {
      format: 'CLOUDEVENTS_BINARY',
      contentType: 'application/json',
      check: (request) => {
        assert.equal(bodyText(request), PAYLOAD_JSON);
        assert.equal(request.headers['ce-specversion'], '1.0');
        const event = toCloudEvent(request);
        assert.equal(event.id, 'msg_01JABCDEF');
        assert.equal(event.type, 'invoice.paid');
        assert.equal(event.source, SOURCE);
        assert.equal(new Date(String(event.time)).toISOString(), OCCURRED_AT.toISOString());
        assert.deepEqual(event.data, PAYLOAD);
      },
    },
  ];

  for (const { format, contentType, check } of cases) {
    it(`${format}: body, content-type, signature`, async () => {
      const request = await buildRequest(makeContext({ hook: { format } }));
      assert.equal(request.method, 'POST');
      assert.equal(request.url, 'https://receiver.test/hooks');
      assert.equal(request.headers['content-type'], contentType);
      assert.equal(request.headers['webhook-id'], 'dlv_01');
      assert.equal(request.headers['webhook-event-id'], 'msg_01JABCDEF');
      assert.equal(request.headers['user-agent'], 'Switchyard/0.1.0');
      check(request);
      verify(request, SECRET);
    });
  }

  it('keeps webhook-id stable across attempts while the timestamp moves', async () => {
    const first = makeContext();
    const second = { ...makeContext(), timestamp: first.timestamp + 5 };
    const [a, b] = await Promise.all([buildRequest(first), buildRequest(second)]);
    assert.equal(a.headers['webhook-id'], b.headers['webhook-id']);
    assert.notEqual(a.headers['webhook-timestamp'], b.headers['webhook-timestamp']);
    assert.notEqual(a.headers['webhook-signature'], b.headers['webhook-signature']);
  });

  it('gives each delivery of one event its own webhook-id and the same webhook-event-id', async () => {
    const [a, b] = await Promise.all([buildRequest(makeContext()), buildRequest({ ...makeContext(), deliveryId: 'dlv_02' })]);
    assert.notEqual(a.headers['webhook-id'], b.headers['webhook-id']);
    assert.equal(a.headers['webhook-event-id'], b.headers['webhook-event-id']);
    assert.notEqual(a.headers['webhook-signature'], b.headers['webhook-signature'], 'the signature covers the delivery id');
  });
});

describe('buildRequest: hook settings', () => {
  it('STANDARD without settings keeps the three-member envelope', async () => {
    const request = await buildRequest(makeContext({ hook: { settings: {} } }));
    assert.deepEqual(Object.keys(JSON.parse(bodyText(request))), ['type', 'timestamp', 'data']);
  });

  it('CloudEvents carry them as the hooksettings extension (JSON text), data stays the payload', async () => {
    const structured = toCloudEvent(await buildRequest(makeContext({ hook: { format: 'CLOUDEVENTS' } })));
    assert.deepEqual(JSON.parse(String(structured.hooksettings)), { folder: 'inbox', nested: { deep: 'x' } });
    assert.deepEqual(structured.data, PAYLOAD);
    const binary = await buildRequest(makeContext({ hook: { format: 'CLOUDEVENTS_BINARY' } }));
    assert.deepEqual(JSON.parse(decodeURIComponent(binary.headers['ce-hooksettings'] ?? '')), { folder: 'inbox', nested: { deep: 'x' } });
    const without = toCloudEvent(await buildRequest(makeContext({ hook: { format: 'CLOUDEVENTS', settings: {} } })));
    assert.equal(without.hooksettings, undefined);
  });
});

describe('buildRequest: signatures', () => {
  it('signs with every valid secret while a rotation overlaps; each verifies alone', async () => {
    const request = await buildRequest(makeContext({ endpoint: { secrets: [SECRET, OLD_SECRET] } }));
    const entries = request.headers['webhook-signature']?.split(' ') ?? [];
    assert.equal(entries.length, 2);
    for (const entry of entries) assert.match(entry, /^v1,[A-Za-z0-9+/]+=*$/);
    verify(request, SECRET);
    verify(request, OLD_SECRET);
    assert.throws(() => verify(request, newSecret()), /No matching signature/);
  });

  it('a changed body no longer verifies', async () => {
    const request = await buildRequest(makeContext());
    const tampered = { ...request, body: Buffer.from(bodyText(request).replace('42', '43')) };
    assert.throws(() => verify(tampered, SECRET), /No matching signature/);
  });
});

describe('buildRequest: receiver auth and redaction', () => {
  const cases: { name: string; auth: ReceiverAuth; header: string | null; value: string | null }[] = [
    { name: 'NONE', auth: { type: 'NONE' }, header: null, value: null },
    {
      name: 'BASIC',
      auth: { type: 'BASIC', username: 'alice', password: 'pa:ss wörd' },
      header: 'authorization',
      value: `Basic ${Buffer.from('alice:pa:ss wörd', 'utf8').toString('base64')}`,
    },
    { name: 'BEARER', auth: { type: 'BEARER', token: 'tok_secret' }, header: 'authorization', value: 'Bearer tok_secret' },
    {
      name: 'API_KEY',
      auth: { type: 'API_KEY', headerName: 'X-Api-Key', key: 'key_secret' },
      header: 'x-api-key',
      value: 'key_secret',
    },
  ];

  for (const { name, auth, header, value } of cases) {
    it(`${name}: sends the credential and redacts it in the log copy`, async () => {
      const request = await buildRequest(makeContext({ endpoint: { auth, headers: { 'X-Trace': 't1' } } }));
      if (header === null) {
        assert.equal(request.headers.authorization, undefined);
      } else {
        assert.equal(request.headers[header], value);
        assert.equal(request.redactedHeaders[header], '[redacted]');
      }
      assert.equal(request.redactedHeaders['webhook-signature'], '[redacted]');
      assert.match(request.headers['webhook-signature'] ?? '', /^v1,/);
      // Everything that is not a credential is logged as sent.
      for (const [key, sent] of Object.entries(request.headers)) {
        if (key === header || key === 'webhook-signature') continue;
        assert.equal(request.redactedHeaders[key], sent, key);
      }
      assert.deepEqual(Object.keys(request.redactedHeaders), Object.keys(request.headers));
      assert.ok(!JSON.stringify(request.redactedHeaders).includes('secret'), 'no secret in the log copy');
    });
  }
});

describe('buildRequest: static headers', () => {
  it('adds static headers but never lets them override protocol, framing or auth headers', async () => {
    const context = makeContext({
      endpoint: {
        auth: { type: 'BEARER', token: 'real' },
        headers: {
          'X-Custom': 'kept',
          'Webhook-Id': 'forged',
          'webhook-signature': 'v1,forged',
          'Webhook-Timestamp': '1',
          'Content-Type': 'text/plain',
          'Content-Length': '1',
          Host: 'evil.test',
          Authorization: 'Bearer forged',
          'Transfer-Encoding': 'chunked',
          Connection: 'upgrade',
          'User-Agent': 'Custom/1.0',
        },
      },
    });
    const request = await buildRequest(context);
    assert.equal(request.headers['x-custom'], 'kept');
    assert.equal(request.headers['webhook-id'], 'dlv_01');
    assert.equal(request.headers['webhook-timestamp'], String(context.timestamp));
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers.authorization, 'Bearer real');
    assert.equal(request.headers['user-agent'], 'Switchyard/0.1.0', 'a stored user-agent is ignored: it is Switchyard\'s own');
    for (const name of ['content-length', 'host', 'transfer-encoding', 'connection']) {
      assert.equal(request.headers[name], undefined, name);
    }
    assert.ok(Object.keys(request.headers).every((name) => name === name.toLowerCase()), 'names are lower-cased');
    verify(request, SECRET);
  });

  it('protects the api-key header and ce-* headers it set', async () => {
    const request = await buildRequest(
      makeContext({
        hook: { format: 'CLOUDEVENTS_BINARY' },
        endpoint: {
          auth: { type: 'API_KEY', headerName: 'X-Api-Key', key: 'real' },
          headers: { 'x-api-key': 'forged', 'ce-id': 'forged', 'ce-extra': 'ok' },
        },
      }),
    );
    assert.equal(request.headers['x-api-key'], 'real');
    assert.equal(request.headers['ce-id'], 'msg_01JABCDEF');
    assert.equal(request.headers['ce-extra'], 'ok');
  });

  it('with auth NONE a static Authorization is sent, and still redacted in the log', async () => {
    const request = await buildRequest(makeContext({ endpoint: { headers: { Authorization: 'Token hand-made' } } }));
    assert.equal(request.headers.authorization, 'Token hand-made');
    assert.equal(request.redactedHeaders.authorization, '[redacted]');
  });

  it('an api-key header name that collides with a protocol header does not clobber it', async () => {
    const request = await buildRequest(
      makeContext({ endpoint: { auth: { type: 'API_KEY', headerName: 'Content-Type', key: 'key_secret' } } }),
    );
    assert.equal(request.headers['content-type'], 'application/json');
    assert.ok(!Object.values(request.headers).includes('key_secret'));
  });
});

describe('buildRequest: transform', () => {
  const transform = `{
    "kind": event.type,
    "when": event.occurredAt,
    "channels": event.channels,
    "invoice": data.id,
    "customer": data.customer.name,
    "folder": settings.folder,
    "hook": hook.name,
    "tenant": tenant.id
  }`;
  const expected = {
    kind: 'invoice.paid',
    when: OCCURRED_AT.toISOString(),
    channels: ['billing', 'eu'],
    invoice: 42,
    customer: 'Zoë',
    folder: 'inbox',
    hook: 'Invoices',
    tenant: 'tnt_01ACME',
  };

  for (const format of ['STANDARD', 'RAW'] as const) {
    it(`${format}: the result replaces the whole body`, async () => {
      const request = await buildRequest(makeContext({ hook: { format, transform } }));
      assert.deepEqual(JSON.parse(bodyText(request)), expected);
      assert.equal(request.headers['content-type'], 'application/json');
      verify(request, SECRET);
    });
  }

  it('CLOUDEVENTS: the result becomes data of the structured event', async () => {
    const request = await buildRequest(makeContext({ hook: { format: 'CLOUDEVENTS', transform } }));
    const event = toCloudEvent(request);
    assert.deepEqual(event.data, expected);
    assert.equal(event.id, 'msg_01JABCDEF');
    verify(request, SECRET);
  });

  it('CLOUDEVENTS_BINARY: the result is the body (data)', async () => {
    const request = await buildRequest(makeContext({ hook: { format: 'CLOUDEVENTS_BINARY', transform } }));
    assert.deepEqual(toCloudEvent(request).data, expected);
    verify(request, SECRET);
  });

  it('an explicit null result sends a JSON null', async () => {
    const request = await buildRequest(makeContext({ hook: { transform: 'null' } }));
    assert.equal(bodyText(request), 'null');
  });

  it('the same expression serves many events (compiled once, evaluated per event)', async () => {
    const ids = [1, 2, 3];
    const bodies = await Promise.all(
      ids.map((id) =>
        buildRequest(makeContext({ event: { payload: { id }, payloadJson: `{"id":${id}}` }, hook: { transform: 'data.id * 10' } })),
      ),
    );
    assert.deepEqual(bodies.map(bodyText), ['10', '20', '30']);
  });

  const failures: { name: string; transform: string; code: RegExp | undefined; message: RegExp; position: boolean }[] = [
    { name: 'syntax error', transform: '{"a": data.id', code: /^S0/, message: /syntax error at position \d+/, position: true },
    { name: 'runtime error', transform: '$number("not a number")', code: /^D3030$/, message: /failed at position \d+ \(D3030\)/, position: true },
    { name: 'type error', transform: 'data.customer.name + 1', code: /^T2001$/, message: /T2001/, position: true },
    { name: 'undefined result', transform: 'data.noSuchField', code: undefined, message: /no value/, position: false },
    {
      name: 'runaway recursion',
      transform: '($f := function($n) { 1 + $f($n + 1) }; $f(0))',
      code: /^D101[12]$/,
      message: /D101[12]/,
      position: false,
    },
    {
      name: 'infinite tail loop (timeout)',
      transform: '($loop := function($n) { $loop($n + 1) }; $loop(0))',
      code: /^D101[12]$/,
      message: /D101[12]/,
      position: false,
    },
    { name: 'lambda result', transform: 'function($x) { $x }', code: undefined, message: /not JSON/, position: false },
    { name: 'built-in function inside the result', transform: '{"f": $uppercase}', code: undefined, message: /not JSON/, position: false },
  ];

  for (const { name, transform: source, code, message, position } of failures) {
    it(`${name} → RequestBuildError stage transform`, async () => {
      const error = await buildError(makeContext({ hook: { transform: source } }));
      assert.equal(error.stage, 'transform');
      assert.match(error.message, message);
      if (code === undefined) assert.equal(error.code, undefined);
      else assert.match(error.code ?? '', code);
      if (position) assert.equal(typeof error.position, 'number');
    });
  }

  it('a cached syntax error is reported again on the next attempt', async () => {
    const context = makeContext({ hook: { transform: '(((' } });
    const first = await buildError(context);
    const second = await buildError(context);
    assert.equal(second.message, first.message);
    assert.notEqual(second, first, 'a fresh error per attempt');
  });
});

describe('buildRequest: path template', () => {
  const cases: { name: string; url?: string; path: string; expected: string }[] = [
    { name: 'simple', path: '/documents/{data.id}', expected: 'https://receiver.test/hooks/documents/42' },
    { name: 'nested value', path: '/customers/{data.customer.id}/invoices', expected: 'https://receiver.test/hooks/customers/cus_1/invoices' },
    {
      name: 'event, settings, hook and tenant',
      path: '/{tenant.id}/{settings.folder}/{event.type}/{hook.id}',
      expected: 'https://receiver.test/hooks/tnt_01ACME/inbox/invoice.paid/hook_01',
    },
    { name: 'no leading slash', path: 'documents/{data.id}', expected: 'https://receiver.test/hooks/documents/42' },
    { name: 'endpoint with trailing slash', url: 'https://receiver.test/hooks/', path: '/documents/{data.id}', expected: 'https://receiver.test/hooks/documents/42' },
    { name: 'endpoint at the root', url: 'https://receiver.test', path: '/documents/{data.id}', expected: 'https://receiver.test/documents/42' },
    { name: 'explicit port kept', url: 'http://receiver.test:8080/in', path: '/{data.id}', expected: 'http://receiver.test:8080/in/42' },
    { name: 'trailing slash kept', path: '/documents/', expected: 'https://receiver.test/hooks/documents/' },
    { name: 'value is percent-encoded', path: '/by-name/{data.customer.name}', expected: 'https://receiver.test/hooks/by-name/Zo%C3%AB' },
    {
      name: '../ in a value cannot escape',
      path: '/documents/{settings.evil}',
      expected: 'https://receiver.test/hooks/documents/..%2F..%2Fadmin',
    },
    {
      name: 'an absolute URL in a value stays one encoded segment',
      path: '/documents/{settings.url}',
      expected: 'https://receiver.test/hooks/documents/https%3A%2F%2Fevil.test%2Fx',
    },
    { name: 'template query', path: '/documents?id={data.id}', expected: 'https://receiver.test/hooks/documents?id=42' },
    { name: 'RFC 6570 query expansion', path: '/documents{?data.id,settings.folder}', expected: 'https://receiver.test/hooks/documents?data.id=42&settings.folder=inbox' },
    { name: 'optional query variable omitted', path: '/documents/{data.id}{?data.missing}', expected: 'https://receiver.test/hooks/documents/42' },
    {
      name: 'endpoint query kept, template query appended',
      url: 'https://receiver.test/hooks?code=abc&v=1',
      path: '/documents/{data.id}?v={settings.folder}',
      expected: 'https://receiver.test/hooks/documents/42?code=abc&v=1&v=inbox',
    },
    { name: 'endpoint query kept with a path-only template', url: 'https://receiver.test/hooks?code=abc', path: '/d/{data.id}', expected: 'https://receiver.test/hooks/d/42?code=abc' },
    { name: 'query-only template', url: 'https://receiver.test/hooks?code=abc', path: '?id={data.id}', expected: 'https://receiver.test/hooks?code=abc&id=42' },
    { name: 'list value', path: '/tags{/event.channels*}', expected: 'https://receiver.test/hooks/tags/billing/eu' },
    { name: 'fragment dropped', path: '/documents/{data.id}#top', expected: 'https://receiver.test/hooks/documents/42' },
  ];

  for (const { name, url, path, expected } of cases) {
    it(`${name}: ${path}`, async () => {
      const context = makeContext({ hook: { path }, endpoint: url === undefined ? {} : { url } });
      context.hook.settings = { ...context.hook.settings, evil: '../../admin', url: 'https://evil.test/x' };
      const request = await buildRequest(context);
      assert.equal(request.url, expected);
      assert.equal(new URL(request.url).origin, new URL(context.endpoint.url).origin);
    });
  }

  it('without a path the endpoint url is used as is', async () => {
    const request = await buildRequest(makeContext({ endpoint: { url: 'https://receiver.test/in?x=1' } }));
    assert.equal(request.url, 'https://receiver.test/in?x=1');
  });

  const refused: { name: string; path: string; settings?: Record<string, unknown>; message: RegExp }[] = [
    { name: 'missing value', path: '/documents/{data.missing}', message: /"data.missing" has no value/ },
    { name: 'null value', path: '/documents/{settings.none}', settings: { none: null }, message: /has no value/ },
    { name: 'empty string value', path: '/documents/{settings.none}', settings: { none: '' }, message: /has no value/ },
    { name: 'prototype property', path: '/documents/{data.constructor}', message: /has no value/ },
    { name: 'object value', path: '/documents/{settings.nested}', settings: { nested: { a: { b: 1 } } }, message: /nested/ },
    { name: 'network-path reference', path: '//evil.test/x', message: /absolute URL/ },
    { name: 'absolute URL', path: 'https://evil.test', message: /absolute URL/ },
    { name: 'same-origin absolute URL', path: 'https://receiver.test/other', message: /absolute URL/ },
    { name: 'reserved expansion to another host', path: '{+settings.target}', settings: { target: '//evil.test/x' }, message: /absolute URL/ },
    { name: 'reserved expansion to a URL', path: '{+settings.target}', settings: { target: 'https://evil.test/x' }, message: /absolute URL/ },
    { name: 'value ".." as a whole segment', path: '/documents/{settings.dots}', settings: { dots: '..' }, message: /"\.\." segment/ },
    { name: 'reserved expansion of ../', path: '/documents/{+settings.dots}', settings: { dots: '../../admin' }, message: /segment/ },
    { name: 'literal dot segment', path: '/a/../../admin', message: /segment/ },
    { name: 'encoded dot segment', path: '/a/%2E%2e/admin', message: /segment/ },
  ];

  for (const { name, path, settings, message } of refused) {
    it(`refuses ${name}: ${path}`, async () => {
      const context = makeContext({ hook: { path, ...(settings === undefined ? {} : { settings }) } });
      const error = await buildError(context);
      assert.equal(error.stage, 'path');
      assert.match(error.message, message);
    });
  }
});

describe('buildRequest: GET and HEAD', () => {
  for (const method of ['GET', 'HEAD'] as const satisfies readonly HttpMethod[]) {
    it(`${method}: no body, no content-type, signature over the empty body`, async () => {
      const request = await buildRequest(
        makeContext({ hook: { method, path: '/documents/{data.id}', transform: 'this is not (valid' } }),
      );
      assert.equal(request.method, method);
      assert.equal(request.body, null);
      assert.equal(request.headers['content-type'], undefined);
      assert.equal(request.url, 'https://receiver.test/hooks/documents/42');
      assert.match(request.headers['webhook-signature'] ?? '', /^v1,/);
      verify(request, SECRET);
    });
  }

  it('a static content-type is not added to a bodiless request', async () => {
    const request = await buildRequest(makeContext({ hook: { method: 'GET' }, endpoint: { headers: { 'Content-Type': 'text/plain' } } }));
    assert.equal(request.headers['content-type'], undefined);
  });

  for (const format of ['CLOUDEVENTS', 'CLOUDEVENTS_BINARY'] as const) {
    it(`GET with ${format}: the event travels as ce-* headers`, async () => {
      const request = await buildRequest(makeContext({ hook: { method: 'GET', format } }));
      assert.equal(request.body, null);
      assert.equal(request.headers['ce-id'], 'msg_01JABCDEF');
      assert.equal(request.headers['ce-source'], SOURCE);
      assert.equal(request.headers['ce-type'], 'invoice.paid');
      assert.equal(request.headers['ce-specversion'], '1.0');
      assert.equal(request.headers['ce-time'], OCCURRED_AT.toISOString());
      const event = toCloudEvent(request);
      assert.equal(event.id, 'msg_01JABCDEF');
      assert.equal(event.data, undefined);
      verify(request, SECRET);
    });
  }
});
