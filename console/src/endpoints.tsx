// Endpoints: the list with health and recent attempts, creating one, and one endpoint's page (edit,
// signatures, enable/disable, secrets and signing keys, recover, delete).
import { useEffect, useState } from 'react';
import type { DeliveryAttemptFieldsFragment, EndpointAuthInput, EndpointAuthType, EndpointFieldsFragment, EndpointQuery, RetryPolicyInput, SignatureScheme } from './sdk.js';
import {
  actionRunner, attempt, Field, FormProblem, go, intOrNull, parseObject, pretty, problemsOf, when, type Problems, type Session,
} from './ui.js';

const OUTCOME_COLOUR: Record<string, string> = { SUCCEEDED: '#2e9e5b', FAILED: '#d93526', INTERRUPTED: '#c48a00', IN_FLIGHT: '#8891a4' };

/** Recent attempts, oldest left: bar height = duration, colour = outcome. Inline SVG, no library. */
export function AttemptChart({ attempts, width = 160, height = 28 }: { attempts: DeliveryAttemptFieldsFragment[]; width?: number; height?: number }) {
  const shown = [...attempts].reverse();
  const ok = attempts.filter((a) => a.outcome === 'SUCCEEDED').length;
  const failed = attempts.filter((a) => a.outcome === 'FAILED').length;
  const label = attempts.length === 0 ? 'No recent attempts' : `Last ${attempts.length} attempts: ${ok} succeeded, ${failed} failed`;
  const max = Math.max(1, ...shown.map((a) => a.durationMs ?? 0));
  const bar = width / Math.max(shown.length, 20);
  return (
    <svg role="img" aria-label={label} width={width} height={height} viewBox={`0 0 ${width} ${height}`} data-testid="attempt-chart">
      <title>{label}</title>
      <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} stroke="currentColor" strokeOpacity="0.2" />
      {shown.map((a, i) => {
        const h = Math.max(3, ((a.durationMs ?? 0) / max) * (height - 2));
        return <rect key={a.id} x={i * bar + 0.5} y={height - h} width={Math.max(1, bar - 1.5)} height={h} fill={OUTCOME_COLOUR[a.outcome] ?? '#888'}>
          <title>{`#${a.number} ${a.outcome} ${a.response?.status ?? a.errorClass ?? ''} ${a.durationMs != null ? Math.round(a.durationMs) + ' ms' : ''} · ${new Date(a.startedAt).toLocaleString()}`}</title>
        </rect>;
      })}
    </svg>
  );
}

const ms = (value: number | null | undefined) => (value == null ? '–' : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`);

interface Row { endpoint: EndpointFieldsFragment; health: string; recent: DeliveryAttemptFieldsFragment[] }

export function Endpoints({ session, tenantId, selected }: { session: Session; tenantId: string; selected: string | undefined }) {
  if (selected) return <EndpointPage session={session} id={selected} />;
  return <EndpointList session={session} tenantId={tenantId} />;
}

function EndpointList({ session, tenantId }: { session: Session; tenantId: string }) {
  const [rows, setRows] = useState<Row[]>([]);
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problems>({});
  const load = async () => {
    const { endpoints } = await session.client.endpoints({ tenantId, first: 100 });
    setRows(await Promise.all(endpoints.nodes.map(async (endpoint) => {
      const [{ endpoint: withHealth }, { deliveryAttempts }] = await Promise.all([
        session.client.endpointHealth({ id: endpoint.id }),
        session.client.listDeliveryAttempts({ filter: { endpointId: endpoint.id }, first: 30 }),
      ]);
      const h = withHealth?.health;
      const health = h && h.attemptsCounted > 0
        ? `${Math.round((h.successRate ?? 0) * 100)}% ok · p50 ${ms(h.p50LatencyMs)} · p95 ${ms(h.p95LatencyMs)} · ${h.consecutiveFailures} failing in a row`
        : 'no attempts yet';
      return { endpoint, health, recent: deliveryAttempts.nodes };
    })));
  };
  useEffect(() => { void load(); }, [tenantId]);
  return (
    <section aria-labelledby="endpoints-h">
      <h2 id="endpoints-h">Endpoints</h2>
      <div className="overflow-auto">
        <table data-testid="endpoints">
          <thead><tr><th>URL</th><th>Enabled</th><th>Health</th><th>Recent attempts</th><th><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>{rows.map(({ endpoint: ep, health, recent }) => (
            <tr key={ep.id}>
              <td className="wrap">{ep.url}{ep.description && <><br /><small>{ep.description}</small></>}</td>
              <td>{ep.enabled ? 'yes' : `no${ep.disabledReason ? ` (${ep.disabledReason.toLowerCase()})` : ''}`}</td>
              <td>{health}</td>
              <td><AttemptChart attempts={recent} /></td>
              <td><a href={`#/endpoints/${encodeURIComponent(ep.id)}`} aria-label={`Manage ${ep.url}`}>Manage</a></td>
            </tr>))}</tbody>
        </table>
      </div>
      <form onSubmit={(e) => {
        e.preventDefault();
        void attempt(setProblems, async () => {
          const { createEndpoint: result } = await session.client.createEndpoint({ input: { tenantId, url, ...(description ? { description } : {}) } });
          if (result.__typename !== 'CreateEndpointPayload') return problemsOf(result);
          setSecret(result.secret); setUrl(''); setDescription(''); await load();
          return null;
        });
      }}>
        <FormProblem problems={problems} />
        <div className="grid">
          <div><Field id="endpoint-url" name="url" label="New endpoint URL" problems={problems}>
            {(p) => <input {...p} type="url" required value={url} onChange={(e) => setUrl(e.target.value)} />}</Field></div>
          <div><Field id="endpoint-description" name="description" label="Description (optional)" problems={problems}>
            {(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}</Field></div>
        </div>
        <button type="submit">Create endpoint</button>
      </form>
      {secret && <Secret secret={secret} />}
    </section>
  );
}

