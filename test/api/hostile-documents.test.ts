// Hostile GraphQL requests: deep nesting, alias bombs, huge documents, oversized and malformed
// bodies, unknown fields. Each is refused with a clear error before anything runs, and the server
// keeps answering afterwards.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { CHECKED_BODY_BYTES, MAX_REQUEST_BYTES } from '../../src/http/graphql-request.js';
import { ADMIN_TOKEN, TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';

interface RawResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * POSTs raw bytes to /graphql over node:http. `chunks` are written one by one; without
 * `contentLength` the body goes chunked (no content-length header). Resolves with the answer even
 * when the server stops reading the upload early.
 */
function rawPost(
  t: TestApp,
  chunks: readonly (string | Buffer)[],
  options: { contentLength?: number; contentType?: string; authorization?: string | null } = {},
): Promise<RawResponse> {
  const url = new URL('/graphql', t.url);
  return new Promise<RawResponse>((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': options.contentType ?? 'application/json',
          accept: 'application/json',
          ...(options.authorization === null ? {} : { authorization: options.authorization ?? `Bearer ${ADMIN_TOKEN}` }),
          ...(options.contentLength !== undefined ? { 'content-length': String(options.contentLength) } : {}),
        },
      },
      (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    // The server may answer and close before the whole upload is written: that is the point.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    void (async () => {
      for (const chunk of chunks) {
        if (req.destroyed) return;
        if (!req.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              req.off('drain', done).off('close', done);
              resolve();
            };
            req.on('drain', done).on('close', done);
          });
        }
      }
      req.end();
    })();
  });
}

for (const dialect of TEST_DIALECTS) {
  describe(`hostile GraphQL documents (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ dialect });
    });
    after(() => t.stop());

    async function stillServes(): Promise<void> {
      const viewer = await t.ok(`{ viewer { kind } }`);
      assert.deepEqual(viewer, { viewer: { kind: 'ADMIN' } });
    }

    async function tenantsNamed(name: string): Promise<number> {
      const rows = await t.app.services.db.selectFrom('tenants').select('id').where('name', '=', name).execute();
      return rows.length;
    }

    /** Delivery → event → deliveries → nodes → Delivery …: valid against the schema at any depth. */
    function nested(depth: number): string {
      let selection = 'id';
      let reached = 2; // deliveries { nodes { … } }
      while (reached < depth) {
        selection = `event { deliveries { nodes { ${selection} } } }`;
        reached += 3;
      }
      return `{ deliveries { nodes { ${selection} } } }`;
    }

    test('a document nested 50 deep is refused with a clear error', async () => {
      const result = await t.gql(nested(50));
      assert.ok(result.errors?.length, 'refused');
      assert.equal(result.data ?? null, null, 'nothing executed');
      // at this depth the cost limit (which grows with depth) trips before the depth limit does
      assert.match(result.errors![0].message, /depth|cost/i);
      await stillServes();
    });

    test('a document just past the depth limit is refused with a depth error', async () => {
      const result = await t.gql(nested(17));
      assert.ok(result.errors?.length, 'refused');
      assert.equal(result.data ?? null, null);
      assert.match(result.errors![0].message, /depth/i);
      await stillServes();
    });

    test('1000 aliases are refused with an alias error', async () => {
      // `__typename` aliases are allowed (they cost nothing); a real field is not
      const fields = Array.from({ length: 1000 }, (_, i) => `a${i}: kind`).join(' ');
      const result = await t.gql(`{ viewer { ${fields} } }`);
      assert.ok(result.errors?.length, 'refused');
      assert.equal(result.data ?? null, null);
      assert.match(result.errors![0].message, /alias/i);
      await stillServes();
    });

    test('aliased mutations past the limit are refused before any runs', async () => {
      for (const count of [31, 1000]) {
        const fields = Array.from({ length: count }, (_, i) => `a${i}: createTenant(input: {name: "alias-bomb"}) { __typename }`).join('\n');
        const result = await t.gql(`mutation { ${fields} }`);
        assert.ok(result.errors?.length, `${count}: refused`);
        assert.equal(result.data ?? null, null);
        assert.match(result.errors![0].message, /alias|token/i);
        assert.equal(await tenantsNamed('alias-bomb'), 0, 'no alias ran');
      }
      await stillServes();
    });

    test('a huge document (many tokens) is refused', async () => {
      const result = await t.gql(`{ viewer { ${'kind '.repeat(20_000)} } }`);
      assert.ok(result.errors?.length, 'refused');
      assert.equal(result.data ?? null, null);
      assert.match(result.errors![0].message, /token/i);
      await stillServes();
    });

    test(`a body over ${MAX_REQUEST_BYTES} bytes answers 413 without reaching GraphQL`, async () => {
      const head = JSON.stringify({ query: 'mutation { createTenant(input: {name: "too-big"}) { __typename } }', variables: { pad: '' } });
      const pad = 'x'.repeat(MAX_REQUEST_BYTES + 1024);
      const body = head.replace('"pad":""', `"pad":"${pad}"`);
      const answer = await rawPost(t, [body], { contentLength: Buffer.byteLength(body) });
      assert.equal(answer.status, 413);
      assert.match(answer.body, /PAYLOAD_TOO_LARGE|too large|over/i);
      assert.equal(await tenantsNamed('too-big'), 0);
      await stillServes();
    });

    test('a body over the limit sent chunked (no content-length) answers 413 without reaching GraphQL', async () => {
      const [start, end] = JSON.stringify({
        query: 'mutation { createTenant(input: {name: "too-big-chunked"}) { __typename } }',
        variables: { pad: '@' },
      }).split('@') as [string, string];
      const piece = 'x'.repeat(1024 * 1024);
      const pieces = Math.ceil(MAX_REQUEST_BYTES / piece.length) + 1;
      const answer = await rawPost(t, [start, ...Array.from({ length: pieces }, () => piece), end]);
      assert.equal(answer.status, 413, `answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      assert.equal(await tenantsNamed('too-big-chunked'), 0);
      await stillServes();
    });

    test('an invalid JSON body answers 400', async () => {
      const answer = await rawPost(t, ['{"query": "{ viewer { kind } }"'], { contentLength: Buffer.byteLength('{"query": "{ viewer { kind } }"') });
      assert.equal(answer.status, 400);
      const parsed = JSON.parse(answer.body) as { errors: { message: string }[] };
      assert.ok(parsed.errors[0]?.message);
      for (const bad of ['not json', '[]', '"a string"', '{"query": 42}', '']) {
        const reply = await rawPost(t, [bad], { contentLength: Buffer.byteLength(bad) });
        assert.equal(reply.status, 400, `${JSON.stringify(bad)} → ${reply.status} ${reply.body.slice(0, 200)}`);
      }
      await stillServes();
    });

    test('an unknown field is a validation error', async () => {
      const result = await t.gql(`{ viewer { kind secretField } }`);
      assert.ok(result.errors?.length);
      assert.equal(result.data ?? null, null);
      assert.match(result.errors![0].message, /secretField/);
      assert.equal(result.errors![0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      const mutation = await t.gql(`mutation { createTenant(input: {name: "x", bogus: 1}) { __typename } }`);
      assert.match(mutation.errors?.[0]?.message ?? '', /bogus/);
      assert.equal(await tenantsNamed('x'), 0);
      await stillServes();
    });
  });
}

