// A frontend's token held to the trusted documents runs the SDK's operations (by id, or as their
// exact text) and nothing else, on HTTP and graphql-ws; the socket outlives a refusal; other tokens
// and the admin are not restricted; the manifest is what the generated SDK sends.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { createClient, SwitchyardGraphQLError } from '../../sdk/src/index.js';
import { persistedDocumentIds, ViewerDocument } from '../../sdk/generated/graphql.js';
import { persistedDocumentId, persistedManifest } from '../../sdk/codegen/persisted-documents.js';
import { MANIFEST_URL, loadTrustedDocuments, trustedDocumentsOf } from '../../src/graphql/trusted-documents.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createTenant } from '../helpers/fixtures.js';
import { runWs, serverSubscribed, wsClient } from '../helpers/ws.js';

const ARBITRARY = '{ endpoints { nodes { id url } } }';


const byId = (id: string) => ({ persistedQuery: { version: 1, sha256Hash: id } });

describe('trusted documents', () => {
  let t: TestApp;
  let tenantId: string;
  let endpointId: string;
  let restricted: string;
  let unrestricted: string;

  async function mint(trustedDocumentsOnly: boolean | null): Promise<{ secret: string; flag: boolean }> {
    const data = await t.ok(
      `mutation($t: ID!, $only: Boolean) { createTenantToken(input: {tenantId: $t, trustedDocumentsOnly: $only}) {
        __typename ... on CreateTenantTokenPayload { secret apiToken { trustedDocumentsOnly } } } }`,
      { t: tenantId, only: trustedDocumentsOnly },
    );
    return { secret: data.createTenantToken.secret, flag: data.createTenantToken.apiToken.trustedDocumentsOnly };
  }

  before(async () => {
    t = await startTestApp();
    tenantId = await createTenant(t);
    ({ endpointId } = await createEndpoint(t, tenantId, 'http://127.0.0.1:9/a'));
    restricted = (await mint(true)).secret;
    unrestricted = (await mint(null)).secret;
  });
  after(() => t.stop());

  test('tokens are unrestricted by default, portal sessions restricted', async () => {
    assert.equal((await mint(null)).flag, false);
    const data = await t.ok(
      `mutation($t: ID!) { createPortalSession(input: {tenantId: $t}) { __typename ... on PortalSessionPayload { apiToken { trustedDocumentsOnly } } } }`,
      { t: tenantId },
    );
    assert.equal(data.createPortalSession.apiToken.trustedDocumentsOnly, true);
  });

  test('a restricted token runs SDK operations by id over HTTP and graphql-ws', async () => {
    const sdk = createClient({ url: `${t.url}/graphql`, token: restricted, webSocketImpl: WebSocket, persistedDocuments: true });
    try {
      const { endpoints } = await sdk.endpoints();
      assert.deepEqual(endpoints.nodes.map((e) => e.id), [endpointId]);
      const { viewer } = await sdk.viewer();
      assert.equal(viewer.kind, 'TENANT');

      const subscribed = serverSubscribed(t, 'endpoint');
      const updates = sdk.endpointUpdated({ filter: { endpointId } });
      await subscribed;
      await t.ok(`mutation($id: ID!) { disableEndpoint(input: {id: $id}) { __typename } }`, { id: endpointId });
      for await (const update of updates) {
        assert.equal(update.id, endpointId);
        assert.equal(update.enabled, false);
        break;
      }
    } finally {
      await sdk.close();
    }
  });

  test('a restricted token is refused an arbitrary document over HTTP, with PERSISTED_QUERY_ONLY', async () => {
    const refused = await t.gql(ARBITRARY, {}, restricted);
    assert.equal(refused.status, 403);
    assert.equal(refused.data ?? null, null);
    assert.equal(refused.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_ONLY', JSON.stringify(refused.errors));
    // the exact text of a trusted document is that document
    const asText = await t.gql(ViewerDocument, {}, restricted);
    assert.equal(asText.errors, undefined, JSON.stringify(asText.errors));
    assert.equal(asText.data.viewer.kind, 'TENANT');
    // the SDK's escape hatch sends text, and is refused the same way
    const sdk = createClient({ url: `${t.url}/graphql`, token: restricted, persistedDocuments: true });
    await assert.rejects(sdk.request(ARBITRARY), (error: unknown) => {
      assert.ok(error instanceof SwitchyardGraphQLError);
      assert.equal(error.errors[0]?.extensions?.code, 'PERSISTED_QUERY_ONLY');
      return true;
    });
  });

  test('over SSE an arbitrary subscription is refused with PERSISTED_QUERY_ONLY, not streamed', async () => {
    const response = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${restricted}` },
      body: JSON.stringify({ query: 'subscription { endpointUpdated { id url } }' }),
    });
    assert.ok(response.status < 500, `status ${response.status}`);
    const text = await response.text();
    assert.match(text, /PERSISTED_QUERY_ONLY/, text.slice(0, 300));
    assert.doesNotMatch(text, /Unexpected error/);
  });

  test('over graphql-ws an arbitrary document is refused for that operation; the socket goes on', async () => {
    const client = wsClient(t, restricted);
    try {
      const refused = await runWs(client, { query: ARBITRARY });
      assert.equal(refused.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_ONLY', JSON.stringify(refused));
      const refusedSubscription = await runWs(client, { query: 'subscription { endpointUpdated { id } }' });
      assert.equal(refusedSubscription.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_ONLY');
      const answered = await runWs(client, { query: '', extensions: byId(persistedDocumentIds.viewer!) });
      assert.equal(answered.errors, undefined, JSON.stringify(answered));
      assert.equal(answered.data.viewer.kind, 'TENANT');
      const unknown = await runWs(client, { query: '', extensions: byId('0'.repeat(64)) });
      assert.equal(unknown.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_NOT_FOUND');
    } finally {
      await client.dispose();
    }
  });

  test('an unknown id answers PERSISTED_QUERY_NOT_FOUND with 400; `documentId` is read too', async () => {
    const send = (body: unknown) =>
      fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${restricted}` },
        body: JSON.stringify(body),
      });
    const unknown = await send({ extensions: byId('f'.repeat(64)) });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as any).errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
    const documentId = await send({ documentId: `sha256:${persistedDocumentIds.viewer}` });
    assert.equal(documentId.status, 200);
    assert.equal(((await documentId.json()) as any).data.viewer.kind, 'TENANT');
  });

  test('an unrestricted token and the admin still send any document, on HTTP and graphql-ws', async () => {
    for (const token of [unrestricted, ADMIN_TOKEN]) {
      const answered = await t.gql(`query($t: ID) { endpoints(tenantId: $t) { nodes { id } } }`, { t: tenantId }, token);
      assert.equal(answered.errors, undefined, JSON.stringify(answered.errors));
      assert.equal(answered.data.endpoints.nodes[0].id, endpointId);
      const client = wsClient(t, token);
      try {
        const overWs = await runWs(client, { query: `{ viewer { kind } }` });
        assert.equal(overWs.errors, undefined, JSON.stringify(overWs));
      } finally {
        await client.dispose();
      }
    }
  });
});

describe('the trusted-documents manifest', () => {
  const generated = readFileSync(new URL('../../sdk/generated/graphql.ts', import.meta.url), 'utf8');

  test('is exactly the documents the generated SDK sends, each under its SHA-256', () => {
    const committed = JSON.parse(readFileSync(MANIFEST_URL, 'utf8')) as Record<string, string>;
    assert.deepEqual(committed, persistedManifest(generated), 'stale: run `npm run codegen`');
    assert.equal(persistedDocumentIds.viewer, persistedDocumentId(ViewerDocument));
    assert.equal(loadTrustedDocuments().byId(persistedDocumentIds.viewer!), ViewerDocument);
  });

  test('drift is detected: a changed operation changes the manifest, and a wrong id is refused at load', () => {
    const changed = generated.replace('query viewer {\n  viewer {\n    kind', 'query viewer {\n  viewer {\n    kind\n    scopes');
    assert.notEqual(changed, generated);
    assert.notDeepEqual(persistedManifest(changed), persistedManifest(generated));
    const id = persistedDocumentIds.viewer!;
    assert.throws(() => trustedDocumentsOf({ [id]: `${ViewerDocument} ` }), /not the SHA-256 of their document/);
  });
});
