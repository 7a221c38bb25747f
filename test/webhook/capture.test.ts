import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_CAPTURE_BYTES, captureBody, captureResponse, runCapture, type CaptureInput } from '../../src/webhook/capture.js';

const EVENT = { id: 'msg_1', type: 'doc.created', channels: [], occurredAt: '2026-01-01T00:00:00.000Z', createdAt: '2026-01-01T00:00:00.000Z' };

describe('captureBody', () => {
  const cases: [string, string | undefined, string, 'utf8' | 'base64', unknown][] = [
    ['parses JSON', 'application/json', '{"remote_id":"R-1"}', 'utf8', { remote_id: 'R-1' }],
    ['parses JSON with a charset', 'application/json; charset=utf-8', '[1,2]', 'utf8', [1, 2]],
    ['parses a +json type', 'application/problem+json', '{"title":"x"}', 'utf8', { title: 'x' }],
    ['keeps the text of a JSON type that does not parse (or was cut)', 'application/json', '{"remote_id":"R-', 'utf8', '{"remote_id":"R-'],
    ['keeps text of another type as text', 'text/plain', '{"a":1}', 'utf8', '{"a":1}'],
    ['keeps text without a content type', undefined, 'hello', 'utf8', 'hello'],
    ['gives null for a body that is not text', 'application/json', 'AAEC', 'base64', null],
    ['keeps an empty body as text', 'application/json', '', 'utf8', ''],
  ];
  for (const [name, contentType, body, encoding, expected] of cases) {
    it(name, () => assert.deepEqual(captureBody(contentType, body, encoding), expected));
  }
});

describe('captureResponse', () => {
  it('reads the stored headers and parses the body by their content type', () => {
    const response = captureResponse({ status: 201, headersJson: '{"content-type":"application/json","location":"/d/R-1"}', body: '{"id":1}', bodyEncoding: 'utf8' });
    assert.deepEqual(response, { status: 201, headers: { 'content-type': 'application/json', location: '/d/R-1' }, body: { id: 1 } });
  });
  it('takes no headers as none', () => {
    assert.deepEqual(captureResponse({ status: 204, headersJson: null, body: '', bodyEncoding: 'utf8' }), { status: 204, headers: {}, body: '' });
  });
});

describe('runCapture', () => {
  const input: CaptureInput = {
    response: { status: 201, headers: { location: '/documents/R-1', 'set-cookie': ['a=1', 'b=2'] }, body: { remote_id: 'R-1', items: [1, 2, 3] } },
    event: EVENT,
    data: { id: 'doc-1' },
  };
  const cases: [string, string, { captured: unknown } | RegExp][] = [
    ['a field of the body', 'response.body.remote_id', { captured: 'R-1' }],
    ['an object of several parts', '{"id": response.body.remote_id, "status": response.status, "doc": data.id, "type": event.type}', { captured: { id: 'R-1', status: 201, doc: 'doc-1', type: 'doc.created' } }],
    ['a header', 'response.headers.location', { captured: '/documents/R-1' }],
    ['a repeated header', 'response.headers."set-cookie"[1]', { captured: 'b=2' }],
    ['an explicit null', 'null', { captured: null }],
    ['a syntax error', 'response.(', /^capture has a syntax error at position \d+ \(S\d+\)/],
    ['an error raised', '$error("no id")', /^capture failed.*no id/],
    ['a path that matches nothing', 'response.body.missing', /^capture produced no value .*return null explicitly to capture nothing/],
    ['a function', '$uppercase', /^capture result is not JSON/],
    ['a result over the cap', `$pad("", ${MAX_CAPTURE_BYTES + 1}, "x")`, new RegExp(`^capture result is larger than ${MAX_CAPTURE_BYTES} bytes`)],
    ['a result at the cap', `$pad("", ${MAX_CAPTURE_BYTES - 2}, "x")`, { captured: 'x'.repeat(MAX_CAPTURE_BYTES - 2) }],
    ['an endless loop, stopped by the time budget', '($f := function($n) { $f($n + 1) }; $f(0))', /^capture failed/],
  ];
  for (const [name, source, expected] of cases) {
    it(name, async () => {
      const outcome = await runCapture(source, input);
      if (expected instanceof RegExp) {
        assert.equal(outcome.captured, null);
        assert.match(outcome.error ?? '', expected);
      } else {
        assert.equal(outcome.error, null);
        assert.deepEqual(JSON.parse(outcome.captured ?? 'undefined'), expected.captured);
      }
    });
  }
});
