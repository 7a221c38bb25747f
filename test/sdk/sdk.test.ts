// The SDK against the real server on port 0, end to end, the way its README uses it.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  createClient,
  paginate,
  SwitchyardError,
  SwitchyardGraphQLError,
  SwitchyardHttpError,
  SwitchyardNetworkError,
  verifyWebhook,
  type DeliveryAttemptsSubscription,
  type DeliveryFieldsFragment,
  type SwitchyardClient,
} from '../../sdk/src/index.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app.js';
import { startReceiver, status, type Receiver } from '../helpers/receiver.js';
import { serverSubscribed } from '../helpers/ws.js';

/** A client of the test server; `webSocketImpl` because Node 20 has no global WebSocket. */
function clientFor(t: TestApp, token: string): SwitchyardClient {
  return createClient({ url: `${t.url}/graphql`, token, webSocketImpl: WebSocket });
}

/** Narrows a mutation result to its payload, failing the test with the error otherwise. */
function payload<R extends { __typename: string }, N extends R['__typename']>(result: R, typename: N): Extract<R, { __typename: N }> {
  assert.equal(result.__typename, typename, `expected ${typename}, got ${JSON.stringify(result)}`);
  return result as Extract<R, { __typename: N }>;
}

describe('SDK against the real server', () => {
  let t: TestApp;
  let receiver: Receiver;
  let admin: SwitchyardClient;

  before(async () => {
    t = await startTestApp();
    receiver = await startReceiver();
    admin = clientFor(t, ADMIN_TOKEN);
  });
  after(async () => {
    await admin.close();
    await receiver.close();
    await t.stop();
  });

  test('the README walk-through: event type, endpoint, hook, sendEvent, verified receipt, paged deliveries', async () => {
    const { createTenant } = await admin.createTenant({ input: { name: 'Acme', uid: `acme-${Date.now()}` } });
    const tenant = payload(createTenant, 'TenantPayload').tenant;

    const { createEventType } = await admin.createEventType({
      input: {
        name: 'invoice.paid',
        description: 'An invoice was paid',
        schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, amount: { type: 'number' } } },
      },
    });
    assert.ok(['EventTypePayload', 'ConflictError'].includes(createEventType.__typename));

    const { createEndpoint } = await admin.createEndpoint({ input: { tenantId: tenant.id, url: `${receiver.url}/webhooks` } });
    const { endpoint, secret } = payload(createEndpoint, 'CreateEndpointPayload');
    assert.match(secret, /^whsec_/);
    assert.equal(endpoint.enabled, true);
    assert.equal(endpoint.signingSecrets.filter((s) => s.current).length, 1);

    const { createHook } = await admin.createHook({
      input: { tenantId: tenant.id, endpointId: endpoint.id, name: 'Invoices', eventTypes: ['invoice.*'] },
    });
    const hook = payload(createHook, 'HookPayload').hook;
    assert.deepEqual(hook.eventTypes, ['invoice.*']);
    assert.equal(hook.endpoint.id, endpoint.id);

    const before = receiver.requests.length;
    const { sendEvent } = await admin.sendEvent({ input: { tenantId: tenant.id, type: 'invoice.paid', payload: { id: 'in_1', amount: 42 } } });
    const sent = payload(sendEvent, 'SendEventPayload');
    assert.equal(sent.deliveryCount, 1);
    assert.equal(sent.duplicate, false);
    assert.match(sent.event.id, /^msg_/);

    const requests = await receiver.waitFor(before + 1);
    const received = requests[before];
    assert.ok(received);
    // Verified on the raw bytes, exactly as a receiver must.
    const verified = verifyWebhook({ secret, headers: received.headers, body: received.body });
    assert.match(verified.id, /^dlv_/);
    assert.equal(verified.eventId, sent.event.id);
    assert.deepEqual(JSON.parse(received.body.toString('utf8')).data, { id: 'in_1', amount: 42 });

    // A few more events, then every delivery of the endpoint, two per page.
    for (let i = 2; i <= 5; i++) {
      const { sendEvent: more } = await admin.sendEvent({ input: { tenantId: tenant.id, type: 'invoice.paid', payload: { id: `in_${i}` } } });
      payload(more, 'SendEventPayload');
    }
    const pages: number[] = [];
    const deliveries: DeliveryFieldsFragment[] = [];
    for await (const delivery of paginate(
      async (page) => {
        const { deliveries: connection } = await admin.deliveries({ ...page, filter: { endpointId: endpoint.id } });
        pages.push(connection.nodes.length);
        return connection;
      },
      { first: 2 },
    )) {
      deliveries.push(delivery);
    }
    assert.equal(deliveries.length, 5);
    assert.equal(new Set(deliveries.map((d) => d.id)).size, 5);
    assert.deepEqual(pages, [2, 2, 1]);
    assert.ok(deliveries.every((d) => d.endpoint.id === endpoint.id && d.eventType === 'invoice.paid'));
    assert.ok(deliveries.some((d) => d.event.id === sent.event.id));

    // `limit` stops early, without fetching pages it does not need.
    let fetched = 0;
    const firstThree: string[] = [];
    for await (const delivery of paginate(
      (page) => {
        fetched++;
        return admin.deliveries({ ...page, filter: { endpointId: endpoint.id } }).then((r) => r.deliveries);
      },
      { first: 2, limit: 3 },
    )) {
      firstThree.push(delivery.id);
    }
    assert.equal(firstThree.length, 3);
    assert.equal(fetched, 2);

    // The delivery of the first event, with its attempts.
    const first = deliveries.find((d) => d.event.id === sent.event.id);
    assert.ok(first);
    const { delivery } = await admin.delivery({ id: first.id, attemptsFirst: 10 });
    assert.ok(delivery);
    assert.ok(delivery.attempts.nodes.length >= 1 || delivery.status !== 'SUCCEEDED');
  });

  test('expected errors come back as typed data, narrowed on __typename', async () => {
    const { createTenant } = await admin.createTenant({ input: { name: 'Errors' } });
    const tenant = payload(createTenant, 'TenantPayload').tenant;
    const { createEndpoint } = await admin.createEndpoint({ input: { tenantId: tenant.id, url: 'not a url', timeoutMs: 1 } });
    assert.equal(createEndpoint.__typename, 'ValidationError');
    if (createEndpoint.__typename !== 'ValidationError') return;
    assert.equal(createEndpoint.code, 'VALIDATION_FAILED');
    // Every problem at once, each with its field path.
    const paths = createEndpoint.problems.map((problem) => problem.path.join('.'));
    assert.ok(paths.some((path) => path.endsWith('url')), paths.join(', '));
    assert.ok(paths.some((path) => path.endsWith('timeoutMs')), paths.join(', '));
    assert.ok(createEndpoint.problems.every((problem) => problem.message.length > 0));

    const { updateEndpoint } = await admin.updateEndpoint({ input: { id: 'ep_00000000000000000000000000', description: 'x' } });
    assert.equal(updateEndpoint.__typename, 'NotFoundError');
    if (updateEndpoint.__typename === 'NotFoundError') {
      assert.equal(updateEndpoint.code, 'NOT_FOUND');
      assert.equal(updateEndpoint.id, 'ep_00000000000000000000000000');
    }
  });

  test('a bad token throws SwitchyardGraphQLError UNAUTHENTICATED (HTTP 401)', async () => {
    const stranger = clientFor(t, 'sy_not_a_real_token');
    const error = await stranger.viewer().then(
      () => assert.fail('expected a rejection'),
      (error: unknown) => error,
    );
    assert.ok(error instanceof SwitchyardGraphQLError);
    assert.ok(error instanceof SwitchyardError);
    assert.equal(error.code, 'UNAUTHENTICATED');
    assert.equal(error.status, 401);
    assert.deepEqual(error.codes, ['UNAUTHENTICATED']);
  });

  test('a token without the scope throws SwitchyardGraphQLError FORBIDDEN', async () => {
    const { createTenant } = await admin.createTenant({ input: { name: 'Scoped' } });
    const tenant = payload(createTenant, 'TenantPayload').tenant;
    const { createTenantToken } = await admin.createTenantToken({ input: { tenantId: tenant.id, name: 'read-only', scopes: ['READ'] } });
    const minted = payload(createTenantToken, 'CreateTenantTokenPayload');
    assert.deepEqual(minted.apiToken.scopes, ['READ']);

    const readOnly = clientFor(t, minted.secret);
    const { viewer } = await readOnly.viewer();
    assert.equal(viewer.kind, 'TENANT');
    assert.equal(viewer.tenant?.id, tenant.id);
    await assert.rejects(
      readOnly.createEndpoint({ input: { url: `${receiver.url}/nope` } }),
      (error: unknown) => error instanceof SwitchyardGraphQLError && error.code === 'FORBIDDEN',
    );
    // A revoked token stops working at once.
    const { revokeApiToken } = await admin.revokeApiToken({ input: { id: minted.apiToken.id } });
    assert.ok(payload(revokeApiToken, 'RevokeApiTokenPayload').apiToken.revokedAt);
    await assert.rejects(readOnly.viewer(), (error: unknown) => error instanceof SwitchyardGraphQLError && error.code === 'UNAUTHENTICATED');
  });

  test('transport failures: SwitchyardNetworkError, SwitchyardHttpError, and the caller’s own abort', async () => {
    // Nothing listens on a port that was just closed.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const nowhere = createClient({ url: `http://127.0.0.1:${port}/graphql`, token: ADMIN_TOKEN });
    await assert.rejects(nowhere.viewer(), (error: unknown) => error instanceof SwitchyardNetworkError && error.cause !== undefined);

    // Not the GraphQL endpoint: an HTTP error without a GraphQL body.
    const wrongPath = createClient({ url: `${t.url}/not-graphql`, token: ADMIN_TOKEN });
    await assert.rejects(wrongPath.viewer(), (error: unknown) => error instanceof SwitchyardHttpError && error.status === 404);

    // The caller's abort surfaces as the caller's reason, not as a SwitchyardError.
    const controller = new AbortController();
    const reason = new Error('user navigated away');
    controller.abort(reason);
    await assert.rejects(admin.viewer(undefined, { signal: controller.signal }), (error: unknown) => error === reason);
  });

  test('a token function and extra headers are sent with each request', async () => {
    const seen: Headers[] = [];
    let calls = 0;
    const client = createClient({
      url: `${t.url}/graphql`,
      token: async () => {
        calls++;
        return ADMIN_TOKEN;
      },
      headers: { 'x-request-source': 'sdk-test' },
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers));
        return fetch(input, init);
      },
    });
    await client.viewer();
    await client.viewer(undefined, { headers: { 'x-trace': 'abc' } });
    assert.equal(calls, 2);
    assert.equal(seen[0]?.get('authorization'), `Bearer ${ADMIN_TOKEN}`);
    assert.equal(seen[0]?.get('x-request-source'), 'sdk-test');
    assert.equal(seen[1]?.get('x-trace'), 'abc');
  });

  test('live: deliveryAttempts yields each attempt as it ends; retryDelivery makes a manual one', async () => {
    const { createTenant } = await admin.createTenant({ input: { name: 'Live' } });
    const tenant = payload(createTenant, 'TenantPayload').tenant;
    await admin.createEventType({ input: { name: 'invoice.paid' } });
    // One scheduled attempt only, so the failed delivery waits for the manual retry.
    const { createEndpoint } = await admin.createEndpoint({
      input: { tenantId: tenant.id, url: `${receiver.url}/live`, retryPolicy: { scheduleMs: [0] } },
    });
    const { endpoint, secret } = payload(createEndpoint, 'CreateEndpointPayload');
    payload((await admin.createHook({ input: { endpointId: endpoint.id, name: 'Live', eventTypes: ['invoice.paid'] } })).createHook, 'HookPayload');

    const subscribed = serverSubscribed(t, 'attempt');
    const attempts = admin.deliveryAttempts({ filter: { endpointId: endpoint.id } });
    await subscribed;

    const before = receiver.requests.length;
    receiver.enqueue(status(500, {}, 'try again'));
    const { sendEvent } = await admin.sendEvent({ input: { tenantId: tenant.id, type: 'invoice.paid', payload: { id: 'in_live' } } });
    const sent = payload(sendEvent, 'SendEventPayload');
    const first = await attempts.next();
    assert.equal(first.done, false);
    if (first.done) return;
    assert.equal(first.value.eventId, sent.event.id);
    assert.equal(first.value.number, 1);
    assert.equal(first.value.trigger, 'SCHEDULED');
    assert.equal(first.value.outcome, 'FAILED');
    assert.equal(first.value.errorClass, 'HTTP_STATUS');
    assert.equal(first.value.response?.status, 500);
    assert.equal(first.value.response?.body, 'try again');
    assert.equal(first.value.delivery.status, 'FAILED');

    const { retryDelivery } = await admin.retryDelivery({ input: { id: first.value.deliveryId } });
    assert.equal(payload(retryDelivery, 'DeliveryPayload').delivery.id, first.value.deliveryId);
    // `break` ends the subscription (the iterator's `return()` tells the server to stop).
    let second: DeliveryAttemptsSubscription['deliveryAttempts'] | undefined;
    for await (const attempt of attempts) {
      second = attempt;
      break;
    }
    assert.ok(second);
    assert.equal(second.deliveryId, first.value.deliveryId);
    assert.equal(second.number, 2);
    assert.equal(second.trigger, 'MANUAL');
    assert.equal(second.outcome, 'SUCCEEDED');
    assert.equal(second.delivery.status, 'SUCCEEDED');
    assert.deepEqual(await attempts.next(), { done: true, value: undefined });

    // Both requests verify, and keep the same webhook-id so the receiver can de-duplicate.
    const requests = (await receiver.waitFor(before + 2)).slice(before);
    const ids = requests.map((request) => verifyWebhook({ secret, headers: request.headers, body: request.body }).id);
    assert.deepEqual(ids, [first.value.deliveryId, first.value.deliveryId]);
    // Leaving the loop ends the subscription.
    for await (const attempt of attempts) assert.fail(`nothing more was expected, got ${attempt.id}`);
    assert.deepEqual(await attempts.next(), { done: true, value: undefined });
    // Retrying again answers as data when it conflicts; after success it is allowed (a manual resend).
    const { retryDelivery: unknown } = await admin.retryDelivery({ input: { id: 'dlv_00000000000000000000000000' } });
    assert.equal(unknown.__typename, 'NotFoundError');
  });

  test('live: break and an AbortSignal end a subscription; endpointUpdated reports a disabled endpoint', async () => {
    const { createTenant } = await admin.createTenant({ input: { name: 'Watcher' } });
    const tenant = payload(createTenant, 'TenantPayload').tenant;
    const { createEndpoint } = await admin.createEndpoint({ input: { tenantId: tenant.id, url: `${receiver.url}/watched` } });
    const { endpoint } = payload(createEndpoint, 'CreateEndpointPayload');

    // break
    const subscribed = serverSubscribed(t, 'endpoint');
    const updates = admin.endpointUpdated({ filter: { endpointId: endpoint.id } });
    await subscribed;
    const { disableEndpoint } = await admin.disableEndpoint({ input: { id: endpoint.id, message: 'maintenance' } });
    payload(disableEndpoint, 'EndpointPayload');
    let seen = 0;
    for await (const update of updates) {
      assert.equal(update.id, endpoint.id);
      assert.equal(update.enabled, false);
      assert.equal(update.disabledReason, 'MANUAL');
      assert.equal(update.disabledMessage, 'maintenance');
      seen++;
      break;
    }
    assert.equal(seen, 1);

    // AbortSignal: the loop ends normally, without an error.
    const controller = new AbortController();
    const abortable = admin.deliveryUpdated({ filter: { tenantId: tenant.id } }, { signal: controller.signal });
    const looping = (async () => {
      let count = 0;
      for await (const _ of abortable) count++;
      return count;
    })();
    controller.abort();
    assert.equal(await looping, 0);
  });

  test('live: a bad token is UNAUTHENTICATED and a missing scope FORBIDDEN, thrown from the loop', async () => {
    const stranger = clientFor(t, 'sy_not_a_real_token');
    try {
      await assert.rejects(
        async () => {
          for await (const _ of stranger.deliveryAttempts()) assert.fail('no attempt was expected');
        },
        (error: unknown) => error instanceof SwitchyardGraphQLError && error.code === 'UNAUTHENTICATED',
      );
    } finally {
      await stranger.close();
    }

    const { createTenant } = await admin.createTenant({ input: { name: 'Sender' } });
    const tenant = payload(createTenant, 'TenantPayload').tenant;
    const { createTenantToken } = await admin.createTenantToken({ input: { tenantId: tenant.id, scopes: ['SEND_EVENTS'] } });
    const sender = clientFor(t, payload(createTenantToken, 'CreateTenantTokenPayload').secret);
    try {
      await assert.rejects(
        async () => {
          for await (const _ of sender.deliveryAttempts()) assert.fail('no attempt was expected');
        },
        (error: unknown) => error instanceof SwitchyardGraphQLError && error.code === 'FORBIDDEN',
      );
    } finally {
      await sender.close();
    }
  });

  test('every mutation, through the life of one tenant', async () => {
    const { createTenant } = await admin.createTenant({ input: { name: 'Lifecycle' } });
    const tenant = payload(createTenant, 'TenantPayload').tenant;
    const { updateTenant } = await admin.updateTenant({ input: { id: tenant.id, name: 'Lifecycle Inc.', metadata: { plan: 'pro' } } });
    assert.deepEqual(payload(updateTenant, 'TenantPayload').tenant.metadata, { plan: 'pro' });

    const typeName = `order.created_${Date.now()}`;
    payload((await admin.createEventType({ input: { name: typeName, examples: [{ id: 'o_1' }] } })).createEventType, 'EventTypePayload');
    const { updateEventType } = await admin.updateEventType({ input: { name: typeName, description: 'An order was created' } });
    assert.equal(payload(updateEventType, 'EventTypePayload').eventType.description, 'An order was created');

    const { createEndpoint } = await admin.createEndpoint({ input: { tenantId: tenant.id, url: `${receiver.url}/lifecycle` } });
    const { endpoint } = payload(createEndpoint, 'CreateEndpointPayload');
    const { updateEndpoint } = await admin.updateEndpoint({ input: { id: endpoint.id, headers: { 'x-team': 'billing' }, timeoutMs: 5000 } });
    assert.equal(payload(updateEndpoint, 'EndpointPayload').endpoint.timeoutMs, 5000);
    const { revealEndpointSecret } = await admin.revealEndpointSecret({ input: { id: endpoint.id } });
    assert.equal(revealEndpointSecret.__typename, 'ConflictError'); // shown once, at creation
    const { rotateEndpointSecret } = await admin.rotateEndpointSecret({ input: { id: endpoint.id } });
    const rotated = payload(rotateEndpointSecret, 'RotateEndpointSecretPayload');
    assert.match(rotated.secret, /^whsec_/);
    assert.equal(rotated.endpoint.signingSecrets.length, 2);

    const { createHook } = await admin.createHook({ input: { endpointId: endpoint.id, name: 'Orders', eventTypes: [typeName] } });
    const hook = payload(createHook, 'HookPayload').hook;
    const { updateHook } = await admin.updateHook({ input: { id: hook.id, format: 'RAW', active: true } });
    assert.equal(payload(updateHook, 'HookPayload').hook.format, 'RAW');
    const { testHook } = await admin.testHook({ input: { id: hook.id, payload: { id: 'o_test' } } });
    const tested = payload(testHook, 'TestHookPayload').attempt;
    assert.equal(tested.trigger, 'TEST');
    assert.equal(tested.outcome, 'SUCCEEDED');

    const { sendEvents } = await admin.sendEvents({
      input: { events: [{ tenantId: tenant.id, type: typeName, payload: { id: 'o_1' } }, { tenantId: tenant.id, type: typeName, payload: { id: 'o_2' } }] },
    });
    const batch = payload(sendEvents, 'SendEventsPayload').results;
    assert.equal(batch.length, 2);
    const firstEvent = batch[0]?.event;
    assert.ok(firstEvent);
    const { replayEvent } = await admin.replayEvent({ input: { id: firstEvent.id } });
    const replayed = payload(replayEvent, 'ReplayEventPayload');
    assert.equal(replayed.event.id, firstEvent.id);
    assert.equal(replayed.deliveries.length, 1);

    const { disableEndpoint } = await admin.disableEndpoint({ input: { id: endpoint.id } });
    assert.equal(payload(disableEndpoint, 'EndpointPayload').endpoint.enabled, false);
    const { enableEndpoint } = await admin.enableEndpoint({ input: { id: endpoint.id } });
    assert.equal(payload(enableEndpoint, 'EndpointPayload').endpoint.enabled, true);
    const { recoverEndpoint } = await admin.recoverEndpoint({ input: { id: endpoint.id, since: new Date(Date.now() - 60_000).toISOString() } });
    assert.equal(typeof payload(recoverEndpoint, 'RecoverEndpointPayload').recovered, 'number');
    const { cancelDelivery } = await admin.cancelDelivery({ input: { id: 'dlv_00000000000000000000000000' } });
    assert.equal(cancelDelivery.__typename, 'NotFoundError');

    const { deleteHook } = await admin.deleteHook({ input: { id: hook.id } });
    assert.equal(payload(deleteHook, 'HookPayload').hook.id, hook.id);
    const { deleteEndpoint } = await admin.deleteEndpoint({ input: { id: endpoint.id } });
    assert.equal(payload(deleteEndpoint, 'EndpointPayload').endpoint.id, endpoint.id);
    const { archiveEventType } = await admin.archiveEventType({ input: { name: typeName } });
    assert.equal(payload(archiveEventType, 'EventTypePayload').eventType.archived, true);
    const { deleteTenant } = await admin.deleteTenant({ input: { id: tenant.id, force: true } });
    assert.equal(payload(deleteTenant, 'TenantPayload').tenant.id, tenant.id);
  });

  test('every generated query passes the server’s validation and limits', async () => {
    const none = 'ep_00000000000000000000000000';
    const results = await Promise.all([
      admin.viewer(),
      admin.node({ id: none }),
      admin.nodes({ ids: [none] }),
      admin.tenant({ id: none }),
      admin.tenants({ first: 100 }),
      admin.apiTokens({ first: 100 }),
      admin.eventType({ name: 'no.such' }),
      admin.eventTypes({ first: 100, includeArchived: true }),
      admin.endpoint({ id: none }),
      admin.endpoints({ first: 100 }),
      admin.hook({ id: none }),
      admin.hooks({ first: 100 }),
      admin.event({ id: none }),
      admin.events({ first: 100 }),
      admin.delivery({ id: none, attemptsFirst: 100 }),
      admin.deliveries({ first: 100 }),
      admin.listDeliveryAttempts({ first: 100 }),
      admin.endpointHealth({ id: none }),
    ]);
    assert.equal(results.length, 18);
    assert.equal(results[1].node, null);
  });
});
