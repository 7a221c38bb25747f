// Signature schemes per endpoint (issue 14), through the public API and a real receiver: `v1a`
// verified with node:crypto's ed25519 from the public key alone and with the SDK, GitHub's
// `X-Hub-Signature-256` verified the way GitHub's docs do, key rotation with its overlap, bad input.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { verifyWebhook } from '../../sdk/src/index.js';
import { SYSTEM_ACTOR } from '../../src/auth/actor.js';
import { ManualClock } from '../../src/clock.js';
import { ValidationError } from '../../src/errors.js';
import { updateEndpoint } from '../../src/modules/endpoints/endpoint.service.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup, waitForDelivery } from '../helpers/fixtures.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js';

const KEYS = `signatureSchemes signingPublicKeys { id publicKey current expiresAt }`;
const READ = `query($id: ID!) { endpoint(id: $id) { ${KEYS} } }`;
const UPDATE = `mutation($input: UpdateEndpointInput!) { updateEndpoint(input: $input) { __typename
  ... on EndpointPayload { endpoint { ${KEYS} } } ... on ValidationError { problems { path message } } } }`;
const CREATE = `mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) { __typename
  ... on ValidationError { problems { path message } } } }`;
const ROTATE = `mutation($id: ID!) { rotateEndpointSigningKey(input: {id: $id}) { __typename
  ... on RotateEndpointSigningKeyPayload { publicKey endpoint { ${KEYS} } } } }`;

interface SigningKeyView {
  id: string;
  publicKey: string;
  current: boolean;
  expiresAt: string | null;
}

/** The receiver's side, independent of Switchyard's signing code: node:crypto from the raw public key, via JWK. */
function verifiesV1a(request: ReceivedRequest, publicKey: string): boolean {
  assert.match(publicKey, /^whpk_[A-Za-z0-9+/]{43}=$/);
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.slice(5), 'base64').toString('base64url') }, format: 'jwk' });
  const signed = Buffer.concat([Buffer.from(`${request.headers['webhook-id']}.${request.headers['webhook-timestamp']}.`), request.body]);
  return v1aEntries(request).some((signature) => verify(null, signed, key, Buffer.from(signature, 'base64')));
}

const entries = (request: ReceivedRequest) => (request.headers['webhook-signature'] ?? '').split(' ');
const v1aEntries = (request: ReceivedRequest) => entries(request).filter((e) => e.startsWith('v1a,')).map((e) => e.slice(4));

