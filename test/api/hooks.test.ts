import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_DIALECTS, startTestApp, type TestApp } from '../helpers/app.js';

const HOOK_FIELDS = `id name description active eventTypes channels filter method path format transform settings settingsSchema
  testPayload runAfter { id name } tenant { id } endpoint { id } createdAt updatedAt`;

const CREATE = `mutation($input: CreateHookInput!) { createHook(input: $input) {
  __typename
  ... on HookPayload { hook { ${HOOK_FIELDS} } }
  ... on ValidationError { message problems { path message } }
  ... on Error { code message }
} }`;

const UPDATE = `mutation($input: UpdateHookInput!) { updateHook(input: $input) {
  __typename
  ... on HookPayload { hook { ${HOOK_FIELDS} } }
  ... on ValidationError { message problems { path message } }
  ... on Error { code message }
} }`;

const DELETE = `mutation($id: ID!) { deleteHook(input: {id: $id}) {
  __typename
  ... on HookPayload { hook { id } }
  ... on Error { code message }
} }`;

interface Problem {
  path: string[];
  message: string;
}

for (const dialect of TEST_DIALECTS) {
  describe(`hooks (${dialect})`, () => {
    let t: TestApp;
    let tenantA: string;
    let tenantB: string;
    let tokenA: string;
    let endpointA: string;
    let endpointA2: string;
    let endpointB: string;

    async function createTenant(name: string): Promise<string> {
      const data = await t.ok(`mutation($n: String!) { createTenant(input: {name: $n}) { ... on TenantPayload { tenant { id } } } }`, { n: name });
      return data.createTenant.tenant.id;
    }

    async function createEndpoint(tenantId: string): Promise<string> {
      const data = await t.ok(
        `mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) {
          __typename ... on CreateEndpointPayload { endpoint { id } secret } ... on Error { message } } }`,
        { input: { tenantId, url: 'http://127.0.0.1:9/x' } },
      );
      assert.equal(data.createEndpoint.__typename, 'CreateEndpointPayload', JSON.stringify(data));
      return data.createEndpoint.endpoint.id;
    }

    async function create(input: Record<string, unknown>, token?: string) {
      return (await t.ok(CREATE, { input }, token)).createHook;
    }

    async function createOk(input: Record<string, unknown>, token?: string) {
      const result = await create({ tenantId: tenantA, endpointId: endpointA, eventTypes: ['invoice.paid'], ...input }, token);
      assert.equal(result.__typename, 'HookPayload', JSON.stringify(result));
      return result.hook;
    }

    async function update(input: Record<string, unknown>, token?: string) {
      return (await t.ok(UPDATE, { input }, token)).updateHook;
    }

    async function hookCount(tenantId: string): Promise<number> {
      const data = await t.ok(`query($t: ID!) { hooks(tenantId: $t, first: 100) { nodes { id } } }`, { t: tenantId });
      return data.hooks.nodes.length;
    }

    /** Asserts a ValidationError with a problem at `path` (whose message contains `includes`, if given). */
    function assertProblem(result: any, path: string[], includes?: string | RegExp): Problem {
      assert.equal(result.__typename, 'ValidationError', JSON.stringify(result));
      const problem = (result.problems as Problem[]).find((p) => JSON.stringify(p.path) === JSON.stringify(path));
      assert.ok(problem, `expected a problem at ${JSON.stringify(path)}, got ${JSON.stringify(result.problems)}`);
      if (typeof includes === 'string') assert.ok(problem.message.includes(includes), problem.message);
      else if (includes) assert.match(problem.message, includes);
      return problem;
    }

    before(async () => {
      t = await startTestApp({ dialect });
      for (const name of ['invoice.paid', 'invoice.created', 'invoice.line.added', 'user.created', 'legacy.thing']) {
        await t.ok(`mutation($n: String!) { createEventType(input: {name: $n}) { __typename } }`, { n: name });
      }
      await t.ok(`mutation { archiveEventType(input: {name: "legacy.thing"}) { __typename } }`);
      tenantA = await createTenant('A');
      tenantB = await createTenant('B');
      const minted = await t.ok(
        `mutation($t: ID!) { createTenantToken(input: {tenantId: $t, name: "web", scopes: [READ, MANAGE]}) { ... on CreateTenantTokenPayload { secret } } }`,
        { t: tenantA },
      );
      tokenA = minted.createTenantToken.secret;
      endpointA = await createEndpoint(tenantA);
      endpointA2 = await createEndpoint(tenantA);
      endpointB = await createEndpoint(tenantB);
    });
    after(() => t.stop());

    test('create, read, update and delete a hook', async () => {
      const schema = { type: 'object', properties: { prefix: { type: 'string' } }, required: ['prefix'] };
      const created = await createOk({
        name: '  Archive documents ',
        description: 'Sends paid invoices to the archive',
        eventTypes: ['invoice.paid', 'user.created'],
        channels: ['eu', 'billing:v2'],
        filter: { 'data.amount': { $gt: 100 } },
        method: 'PUT',
        path: '/documents/{data.id}{?settings.prefix}',
        format: 'CLOUDEVENTS',
        transform: '{"id": data.id, "prefix": settings.prefix}',
        settings: { prefix: 'inv' },
        settingsSchema: schema,
        testPayload: { id: 'in_1', amount: 150 },
      });
      assert.match(created.id, /^hook_[0-9A-Z]{26}$/);
      assert.equal(created.name, 'Archive documents');
      assert.equal(created.active, true, 'active defaults to true');
      assert.deepEqual(created.eventTypes, ['invoice.paid', 'user.created']);
      assert.deepEqual(created.channels, ['eu', 'billing:v2']);
      assert.deepEqual(created.filter, { 'data.amount': { $gt: 100 } });
      assert.equal(created.method, 'PUT');
      assert.equal(created.format, 'CLOUDEVENTS');
      assert.deepEqual(created.settings, { prefix: 'inv' });
      assert.deepEqual(created.settingsSchema, schema);
      assert.deepEqual(created.testPayload, { id: 'in_1', amount: 150 });
      assert.deepEqual(created.runAfter, []);
      assert.deepEqual(created.tenant, { id: tenantA });
      assert.deepEqual(created.endpoint, { id: endpointA });

      const defaults = await createOk({ name: 'Defaults' });
      assert.equal(defaults.method, 'POST');
      assert.equal(defaults.format, 'STANDARD');
      assert.deepEqual(defaults.channels, []);
      assert.deepEqual(defaults.settings, {});
      assert.equal(defaults.filter, null);
      assert.equal(defaults.path, null);
      assert.equal(defaults.transform, null);

      const read = await t.ok(
        `query($id: ID!) { hook(id: $id) { id name path } node(id: $id) { __typename id } }`,
        { id: created.id },
        tokenA,
      );
      assert.deepEqual(read.hook, { id: created.id, name: 'Archive documents', path: '/documents/{data.id}{?settings.prefix}' });
      assert.deepEqual(read.node, { __typename: 'Hook', id: created.id });

      const nested = await t.ok(
        `query($t: ID!, $e: ID!) {
          tenant(id: $t) { hooks { nodes { id } } }
          node(id: $e) { ... on Endpoint { hooks { nodes { id } } } }
          byEndpoint: hooks(endpointId: $e) { nodes { id } }
        }`,
        { t: tenantA, e: endpointA },
        tokenA,
      );
      assert.ok(nested.tenant.hooks.nodes.some((n: { id: string }) => n.id === created.id));
      assert.ok(nested.node.hooks.nodes.some((n: { id: string }) => n.id === created.id));
      assert.ok(nested.byEndpoint.nodes.some((n: { id: string }) => n.id === created.id));

      const updated = await update(
        { id: created.id, name: 'Renamed', path: null, transform: null, active: false, endpointId: endpointA2, channels: [] },
        tokenA,
      );
      assert.equal(updated.__typename, 'HookPayload', JSON.stringify(updated));
      const hook = updated.hook;
      assert.equal(hook.name, 'Renamed');
      assert.equal(hook.path, null, 'explicit null clears');
      assert.equal(hook.transform, null);
      assert.equal(hook.active, false);
      assert.deepEqual(hook.endpoint, { id: endpointA2 });
      assert.deepEqual(hook.channels, []);
      assert.deepEqual(hook.filter, { 'data.amount': { $gt: 100 } }, 'omitted stays');
      assert.deepEqual(hook.settings, { prefix: 'inv' });
      assert.equal(hook.method, 'PUT');
      assert.equal(hook.description, 'Sends paid invoices to the archive');
      assert.ok(new Date(hook.updatedAt).getTime() > new Date(created.updatedAt).getTime());

      const listedBefore = await t.ok(`query($t: ID!) { hooks(tenantId: $t, first: 100) { nodes { id } } }`, { t: tenantA });
      assert.ok(listedBefore.hooks.nodes.some((n: { id: string }) => n.id === created.id));
      const deleted = (await t.ok(DELETE, { id: created.id }, tokenA)).deleteHook;
      assert.deepEqual(deleted, { __typename: 'HookPayload', hook: { id: created.id } });
      const listed = await t.ok(`query($t: ID!) { hooks(tenantId: $t, first: 100) { nodes { id } } }`, { t: tenantA });
      assert.ok(!listed.hooks.nodes.some((n: { id: string }) => n.id === created.id), 'a deleted hook is not listed');
      assert.equal((await t.ok(`query($id: ID!) { hook(id: $id) { id } }`, { id: created.id })).hook, null);
      const again = (await t.ok(DELETE, { id: created.id })).deleteHook;
      assert.equal(again.__typename, 'NotFoundError');

      await t.ok(DELETE, { id: defaults.id });
    });

    test('an admin may leave the tenant to the endpoint; a tenant token to its own', async () => {
      const byAdmin = await create({ endpointId: endpointB, name: 'no tenant given', eventTypes: ['user.created'] });
      assert.equal(byAdmin.__typename, 'HookPayload', JSON.stringify(byAdmin));
      assert.deepEqual(byAdmin.hook.tenant, { id: tenantB });
      const byTenant = await create({ endpointId: endpointA, name: 'own tenant', eventTypes: ['user.created'] }, tokenA);
      assert.equal(byTenant.__typename, 'HookPayload', JSON.stringify(byTenant));
      assert.deepEqual(byTenant.hook.tenant, { id: tenantA });
      await t.ok(DELETE, { id: byAdmin.hook.id });
      await t.ok(DELETE, { id: byTenant.hook.id });
    });

    test('event types: exact names and wildcards', async () => {
      const wildcard = await createOk({ name: 'wildcards', eventTypes: ['invoice.*', 'invoice.line.*', 'user.created'] });
      assert.deepEqual(wildcard.eventTypes, ['invoice.*', 'invoice.line.*', 'user.created']);
      const all = await createOk({ name: 'everything', eventTypes: ['*'] });
      assert.deepEqual(all.eventTypes, ['*']);

      const before = await hookCount(tenantA);
      const bad = await create({
        tenantId: tenantA,
        endpointId: endpointA,
        name: 'bad types',
        eventTypes: ['invoice.paid', 'nope.unknown', 'ghost.*', 'inv*', 'legacy.thing', 'legacy.*'],
      });
      assertProblem(bad, ['input', 'eventTypes', '1'], 'nope.unknown');
      assertProblem(bad, ['input', 'eventTypes', '2'], 'ghost.*');
      assertProblem(bad, ['input', 'eventTypes', '3'], 'wildcard');
      assertProblem(bad, ['input', 'eventTypes', '4'], 'legacy.thing');
      assertProblem(bad, ['input', 'eventTypes', '5'], 'legacy.*');
      assert.equal(bad.problems.length, 5, 'exactly the bad entries');

      const empty = await create({ tenantId: tenantA, endpointId: endpointA, name: 'no types', eventTypes: [] });
      assertProblem(empty, ['input', 'eventTypes']);
      assert.equal(await hookCount(tenantA), before, 'a refused save writes nothing');

      const badUpdate = await update({ id: wildcard.id, eventTypes: ['user.created', 'nope.x'] });
      assertProblem(badUpdate, ['input', 'eventTypes', '1'], 'nope.x');
      const unchanged = await t.ok(`query($id: ID!) { hook(id: $id) { eventTypes } }`, { id: wildcard.id });
      assert.deepEqual(unchanged.hook.eventTypes, ['invoice.*', 'invoice.line.*', 'user.created']);

      await t.ok(DELETE, { id: wildcard.id });
      await t.ok(DELETE, { id: all.id });
    });

    test('every bad input is a ValidationError with its path, and nothing is written', async () => {
      const before = await hookCount(tenantA);
      const base = { tenantId: tenantA, endpointId: endpointA, name: 'bad', eventTypes: ['invoice.paid'] };
      const cases: [name: string, input: Record<string, unknown>, path: string[], includes?: string | RegExp][] = [
        ['empty name', { name: '  ' }, ['input', 'name']],
        ['long name', { name: 'x'.repeat(201) }, ['input', 'name']],
        ['unknown event type', { eventTypes: ['invoice.paid', 'nope.x'] }, ['input', 'eventTypes', '1'], 'nope.x'],
        ['invalid filter operator', { filter: { 'data.a': { $nope: 1 } } }, ['input', 'filter', 'data.a', '$nope'], '$nope'],
        ['invalid JSONata', { transform: '{"a": $foo(' }, ['input', 'transform'], /JSONata.*position \d+/],
        [
          'settings failing settingsSchema',
          { settingsSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n', 'm'] }, settings: { n: 'x' } },
          ['input', 'settings', 'n'],
          'number',
        ],
        [
          'settings missing a required property',
          { settingsSchema: { type: 'object', required: ['m'] }, settings: {} },
          ['input', 'settings', 'm'],
        ],
        ['invalid settingsSchema', { settingsSchema: { type: 'objekt' } }, ['input', 'settingsSchema', 'type'], 'JSON Schema'],
        ['unclosed path expression', { path: '/docs/{data.id' }, ['input', 'path'], 'not closed'],
        ['path variable outside the scope', { path: '/docs/{secret}' }, ['input', 'path'], 'secret'],
        ['path with a bad variable name', { path: '/docs/{data.a-b}' }, ['input', 'path']],
        ['path with a bad modifier', { path: '/docs/{data.id:0}' }, ['input', 'path'], 'modifier'],
        ['path with a reserved operator', { path: '/docs/{=data.id}' }, ['input', 'path'], 'reserved'],
        ['path with a stray brace', { path: '/docs}/x' }, ['input', 'path'], '}'],
        ['path that changes the origin', { path: 'https://evil.test/{data.id}' }, ['input', 'path'], 'host'],
        ['path too long', { path: `/${'a'.repeat(2048)}` }, ['input', 'path'], '2048'],
        ['bad channel', { channels: ['eu', 'has space'] }, ['input', 'channels', '1']],
        ['too many channels', { channels: Array.from({ length: 51 }, (_, i) => `c${i}`) }, ['input', 'channels']],
        ['endpoint of another tenant', { endpointId: 'placeholder' }, ['input', 'endpointId'], 'does not exist'],
        ['missing endpoint', { endpointId: 'ep_01JAAAAAAAAAAAAAAAAAAAAAAA' }, ['input', 'endpointId'], 'does not exist'],
        ['transform too large', { transform: `"${'a'.repeat(64 * 1024)}"` }, ['input', 'transform'], 'bytes'],
        ['settings too large', { settings: { a: 'x'.repeat(64 * 1024) } }, ['input', 'settings'], 'bytes'],
        ['test payload too large', { testPayload: { a: 'x'.repeat(1024 * 1024) } }, ['input', 'testPayload'], 'bytes'],
        ['runAfter to an unknown hook', { runAfter: ['hook_01JAAAAAAAAAAAAAAAAAAAAAAA'] }, ['input', 'runAfter', '0'], 'does not exist'],
      ];
      for (const [name, input, path, includes] of cases) {
        const resolved = input.endpointId === 'placeholder' ? { ...input, endpointId: endpointB } : input;
        const result = await create({ ...base, ...resolved });
        assert.equal(result.__typename, 'ValidationError', `${name}: ${JSON.stringify(result)}`);
        assertProblem(result, path, includes);
      }

      const many = await create({
        ...base,
        name: '',
        eventTypes: ['nope.x'],
        filter: { $bogus: 1 },
        transform: '(',
        path: '/{x}',
      });
      for (const path of [['input', 'name'], ['input', 'eventTypes', '0'], ['input', 'filter', '$bogus'], ['input', 'transform'], ['input', 'path']]) {
        assertProblem(many, path);
      }
      assert.match(many.message, /\d+ problems/);

      assert.equal(await hookCount(tenantA), before, 'a refused save writes nothing');
    });

    test('updating settingsSchema checks the saved settings, and null clears it', async () => {
      const hook = await createOk({ name: 'settings', settings: { n: 'text' } });
      const refused = await update({ id: hook.id, settingsSchema: { type: 'object', properties: { n: { type: 'number' } } } });
      assertProblem(refused, ['input', 'settings', 'n']);
      const accepted = await update({ id: hook.id, settingsSchema: { type: 'object', properties: { n: { type: 'string' } } } });
      assert.equal(accepted.__typename, 'HookPayload');
      const wrongSettings = await update({ id: hook.id, settings: { n: 1 } });
      assertProblem(wrongSettings, ['input', 'settings', 'n']);
      const cleared = await update({ id: hook.id, settingsSchema: null, settings: { n: 1 } });
      assert.equal(cleared.__typename, 'HookPayload', JSON.stringify(cleared));
      assert.equal(cleared.hook.settingsSchema, null);
      assert.deepEqual(cleared.hook.settings, { n: 1 });
      await t.ok(DELETE, { id: hook.id });
    });

    test('runAfter: same tenant only, never itself, never a cycle', async () => {
      const a = await createOk({ name: 'hook_A' });
      const b = await createOk({ name: 'hook_B', runAfter: [a.id] });
      assert.deepEqual(b.runAfter, [{ id: a.id, name: 'hook_A' }]);

      const twoCycle = await update({ id: a.id, runAfter: [b.id] });
      const problem = assertProblem(twoCycle, ['input', 'runAfter', '0'], 'cycle');
      assert.equal(
        problem.message,
        `runAfter would create a cycle: hook_A (${a.id}) → hook_B (${b.id}) → hook_A (${a.id})`,
      );

      const c = await createOk({ name: 'hook_C', runAfter: [b.id] });
      const threeCycle = await update({ id: a.id, runAfter: [c.id] });
      const problem3 = assertProblem(threeCycle, ['input', 'runAfter', '0']);
      assert.equal(
        problem3.message,
        `runAfter would create a cycle: hook_A (${a.id}) → hook_C (${c.id}) → hook_B (${b.id}) → hook_A (${a.id})`,
      );
      const stillA = await t.ok(`query($id: ID!) { hook(id: $id) { runAfter { id } } }`, { id: a.id });
      assert.deepEqual(stillA.hook.runAfter, [], 'a refused update writes nothing');

      const self = await update({ id: a.id, runAfter: [a.id] });
      assertProblem(self, ['input', 'runAfter', '0'], 'itself');

      const other = await create({ tenantId: tenantB, endpointId: endpointB, name: 'B hook', eventTypes: ['invoice.paid'] });
      assert.equal(other.__typename, 'HookPayload');
      const crossTenant = await update({ id: a.id, runAfter: [other.hook.id] });
      const crossProblem = assertProblem(crossTenant, ['input', 'runAfter', '0']);
      assert.equal(crossProblem.message, `Hook ${other.hook.id} does not exist`);
      const crossCreate = await create({ tenantId: tenantA, endpointId: endpointA, name: 'x', eventTypes: ['invoice.paid'], runAfter: [other.hook.id] });
      assertProblem(crossCreate, ['input', 'runAfter', '0'], 'does not exist');

      // Replacing edges: C now waits for A directly, which is no cycle; the list is replaced, not merged.
      const replaced = await update({ id: c.id, runAfter: [a.id] });
      assert.equal(replaced.__typename, 'HookPayload', JSON.stringify(replaced));
      assert.deepEqual(replaced.hook.runAfter, [{ id: a.id, name: 'hook_A' }]);
      const emptied = await update({ id: c.id, runAfter: [] });
      assert.deepEqual(emptied.hook.runAfter, []);

      const tooMany = await update({ id: a.id, runAfter: Array.from({ length: 21 }, (_, i) => `hook_${i}`) });
      assertProblem(tooMany, ['input', 'runAfter'], '20');

      for (const id of [c.id, b.id, a.id, other.hook.id]) await t.ok(DELETE, { id });
    });

    test("a tenant token cannot see or change another tenant's hook", async () => {
      const theirs = await create({ tenantId: tenantB, endpointId: endpointB, name: 'private', eventTypes: ['invoice.paid'] });
      const id = theirs.hook.id;
      const seen = await t.ok(
        `query($id: ID!, $t: ID!) { hook(id: $id) { id } node(id: $id) { id } hooks(tenantId: $t) { nodes { id } } all: hooks { nodes { id } } }`,
        { id, t: tenantB },
        tokenA,
      );
      assert.equal(seen.hook, null);
      assert.equal(seen.node, null);
      assert.deepEqual(seen.hooks.nodes, []);
      assert.ok(!seen.all.nodes.some((n: { id: string }) => n.id === id));

      const changed = await update({ id, name: 'mine now' }, tokenA);
      assert.equal(changed.__typename, 'NotFoundError');
      const deleted = (await t.ok(DELETE, { id }, tokenA)).deleteHook;
      assert.equal(deleted.__typename, 'NotFoundError');
      const intoOther = await create({ tenantId: tenantB, endpointId: endpointB, name: 'x', eventTypes: ['invoice.paid'] }, tokenA);
      assert.equal(intoOther.__typename, 'NotFoundError');
      const otherEndpoint = await create({ endpointId: endpointB, name: 'x', eventTypes: ['invoice.paid'] }, tokenA);
      assertProblem(otherEndpoint, ['input', 'endpointId'], 'does not exist');

      const still = await t.ok(`query($id: ID!) { hook(id: $id) { name } }`, { id });
      assert.equal(still.hook.name, 'private');

      const readOnly = await t.ok(
        `mutation($t: ID!) { createTenantToken(input: {tenantId: $t, scopes: [READ]}) { ... on CreateTenantTokenPayload { secret } } }`,
        { t: tenantA },
      );
      const forbidden = await t.gql(CREATE, { input: { endpointId: endpointA, name: 'x', eventTypes: ['invoice.paid'] } }, readOnly.createTenantToken.secret);
      assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      await t.ok(DELETE, { id });
    });

    test('deleting a hook cancels its deliveries that are not final', async () => {
      const hook = await createOk({ name: 'to delete' });
      const db = t.app.services.db;
      const now = Date.now();
      await db
        .insertInto('events')
        .values({ id: 'msg_test_delete', tenant_id: tenantA, type: 'invoice.paid', payload: '{}', channels: '[]', idempotency_key: null, occurred_at: now, created_at: now })
        .execute();
      const statuses = ['PENDING', 'RETRYING', 'BLOCKED', 'SUCCEEDED', 'FAILED'] as const;
      await db
        .insertInto('deliveries')
        .values(
          statuses.map((status, i) => ({
            id: `dlv_test_delete_${i}`,
            tenant_id: tenantA,
            event_id: 'msg_test_delete',
            hook_id: hook.id,
            endpoint_id: endpointA,
            event_type: 'invoice.paid',
            status,
            attempt_count: 0,
            next_trigger: 'SCHEDULED' as const,
            // far away, so no dispatcher picks them up while the test runs
            due_at: status === 'PENDING' || status === 'RETRYING' ? now + 3_600_000 : null,
            next_attempt_at: null,
            lease_token: 0,
            last_status_code: null,
            last_error: null,
            status_reason: null,
            created_at: now,
            updated_at: now,
            finished_at: null,
          })),
        )
        .execute();

      await t.ok(DELETE, { id: hook.id });
      const rows = await db.selectFrom('deliveries').selectAll().where('event_id', '=', 'msg_test_delete').orderBy('id').execute();
      assert.deepEqual(
        rows.map((r) => [r.status, r.status_reason, r.due_at, r.hook_id]),
        [
          ['CANCELLED', 'hook deleted', null, null],
          ['CANCELLED', 'hook deleted', null, null],
          ['CANCELLED', 'hook deleted', null, null],
          ['SUCCEEDED', null, null, null],
          ['FAILED', null, null, null],
        ],
      );
    });
  });
}
