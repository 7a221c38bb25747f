// Browser tests of the console's pages: endpoints and hooks made through the UI, validation problems
// at their fields, a test delivery, the live view, a delivery's detail with retry and replay, the
// event catalog. Same harness as console.test.ts: the real server on port 0, a real receiver.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createClient, type SwitchyardClient } from '../../sdk/src/index.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, status, type Receiver } from '../helpers/receiver.js';
import { launch, newContext, SHOTS, skip } from './harness.js';

describe('console pages in a browser', { skip }, () => {
  let t: TestApp;
  let receiver: Receiver;
  let browser: Browser;
  let sdk: SwitchyardClient;
  let tenantId: string;
  let ctx: BrowserContext;
  let page: Page;
  const offsite: string[] = [];

  before(async () => {
    t = await startTestApp({ env: { SWITCHYARD_CONSOLE_PRODUCT_NAME: 'Acme Webhooks' } });
    receiver = await startReceiver();
    sdk = createClient({ url: `${t.url}/graphql`, token: ADMIN_TOKEN });
    const created = await sdk.createTenant({ input: { name: 'Acme', uid: 'acme' } });
    assert.equal(created.createTenant.__typename, 'TenantPayload');
    if (created.createTenant.__typename === 'TenantPayload') tenantId = created.createTenant.tenant.id;
    const schema = { type: 'object', required: ['id'], properties: { id: { type: 'string' }, amount: { type: 'integer' } } };
    await sdk.createEventType({ input: { name: 'invoice.paid', description: 'An invoice was paid in full.', schema, examples: [{ id: 'in_example', amount: 1200 }] } });
    await sdk.createEventType({ input: { name: 'invoice.void', description: 'Replaced by invoice.cancelled.' } });
    await sdk.archiveEventType({ input: { name: 'invoice.void' } });
    browser = await launch();
    ctx = await newContext(browser, offsite);
    page = await ctx.newPage();
    await page.goto(`${t.url}/console/`);
    await page.getByLabel('Token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 5000 });
  });
  after(async () => {
    await ctx?.close();
    await browser?.close();
    await sdk?.close();
    await receiver?.close();
    await t?.stop();
  });

  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  const url = () => `${receiver.url}/hooks`;

  test('create an endpoint and change it through the UI: settings, problems at their field, disable, rotate, recover', async () => {
    await page.getByLabel('New endpoint URL').fill(url());
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByTestId('secret').filter({ hasText: 'whsec_' }).waitFor({ timeout: 5000 });
    await page.getByRole('link', { name: `Manage ${url()}` }).click();
    await page.getByRole('heading', { name: url() }).waitFor();

    // A value the API refuses: its problem shows at the field, which is marked invalid.
    await page.getByLabel('Timeout (ms)').fill('5');
    await page.getByRole('button', { name: 'Save endpoint' }).click();
    await page.locator('[role=alert][data-field=timeoutMs]').waitFor({ timeout: 5000 });
    assert.equal(await page.getByLabel('Timeout (ms)').getAttribute('aria-invalid'), 'true');

    // A long first retry delay, so only the Retry button retries in the delivery test below.
    await page.getByLabel('Timeout (ms)').fill('');
    await page.getByLabel('First delay (ms)').fill('600000');
    await page.getByLabel('Description').fill('Acme billing');
    await page.getByRole('button', { name: 'Save endpoint' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Endpoint saved.' }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('[role=alert][data-field]').count(), 0);

    await page.getByLabel('Why (optional)').fill('maintenance');
    await page.getByRole('button', { name: 'Disable endpoint' }).click();
    await page.getByTestId('endpoint-state').filter({ hasText: 'Disabled (manual)' }).waitFor({ timeout: 5000 });
    await page.getByText('maintenance').waitFor();
    await page.getByRole('button', { name: 'Enable endpoint' }).click();
    await page.getByTestId('endpoint-state').filter({ hasText: 'Enabled' }).waitFor({ timeout: 5000 });

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByTestId('endpoint-secret').filter({ hasText: 'whsec_' }).waitFor({ timeout: 5000 });
    await page.getByRole('cell', { name: 'previous' }).waitFor();

    const hourAgo = new Date(Date.now() - 3600_000);
    const local = new Date(hourAgo.getTime() - hourAgo.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.getByLabel('Created since').fill(local);
    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByTestId('notice').filter({ hasText: 'due again' }).waitFor({ timeout: 5000 });
    await page.screenshot({ path: `${SHOTS}/endpoint.png`, fullPage: true });

    const { endpoint } = await sdk.endpoints({ tenantId }).then((r) => ({ endpoint: r.endpoints.nodes[0]! }));
    assert.equal(endpoint.description, 'Acme billing');
    assert.equal(endpoint.retryPolicy?.initialDelayMs, 600000);
  });

  test('delete an endpoint through the UI', async () => {
    const made = await sdk.createEndpoint({ input: { tenantId, url: `${receiver.url}/old` } });
    assert.equal(made.createEndpoint.__typename, 'CreateEndpointPayload');
    if (made.createEndpoint.__typename !== 'CreateEndpointPayload') return;
    await page.goto(`${t.url}/console/#/endpoints/${made.createEndpoint.endpoint.id}`);
    await page.getByRole('button', { name: 'Delete endpoint…' }).click();
    await page.getByRole('button', { name: /Yes, delete/ }).click();
    await page.getByRole('heading', { name: 'Endpoints', exact: true }).waitFor({ timeout: 5000 });
    await page.getByRole('link', { name: `Manage ${url()}` }).waitFor();
    assert.equal(await page.getByRole('link', { name: `Manage ${receiver.url}/old` }).count(), 0);
  });

  test('signatures through the UI: GitHub alone is refused at its field; v1a shows its public key, which rotates', async () => {
    const made = await sdk.createEndpoint({ input: { tenantId, url: `${receiver.url}/signed` } });
    assert.equal(made.createEndpoint.__typename, 'CreateEndpointPayload');
    if (made.createEndpoint.__typename !== 'CreateEndpointPayload') return;
    const endpointId = made.createEndpoint.endpoint.id;
    await page.goto(`${t.url}/console/#/endpoints/${endpointId}`);
    await page.getByRole('heading', { name: `${receiver.url}/signed` }).waitFor();
    assert.equal(await page.getByTestId('signing-keys').count(), 0, 'no v1a keys while v1 alone signs');

    await page.getByRole('checkbox', { name: /Standard Webhooks v1 \(/ }).uncheck();
    await page.getByRole('checkbox', { name: /GitHub X-Hub-Signature-256/ }).check();
    await page.getByRole('button', { name: 'Save endpoint' }).click();
    await page.locator('[role=alert][data-field=signatureSchemes]').waitFor({ timeout: 5000 });

    await page.getByRole('checkbox', { name: /Standard Webhooks v1a/ }).check();
    await page.getByRole('button', { name: 'Save endpoint' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Endpoint saved.' }).waitFor({ timeout: 5000 });
    const keys = page.getByTestId('signing-keys');
    await keys.getByRole('cell', { name: 'current' }).waitFor({ timeout: 5000 });
    const { endpoint } = await sdk.endpoint({ id: endpointId });
    assert.deepEqual(endpoint?.signatureSchemes, ['V1A', 'GITHUB_SHA256']);
    const shown = await keys.locator('code').first().textContent();
    assert.equal(shown, endpoint?.signingPublicKeys[0]?.publicKey, 'the page shows the key receivers verify with');

    await page.getByRole('button', { name: 'Rotate signing key' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Signing key rotated' }).waitFor({ timeout: 5000 });
    await keys.getByRole('cell', { name: 'previous' }).waitFor({ timeout: 5000 });
    assert.equal(await keys.locator('tbody tr').count(), 2);
    await sdk.deleteEndpoint({ input: { id: endpointId } });
  });

  test('create a hook through the UI, with problems at their fields, and send a test delivery', async () => {
    await nav('Hooks');
    await page.getByRole('button', { name: 'New hook' }).click();
    const form = page.getByRole('form', { name: 'Create hook' });
    await form.getByLabel('Name', { exact: true }).fill('billing');
    await form.getByLabel('Event types').fill('nothing.*');
    await form.getByLabel('Path template').fill('/in/{data.id}');
    await form.getByLabel('Settings schema (JSON Schema)').fill('{"type": "object", "properties": {"tag": {"type": "string"}}}');
    await form.getByLabel('Settings (JSON object)').fill('{"tag": "acme"}');
    await form.getByLabel('Body template').selectOption('JSON');
    await form.getByLabel('Template body').fill('{"greeting": "Hello {{data.id}}", "amount": "{{data.amount}}"}');
    await form.getByLabel('Timeout (ms)').fill('3000');
    await form.getByLabel('Retry policy (JSON)').fill('{"maxAttempts": 3}');
    await form.getByLabel('Metadata (JSON object)').fill('{"team": "billing"}');
    await form.getByLabel('Headers (JSON object)').fill('{"x-hook-key": "{{secrets.token}}"}');
    await form.getByLabel('Secrets (JSON object)').fill('{"token": "tok_console_secret"}');
    await form.getByLabel('Filter (JSON)').fill('{"data.amount": {"$gt": 100}');
    await form.getByRole('button', { name: 'Create hook' }).click();
    // JSON that does not parse is caught before sending, at its field.
    await form.locator('[role=alert][data-field=filter]').waitFor({ timeout: 5000 });
    await form.getByLabel('Filter (JSON)').fill('{"data.amount": {"$gt": 100}}');
    await form.getByRole('button', { name: 'Create hook' }).click();
    // A pattern that matches no event type: the API's problem, at the field.
    await form.locator('[role=alert][data-field=eventTypes]').filter({ hasText: /./ }).waitFor({ timeout: 5000 });
    assert.equal(await form.getByLabel('Event types').getAttribute('aria-invalid'), 'true');
    await form.getByLabel('Event types').fill('invoice.*');
    await form.getByRole('button', { name: 'Create hook' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Hook created.' }).waitFor({ timeout: 5000 });
    await page.getByRole('form', { name: 'Edit hook' }).waitFor();

    // Every control of the form has a label.
    // (A string, not a function: the tests' tsconfig has no DOM types.)
    const unlabelled = await page.evaluate(`[...document.querySelectorAll('main input, main select, main textarea')]
      .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).map((el) => el.outerHTML)`);
    assert.deepEqual(unlabelled, []);

    await page.getByLabel('Payload (JSON)', { exact: true }).fill('{"id": "in_test", "amount": 500}');
    await page.getByRole('button', { name: 'Send test' }).click();
    const detail = page.getByTestId('attempt-detail');
    await detail.getByTestId('response-status').filter({ hasText: '200' }).waitFor({ timeout: 10000 });
    await detail.getByText('/hooks/in/in_test').first().waitFor();
    await detail.getByText('Hello in_test').first().waitFor();
    await page.screenshot({ path: `${SHOTS}/hook.png`, fullPage: true });
    const { hooks } = await sdk.hooks({ tenantId });
    assert.equal(hooks.nodes[0]?.path, '/in/{data.id}');
    assert.deepEqual(hooks.nodes[0]?.settings, { tag: 'acme' });
    assert.deepEqual(hooks.nodes[0]?.filter, { 'data.amount': { $gt: 100 } });
    assert.deepEqual(hooks.nodes[0]?.template && { kind: hooks.nodes[0].template.kind, body: hooks.nodes[0].template.body }, {
      kind: 'JSON',
      body: { greeting: 'Hello {{data.id}}', amount: '{{data.amount}}' },
    });
    assert.equal(hooks.nodes[0]?.timeoutMs, 3000);
    assert.equal(hooks.nodes[0]?.retryPolicy?.maxAttempts, 3);
    assert.deepEqual(hooks.nodes[0]?.metadata, { team: 'billing' });
    assert.deepEqual(hooks.nodes[0]?.headers, { 'x-hook-key': '{{secrets.token}}' });
    assert.deepEqual(hooks.nodes[0]?.secretKeys, ['token']);
    // the test delivery's request, as the console shows it, keeps the secret out
    assert.equal(await page.getByText('tok_console_secret').count(), 0);
  });

  test('an event sent through the SDK appears live within a second; its delivery shows the response; retry and replay it', async () => {
    await nav('Live attempts');
    await page.getByText('● live').waitFor({ timeout: 5000 });
    receiver.enqueue(status(503, { 'content-type': 'text/plain' }, 'busy'));
    const sent = Date.now();
    const result = await sdk.sendEvent({ input: { tenantId, type: 'invoice.paid', payload: { id: 'in_42', amount: 4200 } } });
    assert.equal(result.sendEvent.__typename, 'SendEventPayload');
    const row = page.locator('[data-testid=attempts] tr[data-outcome=FAILED]').filter({ hasText: 'in_42' });
    await row.waitFor({ timeout: 1000 });
    console.log(`# attempt visible in the live view ${Date.now() - sent} ms after sendEvent`);

    // Filters: by outcome, by hook.
    await page.getByLabel('Outcome').selectOption('SUCCEEDED');
    await page.locator('[data-testid=attempts] tr[data-outcome=SUCCEEDED]').first().waitFor({ timeout: 5000 });
    assert.equal(await page.locator('[data-testid=attempts] tbody tr:not([data-outcome=SUCCEEDED])').count(), 0);
    await page.getByLabel('Outcome').selectOption('');
    await page.getByLabel('Hook').selectOption({ label: 'billing' });
    await row.waitFor({ timeout: 5000 });

    await row.getByRole('link', { name: /Open delivery/ }).click();
    await page.getByTestId('delivery-status').filter({ hasText: 'RETRYING' }).waitFor({ timeout: 5000 });
    await page.getByTestId('response-status').filter({ hasText: '503' }).waitFor();
    await page.getByRole('article', { name: 'Response of attempt 1' }).getByText('busy').waitFor();
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('[data-testid=delivery-attempts] > li').nth(1).and(page.locator('[data-outcome=SUCCEEDED]')).waitFor({ timeout: 10000 });
    await page.getByTestId('delivery-status').filter({ hasText: 'SUCCEEDED' }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('[data-testid=delivery-attempts] > li').first().getAttribute('data-outcome'), 'FAILED', 'attempts in order');
    await page.screenshot({ path: `${SHOTS}/delivery.png`, fullPage: true });

    await page.getByRole('button', { name: 'Replay event' }).click();
    await page.getByTestId('notice').filter({ hasText: 'Event replayed: 1 new delivery.' }).waitFor({ timeout: 5000 });
    await page.getByRole('list', { name: 'New deliveries' }).getByRole('link').click();
    await page.getByTestId('delivery-status').filter({ hasText: 'SUCCEEDED' }).waitFor({ timeout: 10000 });
  });

  test('operational events show on their page, live: an endpoint disabled by hand appears with its kind', async () => {
    await nav('Operations');
    await page.getByTestId('operations-status').filter({ hasText: '● live' }).waitFor({ timeout: 5000 });
    const created = await sdk.createEndpoint({ input: { tenantId, url: `${receiver.url}/ops` } });
    assert.equal(created.createEndpoint.__typename, 'CreateEndpointPayload');
    const endpointId = created.createEndpoint.__typename === 'CreateEndpointPayload' ? created.createEndpoint.endpoint.id : '';
    const disabled = await sdk.disableEndpoint({ input: { id: endpointId, message: 'maintenance' } });
    assert.notEqual(disabled.disableEndpoint.__typename, 'ValidationError', JSON.stringify(disabled));
    await page.locator('[data-testid=operational-events] tr[data-kind="endpoint.disabled"]').first().waitFor({ timeout: 5000 });
    await page.getByLabel('Kind').selectOption('endpoint.enabled');
    await page.getByText('No operational events of kind endpoint.enabled').waitFor({ timeout: 5000 });
  });

  test('the event catalog lists types with schemas and examples, archived ones apart', async () => {
    await nav('Event catalog');
    const current = page.getByTestId('current-types');
    await current.getByRole('heading', { name: 'invoice.paid' }).waitFor({ timeout: 5000 });
    await current.getByText('An invoice was paid in full.').waitFor();
    await current.getByText('in_example').waitFor();
    // (the reserved switchyard.* types of operational events are listed too, each with its schema)
    await current.getByRole('article', { name: 'invoice.paid' }).getByText('JSON Schema').click();
    await current.getByLabel('Schema of invoice.paid').getByText('"required"').waitFor();
    assert.equal(await current.getByText('invoice.void').count(), 0);
    await page.getByTestId('archived-types').getByRole('heading', { name: /invoice\.void/ }).waitFor();
    await page.screenshot({ path: `${SHOTS}/catalog.png`, fullPage: true });
  });

  test('the overview shows real data, keyboard first: the skip link, then the navigation', async () => {
    await nav('Overview');
    await page.locator('[data-testid=endpoints] svg[role=img]').first().waitFor({ timeout: 5000 });
    await page.locator('[data-testid=attempts] tbody tr').first().waitFor({ timeout: 5000 });
    await page.reload(); // focus back at the start of the page; the token stays in sessionStorage
    await page.locator('[data-testid=endpoints] svg[role=img]').first().waitFor({ timeout: 5000 });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Overview');
    await page.locator('[data-testid=attempts] tbody tr').first().waitFor({ timeout: 5000 });
    await page.evaluate('document.activeElement?.blur()');
    await page.screenshot({ path: `${SHOTS}/console-overview.png`, fullPage: true });
    assert.deepEqual(offsite, [], 'no request left 127.0.0.1');
  });
});
