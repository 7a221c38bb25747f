// The event catalog: every event type with its description, JSON Schema and examples; archived apart.
import { useEffect, useState } from 'react';
import type { EventTypeFieldsFragment } from './sdk.js';
import { describe, Json, when, type Session } from './ui.js';

function EventTypeCard({ type }: { type: EventTypeFieldsFragment }) {
  return (
    <article aria-labelledby={`type-${type.id}`} data-testid="event-type">
      <header><h4 id={`type-${type.id}`}><code>{type.name}</code>{type.archived && <small> (archived)</small>}</h4>
        {type.description ? <p>{type.description}</p> : <p><em>No description.</em></p>}</header>
      <details>
        <summary>JSON Schema</summary>
        {type.schema == null ? <p>Any JSON payload.</p> : <Json label={`Schema of ${type.name}`} value={type.schema} />}
      </details>
      <details open={type.examples.length > 0 && !type.archived}>
        <summary>Examples ({type.examples.length})</summary>
        {type.examples.length === 0 ? <p>No examples.</p> : type.examples.map((ex, i) => <Json key={i} label={`Example ${i + 1} of ${type.name}`} value={ex} />)}
      </details>
      <footer><small>Declared {when(type.createdAt)} · changed {when(type.updatedAt)}</small></footer>
    </article>
  );
}

export function Catalog({ session }: { session: Session }) {
  const [types, setTypes] = useState<EventTypeFieldsFragment[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  useEffect(() => {
    (async () => {
      const all: EventTypeFieldsFragment[] = [];
      let after: string | null | undefined;
      do {
        const { eventTypes } = await session.client.eventTypes({ first: 100, includeArchived: true, ...(after ? { after } : {}) });
        all.push(...eventTypes.nodes);
        after = eventTypes.pageInfo.hasNextPage ? eventTypes.pageInfo.endCursor : null;
      } while (after);
      setTypes(all);
    })().catch((e) => setError(describe(e)));
  }, [session]);
  if (error) return <p role="alert">{error}</p>;
  if (!types) return <p aria-busy="true">Loading the event catalog…</p>;
  const q = query.trim().toLowerCase();
  const shown = types.filter((t) => !q || t.name.toLowerCase().includes(q) || t.description.toLowerCase().includes(q));
  const current = shown.filter((t) => !t.archived);
  const archived = shown.filter((t) => t.archived);
  return (
    <section aria-labelledby="catalog-h">
      <h2 id="catalog-h">Event catalog</h2>
      <label htmlFor="catalog-search">Search event types</label>
      <input id="catalog-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
      <section aria-labelledby="current-types-h" data-testid="current-types">
        <h3 id="current-types-h">Event types ({current.length})</h3>
        {current.length === 0 ? <p>None.</p> : current.map((t) => <EventTypeCard key={t.id} type={t} />)}
      </section>
      <section aria-labelledby="archived-types-h" data-testid="archived-types">
        <h3 id="archived-types-h">Archived ({archived.length})</h3>
        <p><small>Archived types refuse new events; hooks may still name them.</small></p>
        {archived.length === 0 ? <p>None.</p> : archived.map((t) => <EventTypeCard key={t.id} type={t} />)}
      </section>
    </section>
  );
}
