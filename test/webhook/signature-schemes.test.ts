// The signature schemes as pure functions, against published vectors: RFC 8032's first ed25519
// test vector and the example in GitHub's "Validating webhook deliveries".
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateSigningKeyPair, privateKeyObject, privateKeySeed, signV1a } from '../../src/webhook/ed25519-signing.js';
import { signatureHeaders, signatureSchemesProblem } from '../../src/webhook/signature-schemes.js';
import { generateSecret, signPayload } from '../../src/webhook/signing.js';

const RFC8032_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const RFC8032_SIGNATURE = Buffer.from(
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  'hex',
);

const publicKeyOf = (whpk: string) =>
  createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(whpk.slice(5), 'base64').toString('base64url') }, format: 'jwk' });

describe('ed25519 signing keys', () => {
  it('signs RFC 8032 test vector 1 from the seed', () => {
    assert.deepEqual(signV1a(Buffer.alloc(0), [privateKeyObject(RFC8032_SEED)]), [`v1a,${RFC8032_SIGNATURE.toString('base64')}`]);
  });

  it('generates whsk_/whpk_ pairs whose public key verifies what the private key signs', () => {
    const pair = generateSigningKeyPair();
    assert.match(pair.publicKey, /^whpk_[A-Za-z0-9+/]{43}=$/);
    assert.match(pair.privateKey, /^whsk_[A-Za-z0-9+/]{43}=$/);
    const [entry] = signV1a(Buffer.from('dlv_1.1700000000.{}'), [privateKeyObject(privateKeySeed(pair.privateKey))]);
    assert.ok(verify(null, Buffer.from('dlv_1.1700000000.{}'), publicKeyOf(pair.publicKey), Buffer.from(entry!.slice(4), 'base64')));
    assert.notEqual(generateSigningKeyPair().publicKey, pair.publicKey);
  });

  for (const bad of ['whpk_AAAA', 'whsk_%%%%', `whsk_${Buffer.alloc(31).toString('base64')}`, Buffer.alloc(32).toString('base64')]) {
    it(`refuses a malformed private key (${bad.slice(0, 12)}…) without echoing it`, () => {
      assert.throws(() => privateKeySeed(bad), (error: Error) => /malformed signing key/.test(error.message) && !error.message.includes(bad));
    });
  }
});

describe('signatureHeaders', () => {
  const secret = generateSecret();
  const base = { id: 'dlv_1', timestamp: 1_700_000_000, body: Buffer.from('{"a":1}'), secrets: [secret], signingKeys: [] };

  it('V1 alone is exactly signPayload', () => {
    assert.deepEqual(signatureHeaders({ ...base, schemes: ['V1'] }), [['webhook-signature', signPayload(base)]]);
  });

  it('V1 then V1A entries in one webhook-signature header, one v1a entry per key, newest first', () => {
    const keys = [generateSigningKeyPair(), generateSigningKeyPair()];
    const signingKeys = keys.map((k) => privateKeyObject(privateKeySeed(k.privateKey)));
    const [[name, value]] = signatureHeaders({ ...base, schemes: ['V1A', 'V1'], signingKeys }) as [[string, string]];
    assert.equal(name, 'webhook-signature');
    const [v1, ...v1a] = value.split(' ');
    assert.equal(v1, signPayload(base));
    assert.equal(v1a.length, 2);
    v1a.forEach((entry, i) => {
      assert.ok(verify(null, Buffer.from('dlv_1.1700000000.{"a":1}'), publicKeyOf(keys[i]!.publicKey), Buffer.from(entry.slice(4), 'base64')));
    });
  });

  it("GITHUB_SHA256 matches the example of GitHub's docs", () => {
    const headers = signatureHeaders({
      ...base,
      body: Buffer.from('Hello, World!'),
      schemes: ['V1', 'GITHUB_SHA256'],
      secrets: ["It's a Secret to Everybody"].map((s) => Buffer.from(s)),
      bodyHmacKey: Buffer.from("It's a Secret to Everybody"),
    });
    assert.deepEqual(headers[1], ['x-hub-signature-256', 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17']);
  });

  it("GITHUB_SHA256 keys with the current secret's text and signs the body alone", () => {
    const older = generateSecret();
    const headers = signatureHeaders({ ...base, secrets: [secret, older], schemes: ['V1', 'GITHUB_SHA256'] });
    assert.deepEqual(headers[1], ['x-hub-signature-256', `sha256=${createHmac('sha256', secret).update('{"a":1}').digest('hex')}`]);
  });

  it('throws when a chosen scheme has nothing to sign with', () => {
    assert.throws(() => signatureHeaders({ ...base, schemes: ['V1A'] }), /signing key/);
    assert.throws(() => signatureHeaders({ ...base, schemes: ['V1', 'GITHUB_SHA256'], secrets: [Buffer.alloc(32, 1)] }), /as text/);
    assert.throws(() => signatureHeaders({ ...base, schemes: ['GITHUB_SHA256'] }), /V1 or V1A/);
  });
});

describe('signatureSchemesProblem', () => {
  for (const ok of [['V1'], ['V1A'], ['V1', 'V1A', 'GITHUB_SHA256'], ['V1A', 'GITHUB_SHA256']]) {
    it(`accepts ${ok.join(', ')}`, () => assert.equal(signatureSchemesProblem(ok), null));
  }
  for (const [bad, message] of [
    [[], /at least one/],
    [['V1', 'V2'], /unknown scheme "V2"/],
    [['V1', 'V1'], /twice/],
    [['GITHUB_SHA256'], /V1 or V1A/],
  ] as const) {
    it(`refuses [${bad.join(', ')}]`, () => assert.match(signatureSchemesProblem(bad) ?? '', message));
  }
});
