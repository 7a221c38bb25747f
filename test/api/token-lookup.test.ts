// A stored token is looked up by its hash on every request. On SQLite, where this process is the
// only writer, the row is remembered: requests after the first read nothing, and whatever ends a
// token (revoking it, deleting its tenant, its expiry) still ends it on the next request. On
// PostgreSQL other nodes revoke too, so every request reads. Counted through the store's `onQuery`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createTenant } from '../helpers/fixtures.js';

const MINT = `mutation($input: CreateTenantTokenInput!) { createTenantToken(input: $input) { ... on CreateTenantTokenPayload { secret apiToken { id } } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiToken(input: {id: $id}) { __typename } }`;
const VIEWER = '{ viewer { kind tenant { id } } }';

for (const dialect of TEST_DIALECTS) {
  describe(`the token behind a request (${dialect})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let t: TestApp;
    let tokenReads = 0;

    before(async () => {
      t = await startTestApp({
        dialect,
        clock,
        env: { SWITCHYARD_ROLE: 'api' },
        onQuery: (sql) => {
          if (/from "api_tokens" where "token_hash"/.test(sql)) tokenReads++;
        },
      });
    });
    after(() => t.stop());

    async function mint(tenantId: string, expiresAt?: Date): Promise<{ secret: string; id: string }> {
      const minted = (await t.ok(MINT, { input: { tenantId, name: 'web', ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}) } })).createTenantToken;
      return { secret: minted.secret, id: minted.apiToken.id };
    }

    async function status(secret: string): Promise<number> {
      return (await t.gql(VIEWER, {}, secret)).status;
    }

    test(dialect === 'sqlite' ? 'read once, then remembered' : 'read on every request', async () => {
      const tenantId = await createTenant(t, 'Reads');
      const { secret } = await mint(tenantId);
      const before = tokenReads;
      for (let i = 0; i < 5; i++) assert.deepEqual((await t.ok(VIEWER, {}, secret)).viewer, { kind: 'TENANT', tenant: { id: tenantId } });
      assert.equal(tokenReads - before, dialect === 'sqlite' ? 1 : 5);
    });

    test('a revoked token is refused on the next request, though it was just used', async () => {
      const tenantId = await createTenant(t, 'Revoked');
      const { secret, id } = await mint(tenantId);
      const other = await mint(tenantId);
      assert.equal(await status(secret), 200);
      assert.equal(await status(other.secret), 200);
      assert.equal((await t.ok(REVOKE, { id })).revokeApiToken.__typename, 'RevokeApiTokenPayload');
      const refused = await t.gql(VIEWER, {}, secret);
      assert.equal(refused.status, 401);
      assert.equal(refused.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      // the tenant's other token goes on working
      assert.equal(await status(other.secret), 200);
    });

    test("deleting a tenant ends its tokens on the next request", async () => {
      const tenantId = await createTenant(t, 'Deleted');
      const { secret } = await mint(tenantId);
      assert.equal(await status(secret), 200);
      const deleted = await t.ok(`mutation($id: ID!) { deleteTenant(input: {id: $id, force: true}) { __typename } }`, { id: tenantId });
      assert.equal(deleted.deleteTenant.__typename, 'TenantPayload');
      assert.equal(await status(secret), 401);
    });

    test('a remembered token stops at its expiry', async () => {
      const tenantId = await createTenant(t, 'Expiring');
      const { secret } = await mint(tenantId, new Date(clock.now() + 60_000));
      assert.equal(await status(secret), 200);
      clock.advance(59_000);
      assert.equal(await status(secret), 200);
      clock.advance(1_000);
      assert.equal(await status(secret), 401);
    });

    test('its last use is still recorded, once a minute', async () => {
      const tenantId = await createTenant(t, 'Used');
      const { secret, id } = await mint(tenantId);
      const lastUsed = async () => (await t.ok(`query($id: ID!) { node(id: $id) { ... on ApiToken { lastUsedAt } } }`, { id })).node.lastUsedAt as string | null;
      assert.equal(await lastUsed(), null);
      assert.equal(await status(secret), 200);
      const first = await lastUsed();
      assert.equal(first, new Date(clock.now()).toISOString());
      clock.advance(30_000);
      assert.equal(await status(secret), 200);
      assert.equal(await lastUsed(), first, 'within the minute: not written again');
      clock.advance(31_000);
      assert.equal(await status(secret), 200);
      assert.equal(await lastUsed(), new Date(clock.now()).toISOString());
    });
  });
}
