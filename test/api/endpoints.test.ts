import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { findEndpointById } from '../../src/modules/endpoints/endpoint.repository.js';
import { loadReceiverAuth, loadSigningSecrets } from '../../src/modules/endpoints/endpoint.service.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';

const ENDPOINT = `id url description enabled disabledReason disabledMessage disabledAt
  auth { type username headerName } headers timeoutMs rateLimitPerSecond
  retryPolicy { maxAttempts initialDelayMs backoffMultiplier maxDelayMs scheduleMs }
  metadata signingSecrets { id createdAt expiresAt current revealed } tenant { id } createdAt updatedAt`;

const CREATE = `mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) {
  __typename
  ... on CreateEndpointPayload { secret endpoint { ${ENDPOINT} } }
  ... on ValidationError { problems { path message } }
  ... on Error { code message }
} }`;

const UPDATE = `mutation($input: UpdateEndpointInput!) { updateEndpoint(input: $input) {
  __typename
  ... on EndpointPayload { endpoint { ${ENDPOINT} } }
  ... on ValidationError { problems { path message } }
  ... on Error { code message }
} }`;

const ROTATE = `mutation($input: RotateEndpointSecretInput!) { rotateEndpointSecret(input: $input) {
  __typename
  ... on RotateEndpointSecretPayload { secret endpoint { signingSecrets { id expiresAt current revealed } } }
  ... on ValidationError { problems { path message } }
  ... on Error { code message }
} }`;

const REVEAL = `mutation($id: ID!) { revealEndpointSecret(input: {id: $id}) {
  __typename
  ... on RevealEndpointSecretPayload { secret }
  ... on Error { code message }
} }`;

/** `whsec_` + base64 of `bytes` random bytes. */
const whsec = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;

