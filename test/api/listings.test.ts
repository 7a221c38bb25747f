// Listings by event type and channel, in either order: endpoints by the hooks that would get an
// event, and events, deliveries and attempts by the event's type and channels.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createHook, createTenant, ensureEventType, sendEvent, waitForEventDeliveries } from '../helpers/fixtures.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const ENDPOINTS = `query($t: ID, $type: String, $channel: String, $order: CreationOrder, $first: Int, $after: String) {
  endpoints(tenantId: $t, eventType: $type, channel: $channel, order: $order, first: $first, after: $after) {
    nodes { id } pageInfo { hasNextPage endCursor } } }`;

for (const dialect of TEST_DIALECTS) {
  describe(`listings by event type and channel (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let tenantId: string;
    /** endpoints in creation order: each with the one hook described */
    const ep: Record<string, string> = {};
    const events: Record<string, string> = {};

    const endpointIds = async (variables: Record<string, unknown>) => {
      const data = await t.ok(ENDPOINTS, { t: tenantId, ...variables });
      return data.endpoints.nodes.map((n: { id: string }) => n.id) as string[];
    };

    before(async () => {
      t = await startTestApp({ dialect });
      receiver = await startReceiver();
      tenantId = await createTenant(t, 'Lists');
      for (const type of ['a.b.c', 'a.x', 'other.y']) await ensureEventType(t, type);
      const hooks: [name: string, hook: Record<string, unknown>][] = [
        ['exactEu', { eventTypes: ['a.b.c'], channels: ['eu'] }],
        ['groupAny', { eventTypes: ['a.*'] }],
        ['allUs', { eventTypes: ['*'], channels: ['us'] }],
        ['other', { eventTypes: ['other.y'] }],
        ['inactive', { eventTypes: ['a.b.c'], active: false }],
      ];
      for (const [name, hook] of hooks) {
        ep[name] = (await createEndpoint(t, tenantId, `${receiver.url}/${name}`)).endpointId;
        await createHook(t, tenantId, ep[name]!, hook);
      }
      // Sent one after the other so their creation order is known.
      for (const [name, type, channels, count] of [
        ['abcEu', 'a.b.c', ['eu'], 2],
        ['axUs', 'a.x', ['us'], 2],
        ['abcUs', 'a.b.c', ['us'], 2],
      ] as const) {
        const sent = await sendEvent(t, tenantId, { name }, { type, channels });
        assert.equal(sent.deliveryCount, count, name);
        events[name] = sent.event.id;
        await waitForEventDeliveries(t, sent.event.id, count, 'SUCCEEDED');
      }
    });
    after(async () => {
      await t.stop();
      await receiver.close();
    });

    test('endpoints by event type: exact, group.* and * hooks; inactive hooks do not count; either order', async () => {
      assert.deepEqual(await endpointIds({ type: 'a.b.c' }), [ep.allUs, ep.groupAny, ep.exactEu]);
      assert.deepEqual(await endpointIds({ type: 'a.b.c', order: 'OLDEST_FIRST' }), [ep.exactEu, ep.groupAny, ep.allUs]);
      assert.deepEqual(await endpointIds({ type: 'other.y', order: 'OLDEST_FIRST' }), [ep.allUs, ep.other]);
      assert.deepEqual(await endpointIds({ type: 'nothing.here' }), [ep.allUs]);
    });

    test('endpoints by event type and channel: a hook without channels gets every channel', async () => {
      assert.deepEqual(await endpointIds({ type: 'a.b.c', channel: 'eu', order: 'OLDEST_FIRST' }), [ep.exactEu, ep.groupAny]);
      assert.deepEqual(await endpointIds({ type: 'a.b.c', channel: 'us', order: 'OLDEST_FIRST' }), [ep.groupAny, ep.allUs]);
      assert.deepEqual(await endpointIds({ channel: 'us', order: 'OLDEST_FIRST' }), [ep.groupAny, ep.allUs, ep.other]);
    });

    test('a limit pages on in the same order', async () => {
      const first = await t.ok(ENDPOINTS, { t: tenantId, type: 'a.b.c', order: 'OLDEST_FIRST', first: 2 });
      assert.deepEqual(first.endpoints.nodes.map((n: { id: string }) => n.id), [ep.exactEu, ep.groupAny]);
      assert.equal(first.endpoints.pageInfo.hasNextPage, true);
      const rest = await endpointIds({ type: 'a.b.c', order: 'OLDEST_FIRST', first: 2, after: first.endpoints.pageInfo.endCursor });
      assert.deepEqual(rest, [ep.allUs]);
      const newest = await endpointIds({ type: 'a.b.c', first: 1 });
      assert.deepEqual(newest, [ep.allUs]);
    });

    test('events, deliveries and attempts by channel and event type, either order', async () => {
      const data = await t.ok(
        `query($t: ID!) {
          oldest: events(order: OLDEST_FIRST, filter: {tenantId: $t}) { nodes { id } }
          usOnly: events(filter: {tenantId: $t, channel: "us"}) { nodes { id } }
          euDeliveries: deliveries(filter: {tenantId: $t, channel: "eu"}) { nodes { event { id } } }
          abcUsDeliveries: deliveries(order: OLDEST_FIRST, filter: {tenantId: $t, channel: "us", eventTypes: ["a.b.c"]}) { nodes { event { id } endpoint { id } } }
          axAttempts: deliveryAttempts(filter: {tenantId: $t, eventTypes: ["a.x"]}) { nodes { eventId } }
          usAbcAttempts: deliveryAttempts(order: OLDEST_FIRST, filter: {tenantId: $t, eventTypes: ["a.b.c"], channel: "us"}) { nodes { eventId endpointId } }
          euNewest: deliveryAttempts(filter: {tenantId: $t, channel: "eu"}) { nodes { id } }
          euOldest: deliveryAttempts(order: OLDEST_FIRST, filter: {tenantId: $t, channel: "eu"}) { nodes { id } }
        }`,
        { t: tenantId },
      );
      const ids = (nodes: { id?: string; eventId?: string }[]) => nodes.map((n) => n.eventId ?? n.id);
      assert.deepEqual(ids(data.oldest.nodes), [events.abcEu, events.axUs, events.abcUs]);
      assert.deepEqual(ids(data.usOnly.nodes), [events.abcUs, events.axUs]);
      assert.deepEqual(data.euDeliveries.nodes.map((n: { event: { id: string } }) => n.event.id), [events.abcEu, events.abcEu]);
      assert.ok(data.abcUsDeliveries.nodes.every((n: { event: { id: string } }) => n.event.id === events.abcUs));
      assert.deepEqual(
        new Set(data.abcUsDeliveries.nodes.map((n: { endpoint: { id: string } }) => n.endpoint.id)),
        new Set([ep.groupAny, ep.allUs]),
        'a.b.c on us: the a.* hook and the * hook on us',
      );
      assert.deepEqual(ids(data.axAttempts.nodes), [events.axUs, events.axUs]);
      assert.deepEqual(new Set(data.usAbcAttempts.nodes.map((n: { endpointId: string }) => n.endpointId)), new Set([ep.groupAny, ep.allUs]));
      assert.ok(data.usAbcAttempts.nodes.every((n: { eventId: string }) => n.eventId === events.abcUs));
      assert.equal(data.euNewest.nodes.length, 2);
      assert.deepEqual(ids(data.euOldest.nodes), ids(data.euNewest.nodes).reverse());
    });
  });
}
