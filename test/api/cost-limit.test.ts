// A tenant's READ token cannot freeze the server with a small query whose lists multiply: the
// cost is counted before execution (default page sizes and `first: $variable` included) and the
// query is refused in milliseconds, on HTTP and on graphql-ws, while /healthz keeps answering.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../src/db/pagination.js';
import { UNBOUNDED_LIST_SIZE, operationCost } from '../../src/graphql/cost.js';
import { buildSchema } from '../../src/graphql/schema.js';
import { loadConfig } from '../../src/env.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createTenant, createTenantToken } from '../helpers/fixtures.js';

const NESTED = 'endpoints { nodes { tenant { endpoints { nodes { tenant { endpoints { nodes { id } } } } } } } }';
/** The query of the report: 30 aliases of three nested default pages, about 3 KB, inside depth and alias limits. */
const HOSTILE = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: ${NESTED}`).join(' ')} }`;
const TWO_LEVELS = 'query($n: Int) { endpoints(first: $n) { nodes { tenant { endpoints(first: $n) { nodes { id url } } } } } }';

async function healthzMs(t: TestApp): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${t.url}/healthz`);
  assert.equal(response.status, 200);
  return performance.now() - started;
}

for (const dialect of TEST_DIALECTS) {
  describe(`the cost limit (${dialect})`, () => {
    let t: TestApp;
    let token: string;
    before(async () => {
      t = await startTestApp({ dialect });
      const tenantId = await createTenant(t);
      for (let i = 0; i < 100; i++) await createEndpoint(t, tenantId, `http://127.0.0.1:9/${i}`);
      token = await createTenantToken(t, tenantId, ['READ']);
    });
    after(() => t.stop());

    test('the 3 KB query of the report is refused before it runs, in milliseconds', async () => {
      assert.ok(HOSTILE.length > 2_500 && HOSTILE.length < 3_500);
      // the first request of a fresh server warms Yoga and the token's cache up
      await t.gql('{ viewer { __typename } }', {}, token);
      const timings: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const result = await t.gql(HOSTILE, {}, token);
        timings.push(performance.now() - started);
        assert.equal(result.status, 200);
        assert.equal(result.data ?? null, null);
        assert.equal(result.errors?.[0]?.extensions?.code, 'COST_LIMIT_EXCEEDED', JSON.stringify(result.errors));
        assert.match(result.errors![0].message, /over the limit of 10000/);
      }
      const median = timings.sort((a, b) => a - b)[2]!;
      console.log(`# the 3 KB query refused in ${median.toFixed(1)} ms (median of 5)`);
      assert.ok(median < 250, `refused in ${median.toFixed(1)} ms (median of 5)`);
      assert.ok((await healthzMs(t)) < 250);
    });

    test('`first: $n` counts the variable: two levels of 100 are refused, two of 10 answer', async () => {
      const refused = await t.gql(TWO_LEVELS, { n: 100 }, token);
      assert.equal(refused.errors?.[0]?.extensions?.code, 'COST_LIMIT_EXCEEDED');
      const answered = await t.gql(TWO_LEVELS, { n: 10 }, token);
      assert.equal(answered.errors, undefined, JSON.stringify(answered.errors));
      assert.equal(answered.data.endpoints.nodes.length, 10);
      // the same document again: a cost that depends on a variable is never kept
      const again = await t.gql(TWO_LEVELS, { n: 100 }, token);
      assert.equal(again.errors?.[0]?.extensions?.code, 'COST_LIMIT_EXCEEDED');
    });

    test('over graphql-ws the refusal is an answer to that operation, and the socket lives on', async () => {
      const client = createClient({
        url: `${t.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
      });
      try {
        const run = (query: string) =>
          new Promise<{ errors?: readonly { extensions?: Record<string, unknown> }[]; data?: unknown }>((resolve, reject) => {
            let last: { errors?: readonly { extensions?: Record<string, unknown> }[]; data?: unknown } = {};
            client.subscribe({ query }, { next: (value) => (last = value as typeof last), error: reject, complete: () => resolve(last) });
          });
        const refused = await run(HOSTILE);
        assert.equal(refused.errors?.[0]?.extensions?.code, 'COST_LIMIT_EXCEEDED');
        const next = await run('{ endpoints(first: 1) { nodes { id } } }');
        assert.equal(next.errors, undefined, 'the same socket answers the next operation');
      } finally {
        await client.dispose();
      }
    });
  });
}

describe('the default limit lets every SDK operation through at the largest page', () => {
  const schema = buildSchema();
  const { maxQueryCost } = loadConfig({});
  const text = readdirSync('sdk/operations')
    .filter((name) => name.endsWith('.graphql'))
    .map((name) => readFileSync(`sdk/operations/${name}`, 'utf8'))
    .join('\n');
  const document = parse(text);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  for (const operation of operations) {
    test(operation.name?.value ?? 'anonymous', () => {
      const variables: Record<string, unknown> = {};
      for (const definition of operation.variableDefinitions ?? []) {
        if (definition.variable.name.value === 'first') variables.first = MAX_PAGE_SIZE;
      }
      const cost = operationCost(schema, document, operation, variables, { defaultPageSize: DEFAULT_PAGE_SIZE, maxPageSize: MAX_PAGE_SIZE, unboundedListSize: UNBOUNDED_LIST_SIZE });
      assert.ok(cost <= maxQueryCost, `${operation.name?.value} costs ${cost}`);
    });
  }
});
