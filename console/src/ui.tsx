// Pieces every page shares: the session, error text, field-level problems, JSON fields, attempts.
import { useEffect, useState, type ReactNode } from 'react';
import { SwitchyardGraphQLError, type DeliveryAttemptFieldsFragment, type SwitchyardClient } from './sdk.js';

export interface Session { client: SwitchyardClient; admin: boolean; tenantId: string | null; tenantName: string | null }

export function describe(error: unknown): string {
  if (error instanceof SwitchyardGraphQLError) {
    const code = error.errors[0]?.extensions?.code;
    if (code === 'UNAUTHENTICATED') return 'This token is not valid: it is unknown, expired or revoked.';
    return error.errors.map((e) => e.message).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Problems by input field: a ValidationError's `problems` keyed by the field after `input`
 * (`["input", "retryPolicy", "maxAttempts"]` → `retryPolicy`); what names no field goes under `form`.
 */
export type Problems = Record<string, string>;

interface ErrorResult { __typename: string; message: string; problems?: { path: string[]; message: string }[] }

export function problemsOf(result: ErrorResult): Problems {
  const out: Problems = {};
  const add = (key: string, message: string) => { out[key] = out[key] ? `${out[key]}; ${message}` : message; };
  if (result.problems && result.problems.length > 0) {
    for (const p of result.problems) {
      const rest = p.path[0] === 'input' ? p.path.slice(1) : p.path;
      const key = rest[0] ?? 'form';
      const detail = rest.length > 1 ? `${rest.slice(1).join('.')}: ${p.message}` : p.message;
      add(key, detail);
    }
  } else add('form', result.message);
  return out;
}

/** A problem found before sending (e.g. JSON that does not parse), reported like the server's. */
export class FieldError extends Error {
  constructor(readonly field: string, message: string) { super(message); }
}

/** Parses a JSON textarea; blank → `blank`. */
export function parseJson(field: string, text: string, blank: unknown = null): unknown {
  if (text.trim() === '') return blank;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FieldError(field, `is not valid JSON (${(error as Error).message})`);
  }
}

export function parseObject(field: string, text: string, blank: Record<string, unknown> | null = null): Record<string, unknown> | null {
  const value = parseJson(field, text, blank);
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw new FieldError(field, 'must be a JSON object');
  return value as Record<string, unknown> | null;
}

export const pretty = (value: unknown): string => (value == null ? '' : JSON.stringify(value, null, 2));
export const list = (text: string): string[] => text.split(',').map((s) => s.trim()).filter(Boolean);
export const intOrNull = (text: string): number | null => (text.trim() === '' ? null : Number(text));

/** Label, control and its problem, wired with `aria-invalid` and `aria-describedby`. */
export function Field({ id, label, problems, name, hint, children }: {
  id: string; label: string; problems: Problems; name: string; hint?: ReactNode;
  children: (props: { id: string; 'aria-invalid': true | undefined; 'aria-describedby': string }) => ReactNode;
}) {
  const problem = problems[name];
  return (
    <>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': problem ? true : undefined, 'aria-describedby': `${id}-problem ${id}-hint` })}
      {problem ? <small id={`${id}-problem`} role="alert" data-field={name}>{problem}</small>
        : hint ? <small id={`${id}-hint`}>{hint}</small> : null}
    </>
  );
}

export function FormProblem({ problems }: { problems: Problems }) {
  return problems.form ? <p role="alert" className="problem">{problems.form}</p> : null;
}

/** Runs a form's submit: client-side FieldErrors and thrown errors become problems too. */
export async function attempt(setProblems: (p: Problems) => void, run: () => Promise<Problems | null>): Promise<void> {
  try {
    setProblems((await run()) ?? {});
  } catch (error) {
    setProblems(error instanceof FieldError ? { [error.field]: error.message } : { form: describe(error) });
  }
}

/**
 * An action button's mutation: its typed error shows through `setProblems`, otherwise `done` says what
 * happened (through `setNotice`) and the page reloads what it shows.
 */
export function actionRunner(setProblems: (p: Problems) => void, setNotice: (notice: string | null) => void, reload: () => Promise<unknown>) {
  return (run: () => Promise<{ __typename: string } & Record<string, any>>, done: (result: any) => string | null) =>
    attempt(setProblems, async () => {
      const result = await run();
      if ('code' in result) return problemsOf(result as any);
      setNotice(done(result));
      await reload();
      return null;
    });
}

export const when = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '–');

/** JSON (or text) in a focusable, scrollable block; `caption` also shows its label. */
export function Json({ value, label, caption }: { value: unknown; label?: string; caption?: string }) {
  return <>
    {caption && <small className="json-caption">{caption}</small>}
    <pre aria-label={label ?? caption} tabIndex={0}><code>{typeof value === 'string' ? value : pretty(value)}</code></pre>
  </>;
}

/** An attempt's request (secrets redacted by the API) and response, side by side. */
export function AttemptDetail({ attempt: a }: { attempt: DeliveryAttemptFieldsFragment }) {
  const body = (text: string | null | undefined) => {
    if (!text) return '';
    try { return pretty(JSON.parse(text)); } catch { return text; }
  };
  return (
    <div className="grid attempt-detail" data-testid="attempt-detail">
      <article aria-label={`Request of attempt ${a.number}`}>
        <header><strong>Request</strong> <code>{a.request.method} {a.request.url}</code></header>
        <Json caption="Request headers" value={a.request.headers} />
        {a.request.body != null && <Json caption="Request body" value={body(a.request.body)} />}
      </article>
      <article aria-label={`Response of attempt ${a.number}`}>
        <header><strong>Response</strong>{' '}
          {a.response ? <code data-testid="response-status">{a.response.status}</code> : <span>none{a.errorClass ? ` (${a.errorClass})` : ''}</span>}
          {' '}· {a.durationMs != null ? `${Math.round(a.durationMs)} ms` : 'in flight'} · {a.outcome}</header>
        {a.errorMessage && <p className="problem">{a.errorMessage}</p>}
        {a.response && <>
          <Json caption="Response headers" value={a.response.headers} />
          <Json caption="Response body" value={a.response.bodyEncoding === 'base64' ? `(base64) ${a.response.body ?? ''}` : body(a.response.body)} />
          {a.response.bodyTruncated && <small>Body truncated to the first 64 KiB.</small>}
        </>}
      </article>
    </div>
  );
}

/** The hash route: `#/hooks`, `#/deliveries/dlv_…`. */
export function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export const go = (...parts: string[]) => { location.hash = `#/${parts.map(encodeURIComponent).join('/')}`; };