// Yoga parses a body before the context checks its token, so a large body is let in only once its
// token has passed (CHECKED_BODY_BYTES): anyone could otherwise make the server parse bodies of
// megabytes back to back, with no token at all. The bodies below are not valid JSON past their
// start: parsed, they would answer 400; refused first, they answer 401 or 429.
describe('large bodies are read only once their token passes', () => {
  let t: TestApp;
  let tenantToken = '';
  before(async () => {
    t = await startTestApp({ env: { SWITCHYARD_TOKEN_REQUESTS_PER_SECOND: '1', SWITCHYARD_TOKEN_REQUEST_BURST: '2' } });
    const tenant = await t.ok(`mutation { createTenant(input: {name: "Uploads"}) { ... on TenantPayload { tenant { id } } } }`);
    const minted = await t.ok(`mutation($t: ID!) { createTenantToken(input: {tenantId: $t}) { ... on CreateTenantTokenPayload { secret } } }`, { t: tenant.createTenant.tenant.id });
    tenantToken = minted.createTenantToken.secret;
  });
  after(() => t.stop());

  /** A body just over the checked size whose JSON breaks after its query. */
  const broken = `{"query": "{ viewer { kind } }", "pad": "${'x'.repeat(CHECKED_BODY_BYTES)}` ;

  for (const [name, authorization] of [['no token', null], ['a wrong token', 'Bearer sy_adm_wrong']] as const) {
    test(`with ${name}: 401 before the body is read, declared or chunked`, async () => {
      const declared = await rawPost(t, [broken], { contentLength: Buffer.byteLength(broken), authorization });
      assert.equal(declared.status, 401, declared.body.slice(0, 200));
      assert.equal(JSON.parse(declared.body).errors[0].extensions.code, 'UNAUTHENTICATED');
      assert.equal(declared.headers['www-authenticate'], 'Bearer');
      const chunked = await rawPost(t, [broken.slice(0, 1000), broken.slice(1000)], { authorization });
      assert.equal(chunked.status, 401, chunked.body.slice(0, 200));
    });
  }

  test("over its token's request rate: 429 with Retry-After before the body is read", async () => {
    const authorization = `Bearer ${tenantToken}`;
    const answers: RawResponse[] = [];
    for (let i = 0; i < 3; i++) answers.push(await rawPost(t, [broken], { contentLength: Buffer.byteLength(broken), authorization }));
    // the burst of two lets two in, which then fail to parse; the third is refused unread
    assert.deepEqual(answers.map((answer) => answer.status), [400, 400, 429]);
    assert.equal(JSON.parse(answers[2]!.body).errors[0].extensions.code, 'RATE_LIMITED');
    assert.ok(Number(answers[2]!.headers['retry-after']) >= 1);
  });

  test('a large body with a valid token is answered as before, counted once', async () => {
    const body = JSON.stringify({ query: '{ viewer { kind } }', variables: { pad: 'x'.repeat(CHECKED_BODY_BYTES) } });
    // the admin token is not rate limited: its large bodies pass the check and run
    const admin = await rawPost(t, [body], { contentLength: Buffer.byteLength(body) });
    assert.equal(admin.status, 200, admin.body.slice(0, 200));
    assert.deepEqual(JSON.parse(admin.body).data, { viewer: { kind: 'ADMIN' } });
    // a fresh tenant token with a burst of two: both large requests run, so the check did not count them twice
    const tenant = await t.ok(`mutation { createTenant(input: {name: "Counted"}) { ... on TenantPayload { tenant { id } } } }`);
    const minted = await t.ok(`mutation($t: ID!) { createTenantToken(input: {tenantId: $t}) { ... on CreateTenantTokenPayload { secret } } }`, { t: tenant.createTenant.tenant.id });
    for (let i = 0; i < 2; i++) {
      const answer = await rawPost(t, [body], { contentLength: Buffer.byteLength(body), authorization: `Bearer ${minted.createTenantToken.secret}` });
      assert.equal(answer.status, 200, `request ${i + 1}: ${answer.body.slice(0, 200)}`);
      assert.deepEqual(JSON.parse(answer.body).data, { viewer: { kind: 'TENANT' } });
    }
  });

  test('a small body is parsed first, as before: a broken one answers 400 whatever its token', async () => {
    const small = '{"query": "{ viewer { kind } }"';
    const answer = await rawPost(t, [small], { contentLength: Buffer.byteLength(small), authorization: null });
    assert.equal(answer.status, 400);
  });
});