for (const dialect of TEST_DIALECTS) {
  describe(`endpoints (${dialect})`, () => {
    let t: TestApp;
    let tenantA: string;
    let tenantB: string;

    const createTenant = async (name: string): Promise<string> =>
      (await t.ok(`mutation($n: String!) { createTenant(input: {name: $n}) { ... on TenantPayload { tenant { id } } } }`, { n: name }))
        .createTenant.tenant.id;

    const mintToken = async (tenantId: string, scopes: string[]): Promise<string> =>
      (
        await t.ok(
          `mutation($t: ID!, $s: [TokenScope!]) { createTenantToken(input: {tenantId: $t, scopes: $s}) { ... on CreateTenantTokenPayload { secret } } }`,
          { t: tenantId, s: scopes },
        )
      ).createTenantToken.secret;

    const create = async (input: Record<string, unknown>, token?: string) =>
      (await t.ok(CREATE, { input }, token)).createEndpoint;

    const createOk = async (input: Record<string, unknown>, token?: string) => {
      const result = await create(input, token);
      assert.equal(result.__typename, 'CreateEndpointPayload', JSON.stringify(result));
      return result as { secret: string; endpoint: any };
    };

    const rawEndpoint = (id: string) =>
      t.app.services.db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    const rawSecrets = (id: string) =>
      t.app.services.db.selectFrom('endpoint_secrets').selectAll().where('endpoint_id', '=', id).execute();
    const countEndpoints = async () =>
      Number(
        (
          await t.app.services.db
            .selectFrom('endpoints')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const countSecrets = async () =>
      Number(
        (
          await t.app.services.db
            .selectFrom('endpoint_secrets')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    before(async () => {
      t = await startTestApp({ dialect });
      tenantA = await createTenant('A');
      tenantB = await createTenant('B');
    });
    after(() => t.stop());

    test('create, read, update and delete', async () => {
      const created = await createOk({
        tenantId: tenantA,
        url: 'https://example.com/hooks?x=1',
        description: 'orders',
        auth: { type: 'BASIC', username: 'switchyard', password: 'pa55-word-A' },
        headers: { 'X-Team': 'billing' },
        timeoutMs: 5000,
        rateLimitPerSecond: 20,
        retryPolicy: { maxAttempts: 4, initialDelayMs: 1000, backoffMultiplier: 3 },
        metadata: { owner: 'ops' },
      });
      const endpoint = created.endpoint;
      assert.match(endpoint.id, /^ep_[0-9A-Z]{26}$/);
      assert.match(created.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
      assert.equal(endpoint.url, 'https://example.com/hooks?x=1');
      assert.equal(endpoint.enabled, true);
      assert.equal(endpoint.disabledReason, null);
      assert.deepEqual(endpoint.auth, { type: 'BASIC', username: 'switchyard', headerName: null });
      assert.deepEqual(endpoint.headers, { 'X-Team': 'billing' });
      assert.equal(endpoint.timeoutMs, 5000);
      assert.equal(endpoint.rateLimitPerSecond, 20);
      assert.deepEqual(endpoint.retryPolicy, {
        maxAttempts: 4,
        initialDelayMs: 1000,
        backoffMultiplier: 3,
        maxDelayMs: null,
        scheduleMs: null,
      });
      assert.deepEqual(endpoint.metadata, { owner: 'ops' });
      assert.equal(endpoint.tenant.id, tenantA);
      assert.equal(endpoint.signingSecrets.length, 1);
      assert.equal(endpoint.signingSecrets[0].current, true);
      assert.equal(endpoint.signingSecrets[0].revealed, true, 'the create payload is its one reveal');
      assert.equal(endpoint.signingSecrets[0].expiresAt, null);
      assert.match(endpoint.signingSecrets[0].id, /^whs_/);

      const read = await t.ok(
        `query($id: ID!, $t: ID!) {
          endpoint(id: $id) { ${ENDPOINT} }
          node(id: $id) { __typename id }
          endpoints(tenantId: $t) { nodes { id } }
          tenant(id: $t) { endpoints { nodes { id } } }
        }`,
        { id: endpoint.id, t: tenantA },
      );
      assert.deepEqual(read.endpoint, endpoint);
      assert.equal(read.node.__typename, 'Endpoint');
      assert.deepEqual(read.endpoints.nodes, [{ id: endpoint.id }]);
      assert.deepEqual(read.tenant.endpoints.nodes, [{ id: endpoint.id }]);
      const secretNode = await t.ok(`query($id: ID!) { node(id: $id) { __typename ... on EndpointSecret { current } } }`, {
        id: endpoint.signingSecrets[0].id,
      });
      assert.deepEqual(secretNode.node, { __typename: 'EndpointSecret', current: true });

      // Omitted fields stay; auth stays unless given.
      const renamed = (await t.ok(UPDATE, { input: { id: endpoint.id, description: 'all orders' } })).updateEndpoint;
      assert.equal(renamed.__typename, 'EndpointPayload');
      assert.deepEqual(
        { ...renamed.endpoint, updatedAt: null },
        { ...endpoint, description: 'all orders', updatedAt: null },
      );
      assert.deepEqual(loadReceiverAuth(t.app.services, (await rawEndpoint(endpoint.id))!), {
        type: 'BASIC',
        username: 'switchyard',
        password: 'pa55-word-A',
      });

      // null resets to the default; auth is replaced as a whole.
      const changed = (
        await t.ok(UPDATE, {
          input: {
            id: endpoint.id,
            url: 'https://example.org/in',
            auth: { type: 'API_KEY', headerName: 'X-Api-Key', key: 'k3y-value-A' },
            timeoutMs: null,
            rateLimitPerSecond: null,
            retryPolicy: null,
            headers: null,
          },
        })
      ).updateEndpoint.endpoint;
      assert.equal(changed.url, 'https://example.org/in');
      assert.deepEqual(changed.auth, { type: 'API_KEY', username: null, headerName: 'X-Api-Key' });
      assert.equal(changed.timeoutMs, null);
      assert.equal(changed.rateLimitPerSecond, null);
      assert.equal(changed.retryPolicy, null);
      assert.deepEqual(changed.headers, {});
      assert.equal(changed.description, 'all orders');
      assert.deepEqual(loadReceiverAuth(t.app.services, (await rawEndpoint(endpoint.id))!), {
        type: 'API_KEY',
        headerName: 'X-Api-Key',
        key: 'k3y-value-A',
      });
      const none = (await t.ok(UPDATE, { input: { id: endpoint.id, auth: { type: 'NONE' } } })).updateEndpoint.endpoint;
      assert.deepEqual(none.auth, { type: 'NONE', username: null, headerName: null });
      assert.equal((await rawEndpoint(endpoint.id))!.auth_secret, null);

      const deleted = await t.ok(
        `mutation($id: ID!) { deleteEndpoint(input: {id: $id}) { __typename ... on EndpointPayload { endpoint { id } } } }`,
        { id: endpoint.id },
      );
      assert.deepEqual(deleted.deleteEndpoint, { __typename: 'EndpointPayload', endpoint: { id: endpoint.id } });
      assert.equal((await t.ok(`query($id: ID!) { endpoint(id: $id) { id } }`, { id: endpoint.id })).endpoint, null);
      assert.equal(await rawEndpoint(endpoint.id), undefined);
      assert.deepEqual(await rawSecrets(endpoint.id), [], 'its secrets go with it');
      const again = await t.ok(
        `mutation($id: ID!) { deleteEndpoint(input: {id: $id}) { __typename ... on Error { code } } }`,
        { id: endpoint.id },
      );
      assert.deepEqual(again.deleteEndpoint, { __typename: 'NotFoundError', code: 'NOT_FOUND' });
    });

    test('credentials never leave the API and are encrypted at rest', async () => {
      const cases = [
        { auth: { type: 'BASIC', username: 'user-plain-name', password: 'basic-password-123' }, secrets: ['user-plain-name', 'basic-password-123'] },
        { auth: { type: 'BEARER', token: 'bearer-token-456' }, secrets: ['bearer-token-456'] },
        { auth: { type: 'API_KEY', headerName: 'X-Key', key: 'api-key-789' }, secrets: ['api-key-789'] },
      ];
      for (const { auth, secrets } of cases) {
        const response = await t.gql(CREATE, { input: { tenantId: tenantA, url: 'https://example.com/', auth } });
        const created = response.data.createEndpoint;
        assert.equal(created.__typename, 'CreateEndpointPayload');
        const read = await t.gql(`query($id: ID!) { endpoint(id: $id) { ${ENDPOINT} } }`, { id: created.endpoint.id });
        const raw = await rawEndpoint(created.endpoint.id);
        const secretRows = await rawSecrets(created.endpoint.id);
        const seen = JSON.stringify([response, read]);
        const stored = JSON.stringify([raw, secretRows]);
        for (const secret of secrets.filter((s) => !s.startsWith('user-'))) {
          assert.ok(!seen.includes(secret), `${auth.type} credential is not in any API response`);
        }
        for (const secret of secrets) assert.ok(!stored.includes(secret), `${auth.type} credential is not stored in plaintext`);
        assert.match(raw!.auth_secret!, /^v1:/);
        assert.ok(!stored.includes(created.secret), 'the signing secret is not stored in plaintext');
        assert.ok(!JSON.stringify(read).includes(created.secret), 'the signing secret is shown only once');
      }
    });

    test('the signing secret is shown once; rotation overlaps; at most 10 old secrets', async () => {
      const created = await createOk({ tenantId: tenantA, url: 'https://example.com/rotate' });
      const id = created.endpoint.id;
      const first = created.secret;

      const reveal = (await t.ok(REVEAL, { id })).revealEndpointSecret;
      assert.equal(reveal.__typename, 'ConflictError');
      assert.match(reveal.message, /already revealed; rotate/);

      const before = Date.now();
      const rotated = (await t.ok(ROTATE, { input: { id } })).rotateEndpointSecret;
      assert.equal(rotated.__typename, 'RotateEndpointSecretPayload');
      const second = rotated.secret;
      assert.match(second, /^whsec_/);
      assert.notEqual(second, first);
      const listed = rotated.endpoint.signingSecrets;
      assert.equal(listed.length, 2);
      assert.deepEqual(
        listed.map((s: any) => [s.current, s.revealed]),
        [
          [true, true],
          [false, true],
        ],
      );
      const expiresAt = Date.parse(listed[1].expiresAt);
      assert.ok(expiresAt >= before + t.config.secretOverlapMs && expiresAt <= Date.now() + t.config.secretOverlapMs);

      const now = Date.now();
      assert.deepEqual(await loadSigningSecrets(t.app.services, id, now), [second, first], 'newest first');
      assert.deepEqual(
        await loadSigningSecrets(t.app.services, id, now + t.config.secretOverlapMs + 1000),
        [second],
        'the old secret stops signing when the overlap ends',
      );
      const stored = JSON.stringify(await rawSecrets(id));
      assert.ok(!stored.includes(first) && !stored.includes(second), 'secrets are encrypted at rest');
      assert.ok(!stored.includes(first.slice('whsec_'.length)) && !stored.includes(second.slice('whsec_'.length)));

      // A secret of the user's own.
      const own = whsec(48);
      const ownRotation = (await t.ok(ROTATE, { input: { id, secret: own } })).rotateEndpointSecret;
      assert.equal(ownRotation.secret, own);
      assert.equal((await loadSigningSecrets(t.app.services, id, Date.now()))[0], own);
      const reused = (await t.ok(ROTATE, { input: { id, secret: own } })).rotateEndpointSecret;
      assert.equal(reused.__typename, 'ValidationError');
      assert.deepEqual(reused.problems[0].path, ['input', 'secret']);

      // Twelve more rotations: the current secret plus the 10 newest old ones stay valid.
      for (let i = 0; i < 12; i++) await t.ok(ROTATE, { input: { id } });
      const secrets = await loadSigningSecrets(t.app.services, id, Date.now());
      assert.equal(secrets.length, 11);
      const read = await t.ok(`query($id: ID!) { endpoint(id: $id) { signingSecrets { current } } }`, { id });
      assert.equal(read.endpoint.signingSecrets.length, 11);
      assert.equal(read.endpoint.signingSecrets.filter((s: any) => s.current).length, 1);
      assert.ok((await rawSecrets(id)).length <= 12, 'expired secrets are cleaned up');

      // A secret nobody has seen yet can be revealed exactly once.
      await t.app.services.db.updateTable('endpoint_secrets').set({ revealed_at: null }).where('endpoint_id', '=', id).where('expires_at', 'is', null).execute();
      const shown = (await t.ok(REVEAL, { id })).revealEndpointSecret;
      assert.equal(shown.__typename, 'RevealEndpointSecretPayload');
      assert.equal(shown.secret, secrets[0]);
      assert.equal((await t.ok(REVEAL, { id })).revealEndpointSecret.__typename, 'ConflictError');
    });

    test('a secret given on create is used', async () => {
      const own = whsec(24);
      const created = await createOk({ tenantId: tenantA, url: 'https://example.com/own', secret: own });
      assert.equal(created.secret, own);
      assert.deepEqual(await loadSigningSecrets(t.app.services, created.endpoint.id, Date.now()), [own]);
    });

    test('disable and enable', async () => {
      const { endpoint } = await createOk({ tenantId: tenantA, url: 'https://example.com/toggle' });
      const disabled = await t.ok(
        `mutation($id: ID!) { disableEndpoint(input: {id: $id, message: "maintenance"}) { ... on EndpointPayload { endpoint { enabled disabledReason disabledMessage disabledAt } } } }`,
        { id: endpoint.id },
      );
      const state = disabled.disableEndpoint.endpoint;
      assert.equal(state.enabled, false);
      assert.equal(state.disabledReason, 'MANUAL');
      assert.equal(state.disabledMessage, 'maintenance');
      assert.ok(Date.parse(state.disabledAt) > 0);

      // As if the dispatcher had been counting failures.
      await t.app.services.db.updateTable('endpoints').set({ failing_since: Date.now() - 1000 }).where('id', '=', endpoint.id).execute();
      const enabled = await t.ok(
        `mutation($id: ID!) { enableEndpoint(input: {id: $id}) { ... on EndpointPayload { endpoint { enabled disabledReason disabledMessage disabledAt } } } }`,
        { id: endpoint.id },
      );
      assert.deepEqual(enabled.enableEndpoint.endpoint, { enabled: true, disabledReason: null, disabledMessage: null, disabledAt: null });
      assert.equal((await rawEndpoint(endpoint.id))!.failing_since, null);
    });

    test('every invalid input is refused with its path, and nothing is written', async () => {
      const basic = { tenantId: tenantA, url: 'https://example.com/' };
      const cases: [string, Record<string, unknown>, string[]][] = [
        ['not a URL', { url: 'example.com/hooks' }, ['input', 'url']],
        ['ftp', { url: 'ftp://example.com/' }, ['input', 'url']],
        ['userinfo', { url: 'https://user:pw@example.com/' }, ['input', 'url']],
        ['too long', { url: `https://example.com/${'a'.repeat(2040)}` }, ['input', 'url']],
        ['private IP', { url: 'https://10.0.0.1/hooks' }, ['input', 'url']],
        ['metadata IP', { url: 'http://169.254.169.254/latest/meta-data' }, ['input', 'url']],
        ['loopback outside the allow-list', { url: 'http://127.0.0.2:8080/' }, ['input', 'url']],
        ['IPv6 loopback', { url: 'http://[::1]/' }, ['input', 'url']],
        ['IPv4-mapped private', { url: 'http://[::ffff:10.0.0.1]/' }, ['input', 'url']],
        ['BASIC without password', { auth: { type: 'BASIC', username: 'u' } }, ['input', 'auth', 'password']],
        ['BASIC user name with a colon', { auth: { type: 'BASIC', username: 'a:b', password: 'p' } }, ['input', 'auth', 'username']],
        ['BEARER without token', { auth: { type: 'BEARER' } }, ['input', 'auth', 'token']],
        ['BEARER with a user name', { auth: { type: 'BEARER', token: 't', username: 'u' } }, ['input', 'auth', 'username']],
        ['NONE with a key', { auth: { type: 'NONE', key: 'k' } }, ['input', 'auth', 'key']],
        ['API_KEY without key', { auth: { type: 'API_KEY', headerName: 'X-Key' } }, ['input', 'auth', 'key']],
        ['API_KEY in Authorization', { auth: { type: 'API_KEY', headerName: 'Authorization', key: 'k' } }, ['input', 'auth', 'headerName']],
        ['API_KEY in a webhook header', { auth: { type: 'API_KEY', headerName: 'webhook-signature', key: 'k' } }, ['input', 'auth', 'headerName']],
        ['API_KEY with an invalid header name', { auth: { type: 'API_KEY', headerName: 'X Key', key: 'k' } }, ['input', 'auth', 'headerName']],
        ['API_KEY with a line break', { auth: { type: 'API_KEY', headerName: 'X-Key', key: 'a\r\nX-Evil: 1' } }, ['input', 'auth', 'key']],
        ['API_KEY header also static', { auth: { type: 'API_KEY', headerName: 'X-Key', key: 'k' }, headers: { 'x-key': 'v' } }, ['input', 'headers', 'x-key']],
        ['reserved header', { headers: { 'Content-Type': 'text/plain' } }, ['input', 'headers', 'Content-Type']],
        ['signature header', { headers: { 'webhook-id': 'x' } }, ['input', 'headers', 'webhook-id']],
        ['authorization header', { headers: { authorization: 'Bearer x' } }, ['input', 'headers', 'authorization']],
        ['user-agent header', { headers: { 'User-Agent': 'Custom/1.0' } }, ['input', 'headers', 'User-Agent']],
        ['content-encoding header', { headers: { 'content-encoding': 'gzip' } }, ['input', 'headers', 'content-encoding']],
        ['content-length header', { headers: { 'Content-Length': '1' } }, ['input', 'headers', 'Content-Length']],
        ['host header', { headers: { host: 'evil.example' } }, ['input', 'headers', 'host']],
        ['transfer-encoding header', { headers: { 'Transfer-Encoding': 'chunked' } }, ['input', 'headers', 'Transfer-Encoding']],
        ['CloudEvents header', { headers: { 'ce-id': 'x' } }, ['input', 'headers', 'ce-id']],
        ['signature timestamp header', { headers: { 'Webhook-Timestamp': '1' } }, ['input', 'headers', 'Webhook-Timestamp']],
        ['API_KEY in user-agent', { auth: { type: 'API_KEY', headerName: 'User-Agent', key: 'k' } }, ['input', 'auth', 'headerName']],
        ['header with CR/LF', { headers: { 'X-A': 'a\r\nb' } }, ['input', 'headers', 'X-A']],
        ['header with a bad name', { headers: { 'X A': 'b' } }, ['input', 'headers', 'X A']],
        ['header that is not a string', { headers: { 'X-A': 1 } }, ['input', 'headers', 'X-A']],
        ['too many headers', { headers: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`X-H${i}`, 'v'])) }, ['input', 'headers']],
        ['timeout too small', { timeoutMs: 50 }, ['input', 'timeoutMs']],
        ['timeout too large', { timeoutMs: 10_000_000 }, ['input', 'timeoutMs']],
        ['rate limit 0', { rateLimitPerSecond: 0 }, ['input', 'rateLimitPerSecond']],
        ['rate limit too high', { rateLimitPerSecond: 10_001 }, ['input', 'rateLimitPerSecond']],
        ['retry attempts 0', { retryPolicy: { maxAttempts: 0 } }, ['input', 'retryPolicy', 'maxAttempts']],
        ['schedule and exponential', { retryPolicy: { scheduleMs: [0, 1000], initialDelayMs: 5 } }, ['input', 'retryPolicy', 'scheduleMs']],
        ['secret without prefix', { secret: 'not-a-secret' }, ['input', 'secret']],
        ['secret too short', { secret: whsec(16) }, ['input', 'secret']],
        ['secret too long', { secret: whsec(76) }, ['input', 'secret']],
        ['secret not base64', { secret: 'whsec_!!!!' }, ['input', 'secret']],
        ['description too long', { description: 'd'.repeat(2001) }, ['input', 'description']],
        ['metadata too large', { metadata: { blob: 'm'.repeat(17 * 1024) } }, ['input', 'metadata']],
      ];
      const endpointsBefore = await countEndpoints();
      const secretsBefore = await countSecrets();
      for (const [name, override, path] of cases) {
        const result = await create({ ...basic, ...override });
        assert.equal(result.__typename, 'ValidationError', `${name}: ${JSON.stringify(result)}`);
        assert.equal(result.code, 'VALIDATION_FAILED');
        assert.deepEqual(result.problems.map((p: any) => p.path), [path], `${name}: ${JSON.stringify(result.problems)}`);
      }
      assert.equal(await countEndpoints(), endpointsBefore, 'no endpoint was written');
      assert.equal(await countSecrets(), secretsBefore, 'no secret was written');

      // Every problem is reported at once.
      const many = await create({ tenantId: tenantA, url: 'ftp://x', timeoutMs: 1, rateLimitPerSecond: -1, auth: { type: 'BEARER' } });
      assert.deepEqual(
        many.problems.map((p: any) => p.path.join('.')).sort(),
        ['input.auth.token', 'input.rateLimitPerSecond', 'input.timeoutMs', 'input.url'],
      );

      // Allowed by the test allow-list (127.0.0.1/32).
      const loopback = await create({ tenantId: tenantA, url: 'http://127.0.0.1:9/hook' });
      assert.equal(loopback.__typename, 'CreateEndpointPayload');

      // An update is validated the same way and changes nothing when refused.
      const id = loopback.endpoint.id;
      const stored = await rawEndpoint(id);
      const refused = (await t.ok(UPDATE, { input: { id, url: 'https://10.1.2.3/', description: 'x'.repeat(2001) } })).updateEndpoint;
      assert.equal(refused.__typename, 'ValidationError');
      assert.deepEqual(refused.problems.map((p: any) => p.path.join('.')).sort(), ['input.description', 'input.url']);
      assert.deepEqual(await rawEndpoint(id), stored);
      const clash = (await t.ok(UPDATE, { input: { id, auth: { type: 'API_KEY', headerName: 'X-K', key: 'k' }, headers: { 'X-K': 'v' } } })).updateEndpoint;
      assert.deepEqual(clash.problems.map((p: any) => p.path), [['input', 'headers', 'X-K']]);
      await t.ok(UPDATE, { input: { id, headers: { 'X-K': 'v' } } });
      const clashByAuth = (await t.ok(UPDATE, { input: { id, auth: { type: 'API_KEY', headerName: 'x-k', key: 'k' } } })).updateEndpoint;
      assert.deepEqual(clashByAuth.problems.map((p: any) => p.path), [['input', 'auth', 'headerName']]);

      const badMessage = await t.ok(
        `mutation($id: ID!, $m: String) { disableEndpoint(input: {id: $id, message: $m}) { __typename ... on ValidationError { problems { path } } } }`,
        { id, m: 'm'.repeat(1001) },
      );
      assert.deepEqual(badMessage.disableEndpoint.problems, [{ path: ['input', 'message'] }]);
      const badRotation = (await t.ok(ROTATE, { input: { id, secret: 'whsec_short' } })).rotateEndpointSecret;
      assert.deepEqual(badRotation.problems.map((p: any) => p.path), [['input', 'secret']]);
      assert.equal((await rawSecrets(id)).length, 1, 'a refused rotation writes nothing');

      const noTenant = await create({ url: 'https://example.com/' });
      assert.equal(noTenant.__typename, 'NotFoundError', 'an admin must name the tenant');
      const unknownTenant = await create({ tenantId: 'tnt_01HZZZZZZZZZZZZZZZZZZZZZZZ', url: 'https://example.com/' });
      assert.equal(unknownTenant.__typename, 'NotFoundError');
    });

    test("a tenant token works on its own endpoints only, within its scopes", async () => {
      const manage = await mintToken(tenantA, ['READ', 'MANAGE']);
      const readOnly = await mintToken(tenantA, ['READ']);
      const sendOnly = await mintToken(tenantA, ['SEND_EVENTS']);
      const other = (await createOk({ tenantId: tenantB, url: 'https://example.com/b', auth: { type: 'BEARER', token: 'b-token' } })).endpoint.id;

      const own = await createOk({ url: 'https://example.com/mine' }, manage);
      assert.equal(own.endpoint.tenant.id, tenantA, 'a tenant token creates in its own tenant');
      const elsewhere = await create({ tenantId: tenantB, url: 'https://example.com/x' }, manage);
      assert.equal(elsewhere.__typename, 'NotFoundError');

      const read = await t.ok(
        `query($id: ID!, $b: ID!) { endpoint(id: $id) { id } node(id: $id) { id } endpoints(tenantId: $b) { nodes { id } } mine: endpoints { nodes { tenant { id } } } }`,
        { id: other, b: tenantB },
        manage,
      );
      assert.equal(read.endpoint, null);
      assert.equal(read.node, null);
      assert.deepEqual(read.endpoints.nodes, []);
      assert.ok(read.mine.nodes.length > 0 && read.mine.nodes.every((n: any) => n.tenant.id === tenantA));

      const before = await rawEndpoint(other);
      const attempts = [
        ['updateEndpoint', `updateEndpoint(input: {id: $id, description: "mine now"})`],
        ['deleteEndpoint', `deleteEndpoint(input: {id: $id})`],
        ['disableEndpoint', `disableEndpoint(input: {id: $id})`],
        ['enableEndpoint', `enableEndpoint(input: {id: $id})`],
        ['rotateEndpointSecret', `rotateEndpointSecret(input: {id: $id})`],
        ['revealEndpointSecret', `revealEndpointSecret(input: {id: $id})`],
      ];
      for (const [field, call] of attempts) {
        const result = await t.ok(`mutation($id: ID!) { ${call} { __typename ... on Error { code } } }`, { id: other }, manage);
        assert.deepEqual(result[field!], { __typename: 'NotFoundError', code: 'NOT_FOUND' }, field);
      }
      assert.deepEqual(await rawEndpoint(other), before, "another tenant's endpoint is untouched");
      assert.equal((await rawSecrets(other)).length, 1);

      // READ may read but not write; without READ nothing is visible.
      const listed = await t.ok(`query($id: ID!) { endpoint(id: $id) { id } }`, { id: own.endpoint.id }, readOnly);
      assert.equal(listed.endpoint.id, own.endpoint.id);
      const forbidden = await t.gql(CREATE, { input: { url: 'https://example.com/ro' } }, readOnly);
      assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      const forbiddenRotate = await t.gql(ROTATE, { input: { id: own.endpoint.id } }, readOnly);
      assert.equal(forbiddenRotate.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      const noRead = await t.gql(`{ endpoints { nodes { id } } }`, {}, sendOnly);
      assert.equal(noRead.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      const noNode = await t.ok(`query($id: ID!) { node(id: $id) { id } }`, { id: own.endpoint.id }, sendOnly);
      assert.equal(noNode.node, null);
    });

    test('pagination with first/after, newest first', async () => {
      const tenant = await createTenant('Paged');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await createOk({ tenantId: tenant, url: `https://example.com/${i}` })).endpoint.id);
      const newestFirst = [...ids].reverse();
      const seen: string[] = [];
      let cursor: string | null = null;
      const pages: boolean[] = [];
      do {
        const page: any = await t.ok(
          `query($t: ID!, $after: String) { endpoints(tenantId: $t, first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`,
          { t: tenant, after: cursor },
        );
        seen.push(...page.endpoints.nodes.map((n: any) => n.id));
        pages.push(page.endpoints.pageInfo.hasNextPage);
        cursor = page.endpoints.pageInfo.hasNextPage ? page.endpoints.pageInfo.endCursor : null;
      } while (cursor);
      assert.deepEqual(seen, newestFirst);
      assert.deepEqual(pages, [true, true, false]);

      const viaTenant = await t.ok(`query($t: ID!) { tenant(id: $t) { endpoints(first: 3) { nodes { id } pageInfo { hasNextPage } } } }`, { t: tenant });
      assert.deepEqual(viaTenant.tenant.endpoints.nodes.map((n: any) => n.id), newestFirst.slice(0, 3));
      assert.equal(viaTenant.tenant.endpoints.pageInfo.hasNextPage, true);

      const all = await t.ok(`{ endpoints(first: 100) { nodes { tenant { id } } } }`);
      assert.ok(new Set(all.endpoints.nodes.map((n: any) => n.tenant.id)).size > 1, 'the admin sees every tenant without a filter');
    });

    test('loadReceiverAuth reads what the repository stores', async () => {
      const { endpoint } = await createOk({ tenantId: tenantA, url: 'https://example.com/auth', auth: { type: 'BEARER', token: 'tok-123' } });
      const row = await findEndpointById(t.app.services.db, endpoint.id);
      assert.deepEqual(loadReceiverAuth(t.app.services, row!), { type: 'BEARER', token: 'tok-123' });
      const plain = await createOk({ tenantId: tenantA, url: 'https://example.com/none' });
      assert.deepEqual(loadReceiverAuth(t.app.services, (await findEndpointById(t.app.services.db, plain.endpoint.id))!), { type: 'NONE' });
    });
  });

  // Its own suite, after the main one has stopped: two test apps open at once on one PostgreSQL
  // database trip over Kysely's migrator, which finds the other schema's migration tables.
  describe(`endpoints without SWITCHYARD_ALLOW_HTTP (${dialect})`, () => {
    test('https is required', async () => {
      const strict = await startTestApp({ dialect, env: { SWITCHYARD_ALLOW_HTTP: 'false' } });
      try {
        const tenant = (await strict.ok(`mutation { createTenant(input: {name: "S"}) { ... on TenantPayload { tenant { id } } } }`))
          .createTenant.tenant.id;
        const plain = (await strict.ok(CREATE, { input: { tenantId: tenant, url: 'http://example.com/hooks' } })).createEndpoint;
        assert.equal(plain.__typename, 'ValidationError');
        assert.deepEqual(plain.problems[0].path, ['input', 'url']);
        assert.match(plain.problems[0].message, /https/);
        const secure = (await strict.ok(CREATE, { input: { tenantId: tenant, url: 'https://example.com/hooks' } })).createEndpoint;
        assert.equal(secure.__typename, 'CreateEndpointPayload');
        const list = await strict.ok(`{ endpoints { nodes { url } } }`);
        assert.deepEqual(list.endpoints.nodes, [{ url: 'https://example.com/hooks' }]);
      } finally {
        await strict.stop();
      }
    });
  });
}
