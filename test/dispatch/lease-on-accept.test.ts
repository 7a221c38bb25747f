// On SQLite, the commit that accepts an event also leases its deliveries when the dispatcher has
// room: one fsync between sendEvent and the request, not two, and each delivery's row is written
// once, already leased (no update of the row it has just inserted). Live subscribers still see the
// delivery PENDING before SENDING, and a full dispatcher leaves new deliveries to the queue.
import assert from 'node:assert/strict';
import { fsync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { readDelivery, sendEvent, setup, waitForDelivery } from '../helpers/fixtures.js';
import { hang, startReceiver, type Receiver } from '../helpers/receiver.js';

describe('leasing in the accepting commit (sqlite)', () => {
  let t: TestApp;
  let receiver: Receiver;
  let logging = false;
  const statements: string[] = [];
  before(async () => {
    t = await startTestApp({
      env: { SWITCHYARD_MAX_IN_FLIGHT: '1', SWITCHYARD_REQUEST_TIMEOUT_MS: '400' },
      onQuery: (sql) => {
        if (logging) statements.push(sql);
      },
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await t.stop();
    await receiver.close();
  });

  test('an idle dispatcher leases a sent event in the commit that accepts it', async () => {
    const s = await setup(t, `${receiver.url}/hook`);
    const { bus, store } = t.app.services;
    const seen: string[] = [];
    const unsubscribe = bus.subscribe('delivery', ({ delivery }) => seen.push(delivery.status));
    const before = store.writes.stats();
    const sent = await sendEvent(t, s.tenantId, { n: 1 });
    const afterAccept = store.writes.stats();
    // the first byte may even arrive before the answer: the request starts at the commit
    await receiver.waitFor(1);
    await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'SUCCEEDED');
    unsubscribe();
    assert.equal(afterAccept.commits - before.commits, 1, 'accepting and leasing took one commit');
    assert.ok(afterAccept.units - before.units >= 2, 'the event and the preparation of its request were units of that commit');
    assert.deepEqual(seen, ['PENDING', 'SENDING', 'SUCCEEDED']);
  });

  test('with no room, a new delivery waits in the queue and goes out once there is', async () => {
    const s = await setup(t, `${receiver.url}/slow`);
    const seenBefore = receiver.requests.length;
    receiver.enqueue(hang);
    const first = await sendEvent(t, s.tenantId, { n: 'first' });
    await waitForDelivery(t, (d) => d.event_id === first.event.id, 'SENDING');
    // The HTTP thread keeps one request ready behind each slot (queueAhead): the second is leased
    // and waits there, the third finds the dispatcher full and stays in the queue.
    const second = await sendEvent(t, s.tenantId, { n: 'second' });
    const third = await sendEvent(t, s.tenantId, { n: 'third' });
    const status = async (eventId: string) =>
      (await t.app.services.db.selectFrom('deliveries').select('status').where('event_id', '=', eventId).executeTakeFirstOrThrow()).status;
    assert.equal(await status(second.event.id), 'SENDING', 'leased, waiting in the HTTP thread for the slot');
    assert.equal(await status(third.event.id), 'PENDING', 'the dispatcher is full: no lease');
    assert.equal(receiver.requests.length - seenBefore, 1, 'one request at a time (SWITCHYARD_MAX_IN_FLIGHT=1)');
    // the hanging request times out (400 ms), freeing the slot for the waiting deliveries
    await waitForDelivery(t, (d) => d.event_id === second.event.id, 'SUCCEEDED');
    await waitForDelivery(t, (d) => d.event_id === third.event.id, 'SUCCEEDED');
  });

  test('the leased delivery is written once: inserted SENDING, not updated before its outcome', async () => {
    const s = await setup(t, `${receiver.url}/held`);
    const seenBefore = receiver.requests.length;
    // held until the 400 ms timeout: no outcome is written while the statements are looked at
    receiver.enqueue(hang);
    statements.length = 0;
    logging = true;
    const sent = await sendEvent(t, s.tenantId, { n: 'held' });
    await receiver.waitFor(seenBefore + 1);
    logging = false;
    const writes = statements.filter((sql) => /^\s*(insert into|update)\s+"deliveries"/i.test(sql)).map((sql) => sql.trim().split(/\s+/)[0]!.toLowerCase());
    assert.deepEqual(writes, ['insert'], 'one insert of the delivery, no lease update');
    const row = await t.app.services.db.selectFrom('deliveries').selectAll().where('event_id', '=', sent.event.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'SENDING');
    assert.equal(row.attempt_count, 1);
    assert.equal(row.lease_token, 1);
    assert.ok(row.due_at !== null && row.due_at > Date.now(), 'due again only when its lease ends');
    // the timeout fails the attempt: it is recorded under the lease the insert wrote
    await waitForDelivery(t, (d) => d.event_id === sent.event.id, 'RETRYING');
  });
});

// The requests of deliveries leased as they are written are built while the commit syncs, and go
// out only once it is durable: a failed sync sends nothing, and the delivery is attempted again.
describe('leasing in the accepting commit (sqlite): a commit whose sync fails', () => {
  let t: TestApp;
  let receiver: Receiver;
  /** armed by the test: the sync of the commit that inserts the next event is held */
  let holdEventCommit = false;
  let eventWritten = false;
  let syncHeld: ((done: (error: NodeJS.ErrnoException | null) => void) => void) | null = null;
  before(async () => {
    t = await startTestApp({
      onQuery: (sql) => {
        if (holdEventCommit && /^\s*insert into "events"/i.test(sql)) eventWritten = true;
      },
      // a group commits before its sync starts, so the sync after the event's insert is its commit's
      syncWal: (fd, done) => {
        if (!eventWritten || !syncHeld) return fsync(fd, done);
        holdEventCommit = eventWritten = false;
        const hold = syncHeld;
        syncHeld = null;
        hold(done);
      },
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await t.stop();
    await receiver.close();
  });

  test('nothing is sent before the sync; when it fails, the lease is given back and the delivery goes out once', async () => {
    const s = await setup(t, `${receiver.url}/synced`);
    const held = new Promise<(error: NodeJS.ErrnoException | null) => void>((resolve) => (syncHeld = resolve));
    holdEventCommit = true;
    const answer = t.gql(`mutation($input: SendEventInput!) { sendEvent(input: $input) { __typename } }`, {
      input: { tenantId: s.tenantId, type: 'invoice.paid', payload: { n: 'synced' } },
    });
    const failSync = await held;
    // committed in SQLite and the request built, but not durable: nothing may reach the receiver
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(receiver.requests.length, 0, 'no request before the commit is durable');
    failSync(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    const answered = await answer;
    assert.ok(answered.errors?.length, 'the sender is not told the event was accepted');
    const delivered = await waitForDelivery(t, (d) => d.endpoint_id === s.endpointId, 'SUCCEEDED');
    const attempts = (await readDelivery(t, delivered.id)).attempts.nodes;
    assert.deepEqual(
      attempts.map((attempt) => [attempt.number, attempt.outcome]),
      [
        [2, 'SUCCEEDED'],
        [1, 'INTERRUPTED'],
      ],
    );
    assert.match(attempts[1]!.errorMessage ?? '', /could not be synced/);
    assert.equal(receiver.requests.length, 1, 'sent once, after the failed sync');
  });
});
