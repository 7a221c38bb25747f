// Hooks: the list, the create/edit form with every option of createHook/updateHook, and a test delivery.
import { useEffect, useState, type ReactNode } from 'react';
import type { BodyTemplateKind, DeliveryAttemptFieldsFragment, HookFieldsFragment, HookOrdering, HttpMethod, PayloadFormat, RetryPolicyInput } from './sdk.js';
import {
  attempt, AttemptDetail, Field, FormProblem, go, intOrNull, list, parseJson, parseObject, pretty, problemsOf, type Problems, type Session,
} from './ui.js';

const METHODS: HttpMethod[] = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'HEAD'];
const ORDERINGS: { value: HookOrdering; label: string }[] = [
  { value: 'UNORDERED', label: 'Unordered (side by side)' },
  { value: 'FIFO', label: 'FIFO: one at a time, in event order; a failure lets the next go' },
  { value: 'FIFO_HOLD', label: 'FIFO, held: a failure holds the rest until it is retried' },
];
const TEMPLATE_KINDS: { value: BodyTemplateKind | ''; label: string }[] = [
  { value: '', label: 'None (body by format, or the transform)' },
  { value: 'JSON', label: 'JSON with {{path}} placeholders' },
  { value: 'TEXT', label: 'Text (text/plain)' },
  { value: 'FORM', label: 'Form (application/x-www-form-urlencoded)' },
];
const FORMATS: { value: PayloadFormat; label: string }[] = [
  { value: 'STANDARD', label: 'Standard envelope {type, timestamp, data}' },
  { value: 'RAW', label: 'Raw payload' },
  { value: 'CLOUDEVENTS', label: 'CloudEvents, structured' },
  { value: 'CLOUDEVENTS_BINARY', label: 'CloudEvents, binary (ce-* headers)' },
];

interface Context { hooks: HookFieldsFragment[]; endpoints: { id: string; url: string }[]; eventTypes: string[] }

export function Hooks({ session, tenantId, selected }: { session: Session; tenantId: string; selected: string | undefined }) {
  const [ctx, setCtx] = useState<Context | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = async () => {
    const [{ hooks }, { endpoints }, { eventTypes }] = await Promise.all([
      session.client.hooks({ tenantId, first: 100 }),
      session.client.endpoints({ tenantId, first: 100 }),
      session.client.eventTypes({ first: 100 }),
    ]);
    setCtx({ hooks: hooks.nodes, endpoints: endpoints.nodes, eventTypes: eventTypes.nodes.map((t) => t.name) });
  };
  useEffect(() => { void load(); }, [tenantId]);
  useEffect(() => { if (!selected) setNotice(null); }, [selected]);
  if (!ctx) return <p aria-busy="true">Loading hooks…</p>;
  if (selected) {
    const hook = selected === 'new' ? null : ctx.hooks.find((h) => h.id === selected);
    if (hook === undefined) return <p role="alert">No hook {selected}. <a href="#/hooks">Back to hooks</a></p>;
    return (
      <section aria-labelledby="hook-h">
        <nav aria-label="breadcrumb"><ul><li><a href="#/hooks">Hooks</a></li><li>{hook ? hook.name : 'New hook'}</li></ul></nav>
        <h2 id="hook-h">{hook ? `Hook ${hook.name}` : 'New hook'}</h2>
        {notice && <p role="status" data-testid="notice">{notice}</p>}
        <HookForm key={hook?.id ?? 'new'} session={session} tenantId={tenantId} hook={hook} ctx={ctx} onSaved={async (saved, created) => {
          setNotice(created ? 'Hook created.' : 'Hook saved.');
          await load();
          if (created) go('hooks', saved.id);
        }} onDeleted={async () => { await load(); go('hooks'); }} />
        {hook && <TestHook session={session} hook={hook} eventTypes={ctx.eventTypes} />}
      </section>
    );
  }
  return (
    <section aria-labelledby="hooks-h">
      <h2 id="hooks-h">Hooks</h2>
      <div className="overflow-auto">
        <table data-testid="hooks">
          <thead><tr><th>Name</th><th>Event types</th><th>Endpoint</th><th>Active</th><th><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>{ctx.hooks.map((h) => (
            <tr key={h.id}>
              <td>{h.name}{h.description && <><br /><small>{h.description}</small></>}</td>
              <td>{h.eventTypes.join(', ')}{h.channels.length > 0 && <><br /><small>channels {h.channels.join(', ')}</small></>}</td>
              <td className="wrap">{h.method} {h.endpoint.url}{h.path ?? ''}</td>
              <td>{h.active ? 'yes' : 'no'}</td>
              <td><a href={`#/hooks/${encodeURIComponent(h.id)}`} aria-label={`Edit hook ${h.name}`}>Edit</a></td>
            </tr>))}</tbody>
        </table>
      </div>
      {ctx.endpoints.length === 0 ? <p>Create an endpoint first: a hook sends to one.</p>
        : <a href="#/hooks/new" role="button">New hook</a>}
    </section>
  );
}

