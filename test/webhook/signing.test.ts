import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { SECRET_PREFIX, generateSecret, secretKey, signPayload } from '../../src/webhook/signing.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** standardwebhooks checks the timestamp against the real clock, so sign "now". */
function headersFor(id: string, timestamp: number, signature: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

describe('generateSecret / secretKey', () => {
  it('generates whsec_ + base64 of 32 random bytes', () => {
    const a = generateSecret();
    const b = generateSecret();
    assert.ok(a.startsWith(SECRET_PREFIX));
    assert.notEqual(a, b);
    assert.equal(secretKey(a).length, 32);
  });

  it('decodes unpadded base64 as the padded spelling', () => {
    assert.deepEqual(secretKey('whsec_AQI'), secretKey('whsec_AQI='));
    assert.deepEqual(secretKey('whsec_AQ'), Buffer.from([1]));
  });

  it('decodes the base64 after the prefix', () => {
    assert.deepEqual(secretKey('whsec_AQID'), Buffer.from([1, 2, 3]));
    assert.deepEqual(secretKey('whsec_AQI='), Buffer.from([1, 2]));
  });

  for (const [name, secret, message] of [
    ['no prefix', 'AQID', /prefix/],
    ['wrong prefix', 'sk_AQID', /prefix/],
    ['empty key', 'whsec_', /empty/],
    ['not base64', 'whsec_not base64!', /base64/],
    ['bad length (4n+1 characters)', 'whsec_AQIDB', /base64/],
    ['padding inside', 'whsec_AQ==AQID', /base64/],
    ['url-safe alphabet', 'whsec_ab-_', /base64/],
  ] as const) {
    it(`refuses a malformed secret: ${name}`, () => {
      assert.throws(() => secretKey(secret), message);
    });
  }
});

describe('signPayload', () => {
  it('matches a hand-computed HMAC-SHA256 over id.timestamp.body', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const expected = createHmac('sha256', key).update('msg_1.1700000000.{"a":1}').digest('base64');
    const secret = SECRET_PREFIX + key.toString('base64');
    assert.equal(signPayload({ id: 'msg_1', timestamp: 1700000000, body: '{"a":1}', secrets: [secret] }), `v1,${expected}`);
    // Raw key bytes, string body and Buffer body all sign the same thing.
    assert.equal(signPayload({ id: 'msg_1', timestamp: 1700000000, body: Buffer.from('{"a":1}'), secrets: [key] }), `v1,${expected}`);
  });

  it('treats null and empty bodies alike', () => {
    const secret = generateSecret();
    const base = { id: 'msg_2', timestamp: 1700000000, secrets: [secret] };
    const signed = signPayload({ ...base, body: null });
    assert.equal(signPayload({ ...base, body: '' }), signed);
    assert.equal(signPayload({ ...base, body: Buffer.alloc(0) }), signed);
  });

  it('emits one entry per secret, in order, space-separated', () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const base = { id: 'msg_3', timestamp: 1700000000, body: 'x' };
    const both = signPayload({ ...base, secrets: [a, b] });
    assert.equal(both, `${signPayload({ ...base, secrets: [a] })} ${signPayload({ ...base, secrets: [b] })}`);
  });

  for (const [name, input, message] of [
    ['no secret', { secrets: [] }, /at least one/],
    ['a malformed secret', { secrets: ['nope'] }, /prefix/],
    ['an empty raw key', { secrets: [Buffer.alloc(0)] }, /empty/],
    ['a fractional timestamp', { timestamp: 1.5 }, /integer/],
    ['an unsafe-integer timestamp', { timestamp: Number.MAX_SAFE_INTEGER + 2 }, /integer/],
  ] as const) {
    it(`throws on ${name}`, () => {
      const base = { id: 'msg_4', timestamp: 1700000000, body: 'x', secrets: [generateSecret()] };
      assert.throws(() => signPayload({ ...base, ...input }), message);
    });
  }
});

describe('interoperability with the standardwebhooks package', () => {
  const cases: { name: string; body: string | Buffer }[] = [
    { name: 'a JSON body', body: JSON.stringify({ type: 'invoice.paid', data: { amount: 100 } }) },
    { name: 'a non-ASCII body', body: JSON.stringify({ name: 'Zoë — 東京 🚀', note: 'ünïcödé' }) },
    { name: 'a non-ASCII Buffer body', body: Buffer.from('{"emoji":"🎉","ß":"straße"}') },
    { name: 'an empty body', body: '' },
  ];

  for (const { name, body } of cases) {
    it(`verifies ${name}`, () => {
      const secret = generateSecret();
      const timestamp = nowSeconds();
      const signature = signPayload({ id: 'msg_interop', timestamp, body, secrets: [secret] });
      const wh = new Webhook(secret);
      assert.doesNotThrow(() => wh.verify(body, headersFor('msg_interop', timestamp, signature), { jsonParse: false }));
      // And the package's own signature is byte-identical.
      assert.equal(wh.sign('msg_interop', new Date(timestamp * 1000), body), signature);
    });
  }

  it('verifies under each secret alone during a rotation (two signatures in one header)', () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const timestamp = nowSeconds();
    const body = '{"rotation":true}';
    const signature = signPayload({ id: 'msg_rot', timestamp, body, secrets: [newSecret, oldSecret] });
    assert.equal(signature.split(' ').length, 2);
    for (const secret of [oldSecret, newSecret]) {
      assert.deepEqual(new Webhook(secret).verify(body, headersFor('msg_rot', timestamp, signature)), { rotation: true });
    }
    assert.throws(() => new Webhook(generateSecret()).verify(body, headersFor('msg_rot', timestamp, signature)), /No matching signature/);
  });

  it('verifies a raw-key signature with the raw-format Webhook', () => {
    const key = Buffer.from('a raw key of some length, 32 b!!');
    const timestamp = nowSeconds();
    const signature = signPayload({ id: 'msg_raw', timestamp, body: '{}', secrets: [key] });
    assert.doesNotThrow(() => new Webhook(key, { format: 'raw' }).verify('{}', headersFor('msg_raw', timestamp, signature)));
  });

  it('fails verification on a tampered body or id', () => {
    const secret = generateSecret();
    const timestamp = nowSeconds();
    const signature = signPayload({ id: 'msg_t', timestamp, body: '{"amount":1}', secrets: [secret] });
    const wh = new Webhook(secret);
    assert.throws(() => wh.verify('{"amount":2}', headersFor('msg_t', timestamp, signature)), /No matching signature/);
    assert.throws(() => wh.verify('{"amount":1}', headersFor('msg_u', timestamp, signature)), /No matching signature/);
  });
});
