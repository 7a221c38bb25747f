// A list filtered on what no index holds (a delivery's status, an event's type) reads a bounded
// stretch of history per page (SCAN_ROWS rows of its index): one that matches little ends its page
// early, with hasNextPage and the cursor of where it stopped, instead of reading the tenant's whole
// history in one statement. Paging on still finds every match, once, in order. Both dialects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/db/ids.js';
import { SCAN_ROWS } from '../../src/db/pagination.js';
import type { DeliveryRow, EventRow } from '../../src/db/schema.js';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';
import { sendEvent, setup, type Setup } from '../helpers/fixtures.js';

/** More than two scans' worth, so the matches sit beyond two early ends. */
const HISTORY = SCAN_ROWS * 2 + 500;

interface Listing {
  name: string;
  /** the list field and its filter, matching only the rows `matches` marks */
  query: (s: Setup) => string;
  field: 'deliveries' | 'events';
}

const LISTINGS: Listing[] = [
  { name: 'deliveries of a hook by status', field: 'deliveries', query: (s) => `deliveries(filter: {hookId: "${s.hookId}", statuses: [FAILED]}` },
  { name: 'deliveries of a tenant by event type', field: 'deliveries', query: (s) => `deliveries(filter: {tenantId: "${s.tenantId}", eventTypes: ["rare.type"]}` },
  { name: 'events of a tenant by type', field: 'events', query: (s) => `events(filter: {tenantId: "${s.tenantId}", types: ["rare.type"]}` },
];

for (const dialect of TEST_DIALECTS) {
  describe(`lists filtered beyond their index (${dialect})`, () => {
    let t: TestApp;
    let s: Setup;
    /** the matching rows' ids, newest first */
    const matching: Record<Listing['field'], string[]> = { deliveries: [], events: [] };

    before(async () => {
      t = await startTestApp({ dialect, env: { SWITCHYARD_ROLE: 'api' } });
      s = await setup(t, 'http://127.0.0.1:9/history');
      const sent = await sendEvent(t, s.tenantId, { n: 0 });
      const { db } = t.app.services;
      const event = (await db.selectFrom('events').selectAll().where('id', '=', sent.event.id).executeTakeFirstOrThrow()) as EventRow;
      const delivery = (await db.selectFrom('deliveries').selectAll().where('event_id', '=', sent.event.id).executeTakeFirstOrThrow()) as DeliveryRow;
      // Written straight into the store, oldest first: the matches among the oldest and in the middle.
      const start = Date.now() - 3_600_000;
      const events: EventRow[] = [];
      const deliveries: DeliveryRow[] = [];
      for (let i = 0; i < HISTORY; i++) {
        const rare = i < 3 || i === Math.floor(HISTORY / 2);
        const at = start + i;
        const copy: EventRow = { ...event, id: newId('event', at), type: rare ? 'rare.type' : event.type, created_at: at };
        events.push(copy);
        deliveries.push({ ...delivery, id: newId('delivery', at), event_id: copy.id, event_type: copy.type, status: rare ? 'FAILED' : 'SUCCEEDED', due_at: null, created_at: at });
        if (rare) {
          matching.events.unshift(copy.id);
          matching.deliveries.unshift(deliveries[deliveries.length - 1]!.id);
        }
      }
      for (let i = 0; i < HISTORY; i += 500) {
        await db.insertInto('events').values(events.slice(i, i + 500)).execute();
        await db.insertInto('deliveries').values(deliveries.slice(i, i + 500)).execute();
      }
    });
    after(() => t.stop());

    for (const listing of LISTINGS) {
      test(`${listing.name}: early ends, then every match once, newest first`, async () => {
        const found: string[] = [];
        const pages: number[] = [];
        let cursor: string | null = null;
        for (let page = 0; page < 10; page++) {
          const data = await t.ok(`query($after: String) { list: ${listing.query(s)}, first: 20, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`, { after: cursor });
          const { nodes, pageInfo } = data.list as { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
          found.push(...nodes.map((node) => node.id));
          pages.push(nodes.length);
          if (!pageInfo.hasNextPage) break;
          assert.ok(pageInfo.endCursor, 'a page with a next one says where it goes on');
          cursor = pageInfo.endCursor;
        }
        assert.deepEqual(found, matching[listing.field]);
        // the newest SCAN_ROWS rows hold no match: the first page ends early, with nothing
        assert.equal(pages[0], 0, `pages: ${pages.join(', ')}`);
        assert.ok(pages.length >= 3 && pages.length <= Math.ceil((HISTORY + 2) / SCAN_ROWS) + 1, `pages: ${pages.join(', ')}`);
      });
    }

    test('a list filtered only by its index fills its pages as before', async () => {
      const data = await t.ok(`{ deliveries(filter: {hookId: "${s.hookId}"}, first: 100) { nodes { id } pageInfo { hasNextPage } } }`);
      assert.equal(data.deliveries.nodes.length, 100);
      assert.equal(data.deliveries.pageInfo.hasNextPage, true);
      const matchingAll = await t.ok(`{ deliveries(filter: {hookId: "${s.hookId}", statuses: [SUCCEEDED, FAILED]}, first: 100) { nodes { id } } }`);
      assert.equal(matchingAll.deliveries.nodes.length, 100, 'a filter that matches most rows still fills the page');
    });
  });
}