function HookForm({ session, tenantId, hook, ctx, onSaved, onDeleted }: {
  session: Session; tenantId: string; hook: HookFieldsFragment | null; ctx: Context;
  onSaved: (hook: HookFieldsFragment, created: boolean) => Promise<void>; onDeleted: () => Promise<void>;
}) {
  const [f, setF] = useState({
    name: hook?.name ?? '', description: hook?.description ?? '', endpointId: hook?.endpoint.id ?? ctx.endpoints[0]?.id ?? '',
    eventTypes: hook?.eventTypes.join(', ') ?? '', channels: hook?.channels.join(', ') ?? '',
    filter: pretty(hook?.filter), method: hook?.method ?? 'POST', ordering: hook?.ordering ?? 'UNORDERED', path: hook?.path ?? '', format: hook?.format ?? 'STANDARD',
    transform: hook?.transform ?? '', capture: hook?.capture ?? '', captureEvent: hook?.captureEvent?.type ?? '', settings: hook && Object.keys(hook.settings).length ? pretty(hook.settings) : '',
    settingsSchema: pretty(hook?.settingsSchema), testPayload: pretty(hook?.testPayload),
    templateKind: hook?.template?.kind ?? '',
    templateBody: hook?.template ? (hook.template.kind === 'JSON' ? pretty(hook.template.body) : String(hook.template.body)) : '',
    metadata: hook && Object.keys(hook.metadata ?? {}).length ? pretty(hook.metadata) : '',
    headers: hook && Object.keys(hook.headers ?? {}).length ? pretty(hook.headers) : '',
    // write-only: never shown again; blank on an update keeps the saved ones
    secrets: '',
    timeoutMs: hook?.timeoutMs?.toString() ?? '',
    retryPolicy: hook?.retryPolicy ? pretty(Object.fromEntries(Object.entries(hook.retryPolicy).filter(([k, v]) => v !== null && k !== '__typename'))) : '',
  });
  const [active, setActive] = useState(hook?.active ?? true);
  const [runAfter, setRunAfter] = useState<string[]>(hook?.runAfter.map((h) => h.id) ?? []);
  const [problems, setProblems] = useState<Problems>({});
  const [confirmDelete, setConfirmDelete] = useState(false);
  const set = (key: keyof typeof f) => (e: { target: { value: string } }) => setF((old) => ({ ...old, [key]: e.target.value }));
  const text = (key: keyof typeof f, label: string, hint?: ReactNode) => (
    <Field id={`hook-${key}`} name={key} label={label} problems={problems} hint={hint}>
      {(p) => <input {...p} value={f[key]} onChange={set(key)} />}</Field>
  );
  const area = (key: keyof typeof f, label: string, hint?: ReactNode, rows = 4) => (
    <Field id={`hook-${key}`} name={key} label={label} problems={problems} hint={hint}>
      {(p) => <textarea {...p} rows={rows} spellCheck={false} className="code" value={f[key]} onChange={set(key)} />}</Field>
  );
  const others = ctx.hooks.filter((h) => h.id !== hook?.id);
  const schemaFields = (() => {
    try {
      const schema = f.settingsSchema.trim() ? JSON.parse(f.settingsSchema) : null;
      const props = schema && typeof schema === 'object' ? Object.entries((schema as { properties?: Record<string, { type?: string; description?: string }> }).properties ?? {}) : [];
      return props.map(([name, s]) => `${name}${s?.type ? ` (${s.type})` : ''}${s?.description ? `: ${s.description}` : ''}`).join('; ');
    } catch { return ''; }
  })();
  return (
    <form aria-label={hook ? 'Edit hook' : 'Create hook'} onSubmit={(e) => {
      e.preventDefault();
      void attempt(setProblems, async () => {
        const common = {
          name: f.name, description: f.description, endpointId: f.endpointId, active,
          eventTypes: list(f.eventTypes), channels: list(f.channels), method: f.method as HttpMethod, format: f.format as PayloadFormat,
          ordering: f.ordering as HookOrdering,
          filter: parseObject('filter', f.filter), path: f.path.trim() || null, transform: f.transform.trim() || null,
          capture: f.capture.trim() || null,
          captureEvent: f.captureEvent.trim() ? { type: f.captureEvent.trim() } : null,
          settings: parseObject('settings', f.settings, {}) ?? {}, settingsSchema: parseJson('settingsSchema', f.settingsSchema),
          testPayload: parseJson('testPayload', f.testPayload), runAfter,
          template: f.templateKind
            ? { kind: f.templateKind as BodyTemplateKind, body: f.templateKind === 'JSON' ? parseJson('template', f.templateBody) : f.templateBody }
            : null,
          metadata: parseObject('metadata', f.metadata, {}) ?? {},
          timeoutMs: intOrNull(f.timeoutMs),
          retryPolicy: (parseObject('retryPolicy', f.retryPolicy) as RetryPolicyInput | null) ?? null,
          headers: parseObject('headers', f.headers, {}) ?? {},
          ...(f.secrets.trim() ? { secrets: parseObject('secrets', f.secrets) } : {}),
        };
        if (hook) {
          const { updateHook: result } = await session.client.updateHook({ input: { id: hook.id, ...common } });
          if (result.__typename !== 'HookPayload') return problemsOf(result);
          setProblems({});
          await onSaved(result.hook, false);
        } else {
          // Create: leave out what is blank, so the server's defaults apply.
          const input = Object.fromEntries(Object.entries(common).filter(([, v]) => v !== null)) as typeof common;
          const { createHook: result } = await session.client.createHook({ input: { ...input, tenantId } });
          if (result.__typename !== 'HookPayload') return problemsOf(result);
          await onSaved(result.hook, true);
        }
        return null;
      });
    }}>
      <FormProblem problems={problems} />
      <div className="grid"><div>{text('name', 'Name')}</div><div>{text('description', 'Description')}</div></div>
      <div className="grid">
        <div><Field id="hook-endpointId" name="endpointId" label="Endpoint" problems={problems}>
          {(p) => <select {...p} value={f.endpointId} onChange={set('endpointId')}>
            {ctx.endpoints.map((ep) => <option key={ep.id} value={ep.id}>{ep.url}</option>)}</select>}</Field></div>
        <div><label htmlFor="hook-active" className="checkbox-row">
          <input id="hook-active" type="checkbox" role="switch" checked={active} onChange={(e) => setActive(e.target.checked)} /> Active (receives new events)</label></div>
      </div>
      <div className="grid">
        <div>{text('eventTypes', 'Event types', <>Comma-separated: names, <code>group.*</code> wildcards or <code>*</code>. Known: {ctx.eventTypes.join(', ') || 'none yet'}</>)}</div>
        <div>{text('channels', 'Channels', 'Comma-separated; blank = every channel')}</div>
      </div>
      {area('filter', 'Filter (JSON)', <>Conditions on <code>{'{type, channels, data}'}</code>, e.g. <code>{'{"data.amount": {"$gt": 100}}'}</code>; blank = every event</>, 3)}
      <div className="grid">
        <div><Field id="hook-method" name="method" label="Method" problems={problems}>
          {(p) => <select {...p} value={f.method} onChange={set('method')}>{METHODS.map((m) => <option key={m}>{m}</option>)}</select>}</Field></div>
        <div>{text('path', 'Path template', <>RFC 6570, appended to the endpoint URL, e.g. <code>/documents/{'{data.id}'}</code></>)}</div>
        <div><Field id="hook-format" name="format" label="Body format" problems={problems}>
          {(p) => <select {...p} value={f.format} onChange={set('format')}>{FORMATS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}</select>}</Field></div>
      </div>
      {area('transform', 'Transform (JSONata)', <>Over <code>{'{event, data, settings, secrets, hook, tenant, captures}'}</code>; its result is the body. Blank = by format.</>)}
      <div className="grid">
        <div><Field id="hook-templateKind" name="templateKind" label="Body template" problems={problems} hint="Instead of a transform">
          {(p) => <select {...p} value={f.templateKind} onChange={set('templateKind')}>{TEMPLATE_KINDS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}</select>}</Field></div>
        <div>{area('templateBody', 'Template body', <>e.g. <code>{'{"text": "Hello {{data.user.name}}"}'}</code>; roots as for the transform</>, 3)}</div>
      </div>
      {problems.template && <small role="alert" data-field="template">{problems.template}</small>}
      {area('capture', 'Capture (JSONata)', <>Over <code>{'{response: {status, headers, body}, event, data}'}</code> after a 2xx; its result (at most 16 KiB) is kept on the delivery, and hooks that run after this one read it as <code>{'captures.<name or id>'}</code>. Blank = none.</>, 2)}
      {text('captureEvent', 'Capture event type', <>Also sends each capture result as an event of this type (validated against its schema), so an answer can start a chain. Blank = none.</>)}
      <div className="grid">
        <div>{text('timeoutMs', 'Timeout (ms)', "blank = the endpoint's")}</div>
        <div>{area('retryPolicy', 'Retry policy (JSON)', <>blank = the endpoint's; e.g. <code>{'{"maxAttempts": 3, "initialDelayMs": 1000}'}</code> or <code>{'{"scheduleMs": [0, 60000]}'}</code></>, 2)}</div>
      </div>
      <div className="grid">
        <div>{area('headers', 'Headers (JSON object)', <>Over the endpoint's of the same name; values take placeholders, e.g. <code>{'{"x-api-key": "{{secrets.token}}"}'}</code></>, 2)}</div>
        <div>{area('secrets', 'Secrets (JSON object)', hook && hook.secretKeys.length
          ? `Saved: ${hook.secretKeys.join(', ')} (never shown). Blank keeps them; an object replaces them all.`
          : 'Readable as secrets.… by the transform, templates, path and headers; never shown again', 2)}</div>
      </div>
      {area('metadata', 'Metadata (JSON object)', 'Your own labels; not sent', 2)}
      <div className="grid">
        <div>{area('settingsSchema', 'Settings schema (JSON Schema)', 'What settings must look like; blank = any object')}</div>
        <div>{area('settings', 'Settings (JSON object)', schemaFields ? `Fields: ${schemaFields}` : 'Passed to the transform and the path template as settings')}</div>
      </div>
      <Field id="hook-ordering" name="ordering" label="Ordering" problems={problems}
        hint={hook?.heldBy ? <>Held by delivery <a href={`#/deliveries/${encodeURIComponent(hook.heldBy)}`}>{hook.heldBy}</a>: retry it to go on</> : 'A FIFO hook cannot also run after other hooks'}>
        {(p) => <select {...p} value={f.ordering} onChange={set('ordering')}>{ORDERINGS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}</select>}</Field>
      <fieldset aria-describedby="hook-runAfter-problem">
        <legend>Run after (these hooks must succeed first for the same event)</legend>
        {others.length === 0 ? <small>No other hooks.</small> : others.map((h) => (
          <label key={h.id} htmlFor={`run-after-${h.id}`}>
            <input id={`run-after-${h.id}`} type="checkbox" checked={runAfter.includes(h.id)}
              onChange={(e) => setRunAfter((old) => e.target.checked ? [...old, h.id] : old.filter((id) => id !== h.id))} /> {h.name}
          </label>))}
        {problems.runAfter && <small id="hook-runAfter-problem" role="alert" data-field="runAfter">{problems.runAfter}</small>}
      </fieldset>
      {area('testPayload', 'Test payload (JSON)', 'Sent by “Send test” when no payload is given there')}
      <div role="group">
        <button type="submit">{hook ? 'Save hook' : 'Create hook'}</button>
        {hook && (confirmDelete
          ? <button type="button" className="contrast" onClick={() => void attempt(setProblems, async () => {
            const { deleteHook: result } = await session.client.deleteHook({ input: { id: hook.id } });
            if (result.__typename !== 'HookPayload') return problemsOf(result);
            await onDeleted();
            return null;
          })}>Yes, delete this hook</button>
          : <button type="button" className="secondary outline" onClick={() => setConfirmDelete(true)}>Delete hook…</button>)}
      </div>
    </form>
  );
}

function TestHook({ session, hook, eventTypes }: { session: Session; hook: HookFieldsFragment; eventTypes: string[] }) {
  const [eventType, setEventType] = useState('');
  const [payload, setPayload] = useState('');
  const [problems, setProblems] = useState<Problems>({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<DeliveryAttemptFieldsFragment | null>(null);
  return (
    <article aria-labelledby="test-h">
      <h3 id="test-h">Test delivery</h3>
      <form onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        void attempt(setProblems, async () => {
          const value = parseJson('payload', payload, undefined);
          const { testHook: r } = await session.client.testHook({ input: { id: hook.id, ...(eventType ? { eventType } : {}), ...(value !== undefined ? { payload: value } : {}) } });
          if (r.__typename !== 'TestHookPayload') return problemsOf(r);
          setResult(r.attempt);
          return null;
        }).finally(() => setBusy(false));
      }}>
        <FormProblem problems={problems} />
        <div className="grid">
          <div><Field id="test-eventType" name="eventType" label="Event type" problems={problems} hint="Blank = the hook's first exact type">
            {(p) => <input {...p} list="test-event-types" value={eventType} onChange={(e) => setEventType(e.target.value)} />}</Field>
            <datalist id="test-event-types">{eventTypes.map((t) => <option key={t} value={t} />)}</datalist></div>
          <div><Field id="test-payload" name="payload" label="Payload (JSON)" problems={problems} hint="Blank = the hook's test payload, else the type's first example">
            {(p) => <textarea {...p} rows={2} className="code" value={payload} onChange={(e) => setPayload(e.target.value)} />}</Field></div>
        </div>
        <button type="submit" aria-busy={busy}>Send test</button>
      </form>
      {result && <AttemptDetail attempt={result} />}
    </article>
  );
}
