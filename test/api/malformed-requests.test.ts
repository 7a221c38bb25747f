// Malformed GraphQL-over-HTTP requests get a 400 with the reason, never a 5xx.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { malformedQueryString } from '../../src/http/graphql-request.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';

describe('malformedQueryString', () => {
  const cases: { url: string; problem: RegExp | null }[] = [
    { url: '/graphql', problem: null },
    { url: '/graphql?query={__typename}', problem: null },
    { url: '/graphql?query={__typename}&variables=', problem: null },
    { url: '/graphql?query={__typename}&variables=%7B%22a%22%3A1%7D', problem: null },
    { url: '/graphql?query={__typename}&variables=null', problem: null },
    { url: '/graphql?query={__typename}&variables={bad', problem: /`variables` parameter is not valid JSON/ },
    { url: '/graphql?query={__typename}&variables=%ZZ', problem: /`variables` parameter is not valid JSON/ },
    { url: '/graphql?query={__typename}&variables=[1]', problem: /`variables` parameter must be a JSON object/ },
    { url: '/graphql?query={__typename}&variables=42', problem: /must be a JSON object/ },
    { url: '/graphql?query={__typename}&extensions={x', problem: /`extensions` parameter is not valid JSON/ },
  ];
  for (const { url, problem } of cases) {
    test(url, () => {
      const found = malformedQueryString(url);
      if (problem === null) assert.equal(found, null);
      else assert.match(found ?? '', problem);
    });
  }
});

describe('GET /graphql with malformed parameters', () => {
  let t: TestApp;
  before(async () => (t = await startTestApp()));
  after(() => t.stop());

  for (const query of ['query={__typename}&variables={bad', 'query={__typename}&variables=%ZZ', 'query={__typename}&extensions={x']) {
    test(`${query} → 400 with the reason`, async () => {
      const response = await fetch(`${t.url}/graphql?${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'application/json' } });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      assert.equal(body.errors[0]?.extensions.code, 'BAD_REQUEST');
      assert.match(body.errors[0]?.message ?? '', /parameter is not valid JSON/);
    });
  }

  test('a well-formed GET still answers', async () => {
    const response = await fetch(`${t.url}/graphql?query={__typename}&variables=${encodeURIComponent('{}')}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'application/json' },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { data: { __typename: 'Query' } });
  });
});