/** As GitHub's docs verify `X-Hub-Signature-256`: the hex HMAC-SHA256 of the raw body with the secret, compared in constant time. */
function verifiesGithub(request: ReceivedRequest, secret: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`);
  const given = Buffer.from(request.headers['x-hub-signature-256'] ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

for (const dialect of TEST_DIALECTS) {
  describe(`signature schemes (${dialect})`, () => {
    const clock = new ManualClock(Date.now());
    const sdkNow = () => clock.now();
    let t: TestApp;
    let receiver: Receiver;
    before(async () => {
      t = await startTestApp({ dialect, clock });
      receiver = await startReceiver();
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    async function deliver(tenantId: string): Promise<ReceivedRequest> {
      const start = receiver.requests.length;
      await sendEvent(t, tenantId, { amount: 42, name: 'Zoë' });
      const [request] = (await receiver.waitFor(start + 1)).slice(start);
      return request!;
    }

    test('V1 stays the default: no key pair, no v1a entry, no GitHub header', async () => {
      const s = await setup(t, `${receiver.url}/default`);
      const { endpoint } = await t.ok(READ, { id: s.endpointId });
      assert.deepEqual(endpoint, { signatureSchemes: ['V1'], signingPublicKeys: [] });
      const request = await deliver(s.tenantId);
      assert.deepEqual(entries(request).map((e) => e.split(',')[0]), ['v1']);
      assert.equal(request.headers['x-hub-signature-256'], undefined);
      assert.equal(verifyWebhook({ secret: s.secret, headers: request.headers, body: request.body }).id, request.headers['webhook-id']);
    });

    test('V1A: a receiver verifies with the public key alone (node:crypto and the SDK); the secret does not', async () => {
      const s = await setup(t, `${receiver.url}/v1a`, { endpoint: { signatureSchemes: ['V1A'] } });
      const { endpoint } = await t.ok(READ, { id: s.endpointId });
      assert.deepEqual(endpoint.signatureSchemes, ['V1A']);
      const [key] = endpoint.signingPublicKeys as SigningKeyView[];
      assert.equal(endpoint.signingPublicKeys.length, 1);
      assert.equal(key!.current, true);
      const byId = await t.ok(`query($id: ID!) { node(id: $id) { ... on EndpointSigningKey { publicKey } } }`, { id: key!.id });
      assert.equal(byId.node.publicKey, key!.publicKey, 'a key is a node, found by its id');
      const request = await deliver(s.tenantId);
      assert.deepEqual(entries(request).map((e) => e.split(',')[0]), ['v1a']);
      assert.ok(verifiesV1a(request, key!.publicKey), 'node:crypto ed25519 verifies the v1a entry');
      assert.equal(verifyWebhook({ publicKey: key!.publicKey, headers: request.headers, body: request.body, now: sdkNow }).id, request.headers['webhook-id']);
      assert.throws(() => verifyWebhook({ secret: s.secret, headers: request.headers, body: request.body, now: sdkNow }), { code: 'NO_MATCHING_SIGNATURE' });
      const stored = await t.app.services.db.selectFrom('endpoint_signing_keys').selectAll().where('endpoint_id', '=', s.endpointId).execute();
      assert.ok(stored[0]!.private_key.startsWith('v1:') && !stored[0]!.private_key.includes('whsk_'), 'the private key is encrypted at rest');
    });

    test('V1 + V1A side by side; opting in on update makes a key pair, opting out keeps it for later', async () => {
      const s = await setup(t, `${receiver.url}/both`);
      const updated = await t.ok(UPDATE, { input: { id: s.endpointId, signatureSchemes: ['V1', 'V1A'] } });
      const [key] = updated.updateEndpoint.endpoint.signingPublicKeys as SigningKeyView[];
      assert.ok(key, 'a key pair was made');
      const request = await deliver(s.tenantId);
      assert.deepEqual(entries(request).map((e) => e.split(',')[0]), ['v1', 'v1a']);
      assert.ok(verifiesV1a(request, key.publicKey));
      assert.ok(verifyWebhook({ secret: s.secret, headers: request.headers, body: request.body, now: sdkNow }));
      const back = await t.ok(UPDATE, { input: { id: s.endpointId, signatureSchemes: null } });
      assert.deepEqual(back.updateEndpoint.endpoint.signatureSchemes, ['V1']);
      const again = await t.ok(UPDATE, { input: { id: s.endpointId, signatureSchemes: ['V1A'] } });
      assert.deepEqual((again.updateEndpoint.endpoint.signingPublicKeys as SigningKeyView[]).map((k) => k.id), [key.id], 'no second key pair');
    });

    test('GITHUB_SHA256: X-Hub-Signature-256 verifies as GitHub documents it, beside v1', async () => {
      const s = await setup(t, `${receiver.url}/github`, { endpoint: { signatureSchemes: ['V1', 'GITHUB_SHA256'] } });
      const request = await deliver(s.tenantId);
      assert.match(request.headers['x-hub-signature-256'] ?? '', /^sha256=[0-9a-f]{64}$/);
      assert.ok(verifiesGithub(request, s.secret), 'the hex HMAC of the raw body with the secret');
      assert.ok(!verifiesGithub({ ...request, body: Buffer.concat([request.body, Buffer.from(' ')]) }, s.secret));
      assert.ok(verifyWebhook({ secret: s.secret, headers: request.headers, body: request.body, now: sdkNow }));
      // One signature, so the current secret makes it from the moment of a rotation. The clock moves
      // so the rotation's updated_at differs from the version the dispatcher has cached.
      clock.advance(1);
      const rotated = await t.ok(`mutation($id: ID!) { rotateEndpointSecret(input: {id: $id}) { ... on RotateEndpointSecretPayload { secret } } }`, { id: s.endpointId });
      const next = await deliver(s.tenantId);
      assert.ok(verifiesGithub(next, rotated.rotateEndpointSecret.secret));
      assert.ok(!verifiesGithub(next, s.secret));
      // The attempt is recorded once the exchange is over, after the receiver has answered.
      await waitForDelivery(t, (d) => d.id === request.headers['webhook-id'], 'SUCCEEDED');
      const [attempt] = await t.app.services.db.selectFrom('attempts').select('request_headers').where('delivery_id', '=', request.headers['webhook-id']!).execute();
      assert.equal(JSON.parse(attempt!.request_headers)['x-hub-signature-256'], '[redacted]');
    });

    test('rotation: the old key keeps signing through the overlap, then only the new one signs', async () => {
      const s = await setup(t, `${receiver.url}/rotate`, { endpoint: { signatureSchemes: ['V1A'] } });
      const { endpoint } = await t.ok(READ, { id: s.endpointId });
      const oldKey = (endpoint.signingPublicKeys as SigningKeyView[])[0]!.publicKey;
      const rotated = (await t.ok(ROTATE, { id: s.endpointId })).rotateEndpointSigningKey;
      assert.equal(rotated.__typename, 'RotateEndpointSigningKeyPayload');
      const keys = rotated.endpoint.signingPublicKeys as SigningKeyView[];
      assert.deepEqual(keys.map((k) => [k.publicKey, k.current]), [[rotated.publicKey, true], [oldKey, false]]);
      assert.equal(Date.parse(keys[1]!.expiresAt!), clock.now() + t.config.secretOverlapMs);

      const during = await deliver(s.tenantId);
      assert.equal(v1aEntries(during).length, 2);
      assert.ok(verifiesV1a(during, oldKey), 'the old key still signs during the overlap');
      assert.ok(verifiesV1a(during, rotated.publicKey));
      assert.ok(verifyWebhook({ publicKey: oldKey, headers: during.headers, body: during.body, now: sdkNow }));

      clock.advance(t.config.secretOverlapMs + 1);
      const afterOverlap = await deliver(s.tenantId);
      assert.equal(v1aEntries(afterOverlap).length, 1);
      assert.ok(!verifiesV1a(afterOverlap, oldKey), 'the old key stopped signing');
      assert.ok(verifiesV1a(afterOverlap, rotated.publicKey));
      const read = await t.ok(READ, { id: s.endpointId });
      assert.deepEqual((read.endpoint.signingPublicKeys as SigningKeyView[]).map((k) => k.publicKey), [rotated.publicKey]);
    });

    test('bad scheme lists are ValidationErrors at input.signatureSchemes; an unknown name is refused by the schema', async () => {
      const s = await setup(t, `${receiver.url}/bad`);
      for (const schemes of [[], ['V1', 'V1'], ['GITHUB_SHA256']]) {
        const created = await t.ok(CREATE, { input: { tenantId: s.tenantId, url: `${receiver.url}/x`, signatureSchemes: schemes } });
        assert.equal(created.createEndpoint.__typename, 'ValidationError', JSON.stringify(schemes));
        assert.deepEqual(created.createEndpoint.problems.map((p: { path: string[] }) => p.path), [['input', 'signatureSchemes']]);
        const updated = await t.ok(UPDATE, { input: { id: s.endpointId, signatureSchemes: schemes } });
        assert.equal(updated.updateEndpoint.__typename, 'ValidationError');
        assert.deepEqual(updated.updateEndpoint.problems.map((p: { path: string[] }) => p.path), [['input', 'signatureSchemes']]);
      }
      // Over GraphQL the enum refuses an unknown name before any resolver runs; the service, which
      // other callers reach without the schema, answers it with the same ValidationError.
      const unknown = await t.gql(UPDATE, { input: { id: s.endpointId, signatureSchemes: ['V2'] } });
      assert.ok(unknown.errors?.[0]?.message.includes('signatureSchemes'), JSON.stringify(unknown.errors));
      await assert.rejects(updateEndpoint(t.app.services, SYSTEM_ACTOR, s.endpointId, { signatureSchemes: ['V1', 'V2'] }), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(error.problems, [{ path: ['input', 'signatureSchemes'], message: 'has an unknown scheme "V2": use V1, V1A, GITHUB_SHA256' }]);
        return true;
      });
      const header = await t.ok(UPDATE, { input: { id: s.endpointId, headers: { 'X-Hub-Signature-256': 'sha256=00' } } });
      assert.deepEqual(header.updateEndpoint.problems.map((p: { path: string[] }) => p.path), [['input', 'headers', 'X-Hub-Signature-256']]);
      const { endpoint } = await t.ok(READ, { id: s.endpointId });
      assert.deepEqual(endpoint.signatureSchemes, ['V1'], 'nothing was changed');
    });
  });
}