describe("a tenant token's large bodies are bounded in bytes per second", () => {
  let t: TestApp;
  let tenantToken = '';
  const body = JSON.stringify({ query: '{ viewer { kind } }', variables: { pad: 'x'.repeat(CHECKED_BODY_BYTES) } });
  before(async () => {
    // room for three such bodies at once, then about one every ten seconds
    t = await startTestApp({ env: { SWITCHYARD_TOKEN_BODY_BYTE_BURST: String(Buffer.byteLength(body) * 3), SWITCHYARD_TOKEN_BODY_BYTES_PER_SECOND: String(Math.ceil(Buffer.byteLength(body) / 10)) } });
    const tenant = await t.ok(`mutation { createTenant(input: {name: "Bytes"}) { ... on TenantPayload { tenant { id } } } }`);
    const minted = await t.ok(`mutation($t: ID!) { createTenantToken(input: {tenantId: $t}) { ... on CreateTenantTokenPayload { secret } } }`, { t: tenant.createTenant.tenant.id });
    tenantToken = minted.createTenantToken.secret;
  });
  after(() => t.stop());

  test('past its burst: 429 before the body is read; small requests and the admin token go on', async () => {
    const authorization = `Bearer ${tenantToken}`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await rawPost(t, [body], { contentLength: Buffer.byteLength(body), authorization })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const refused = await rawPost(t, [body], { contentLength: Buffer.byteLength(body), authorization });
    assert.equal(refused.status, 429);
    assert.match(JSON.parse(refused.body).errors[0].message, /request bytes/);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.deepEqual((await t.ok('{ viewer { kind } }', {}, tenantToken)).viewer, { kind: 'TENANT' });
    assert.equal((await rawPost(t, [body], { contentLength: Buffer.byteLength(body) })).status, 200);
  });
});
