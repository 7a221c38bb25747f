import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { type VerifyWebhookInput, WebhookVerificationError, verifyWebhook } from '../src/verify.js';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The sender side, written out here so the test does not trust the code under test. */
function sign(secret: string, id: string, timestamp: number | string, body: string | Uint8Array): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

function headers(id: string, timestamp: number | string, signature: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

function rejects(input: VerifyWebhookInput, code: WebhookVerificationError['code']) {
  assert.throws(
    () => verifyWebhook(input),
    (error: unknown) => error instanceof WebhookVerificationError && error.code === code && error.name === 'WebhookVerificationError',
  );
}

describe('verifyWebhook against the standardwebhooks package', () => {
  for (const [name, body] of [
    ['JSON', '{"type":"invoice.paid","data":{"amount":100}}'],
    ['non-ASCII', '{"name":"Zoë — 東京 🚀"}'],
    ['empty', ''],
  ] as const) {
    it(`accepts what standardwebhooks signs (${name} body)`, () => {
      const secret = newSecret();
      const timestamp = nowSeconds();
      const signature = new Webhook(secret).sign('msg_sw', new Date(timestamp * 1000), body);
      assert.deepEqual(verifyWebhook({ secret, headers: headers('msg_sw', timestamp, signature), body }), { id: 'msg_sw', eventId: null, timestamp });
      // The same bytes as a Buffer / plain Uint8Array.
      const bytes = Buffer.from(body);
      assert.equal(verifyWebhook({ secret, headers: headers('msg_sw', timestamp, signature), body: bytes }).id, 'msg_sw');
      assert.equal(verifyWebhook({ secret, headers: headers('msg_sw', timestamp, signature), body: new Uint8Array(bytes) }).id, 'msg_sw');
    });

    it(`produces what standardwebhooks accepts (${name} body)`, () => {
      const secret = newSecret();
      const timestamp = nowSeconds();
      const signature = sign(secret, 'msg_ours', timestamp, body);
      const hdrs = headers('msg_ours', timestamp, signature);
      assert.doesNotThrow(() => new Webhook(secret).verify(body, hdrs, { jsonParse: false }));
      assert.doesNotThrow(() => verifyWebhook({ secret, headers: hdrs, body }));
    });
  }

  it('accepts a bare base64 secret like standardwebhooks does', () => {
    const secret = newSecret();
    const bare = secret.slice('whsec_'.length);
    const timestamp = nowSeconds();
    const signature = new Webhook(bare).sign('msg_bare', new Date(timestamp * 1000), '{}');
    assert.equal(verifyWebhook({ secret: bare, headers: headers('msg_bare', timestamp, signature), body: '{}' }).id, 'msg_bare');
    assert.equal(verifyWebhook({ secret, headers: headers('msg_bare', timestamp, signature), body: '{}' }).id, 'msg_bare');
  });
});

describe('verifyWebhook', () => {
  const NOW_MS = 1_700_000_000_000;
  const TS = NOW_MS / 1000;
  const now = () => NOW_MS;
  const secret = newSecret();
  const body = '{"amount":1}';
  const valid = (overrides: Partial<VerifyWebhookInput> = {}): VerifyWebhookInput => ({
    secret,
    headers: headers('msg_1', TS, sign(secret, 'msg_1', TS, body)),
    body,
    now,
    ...overrides,
  });

  it('returns the id and timestamp; eventId is null without a webhook-event-id header', () => {
    assert.deepEqual(verifyWebhook(valid()), { id: 'msg_1', eventId: null, timestamp: TS });
  });

  it('returns the event id from webhook-event-id, which a delivery of the same event to another hook shares', () => {
    const input = valid();
    const verified = verifyWebhook({ ...input, headers: { ...(input.headers as Record<string, string>), 'webhook-event-id': 'msg_event' } });
    assert.deepEqual(verified, { id: 'msg_1', eventId: 'msg_event', timestamp: TS });
  });

  describe('timestamps', () => {
    const at = (timestamp: number | string, extra: Partial<VerifyWebhookInput> = {}) =>
      valid({ headers: headers('msg_1', timestamp, sign(secret, 'msg_1', timestamp, body)), ...extra });
    const cases: [name: string, input: VerifyWebhookInput, code: WebhookVerificationError['code'] | null][] = [
      ['exactly 300 s old', at(TS - 300), null],
      ['301 s old', at(TS - 301), 'TIMESTAMP_TOO_OLD'],
      ['exactly 300 s ahead', at(TS + 300), null],
      ['301 s ahead', at(TS + 301), 'TIMESTAMP_TOO_NEW'],
      ['an hour old', at(TS - 3600), 'TIMESTAMP_TOO_OLD'],
      ['custom tolerance, inside', at(TS - 3600, { toleranceSeconds: 3600 }), null],
      ['custom tolerance, outside', at(TS - 11, { toleranceSeconds: 10 }), 'TIMESTAMP_TOO_OLD'],
      ['milliseconds instead of seconds', at(NOW_MS), 'TIMESTAMP_TOO_NEW'],
      ['not a number', at('yesterday'), 'INVALID_TIMESTAMP'],
      ['negative', at('-5'), 'INVALID_TIMESTAMP'],
      ['fractional', at(`${TS}.5`), 'INVALID_TIMESTAMP'],
      ['with spaces', at(` ${TS}`), 'INVALID_TIMESTAMP'],
    ];
    for (const [name, input, code] of cases) {
      it(`${name} → ${code ?? 'ok'}`, () => {
        if (code === null) assert.equal(verifyWebhook(input).timestamp > 0, true);
        else rejects(input, code);
      });
    }

    it('defaults to the real clock', () => {
      const timestamp = nowSeconds() - 400;
      rejects({ secret, headers: headers('msg_1', timestamp, sign(secret, 'msg_1', timestamp, body)), body }, 'TIMESTAMP_TOO_OLD');
    });
  });

  describe('signatures', () => {
    const other = newSecret();
    const good = sign(secret, 'msg_1', TS, body);
    const cases: [name: string, input: VerifyWebhookInput, code: WebhookVerificationError['code'] | null][] = [
      ['tampered body', valid({ body: '{"amount":2}' }), 'NO_MATCHING_SIGNATURE'],
      ['body with an extra newline', valid({ body: `${body}\n` }), 'NO_MATCHING_SIGNATURE'],
      ['tampered id', valid({ headers: headers('msg_2', TS, good) }), 'NO_MATCHING_SIGNATURE'],
      ['tampered timestamp', valid({ headers: headers('msg_1', TS - 1, good) }), 'NO_MATCHING_SIGNATURE'],
      ['wrong secret', valid({ secret: other }), 'NO_MATCHING_SIGNATURE'],
      ['one of several secrets', valid({ secret: undefined, secrets: [other, secret] }), null],
      ['secret and secrets together', valid({ secret: other, secrets: [secret] }), null],
      ['several signatures, one matches', valid({ headers: headers('msg_1', TS, `${sign(other, 'msg_1', TS, body)} ${good}`) }), null],
      ['several signatures, none matches', valid({ headers: headers('msg_1', TS, `${sign(other, 'msg_1', TS, body)} v1,${'A'.repeat(43)}=`) }), 'NO_MATCHING_SIGNATURE'],
      ['other versions are ignored', valid({ headers: headers('msg_1', TS, `v1a,${good.slice(3)} ${good}`) }), null],
      ['only another version', valid({ headers: headers('msg_1', TS, `v2,${good.slice(3)}`) }), 'NO_MATCHING_SIGNATURE'],
      ['signature without version', valid({ headers: headers('msg_1', TS, good.slice(3)) }), 'NO_MATCHING_SIGNATURE'],
      ['truncated signature', valid({ headers: headers('msg_1', TS, good.slice(0, -4)) }), 'NO_MATCHING_SIGNATURE'],
      ['garbage signature', valid({ headers: headers('msg_1', TS, 'v1,!!!') }), 'NO_MATCHING_SIGNATURE'],
      ['entries joined by a proxy with ", "', valid({ headers: headers('msg_1', TS, `${sign(other, 'msg_1', TS, body)}, ${good}`) }), null],
      ['extra whitespace', valid({ headers: headers('msg_1', TS, `  ${good}   v1,abc  `) }), null],
    ];
    for (const [name, input, code] of cases) {
      it(`${name} → ${code ?? 'ok'}`, () => {
        if (code === null) assert.equal(verifyWebhook(input).id, 'msg_1');
        else rejects(input, code);
      });
    }

    it('a header carrying a rotation verifies with either secret alone', () => {
      const both = `${sign(other, 'msg_1', TS, body)} ${good}`;
      for (const s of [secret, other]) assert.equal(verifyWebhook(valid({ secret: s, headers: headers('msg_1', TS, both) })).id, 'msg_1');
      rejects(valid({ secret: newSecret(), headers: headers('msg_1', TS, both) }), 'NO_MATCHING_SIGNATURE');
    });
  });

  describe('headers', () => {
    const good = sign(secret, 'msg_1', TS, body);
    const cases: [name: string, hdrs: VerifyWebhookInput['headers'], code: WebhookVerificationError['code'] | null][] = [
      ['mixed case names', { 'Webhook-Id': 'msg_1', 'WEBHOOK-TIMESTAMP': String(TS), 'webhook-Signature': good }, null],
      ['Node array values', { 'webhook-id': ['msg_1'], 'webhook-timestamp': [String(TS)], 'webhook-signature': [`v1,${'A'.repeat(43)}=`, good] }, null],
      ['Headers object', new Headers({ 'Webhook-Id': 'msg_1', 'Webhook-Timestamp': String(TS), 'Webhook-Signature': good }), null],
      ['Headers object with a repeated signature', (() => {
        const h = new Headers(headers('msg_1', TS, `v1,${'A'.repeat(43)}=`));
        h.append('webhook-signature', good);
        return h;
      })(), null],
      ['missing id', { 'webhook-timestamp': String(TS), 'webhook-signature': good }, 'MISSING_HEADERS'],
      ['missing timestamp', { 'webhook-id': 'msg_1', 'webhook-signature': good }, 'MISSING_HEADERS'],
      ['missing signature', { 'webhook-id': 'msg_1', 'webhook-timestamp': String(TS) }, 'MISSING_HEADERS'],
      ['undefined value', { 'webhook-id': undefined, 'webhook-timestamp': String(TS), 'webhook-signature': good }, 'MISSING_HEADERS'],
      ['empty value', { 'webhook-id': '', 'webhook-timestamp': String(TS), 'webhook-signature': good }, 'MISSING_HEADERS'],
      ['empty Headers', new Headers(), 'MISSING_HEADERS'],
      ['Svix-style names are not read', { 'svix-id': 'msg_1', 'svix-timestamp': String(TS), 'svix-signature': good }, 'MISSING_HEADERS'],
    ];
    for (const [name, hdrs, code] of cases) {
      it(`${name} → ${code ?? 'ok'}`, () => {
        if (code === null) assert.equal(verifyWebhook(valid({ headers: hdrs })).id, 'msg_1');
        else rejects(valid({ headers: hdrs }), code);
      });
    }
  });

  describe('secrets', () => {
    const cases: [name: string, overrides: Partial<VerifyWebhookInput>][] = [
      ['none', { secret: undefined }],
      ['empty list', { secret: undefined, secrets: [] }],
      ['empty string', { secret: '' }],
      ['prefix only', { secret: 'whsec_' }],
      ['not base64', { secret: 'whsec_not base64!' }],
      ['one bad among good', { secret: undefined, secrets: [secret, 'whsec_%%%'] }],
    ];
    for (const [name, overrides] of cases) {
      it(`${name} → INVALID_SECRET`, () => rejects(valid(overrides), 'INVALID_SECRET'));
    }
  });
});
