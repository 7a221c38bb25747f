// Browser tests: playwright-core drives the Debian chromium against the real server on port 0.
// Skipped (with the reason) when chromium is absent locally; CI=true makes them run or fail.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { launch, newContext, SHOTS, skip } from './harness.js';

describe('console in a browser', { skip }, () => {
  let t: TestApp;
  let receiver: Receiver;
  let browser: Browser;
  let tenantId: string;
  const offsite: string[] = [];
  /** The app's clock runs this far ahead of the wall clock (for the expired portal link). */
  let skewMs = 0;

  const context = (): Promise<BrowserContext> => newContext(browser, offsite);

  before(async () => {
    t = await startTestApp({ clock: { now: () => Date.now() + skewMs }, env: { SWITCHYARD_CONSOLE_PRODUCT_NAME: 'Acme Webhooks', SWITCHYARD_GRAPHIQL: 'true' } });
    receiver = await startReceiver();
    const created = await t.ok(`mutation { createTenant(input: { name: "Acme", uid: "acme" }) { ... on TenantPayload { tenant { id } } } }`);
    tenantId = created.createTenant.tenant.id;
    await t.ok(`mutation { createEventType(input: { name: "invoice.paid", description: "paid" }) { __typename } }`);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await receiver?.close();
    await t?.stop();
  });

  test('a bad token gets a clear message', async () => {
    const ctx = await context();
    const page = await ctx.newPage();
    await page.goto(`${t.url}/console/`);
    await page.getByLabel('Token').fill('sy_nonsense_token_12345');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor({ timeout: 5000 });
    await ctx.close();
  });

  test('sign in, create an endpoint, an event appears live within a second', async () => {
    const ctx = await context();
    const page = await ctx.newPage();
    const started = Date.now();
    await page.goto(`${t.url}/console/`);
    await page.getByLabel('Token').waitFor();
    const firstRender = Date.now() - started;
    console.log(`# sign-in page first render: ${firstRender} ms`);
    await page.getByLabel('Token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('New endpoint URL').fill(`${receiver.url}/hooks`);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByTestId('secret').waitFor({ timeout: 5000 });
    const { endpoints } = await t.ok(`query($t: ID) { endpoints(tenantId: $t) { nodes { id } } }`, { t: tenantId });
    await t.ok(`mutation($i: CreateHookInput!) { createHook(input: $i) { __typename } }`, {
      i: { tenantId, endpointId: endpoints.nodes[0].id, name: 'all', eventTypes: ['invoice.*'] },
    });
    await page.getByText('● live').waitFor({ timeout: 5000 });
    const sent = Date.now();
    await t.ok(`mutation($i: SendEventInput!) { sendEvent(input: $i) { __typename } }`, { i: { tenantId, type: 'invoice.paid', payload: { id: 'in_1' } } });
    await page.locator('[data-testid=attempts] tr[data-outcome=SUCCEEDED]').first().waitFor({ timeout: 1000 });
    console.log(`# attempt visible in the live view ${Date.now() - sent} ms after sendEvent`);
    await page.screenshot({ path: `${SHOTS}/console.png`, fullPage: true });
    await ctx.close();
  });

  test('a tenant token sees only its own tenant', async () => {
    const other = await t.ok(`mutation { createTenant(input: { name: "Other", uid: "other" }) { ... on TenantPayload { tenant { id } } } }`);
    const minted = await t.ok(`mutation($t: ID!) { createTenantToken(input: { tenantId: $t }) { ... on CreateTenantTokenPayload { secret } } }`, { t: other.createTenant.tenant.id });
    const ctx = await context();
    const page = await ctx.newPage();
    await page.goto(`${t.url}/console/`);
    await page.getByLabel('Token').fill(minted.createTenantToken.secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('tenant-name').filter({ hasText: 'Other' }).waitFor({ timeout: 5000 });
    assert.equal(await page.getByText(receiver.url).count(), 0);
    assert.equal(await page.getByLabel('Tenant').count(), 0);
    await ctx.close();
  });

  test('a revoked portal link is refused', async () => {
    const session = await t.ok(`mutation($t: ID!) { createPortalSession(input: { tenantId: $t, ttlSeconds: 60 }) { ... on PortalSessionPayload { url apiToken { id } } } }`, { t: tenantId });
    await t.ok(`mutation($id: ID!) { revokeApiToken(input: { id: $id }) { __typename } }`, { id: session.createPortalSession.apiToken.id });
    const ctx = await context();
    const page = await ctx.newPage();
    await page.goto(`${t.url}${session.createPortalSession.url}`);
    await page.getByRole('alert').filter({ hasText: 'expired or was revoked' }).waitFor({ timeout: 5000 });
    await ctx.close();
  });

  test('an expired portal link is refused', async () => {
    const session = await t.ok(`mutation($t: ID!) { createPortalSession(input: { tenantId: $t, ttlSeconds: 60 }) { ... on PortalSessionPayload { url } } }`, { t: tenantId });
    skewMs = 61_000; // the 60 s link is now past its expiry
    try {
      const ctx = await context();
      const page = await ctx.newPage();
      await page.goto(`${t.url}${session.createPortalSession.url}`);
      await page.getByRole('alert').filter({ hasText: 'expired or was revoked' }).waitFor({ timeout: 5000 });
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
      await ctx.close();
    } finally {
      skewMs = 0;
    }
  });

  test('GraphiQL renders and runs a query offline', async () => {
    const ctx = await context();
    const requests: string[] = [];
    // GraphiQL's own storage: the headers pane and the editor start with these. (A string, not a
    // function: the tests' tsconfig has no DOM types.)
    const headers = JSON.stringify({ Authorization: `Bearer ${ADMIN_TOKEN}` });
    await ctx.addInitScript(`localStorage.setItem('graphiql:headers', ${JSON.stringify(headers)}); localStorage.setItem('graphiql:query', '{ viewer { kind } }');`);
    const page = await ctx.newPage();
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${t.url}/graphql`, { waitUntil: 'load' });
    await page.locator('.graphiql-container').waitFor({ timeout: 10000 });
    // Both editors (CodeMirror, loaded lazily) hold their text before the query runs.
    await page.locator('.CodeMirror').filter({ hasText: `Bearer ${ADMIN_TOKEN}` }).waitFor({ state: 'attached', timeout: 10000 });
    await page.locator('.CodeMirror').filter({ hasText: 'viewer' }).waitFor({ timeout: 10000 });
    await page.getByRole('button', { name: /Execute query/ }).click();
    await page.locator('.result-window').filter({ hasText: '"kind": "ADMIN"' }).waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${SHOTS}/graphiql.png` });
    const away = requests.filter((url) => !/^(https?|wss?):\/\/127\.0\.0\.1[:/]/.test(url) && !url.startsWith('data:') && !url.startsWith('blob:'));
    assert.deepEqual(away, [], 'no request left 127.0.0.1');
    assert.ok(requests.some((url) => url.startsWith(`${t.url}/graphql`)), 'GraphiQL called the local endpoint');
    assert.deepEqual(offsite, [], 'no request left 127.0.0.1');
    await ctx.close();
  });
});
