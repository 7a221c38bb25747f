// The live attempts view (filters by endpoint, hook, outcome) and one delivery's page.
import { useEffect, useState } from 'react';
import { newest, type AttemptOutcome, type DeliveryAttemptFieldsFragment, type DeliveryFieldsFragment, type EventFieldsFragment } from './sdk.js';
import { actionRunner, AttemptDetail, describe, FormProblem, Json, when, type Problems, type Session } from './ui.js';

const OUTCOMES: AttemptOutcome[] = ['SUCCEEDED', 'FAILED', 'IN_FLIGHT', 'INTERRUPTED'];

interface Filters { endpointId: string; hookId: string; outcome: '' | AttemptOutcome }

export function LiveAttempts({ session, tenantId, filtersShown = true }: { session: Session; tenantId: string; filtersShown?: boolean }) {
  const [attempts, setAttempts] = useState<DeliveryAttemptFieldsFragment[]>([]);
  const [live, setLive] = useState<'connecting' | 'live' | 'lost'>('connecting');
  const [filters, setFilters] = useState<Filters>({ endpointId: '', hookId: '', outcome: '' });
  const [options, setOptions] = useState<{ endpoints: { id: string; url: string }[]; hooks: { id: string; name: string }[] }>({ endpoints: [], hooks: [] });
  useEffect(() => {
    if (!filtersShown) return;
    void Promise.all([session.client.endpoints({ tenantId, first: 100 }), session.client.hooks({ tenantId, first: 100 })])
      .then(([{ endpoints }, { hooks }]) => setOptions({ endpoints: endpoints.nodes, hooks: hooks.nodes }));
  }, [tenantId, filtersShown]);
  useEffect(() => {
    const controller = new AbortController();
    let stopped = false;
    const only = {
      ...(filters.endpointId ? { endpointId: filters.endpointId } : {}),
      ...(filters.hookId ? { hookId: filters.hookId } : {}),
      ...(filters.outcome ? { outcomes: [filters.outcome] } : {}),
    };
    setAttempts([]);
    setLive('connecting');
    void newest(50, (page) => session.client.listDeliveryAttempts({ filter: { tenantId, ...only }, ...page }).then((r) => r.deliveryAttempts))
      .then((nodes) => { if (!stopped) setAttempts((current) => [...current, ...nodes.filter((a) => !current.some((c) => c.id === a.id))]); });
    (async () => {
      while (!stopped) {
        try {
          const sub = session.client.deliveryAttempts({ filter: { tenantId, includeStarted: true, ...only } }, { signal: controller.signal });
          setLive('live');
          for await (const a of sub) {
            setAttempts((old) => [a, ...old.filter((o) => o.id !== a.id)].slice(0, 200));
          }
        } catch {
          if (stopped) return;
          setLive('lost');
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
    return () => { stopped = true; controller.abort(); };
  }, [tenantId, filters.endpointId, filters.hookId, filters.outcome]);
  const endpointUrl = (id: string) => options.endpoints.find((e) => e.id === id)?.url;
  const hookName = (id: string | null) => (id ? options.hooks.find((h) => h.id === id)?.name : undefined);
  return (
    <section aria-labelledby="live-h">
      <h2 id="live-h">Live attempts <small role="status" data-testid="live-status">{live === 'live' ? '● live' : live === 'lost' ? 'connection lost, reconnecting…' : 'connecting…'}</small></h2>
      {filtersShown && (
        <form className="grid" aria-label="Filter attempts" onSubmit={(e) => e.preventDefault()}>
          <div><label htmlFor="filter-endpoint">Endpoint</label>
            <select id="filter-endpoint" value={filters.endpointId} onChange={(e) => setFilters((f) => ({ ...f, endpointId: e.target.value }))}>
              <option value="">All endpoints</option>{options.endpoints.map((ep) => <option key={ep.id} value={ep.id}>{ep.url}</option>)}</select></div>
          <div><label htmlFor="filter-hook">Hook</label>
            <select id="filter-hook" value={filters.hookId} onChange={(e) => setFilters((f) => ({ ...f, hookId: e.target.value }))}>
              <option value="">All hooks</option>{options.hooks.map((h) => <option key={h.id} value={h.id}>{h.name}</option>)}</select></div>
          <div><label htmlFor="filter-outcome">Outcome</label>
            <select id="filter-outcome" value={filters.outcome} onChange={(e) => setFilters((f) => ({ ...f, outcome: e.target.value as Filters['outcome'] }))}>
              <option value="">All outcomes</option>{OUTCOMES.map((o) => <option key={o} value={o}>{o.toLowerCase().replace('_', ' ')}</option>)}</select></div>
        </form>
      )}
      <div className="overflow-auto">
        <table data-testid="attempts">
          <thead><tr><th>Started</th><th>Outcome</th><th>Status</th><th>Duration</th><th>Request</th>{filtersShown && <th>Hook</th>}<th><span className="sr-only">Delivery</span></th></tr></thead>
          <tbody>{attempts.map((a) => (
            <tr key={a.id} data-outcome={a.outcome}>
              <td>{new Date(a.startedAt).toLocaleTimeString()}</td><td>{a.outcome}</td><td>{a.response?.status ?? a.errorClass ?? ''}</td>
              <td>{a.durationMs != null ? `${Math.round(a.durationMs)} ms` : ''}</td>
              <td className="wrap" title={endpointUrl(a.endpointId)}>{a.request.method} {a.request.url}</td>
              {filtersShown && <td>{hookName(a.hookId) ?? (a.trigger === 'TEST' ? 'test' : '')}</td>}
              <td><a href={`#/deliveries/${encodeURIComponent(a.deliveryId)}`} aria-label={`Open delivery of attempt ${a.number} at ${new Date(a.startedAt).toLocaleTimeString()}`}>Open</a></td>
            </tr>))}</tbody>
        </table>
      </div>
      {attempts.length === 0 && <p>No attempts{filters.endpointId || filters.hookId || filters.outcome ? ' match these filters' : ' yet'}.</p>}
    </section>
  );
}

type Detail = DeliveryFieldsFragment & { attempts: { nodes: DeliveryAttemptFieldsFragment[] } };

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED']);

export function DeliveryPage({ session, id }: { session: Session; id: string }) {
  const [delivery, setDelivery] = useState<Detail | null | undefined>(undefined);
  const [event, setEvent] = useState<EventFieldsFragment | null>(null);
  const [problems, setProblems] = useState<Problems>({});
  const [notice, setNotice] = useState<string | null>(null);
  const [replayed, setReplayed] = useState<DeliveryFieldsFragment[]>([]);
  const load = async () => {
    const { delivery } = await session.client.delivery({ id, attemptsFirst: 100 });
    setDelivery(delivery);
    return delivery;
  };
  useEffect(() => {
    const controller = new AbortController();
    let stopped = false;
    setReplayed([]); setNotice(null); setProblems({});
    void load().then(async (d) => {
      if (!d) return;
      void session.client.event({ id: d.event.id }).then(({ event }) => setEvent(event), () => {});
      // Attempts of this delivery's event as they happen: reload when one is of this delivery.
      while (!stopped) {
        try {
          for await (const a of session.client.deliveryAttempts({ filter: { eventId: d.event.id, includeStarted: true } }, { signal: controller.signal })) {
            if (a.deliveryId === id) await load();
          }
        } catch {
          if (stopped) return;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }).catch((e) => { setDelivery(null); setProblems({ form: describe(e) }); });
    return () => { stopped = true; controller.abort(); };
  }, [id]);
  if (delivery === undefined) return <p aria-busy="true">Loading delivery…</p>;
  if (delivery === null) return <section><FormProblem problems={problems} /><p role="alert">No delivery {id}. <a href="#/live">Back to live attempts</a></p></section>;
  const d = delivery;
  const ordered = [...d.attempts.nodes].sort((a, b) => a.number - b.number || a.startedAt.localeCompare(b.startedAt));
  const act = actionRunner(setProblems, setNotice, load);
  return (
    <section aria-labelledby="delivery-h">
      <nav aria-label="breadcrumb"><ul><li><a href="#/live">Live attempts</a></li><li>Delivery {d.id}</li></ul></nav>
      <h2 id="delivery-h">Delivery <code>{d.eventType}</code> → <span className="wrap">{d.endpoint.url}</span></h2>
      <table className="summary">
        <tbody>
          <tr><th scope="row">Status</th><td data-testid="delivery-status">{d.status}</td></tr>
          {d.statusReason && <tr><th scope="row">Why</th><td>{d.statusReason}</td></tr>}
          {d.lastError && <tr><th scope="row">Last error</th><td>{d.lastError}</td></tr>}
          {d.captured != null && <tr><th scope="row">Captured</th><td><pre className="code" data-testid="delivery-captured">{JSON.stringify(d.captured, null, 2)}</pre></td></tr>}
          {d.captureError && <tr><th scope="row">Capture error</th><td data-testid="delivery-capture-error">{d.captureError}</td></tr>}
          <tr><th scope="row">Hook</th><td>{d.hook ? <a href={`#/hooks/${encodeURIComponent(d.hook.id)}`}>{d.hook.name}</a> : 'deleted'}</td></tr>
          <tr><th scope="row">Endpoint</th><td><a href={`#/endpoints/${encodeURIComponent(d.endpoint.id)}`}>{d.endpoint.url}</a></td></tr>
          <tr><th scope="row">Attempts</th><td data-testid="attempt-count">{d.attemptCount}{d.lastStatusCode != null && ` (last answered ${d.lastStatusCode})`}</td></tr>
          <tr><th scope="row">Created</th><td>{when(d.createdAt)}</td></tr>
          {d.nextAttemptAt && !FINAL.has(d.status) && <tr><th scope="row">Next attempt</th><td>{when(d.nextAttemptAt)}</td></tr>}
          {d.finishedAt && <tr><th scope="row">Finished</th><td>{when(d.finishedAt)}</td></tr>}
        </tbody>
      </table>
      {notice && <p role="status" data-testid="notice">{notice}</p>}
      <FormProblem problems={problems} />
      <div role="group" aria-label="Delivery actions">
        <button type="button" onClick={() => void act(() => session.client.retryDelivery({ input: { id } }).then((r) => r.retryDelivery), () => 'Retry scheduled: the delivery is due now.')}>Retry</button>
        <button type="button" className="secondary" disabled={FINAL.has(d.status)} onClick={() => void act(() => session.client.cancelDelivery({ input: { id } }).then((r) => r.cancelDelivery), () => 'Delivery cancelled.')}>Cancel</button>
        <button type="button" className="secondary outline" onClick={() => void act(() => session.client.replayEvent({ input: { id: d.event.id } }).then((r) => r.replayEvent), (r) => {
          setReplayed(r.deliveries);
          return `Event replayed: ${r.deliveries.length} new ${r.deliveries.length === 1 ? 'delivery' : 'deliveries'}.`;
        })}>Replay event</button>
      </div>
      {replayed.length > 0 && <ul aria-label="New deliveries">{replayed.map((n) => <li key={n.id}><a href={`#/deliveries/${encodeURIComponent(n.id)}`}>{n.eventType} → {n.hook?.name ?? n.endpoint.url}</a> ({n.status})</li>)}</ul>}
      <h3>Attempts, in order</h3>
      {ordered.length === 0 ? <p>No attempt yet.</p> : (
        <ol data-testid="delivery-attempts">{ordered.map((a, i) => (
          <li key={a.id} data-outcome={a.outcome}>
            <details open={i === ordered.length - 1}>
              <summary>#{a.number} · {a.trigger.toLowerCase()} · {a.outcome} · {a.response?.status ?? a.errorClass ?? ''} · started {when(a.startedAt)}
                {a.durationMs != null && ` · ${Math.round(a.durationMs)} ms`}</summary>
              <AttemptDetail attempt={a} />
            </details>
          </li>))}</ol>
      )}
      {event && <details><summary>Event {event.id} payload</summary>
        <p><small>Occurred {when(event.occurredAt)}{event.channels.length > 0 && ` · channels ${event.channels.join(', ')}`}{event.idempotencyKey && ` · idempotency key ${event.idempotencyKey}`}</small></p>
        <Json label="Event payload" value={event.payload} /></details>}
    </section>
  );
}
