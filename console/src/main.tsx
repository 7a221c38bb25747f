import '@picocss/pico/css/pico.min.css';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient, SwitchyardGraphQLError, type DeliveryAttemptFieldsFragment, type SwitchyardClient } from './sdk.js';

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

interface Session { client: SwitchyardClient; admin: boolean; tenantId: string | null; tenantName: string | null }

function describe(error: unknown): string {
  if (error instanceof SwitchyardGraphQLError) {
    const code = error.errors[0]?.extensions?.code;
    if (code === 'UNAUTHENTICATED') return 'This token is not valid: it is unknown, expired or revoked.';
    return error.errors.map((e) => e.message).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
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

function Endpoints({ session, tenantId }: { session: Session; tenantId: string }) {
  const [rows, setRows] = useState<{ id: string; url: string; enabled: boolean; health?: string }[]>([]);
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = async () => {
    const { endpoints } = await session.client.endpoints({ tenantId, first: 100 });
    const withHealth = await Promise.all(endpoints.nodes.map(async (ep) => {
      const { endpoint } = await session.client.endpointHealth({ id: ep.id });
      const h = endpoint?.health;
      const health = h && h.attemptsCounted > 0
        ? `${Math.round((h.successRate ?? 0) * 100)}% ok · p50 ${h.p50LatencyMs ?? '–'} ms · p95 ${h.p95LatencyMs ?? '–'} ms · ${h.consecutiveFailures} failing in a row`
        : 'no attempts yet';
      return { id: ep.id, url: ep.url, enabled: ep.enabled, health };
    }));
    setRows(withHealth);
  };
  useEffect(() => { void load(); }, [tenantId]);
  return (
    <section aria-labelledby="endpoints-h">
      <h2 id="endpoints-h">Endpoints</h2>
      <table>
        <thead><tr><th>URL</th><th>Enabled</th><th>Health</th></tr></thead>
        <tbody>{rows.map((r) => <tr key={r.id}><td>{r.url}</td><td>{r.enabled ? 'yes' : 'no'}</td><td>{r.health}</td></tr>)}</tbody>
      </table>
      <form onSubmit={async (e) => {
        e.preventDefault();
        const { createEndpoint: result } = await session.client.createEndpoint({ input: { tenantId, url } });
        if (result.__typename === 'CreateEndpointPayload') { setSecret(result.secret); setProblem(null); setUrl(''); await load(); }
        else setProblem('problems' in result ? result.problems.map((p) => p.message).join('; ') : result.message);
      }}>
        <label htmlFor="endpoint-url">New endpoint URL</label>
        <input id="endpoint-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)}
          aria-invalid={problem ? true : undefined} aria-describedby="endpoint-url-problem" />
        {problem && <small id="endpoint-url-problem" role="alert">{problem}</small>}
        <button type="submit">Create endpoint</button>
      </form>
      {secret && <p role="status">Signing secret (shown once): <code data-testid="secret">{secret}</code>{' '}
        <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(secret)}>Copy</button></p>}
    </section>
  );
}

function LiveAttempts({ session, tenantId }: { session: Session; tenantId: string }) {
  const [attempts, setAttempts] = useState<DeliveryAttemptFieldsFragment[]>([]);
  const [live, setLive] = useState<'connecting' | 'live' | 'lost'>('connecting');
  useEffect(() => {
    const controller = new AbortController();
    let stopped = false;
    void session.client.listDeliveryAttempts({ filter: { tenantId }, first: 50 }).then(({ deliveryAttempts }) => setAttempts(deliveryAttempts.nodes));
    (async () => {
      while (!stopped) {
        try {
          const sub = session.client.deliveryAttempts({ filter: { tenantId, includeStarted: true } }, { signal: controller.signal });
          setLive('live');
          for await (const attempt of sub) {
            setAttempts((old) => [attempt, ...old.filter((a) => a.id !== attempt.id)].slice(0, 200));
          }
        } catch {
          if (stopped) return;
          setLive('lost');
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
    return () => { stopped = true; controller.abort(); };
  }, [tenantId]);
  return (
    <section aria-labelledby="live-h">
      <h2 id="live-h">Live attempts <small role="status" data-testid="live-status">{live === 'live' ? '● live' : live === 'lost' ? 'connection lost, reconnecting…' : 'connecting…'}</small></h2>
      <table data-testid="attempts">
        <thead><tr><th>Started</th><th>Outcome</th><th>Status</th><th>Duration</th><th>Request</th></tr></thead>
        <tbody>{attempts.map((a) => (
          <tr key={a.id} data-outcome={a.outcome}>
            <td>{new Date(a.startedAt).toLocaleTimeString()}</td><td>{a.outcome}</td><td>{a.response?.status ?? a.errorClass ?? ''}</td>
            <td>{a.durationMs != null ? `${Math.round(a.durationMs)} ms` : ''}</td><td>{a.request.method} {a.request.url}</td>
          </tr>))}</tbody>
      </table>
    </section>
  );
}

function Console({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [tenants, setTenants] = useState<{ id: string; name: string }[]>([]);
  const [tenantId, setTenantId] = useState<string | null>(session.tenantId);
  useEffect(() => {
    if (!session.admin) return;
    void session.client.tenants({ first: 100 }).then(({ tenants }) => {
      setTenants(tenants.nodes);
      setTenantId((t) => t ?? tenants.nodes[0]?.id ?? null);
    });
  }, [session]);
  useEffect(() => { performance.mark('console-first-render'); }, []);
  return (
    <>
      <header className="container"><nav>
        <ul><li><strong>{productName}</strong></li></ul>
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
      <main className="container">
        {tenantId ? <><Endpoints session={session} tenantId={tenantId} /><LiveAttempts session={session} tenantId={tenantId} /></> : <p>No tenant yet.</p>}
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
