// Endpoint specs: the requests that find an endpoint's spec missing or expired at the same moment
// (every request in flight to it, when its credentials' time is up) share one load: one read of the
// secrets, one spec. After the load, the spec is served from memory until an update or its TTL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SpecCache } from '../../src/dispatch/specs.js';
import { findEndpointById } from '../../src/modules/endpoints/endpoint.repository.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createEndpoint, createTenant } from '../helpers/fixtures.js';

describe('endpoint specs', () => {
  let t: TestApp;
  const statements: string[] = [];
  before(async () => {
    t = await startTestApp({ env: { SWITCHYARD_ROLE: 'api' }, onQuery: (sql) => statements.push(sql) });
  });
  after(() => t.stop());

  const secretReads = (from: number) => statements.slice(from).filter((sql) => /from "endpoint_secrets"/.test(sql)).length;

  test('fifty requests that find the spec missing together read the secrets once and get one spec', async () => {
    const tenantId = await createTenant(t, 'Specs');
    const { endpointId } = await createEndpoint(t, tenantId, 'http://127.0.0.1:9/specs');
    const row = await findEndpointById(t.app.services.db, endpointId);
    assert.ok(row);
    const specs = new SpecCache(t.app.services);
    const now = Date.now();

    const from = statements.length;
    const loaded = await Promise.all(Array.from({ length: 50 }, () => specs.currentEndpoint(row, now) ?? specs.loadEndpoint(row, now)));
    assert.equal(secretReads(from), 1, 'one read of the secrets');
    assert.equal(new Set(loaded.map((spec) => spec.ref)).size, 1, 'one spec');
    assert.equal(loaded[0]!.secrets.length, 1);

    // served from memory while it is current; loaded again (a new ref) once its time is up
    const again = statements.length;
    assert.equal(specs.currentEndpoint(row, now + 1)?.ref, loaded[0]!.ref);
    const later = now + 60_000;
    assert.equal(specs.currentEndpoint(row, later), undefined);
    const reloaded = await Promise.all([specs.loadEndpoint(row, later), specs.loadEndpoint(row, later)]);
    assert.equal(secretReads(again), 1);
    assert.equal(reloaded[0], reloaded[1]);
    assert.notEqual(reloaded[0].ref, loaded[0]!.ref);
  });
});
