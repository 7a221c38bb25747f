// verifyWebhook with `v1a` (ed25519) signatures: the sender side is node:crypto written out here,
// so the test does not trust the code under test.
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { type VerifyWebhookInput, WebhookVerificationError, verifyWebhook } from '../src/verify.js';

const NOW_MS = 1_700_000_000_000;
const TS = NOW_MS / 1000;
const now = () => NOW_MS;
const body = '{"type":"invoice.paid","data":{"name":"Zoë"}}';

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x!;
  return { privateKey, publicKey: `whpk_${Buffer.from(x, 'base64url').toString('base64')}` };
}

function signV1a(privateKey: ReturnType<typeof keyPair>['privateKey'], id: string, timestamp: number, payload: string): string {
  return `v1a,${sign(null, Buffer.from(`${id}.${timestamp}.${payload}`, 'utf8'), privateKey).toString('base64')}`;
}

const headers = (signature: string) => ({ 'webhook-id': 'dlv_1', 'webhook-timestamp': String(TS), 'webhook-signature': signature });

function rejects(input: VerifyWebhookInput, code: WebhookVerificationError['code']) {
  assert.throws(() => verifyWebhook(input), (error: unknown) => error instanceof WebhookVerificationError && error.code === code);
}

describe('verifyWebhook with v1a public keys', () => {
  const current = keyPair();
  const old = keyPair();

  it('accepts a v1a signature with the whpk_ public key, or the bare base64', () => {
    const hdrs = headers(signV1a(current.privateKey, 'dlv_1', TS, body));
    assert.deepEqual(verifyWebhook({ publicKey: current.publicKey, headers: hdrs, body, now }), { id: 'dlv_1', eventId: null, timestamp: TS });
    assert.equal(verifyWebhook({ publicKey: current.publicKey.slice('whpk_'.length), headers: hdrs, body: Buffer.from(body), now }).id, 'dlv_1');
  });

  it('during a key rotation: either key verifies a header holding both signatures', () => {
    const hdrs = headers(`${signV1a(current.privateKey, 'dlv_1', TS, body)} ${signV1a(old.privateKey, 'dlv_1', TS, body)}`);
    assert.equal(verifyWebhook({ publicKey: old.publicKey, headers: hdrs, body, now }).id, 'dlv_1');
    assert.equal(verifyWebhook({ publicKeys: [keyPair().publicKey, current.publicKey], headers: hdrs, body, now }).id, 'dlv_1');
  });

  it('beside v1: a secret verifies the v1 entry and a public key the v1a entry', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const v1 = `v1,${createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`dlv_1.${TS}.${body}`).digest('base64')}`;
    const hdrs = headers(`${v1} ${signV1a(current.privateKey, 'dlv_1', TS, body)}`);
    assert.equal(verifyWebhook({ secret, headers: hdrs, body, now }).id, 'dlv_1');
    assert.equal(verifyWebhook({ publicKey: current.publicKey, headers: hdrs, body, now }).id, 'dlv_1');
  });

  it('refuses another key, a changed body, a changed id, and a v1a-only header given only a secret', () => {
    const signature = signV1a(current.privateKey, 'dlv_1', TS, body);
    rejects({ publicKey: old.publicKey, headers: headers(signature), body, now }, 'NO_MATCHING_SIGNATURE');
    rejects({ publicKey: current.publicKey, headers: headers(signature), body: `${body} `, now }, 'NO_MATCHING_SIGNATURE');
    rejects({ publicKey: current.publicKey, headers: { ...headers(signature), 'webhook-id': 'dlv_2' }, body, now }, 'NO_MATCHING_SIGNATURE');
    rejects({ secret: `whsec_${randomBytes(32).toString('base64')}`, headers: headers(signature), body, now }, 'NO_MATCHING_SIGNATURE');
  });

  it('ignores a v1a entry of the wrong length instead of failing on it', () => {
    const hdrs = headers(`v1a,${randomBytes(32).toString('base64')} ${signV1a(current.privateKey, 'dlv_1', TS, body)}`);
    assert.equal(verifyWebhook({ publicKey: current.publicKey, headers: hdrs, body, now }).id, 'dlv_1');
  });

  for (const [name, publicKey] of [
    ['empty', 'whpk_'],
    ['not base64', 'whpk_not base64!'],
    ['too short', `whpk_${randomBytes(16).toString('base64')}`],
    ['a secret instead', `whsec_${randomBytes(32).toString('base64')}`],
  ] as const) {
    it(`${name} → INVALID_PUBLIC_KEY`, () => rejects({ publicKey, headers: headers('v1a,AAAA'), body, now }, 'INVALID_PUBLIC_KEY'));
  }

  it('neither a secret nor a public key → INVALID_SECRET', () => rejects({ headers: headers('v1a,AAAA'), body, now }, 'INVALID_SECRET'));
});
