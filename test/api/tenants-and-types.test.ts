import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';

for (const dialect of TEST_DIALECTS) {
  describe(`tenants, tokens and event types (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ dialect });
    });
    after(() => t.stop());

    test('a request without a valid token is refused with 401 before execution', async () => {
      const missing = await t.gql('{ viewer { kind } }', {}, null);
      assert.equal(missing.status, 401);
      assert.equal(missing.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      const wrong = await t.gql('{ viewer { kind } }', {}, 'sy_wrong');
      assert.equal(wrong.status, 401);
    });

    test('tenant life cycle', async () => {
      const created = await t.ok(
        `mutation($input: CreateTenantInput!) { createTenant(input: $input) { __typename ... on TenantPayload { tenant { id name uid metadata } } } }`,
        { input: { name: 'Acme', uid: 'acme', metadata: { plan: 'pro' } } },
      );
      const tenant = created.createTenant.tenant;
      assert.match(tenant.id, /^tnt_[0-9A-Z]{26}$/);
      assert.deepEqual(tenant.metadata, { plan: 'pro' });

      const duplicate = await t.ok(
        `mutation { createTenant(input: {name: "Other", uid: "acme"}) { __typename ... on Error { code message } } }`,
      );
      assert.equal(duplicate.createTenant.__typename, 'ConflictError');

      const invalid = await t.ok(
        `mutation { createTenant(input: {name: ""}) { __typename ... on ValidationError { problems { path message } } } }`,
      );
      assert.deepEqual(invalid.createTenant.problems[0].path, ['input', 'name']);

      const updated = await t.ok(
        `mutation($id: ID!) { updateTenant(input: {id: $id, name: "Acme Inc"}) { ... on TenantPayload { tenant { name uid } } } }`,
        { id: tenant.id },
      );
      assert.deepEqual(updated.updateTenant.tenant, { name: 'Acme Inc', uid: 'acme' });

      const list = await t.ok(`{ tenants(first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }`);
      assert.equal(list.tenants.nodes.length, 1);

      const node = await t.ok(`query($id: ID!) { node(id: $id) { __typename id } }`, { id: tenant.id });
      assert.equal(node.node.__typename, 'Tenant');

      const deleted = await t.ok(
        `mutation($id: ID!) { deleteTenant(input: {id: $id}) { __typename ... on TenantPayload { tenant { id } } } }`,
        { id: tenant.id },
      );
      assert.equal(deleted.deleteTenant.tenant.id, tenant.id);
      const gone = await t.ok(`query($id: ID!) { tenant(id: $id) { id } }`, { id: tenant.id });
      assert.equal(gone.tenant, null);
    });

    test('tenant tokens see only their own tenant and cannot do admin work', async () => {
      const a = (await t.ok(`mutation { createTenant(input: {name: "A"}) { ... on TenantPayload { tenant { id } } } }`)).createTenant.tenant.id;
      const b = (await t.ok(`mutation { createTenant(input: {name: "B"}) { ... on TenantPayload { tenant { id } } } }`)).createTenant.tenant.id;
      const minted = await t.ok(
        `mutation($t: ID!) { createTenantToken(input: {tenantId: $t, name: "web", scopes: [READ, MANAGE]}) { ... on CreateTenantTokenPayload { secret apiToken { id scopes } } } }`,
        { t: a },
      );
      const secret = minted.createTenantToken.secret;
      assert.match(secret, /^sy_tnt_/);
      const viewer = await t.ok(`{ viewer { kind scopes tenant { id } } }`, {}, secret);
      assert.deepEqual(viewer.viewer, { kind: 'TENANT', scopes: ['READ', 'MANAGE'], tenant: { id: a } });

      const other = await t.ok(`query($id: ID!) { tenant(id: $id) { id } node(id: $id) { id } }`, { id: b }, secret);
      assert.deepEqual(other, { tenant: null, node: null });

      const forbidden = await t.gql(`mutation { createTenant(input: {name: "X"}) { __typename } }`, {}, secret);
      assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      const forbiddenType = await t.gql(`mutation { createEventType(input: {name: "a.b"}) { __typename } }`, {}, secret);
      assert.equal(forbiddenType.errors?.[0]?.extensions?.code, 'FORBIDDEN');

      const revoked = await t.ok(
        `mutation($id: ID!) { revokeApiToken(input: {id: $id}) { __typename } }`,
        { id: minted.createTenantToken.apiToken.id },
      );
      assert.equal(revoked.revokeApiToken.__typename, 'RevokeApiTokenPayload');
      assert.equal((await t.gql(`{ viewer { kind } }`, {}, secret)).status, 401);
    });

    test('event types: create, validate, archive, unarchive', async () => {
      const schema = {
        type: 'object',
        required: ['id', 'amount'],
        properties: { id: { type: 'string' }, amount: { type: 'number', minimum: 0 } },
      };
      const created = await t.ok(
        `mutation($input: CreateEventTypeInput!) { createEventType(input: $input) { __typename ... on EventTypePayload { eventType { id name schema archived } } } }`,
        { input: { name: 'invoice.paid', description: 'An invoice was paid', schema, examples: [{ id: 'in_1', amount: 10 }] } },
      );
      assert.equal(created.createEventType.eventType.name, 'invoice.paid');
      assert.match(created.createEventType.eventType.id, /^evty_/);

      const badName = await t.ok(
        `mutation { createEventType(input: {name: "nodot"}) { __typename ... on ValidationError { problems { path message } } } }`,
      );
      assert.equal(badName.createEventType.__typename, 'ValidationError');
      assert.deepEqual(badName.createEventType.problems[0].path, ['input', 'name']);

      const badSchema = await t.ok(
        `mutation($s: JSON) { createEventType(input: {name: "x.y", schema: $s}) { __typename ... on ValidationError { problems { path message } } } }`,
        { s: { type: 'objekt' } },
      );
      assert.equal(badSchema.createEventType.__typename, 'ValidationError');
      assert.equal(badSchema.createEventType.problems[0].path[1], 'schema');

      const badExample = await t.ok(
        `mutation($s: JSON, $e: [JSON!]) { createEventType(input: {name: "x.z", schema: $s, examples: $e}) { __typename ... on ValidationError { problems { path } } } }`,
        { s: schema, e: [{ id: 'x' }] },
      );
      assert.deepEqual(badExample.createEventType.problems[0].path, ['input', 'examples', '0', 'amount']);
      const none = await t.ok(`{ eventType(name: "x.z") { id } }`);
      assert.equal(none.eventType, null, 'a refused create writes nothing');

      await t.ok(`mutation { archiveEventType(input: {name: "invoice.paid"}) { __typename } }`);
      const listed = await t.ok(`{ eventTypes { nodes { name } } all: eventTypes(includeArchived: true) { nodes { name archived } } }`);
      // the reserved `switchyard.*` types of operational events are always in the catalog
      const own = (nodes: { name: string }[]) => nodes.filter((node) => !node.name.startsWith('switchyard.'));
      assert.equal(own(listed.eventTypes.nodes).length, 0);
      assert.deepEqual(own(listed.all.nodes), [{ name: 'invoice.paid', archived: true }]);

      const again = await t.ok(
        `mutation { createEventType(input: {name: "invoice.paid"}) { __typename ... on EventTypePayload { eventType { archived schema } } } }`,
      );
      assert.equal(again.createEventType.eventType.archived, false);
      assert.deepEqual(again.createEventType.eventType.schema, schema, 'unarchiving keeps the schema when none is given');
    });
  });
}

describe('node lookups', () => {
  test('an id with an unknown prefix is just not found', async () => {
    const t = await startTestApp();
    try {
      const data = await t.ok(`{ node(id: "xx_1") { id } nodes(ids: ["xx_1", "tnt_01"]) { id } }`);
      assert.deepEqual(data, { node: null, nodes: [null, null] });
    } finally {
      await t.stop();
    }
  });
});
