import '@picocss/pico/css/pico.min.css';
import './console.css';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Catalog } from './catalog.js';
import { DeliveryPage, LiveAttempts } from './deliveries.js';
import { Endpoints } from './endpoints.js';
import { Hooks } from './hooks.js';
import { Operations } from './operations.js';
import { createClient } from './sdk.js';
import { describe, useRoute, type Session } from './ui.js';

interface PageConfig { productName?: string; accent?: string; graphqlPath?: string }
const config: PageConfig = JSON.parse(document.getElementById('switchyard-config')?.textContent ?? '{}');
const productName = config.productName ?? 'Switchyard';
document.title = `${productName} console`;
if (config.accent) {
  // The producer's brand colour on Pico's primary variables (links, buttons, focus rings).
  const style = document.createElement('style');
  style.textContent = `:root{--pico-primary:${config.accent};--pico-primary-background:${config.accent};--pico-primary-border:${config.accent};--pico-primary-hover-background:${config.accent}}`;
  document.head.append(style);
}
const graphqlUrl = new URL(config.graphqlPath ?? '/graphql', location.href).toString();
const TOKEN_KEY = 'switchyard-console-token';

// A portal link carries its token in the fragment: keep it for this tab only and take it out of the URL.
const portal = /[#&]portal=([^&]+)/.exec(location.hash)?.[1];
if (portal) {
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(portal));
  history.replaceState(null, '', location.pathname);
}

async function signIn(token: string): Promise<Session> {
  // By id: portal sessions run only the trusted documents, and every token accepts them.
  const client = createClient({ url: graphqlUrl, token, persistedDocuments: true });
  const { viewer } = await client.viewer();
  return { client, admin: viewer.kind === 'ADMIN', tenantId: viewer.tenant?.id ?? null, tenantName: viewer.tenant?.name ?? null };
}

function SignIn({ onSession, initialError }: { onSession: (s: Session) => void; initialError: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(initialError);
  const [busy, setBusy] = useState(false);
  return (
    <main className="container" style={{ maxWidth: 480 }}>
      <h1>{productName}</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          try {
            const session = await signIn(token.trim());
            sessionStorage.setItem(TOKEN_KEY, token.trim());
            onSession(session);
          } catch (err) {
            setError(describe(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label htmlFor="token">Token</label>
        <input id="token" name="token" type="password" autoComplete="off" required value={token}
          aria-invalid={error ? true : undefined} aria-describedby="token-error" onChange={(e) => setToken(e.target.value)} />
        {error && <small id="token-error" role="alert">{error}</small>}
        <button type="submit" aria-busy={busy}>Sign in</button>
      </form>
    </main>
  );
}

const PAGES = [
  { route: '', label: 'Overview' },
  { route: 'endpoints', label: 'Endpoints' },
  { route: 'hooks', label: 'Hooks' },
  { route: 'live', label: 'Live attempts' },
  { route: 'operations', label: 'Operations' },
  { route: 'catalog', label: 'Event catalog' },
] as const;

function Page({ session, tenantId, route }: { session: Session; tenantId: string; route: string[] }) {
  const [page, id] = route;
  switch (page) {
    case 'endpoints': return <Endpoints session={session} tenantId={tenantId} selected={id} />;
    case 'hooks': return <Hooks session={session} tenantId={tenantId} selected={id} />;
    case 'live': return <LiveAttempts session={session} tenantId={tenantId} />;
    case 'catalog': return <Catalog session={session} />;
    case 'operations': return <Operations session={session} tenantId={tenantId} />;
    case 'deliveries': return id ? <DeliveryPage session={session} id={id} /> : <LiveAttempts session={session} tenantId={tenantId} />;
    default: return <><Endpoints session={session} tenantId={tenantId} selected={undefined} /><LiveAttempts session={session} tenantId={tenantId} filtersShown={false} /></>;
  }
}

function Console({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [tenants, setTenants] = useState<{ id: string; name: string }[]>([]);
  const [tenantId, setTenantId] = useState<string | null>(session.tenantId);
  const route = useRoute();
  useEffect(() => {
    if (!session.admin) return;
    void session.client.tenants({ first: 100 }).then(({ tenants }) => {
      setTenants(tenants.nodes);
      setTenantId((t) => t ?? tenants.nodes[0]?.id ?? null);
    });
  }, [session]);
  useEffect(() => { performance.mark('console-first-render'); }, []);
  const current = route[0] === 'deliveries' ? 'live' : (route[0] ?? '');
  return (
    <>
      <a href="#main" className="skip-link" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header className="container"><nav aria-label="Main">
        <ul><li><strong>{productName}</strong></li></ul>
        <ul>
          {PAGES.map((p) => <li key={p.route}><a href={`#/${p.route}`} aria-current={current === p.route ? 'page' : undefined}>{p.label}</a></li>)}
        </ul>
        <ul>
          {session.admin ? (
            <li><label htmlFor="tenant" className="sr-only">Tenant</label>
              <select id="tenant" aria-label="Tenant" value={tenantId ?? ''} onChange={(e) => setTenantId(e.target.value)}>
                {tenants.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
              </select></li>
          ) : <li data-testid="tenant-name">{session.tenantName}</li>}
          <li><button type="button" className="secondary" onClick={onSignOut}>Sign out</button></li>
        </ul>
      </nav></header>
      <main className="container" id="main" tabIndex={-1}>
        {tenantId ? <Page key={tenantId} session={session} tenantId={tenantId} route={route} />
          : route[0] === 'catalog' ? <Catalog session={session} /> : <p>No tenant yet.</p>}
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(() => sessionStorage.getItem(TOKEN_KEY) !== null);
  useEffect(() => {
    const stored = sessionStorage.getItem(TOKEN_KEY);
    if (!stored) return;
    signIn(stored).then(setSession, (err) => {
      sessionStorage.removeItem(TOKEN_KEY);
      setError(portal ? `This link has expired or was revoked. ${describe(err)}` : describe(err));
    }).finally(() => setChecking(false));
  }, []);
  if (checking) return <main className="container" aria-busy="true">Signing in…</main>;
  if (!session) return <SignIn onSession={setSession} initialError={error} />;
  return <Console session={session} onSignOut={() => { sessionStorage.removeItem(TOKEN_KEY); void session.client.close(); setSession(null); }} />;
}

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);