function Secret({ secret, testId = 'secret' }: { secret: string; testId?: string }) {
  return <p role="status">Signing secret (shown once): <code data-testid={testId}>{secret}</code>{' '}
    <button type="button" className="secondary outline" onClick={() => void navigator.clipboard?.writeText(secret)}>Copy</button></p>;
}

const AUTH_TYPES: EndpointAuthType[] = ['NONE', 'BASIC', 'BEARER', 'API_KEY'];

/** The schemes in the order the API lists them, with what each puts on a request. */
const SIGNATURE_SCHEMES: { scheme: SignatureScheme; label: string }[] = [
  { scheme: 'V1', label: 'Standard Webhooks v1 (HMAC-SHA256 with the signing secret)' },
  { scheme: 'V1A', label: 'Standard Webhooks v1a (ed25519; receivers verify with the public key)' },
  { scheme: 'GITHUB_SHA256', label: 'GitHub X-Hub-Signature-256 (beside v1 or v1a)' },
];

/** One endpoint as its page reads it: with its v1a public keys. */
type EndpointDetail = NonNullable<EndpointQuery['endpoint']>;

function EndpointPage({ session, id }: { session: Session; id: string }) {
  const [ep, setEp] = useState<EndpointDetail | null | undefined>(undefined);
  const [recent, setRecent] = useState<DeliveryAttemptFieldsFragment[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [actionProblems, setActionProblems] = useState<Problems>({});
  const [disableMessage, setDisableMessage] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const load = async () => {
    const [{ endpoint }, { deliveryAttempts }] = await Promise.all([
      session.client.endpoint({ id }),
      session.client.listDeliveryAttempts({ filter: { endpointId: id }, first: 60 }),
    ]);
    setEp(endpoint); setRecent(deliveryAttempts.nodes);
  };
  useEffect(() => { void load(); }, [id]);
  if (ep === undefined) return <p aria-busy="true">Loading endpoint…</p>;
  if (ep === null) return <p role="alert">No endpoint {id}. <a href="#/endpoints">Back to endpoints</a></p>;

  /** Runs a mutation whose error, if any, shows in the actions area; `done` says what happened. */
  const act = actionRunner(setActionProblems, setNotice, load);

  return (
    <section aria-labelledby="endpoint-h">
      <nav aria-label="breadcrumb"><ul><li><a href="#/endpoints">Endpoints</a></li><li>{ep.url}</li></ul></nav>
      <h2 id="endpoint-h" className="wrap">{ep.url}</h2>
      <p>
        <span data-testid="endpoint-state">{ep.enabled ? 'Enabled' : `Disabled${ep.disabledReason ? ` (${ep.disabledReason.toLowerCase()})` : ''}`}</span>
        {!ep.enabled && ep.disabledMessage && <> — {ep.disabledMessage}</>}
        {!ep.enabled && <> since {when(ep.disabledAt)}</>}
      </p>
      <figure>
        <AttemptChart attempts={recent} width={600} height={60} />
        <figcaption><small>Last {recent.length} attempts, oldest left; bar height is the duration; green succeeded, red failed.</small></figcaption>
      </figure>
      {notice && <p role="status" data-testid="notice">{notice}</p>}
      {secret && <Secret secret={secret} testId="endpoint-secret" />}
      <FormProblem problems={actionProblems} />

      <article aria-labelledby="state-h">
        <h3 id="state-h">Enable / disable</h3>
        {ep.enabled ? (
          <form onSubmit={(e) => { e.preventDefault(); void act(() => session.client.disableEndpoint({ input: { id, ...(disableMessage ? { message: disableMessage } : {}) } }).then((r) => r.disableEndpoint), () => 'Endpoint disabled.'); }}>
            <Field id="disable-message" name="message" label="Why (optional)" problems={actionProblems}>
              {(p) => <input {...p} value={disableMessage} onChange={(e) => setDisableMessage(e.target.value)} />}</Field>
            <button type="submit" className="secondary">Disable endpoint</button>
          </form>
        ) : (
          <button type="button" onClick={() => void act(() => session.client.enableEndpoint({ input: { id } }).then((r) => r.enableEndpoint), () => 'Endpoint enabled.')}>Enable endpoint</button>
        )}
      </article>

      <article aria-labelledby="secrets-h">
        <h3 id="secrets-h">Signing secrets</h3>
        <div className="overflow-auto"><table>
          <thead><tr><th>Secret</th><th>Created</th><th>Stops signing</th><th>Shown</th></tr></thead>
          <tbody>{ep.signingSecrets.map((s) => <tr key={s.id}><td>{s.current ? 'current' : 'previous'}</td><td>{when(s.createdAt)}</td><td>{s.expiresAt ? when(s.expiresAt) : '–'}</td><td>{s.revealed ? 'yes' : 'no'}</td></tr>)}</tbody>
        </table></div>
        <div role="group">
          <button type="button" onClick={() => void act(() => session.client.rotateEndpointSecret({ input: { id } }).then((r) => r.rotateEndpointSecret), (r) => { setSecret(r.secret); return 'Secret rotated; the previous one keeps signing during its overlap.'; })}>Rotate secret</button>
          <button type="button" className="secondary" onClick={() => void act(() => session.client.revealEndpointSecret({ input: { id } }).then((r) => r.revealEndpointSecret), (r) => { setSecret(r.secret); return 'Current secret revealed.'; })}>Reveal secret</button>
        </div>
      </article>

      {(ep.signatureSchemes.includes('V1A') || ep.signingPublicKeys.length > 0) && (
        <article aria-labelledby="keys-h">
          <h3 id="keys-h">Signing keys (v1a)</h3>
          <div className="overflow-auto"><table data-testid="signing-keys">
            <thead><tr><th>Key</th><th>Public key (ed25519)</th><th>Created</th><th>Stops signing</th></tr></thead>
            <tbody>{ep.signingPublicKeys.map((k) => <tr key={k.id}><td>{k.current ? 'current' : 'previous'}</td><td className="wrap"><code>{k.publicKey}</code></td><td>{when(k.createdAt)}</td><td>{k.expiresAt ? when(k.expiresAt) : '–'}</td></tr>)}</tbody>
          </table></div>
          <button type="button" onClick={() => void act(() => session.client.rotateEndpointSigningKey({ input: { id } }).then((r) => r.rotateEndpointSigningKey), () => 'Signing key rotated; the previous one keeps signing during its overlap.')}>Rotate signing key</button>
        </article>
      )}

      <article aria-labelledby="recover-h">
        <h3 id="recover-h">Recover failed deliveries</h3>
        <form onSubmit={(e) => {
          e.preventDefault();
          void act(() => session.client.recoverEndpoint({ input: { id, since: new Date(since).toISOString(), ...(until ? { until: new Date(until).toISOString() } : {}) } }).then((r) => r.recoverEndpoint),
            (r) => `${r.recovered} failed ${r.recovered === 1 ? 'delivery is' : 'deliveries are'} due again.`);
        }}>
          <div className="grid">
            <div><Field id="recover-since" name="since" label="Created since" problems={actionProblems}>
              {(p) => <input {...p} type="datetime-local" required value={since} onChange={(e) => setSince(e.target.value)} />}</Field></div>
            <div><Field id="recover-until" name="until" label="Until (optional, default now)" problems={actionProblems}>
              {(p) => <input {...p} type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />}</Field></div>
          </div>
          <button type="submit" className="secondary">Recover</button>
        </form>
      </article>

      <EndpointForm session={session} ep={ep} onSaved={async () => { setNotice('Endpoint saved.'); await load(); }} />

      <article aria-labelledby="delete-h">
        <h3 id="delete-h">Delete</h3>
        {confirmDelete ? (
          <div role="group">
            <button type="button" className="contrast" onClick={() => void act(() => session.client.deleteEndpoint({ input: { id } }).then((r) => r.deleteEndpoint), () => { go('endpoints'); return null; })}>Yes, delete this endpoint and its hooks</button>
            <button type="button" className="secondary" onClick={() => setConfirmDelete(false)}>Keep it</button>
          </div>
        ) : <button type="button" className="secondary outline" onClick={() => setConfirmDelete(true)}>Delete endpoint…</button>}
      </article>
    </section>
  );
}

function EndpointForm({ session, ep, onSaved }: { session: Session; ep: EndpointFieldsFragment; onSaved: () => Promise<void> }) {
  const rp = ep.retryPolicy;
  const [f, setF] = useState({
    url: ep.url, description: ep.description, timeoutMs: ep.timeoutMs?.toString() ?? '', rateLimitPerSecond: ep.rateLimitPerSecond?.toString() ?? '',
    headers: pretty(ep.headers), metadata: pretty(ep.metadata),
    authType: '' as '' | EndpointAuthType, username: '', password: '', token: '', headerName: '', key: '',
    maxAttempts: rp?.maxAttempts?.toString() ?? '', initialDelayMs: rp?.initialDelayMs?.toString() ?? '', backoffMultiplier: rp?.backoffMultiplier?.toString() ?? '',
    maxDelayMs: rp?.maxDelayMs?.toString() ?? '', scheduleMs: rp?.scheduleMs?.join(', ') ?? '',
  });
  const [schemes, setSchemes] = useState<SignatureScheme[]>(ep.signatureSchemes);
  const [problems, setProblems] = useState<Problems>({});
  const set = (key: keyof typeof f) => (e: { target: { value: string } }) => setF((old) => ({ ...old, [key]: e.target.value }));
  const input = (key: keyof typeof f, label: string, name: string = key, type = 'text', hint?: string) => (
    <div><Field id={`ep-${key}`} name={name} label={label} problems={problems} hint={hint}>
      {(p) => <input {...p} type={type} step={type === 'number' ? 'any' : undefined} value={f[key]} onChange={set(key)} />}</Field></div>
  );
  return (
    <article aria-labelledby="edit-endpoint-h">
      <h3 id="edit-endpoint-h">Settings</h3>
      <form onSubmit={(e) => {
        e.preventDefault();
        void attempt(setProblems, async () => {
          let auth: EndpointAuthInput | undefined;
          if (f.authType === 'BASIC') auth = { type: 'BASIC', username: f.username, password: f.password };
          else if (f.authType === 'BEARER') auth = { type: 'BEARER', token: f.token };
          else if (f.authType === 'API_KEY') auth = { type: 'API_KEY', headerName: f.headerName, key: f.key };
          else if (f.authType === 'NONE') auth = { type: 'NONE' };
          const policy: RetryPolicyInput = {};
          if (f.scheduleMs.trim()) policy.scheduleMs = f.scheduleMs.split(',').map((s) => Number(s.trim()));
          for (const key of ['maxAttempts', 'initialDelayMs', 'backoffMultiplier', 'maxDelayMs'] as const) {
            const n = intOrNull(f[key]);
            if (n !== null) policy[key] = n;
          }
          const { updateEndpoint: result } = await session.client.updateEndpoint({ input: {
            id: ep.id, url: f.url, description: f.description,
            timeoutMs: intOrNull(f.timeoutMs), rateLimitPerSecond: intOrNull(f.rateLimitPerSecond),
            headers: parseObject('headers', f.headers), metadata: parseObject('metadata', f.metadata, {}),
            retryPolicy: Object.keys(policy).length ? policy : null,
            signatureSchemes: SIGNATURE_SCHEMES.map((s) => s.scheme).filter((scheme) => schemes.includes(scheme)),
            ...(auth ? { auth } : {}),
          } });
          if (result.__typename !== 'EndpointPayload') return problemsOf(result);
          setProblems({});
          await onSaved();
          return null;
        });
      }}>
        <FormProblem problems={problems} />
        <div className="grid">{input('url', 'URL', 'url', 'url')}{input('description', 'Description')}</div>
        <div className="grid">{input('timeoutMs', 'Timeout (ms)', 'timeoutMs', 'number', 'blank = the server default')}{input('rateLimitPerSecond', 'Rate limit (requests/s)', 'rateLimitPerSecond', 'number', 'blank = unlimited')}</div>
        <div className="grid">
          <div><Field id="ep-headers" name="headers" label="Static headers (JSON object)" problems={problems}>
            {(p) => <textarea {...p} rows={3} value={f.headers} onChange={set('headers')} />}</Field></div>
          <div><Field id="ep-metadata" name="metadata" label="Metadata (JSON object)" problems={problems}>
            {(p) => <textarea {...p} rows={3} value={f.metadata} onChange={set('metadata')} />}</Field></div>
        </div>
        <fieldset>
          <legend>Authentication (now {ep.auth.type}{ep.auth.username ? `, user ${ep.auth.username}` : ''}{ep.auth.headerName ? `, header ${ep.auth.headerName}` : ''})</legend>
          {problems.auth && <small role="alert" data-field="auth">{problems.auth}</small>}
          <Field id="ep-authType" name="authType" label="Credentials" problems={problems}>
            {(p) => <select {...p} value={f.authType} onChange={set('authType')}>
              <option value="">Keep the current credentials</option>
              {AUTH_TYPES.map((t) => <option key={t} value={t}>{t === 'NONE' ? 'None (signature only)' : `Replace with ${t}`}</option>)}
            </select>}</Field>
          {f.authType === 'BASIC' && <div className="grid">{input('username', 'User name', 'auth.username')}{input('password', 'Password', 'auth.password', 'password')}</div>}
          {f.authType === 'BEARER' && input('token', 'Bearer token', 'auth.token', 'password')}
          {f.authType === 'API_KEY' && <div className="grid">{input('headerName', 'Header name', 'auth.headerName')}{input('key', 'Key', 'auth.key', 'password')}</div>}
        </fieldset>
        <fieldset aria-describedby="ep-signatureSchemes-problem">
          <legend>Signatures (v1 or v1a at least)</legend>
          {SIGNATURE_SCHEMES.map(({ scheme, label }) => (
            <label key={scheme} htmlFor={`ep-scheme-${scheme}`}>
              <input id={`ep-scheme-${scheme}`} type="checkbox" checked={schemes.includes(scheme)}
                onChange={(e) => setSchemes((old) => e.target.checked ? [...old, scheme] : old.filter((s) => s !== scheme))} /> {label}
            </label>))}
          {problems.signatureSchemes && <small id="ep-signatureSchemes-problem" role="alert" data-field="signatureSchemes">{problems.signatureSchemes}</small>}
        </fieldset>
        <fieldset>
          <legend>Retry policy (blank = the server schedule)</legend>
          {problems.retryPolicy && <small role="alert" data-field="retryPolicy">{problems.retryPolicy}</small>}
          <div className="grid">{input('maxAttempts', 'Attempts in all', 'retryPolicy.maxAttempts', 'number')}{input('initialDelayMs', 'First delay (ms)', 'retryPolicy.initialDelayMs', 'number')}</div>
          <div className="grid">{input('backoffMultiplier', 'Backoff multiplier', 'retryPolicy.backoffMultiplier', 'number')}{input('maxDelayMs', 'Longest delay (ms)', 'retryPolicy.maxDelayMs', 'number')}</div>
          {input('scheduleMs', 'Or an explicit schedule (ms, comma-separated)', 'retryPolicy.scheduleMs')}
        </fieldset>
        <button type="submit">Save endpoint</button>
      </form>
    </article>
  );
}
