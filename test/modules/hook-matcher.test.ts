import type { HookRow } from '../../src/db/schema.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHookMatcher, eventDocument, hookMatchesEvent } from '../../src/modules/hooks/hook.matching.js';

let version = 0;

function hook(eventTypes: string[], channels: string[] = [], filter: Record<string, unknown> | null = null): HookRow {
  version += 1;
  return {
    id: `hook_${version}`,
    tenant_id: 'tnt_1',
    endpoint_id: 'ep_1',
    name: `h${version}`,
    description: '',
    active: 1,
    event_types: JSON.stringify(eventTypes),
    channels: JSON.stringify(channels),
    filter: filter === null ? null : JSON.stringify(filter),
    method: 'POST',
    path: null,
    format: 'STANDARD',
    transform: null,
    template: null,
    settings: '{}',
    settings_schema: null,
    test_payload: null,
    metadata: '{}',
    timeout_ms: null,
    retry_policy: null,
    secrets: null,
    headers: '{}',
    ordering: 'UNORDERED',
    fifo_held_by: null,
    capture: null,
    capture_event_type: null,
    created_at: 1,
    updated_at: 1,
  };
}

type Case = [
  name: string,
  hook: { eventTypes: string[]; channels?: string[]; filter?: Record<string, unknown> },
  event: { type: string; channels?: string[]; payload?: unknown },
  expected: boolean,
];

const cases: Case[] = [
  ['exact name', { eventTypes: ['invoice.paid'] }, { type: 'invoice.paid' }, true],
  ['exact name, other type', { eventTypes: ['invoice.paid'] }, { type: 'invoice.created' }, false],
  ['exact name is not a prefix', { eventTypes: ['invoice.paid'] }, { type: 'invoice.paid.late' }, false],
  ['wildcard, one level', { eventTypes: ['invoice.*'] }, { type: 'invoice.paid' }, true],
  ['wildcard, deeper levels', { eventTypes: ['invoice.*'] }, { type: 'invoice.line.added' }, true],
  ['wildcard needs the dot', { eventTypes: ['invoice.*'] }, { type: 'invoices.x' }, false],
  ['wildcard does not match the bare group', { eventTypes: ['invoice.*'] }, { type: 'invoice' }, false],
  ['nested wildcard', { eventTypes: ['invoice.line.*'] }, { type: 'invoice.line.added' }, true],
  ['nested wildcard, sibling group', { eventTypes: ['invoice.line.*'] }, { type: 'invoice.paid' }, false],
  ['star matches every type', { eventTypes: ['*'] }, { type: 'anything.at.all' }, true],
  ['any of several patterns', { eventTypes: ['user.created', 'invoice.*'] }, { type: 'invoice.voided' }, true],
  ['none of several patterns', { eventTypes: ['user.created', 'invoice.*'] }, { type: 'user.deleted' }, false],
  ['no hook channels: event without channels', { eventTypes: ['*'] }, { type: 'a.b' }, true],
  ['no hook channels: event with channels', { eventTypes: ['*'] }, { type: 'a.b', channels: ['eu'] }, true],
  ['hook channels: shared channel', { eventTypes: ['*'], channels: ['eu', 'us'] }, { type: 'a.b', channels: ['us'] }, true],
  ['hook channels: no shared channel', { eventTypes: ['*'], channels: ['eu'] }, { type: 'a.b', channels: ['us'] }, false],
  ['hook channels: event without channels', { eventTypes: ['*'], channels: ['eu'] }, { type: 'a.b' }, false],
  ['filter on data', { eventTypes: ['*'], filter: { 'data.amount': { $gt: 100 } } }, { type: 'a.b', payload: { amount: 150 } }, true],
  ['filter on data, failing', { eventTypes: ['*'], filter: { 'data.amount': { $gt: 100 } } }, { type: 'a.b', payload: { amount: 5 } }, false],
  ['filter on type', { eventTypes: ['invoice.*'], filter: { type: 'invoice.paid' } }, { type: 'invoice.paid' }, true],
  ['filter on channels', { eventTypes: ['*'], filter: { channels: 'eu' } }, { type: 'a.b', channels: ['us', 'eu'] }, true],
  ['empty filter', { eventTypes: ['*'], filter: {} }, { type: 'a.b', payload: null }, true],
  [
    'type, channel and filter must all hold',
    { eventTypes: ['invoice.paid'], channels: ['eu'], filter: { 'data.currency': 'EUR' } },
    { type: 'invoice.paid', channels: ['eu'], payload: { currency: 'USD' } },
    false,
  ],
];

describe('hook matcher', () => {
  for (const [name, spec, event, expected] of cases) {
    it(`${name} → ${expected}`, () => {
      const row = hook(spec.eventTypes, spec.channels, spec.filter ?? null);
      const input = { type: event.type, channels: event.channels ?? [], payload: event.payload ?? {} };
      assert.equal(hookMatchesEvent(row, input), expected);
      const matcher = compileHookMatcher(row);
      assert.equal(hookMatchesEvent(matcher, input), expected, 'a compiled matcher answers the same');
      assert.equal(matcher({ type: input.type, channels: input.channels, document: eventDocument(input) }), expected);
    });
  }

  it('compiles once per hook version', () => {
    const row = hook(['invoice.*']);
    const first = compileHookMatcher(row);
    assert.equal(compileHookMatcher({ ...row }), first, 'same id and updated_at: cached');
    const changed = { ...row, event_types: JSON.stringify(['user.*']), updated_at: row.updated_at + 1 };
    const second = compileHookMatcher(changed);
    assert.notEqual(second, first);
    assert.equal(hookMatchesEvent(changed, { type: 'user.created', channels: [], payload: {} }), true);
    assert.equal(hookMatchesEvent(changed, { type: 'invoice.paid', channels: [], payload: {} }), false);
  });

  it('a stored filter that no longer compiles matches nothing instead of throwing', () => {
    const row = hook(['*'], [], { 'data.a': { $nope: 1 } });
    assert.equal(hookMatchesEvent(row, { type: 'a.b', channels: [], payload: { a: 1 } }), false);
  });
});
