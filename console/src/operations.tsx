// Operational events: endpoints disabled, enabled, failing or recovered, deliveries exhausted or
// recovered by a retry; the latest page, then each one live as it is raised.
import { useEffect, useState } from 'react';
import { newest, type OperationalEventFieldsFragment } from './sdk.js';
import { Json, when, type Session } from './ui.js';

const KINDS = ['endpoint.disabled', 'endpoint.enabled', 'endpoint.failing', 'endpoint.recovered', 'delivery.exhausted', 'delivery.recovered'];

export function Operations({ session, tenantId }: { session: Session; tenantId: string }) {
  const [events, setEvents] = useState<OperationalEventFieldsFragment[]>([]);
  const [kind, setKind] = useState('');
  const [live, setLive] = useState<'connecting' | 'live' | 'lost'>('connecting');
  useEffect(() => {
    const controller = new AbortController();
    let stopped = false;
    const kinds = kind ? { kinds: [kind] } : {};
    setEvents([]);
    setLive('connecting');
    void newest(50, (page) => session.client.listOperationalEvents({ filter: { tenantId, ...kinds }, ...page }).then((r) => r.operationalEvents))
      .then((nodes) => { if (!stopped) setEvents((current) => [...current, ...nodes.filter((e) => !current.some((c) => c.id === e.id))]); });
    (async () => {
      while (!stopped) {
        try {
          const sub = session.client.operationalEvents({ filter: { tenantId, ...kinds } }, { signal: controller.signal });
          setLive('live');
          for await (const e of sub) setEvents((old) => [e, ...old.filter((o) => o.id !== e.id)].slice(0, 200));
        } catch {
          if (stopped) return;
          setLive('lost');
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
    return () => { stopped = true; controller.abort(); };
  }, [tenantId, kind]);
  return (
    <section aria-labelledby="operations-h">
      <h2 id="operations-h">Operational events <small role="status" data-testid="operations-status">{live === 'live' ? '● live' : live === 'lost' ? 'connection lost, reconnecting…' : 'connecting…'}</small></h2>
      <form aria-label="Filter operational events" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="filter-kind">Kind</label>
        <select id="filter-kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">All kinds</option>{KINDS.map((k) => <option key={k} value={k}>{k}</option>)}</select>
      </form>
      <div className="overflow-auto">
        <table data-testid="operational-events">
          <thead><tr><th>When</th><th>Kind</th><th>About</th><th>Details</th></tr></thead>
          <tbody>{events.map((e) => (
            <tr key={e.id} data-kind={e.kind}>
              <td>{when(e.createdAt)}</td><td>{e.kind}</td>
              <td>
                {e.endpointId && <a href={`#/endpoints/${encodeURIComponent(e.endpointId)}`}>endpoint</a>}
                {e.endpointId && e.deliveryId && ' · '}
                {e.deliveryId && <a href={`#/deliveries/${encodeURIComponent(e.deliveryId)}`}>delivery</a>}
              </td>
              <td><Json value={e.data} label={`Details of ${e.kind} at ${when(e.createdAt)}`} /></td>
            </tr>))}</tbody>
        </table>
      </div>
      {events.length === 0 && <p>No operational events{kind ? ` of kind ${kind}` : ' yet'}.</p>}
    </section>
  );
}
