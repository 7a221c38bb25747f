// Builds the HTTP request of one delivery attempt (README, "What leaves Switchyard")
// from its parts: the body by format (body-format.ts, cloudevents.ts) or transform (transform.ts),
// the URL from the hook's path template (path-template.ts), Standard Webhooks headers (signing.ts),
// receiver auth and the endpoint's static headers (headers.ts). No I/O and the timestamp is
// injected, so the dispatcher builds outside any transaction and tests pin every byte.
import { formatBody, payloadText, type PayloadFormat } from './body-format.js';
import { binaryCloudEventHeaders, cloudEventsSource } from './cloudevents.js';
import { addReceiverAuth, addStaticHeaders, redactHeaders, type ReceiverAuth } from './headers.js';
import { resolvePathTemplate } from './path-template.js';
import { signPayload } from './signing.js';
import { buildTemplateScope, type TemplateScope } from './template-scope.js';
import { runTransform } from './transform.js';

// The request's vocabulary is part of this module's API: callers import it from here.
export type { PayloadFormat } from './body-format.js';
export { CLOUDEVENTS_SOURCE_PREFIX } from './cloudevents.js';
export type { ReceiverAuth } from './headers.js';
export { RequestBuildError } from './request-error.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Everything one attempt's request is made from; the dispatcher assembles it from the claimed delivery. */
export interface RequestContext {
  event: {
    /** `msg_…`; sent as `webhook-id` (and CloudEvents `id`), stable across retries so receivers can de-duplicate */
    id: string;
    type: string;
    /** the parsed payload: input of the transform and of path templates */
    payload: unknown;
    /** the payload exactly as the producer sent it (JSON text); spliced into bodies without re-serialising */
    payloadJson: string;
    channels: string[];
    occurredAt: Date;
    createdAt: Date;
  };
  /** W3C `traceparent` sent with the request (the attempt's trace context); absent or null sends none */
  traceparent?: string | null;
  hook: {
    id: string;
    name: string;
    method: HttpMethod;
    /** RFC 6570 URI template appended to the endpoint url; null or '' sends to the endpoint url as is */
    path: string | null;
    format: PayloadFormat;
    /** JSONata expression whose result becomes the body (or the CloudEvents `data`); null or '' for none */
    transform: string | null;
    settings: Record<string, unknown>;
  };
  endpoint: {
    id: string;
    url: string;
    auth: ReceiverAuth;
    headers: Record<string, string>;
    /** valid signing secrets (`whsec_…` or their decoded key bytes), newest first; at least one */
    secrets: readonly (string | Buffer)[];
  };
  tenant: { id: string; name: string };
  deliveryId: string;
  /** unix seconds for `webhook-timestamp` (injected clock) */
  timestamp: number;
  /** e.g. `Switchyard/0.1.0` */
  userAgent: string;
}

/** The request to send, plus the copy of its headers that may be stored and shown. */
export interface BuiltRequest {
  method: HttpMethod;
  url: string;
  /** what is sent; lower-case names */
  headers: Record<string, string>;
  /** `headers` with credential values (authorization, cookie, the api-key header, webhook-signature) replaced by `[redacted]`; for the attempt log */
  redactedHeaders: Record<string, string>;
  /** the exact bytes sent and signed; null for GET/HEAD */
  body: Buffer | null;
  /** the same body as the text it was made from (what the attempt log stores) */
  bodyText: string | null;
}

/**
 * Builds the request of one delivery attempt.
 *
 * - Body by `hook.format` (`STANDARD` envelope, `RAW` payload bytes, CloudEvents structured or
 *   binary mode); the producer's `payloadJson` is spliced in verbatim, never re-serialised.
 * - `hook.transform` (JSONata) replaces the body; for the CloudEvents formats its result becomes `data`.
 *   An `undefined` result is an error (return `null` explicitly to send a JSON `null`).
 * - `hook.path` is expanded and appended to the endpoint url's path; the origin never changes.
 * - GET/HEAD carry no body and no content-type (the transform is not evaluated); the signature covers
 *   the empty body; CloudEvents formats then travel as `ce-*` headers only.
 *
 * Throws {@link RequestBuildError} when the transform or the path template fails for this event; any
 * other error (an invalid signing secret, no secret at all) is a broken invariant of the caller.
 */
export async function buildRequest(context: RequestContext): Promise<BuiltRequest> {
  const { event, hook, endpoint } = context;
  const hasBody = hook.method !== 'GET' && hook.method !== 'HEAD';
  const transform = hasBody && hook.transform ? hook.transform : null;
  // Built at most once and shared: the transform and the path template see the same view.
  let scope: TemplateScope | undefined;
  const getScope = (): TemplateScope => (scope ??= buildTemplateScope(context));

  const url = hook.path ? resolvePathTemplate(hook.path, endpoint.url, getScope()) : endpoint.url;

  const isCloudEvents = hook.format === 'CLOUDEVENTS' || hook.format === 'CLOUDEVENTS_BINARY';
  // Structured mode has nowhere to put the event without a body, so GET/HEAD fall back to binary mode.
  const ceHeaders = hook.format === 'CLOUDEVENTS_BINARY' || (isCloudEvents && !hasBody);
  const source = isCloudEvents ? cloudEventsSource(context.tenant.id) : '';

  let body: Buffer | null = null;
  let bodyText: string | null = null;
  let contentType: string | null = null;
  if (hasBody) {
    const data = transform === null ? payloadText(event) : await runTransform(transform, getScope());
    const formatted = formatBody(hook.format, event, data, { transformed: transform !== null, source });
    body = Buffer.from(formatted.text, 'utf8');
    bodyText = formatted.text;
    contentType = formatted.contentType;
  }

  // A Map until the end: insertion order is kept and a name like `__proto__` stays an ordinary header.
  const headers = new Map<string, string>();
  headers.set('webhook-id', event.id);
  headers.set('webhook-timestamp', String(context.timestamp));
  headers.set(
    'webhook-signature',
    signPayload({ id: event.id, timestamp: context.timestamp, body: body ?? '', secrets: endpoint.secrets }),
  );
  if (contentType !== null) headers.set('content-type', contentType);
  headers.set('user-agent', context.userAgent);
  if (ceHeaders) for (const [name, value] of binaryCloudEventHeaders(event, source)) headers.set(name, value);
  if (context.traceparent) headers.set('traceparent', context.traceparent);
  const apiKeyHeader = addReceiverAuth(headers, endpoint.auth);
  addStaticHeaders(headers, endpoint.headers);

  return {
    method: hook.method,
    url,
    headers: Object.fromEntries(headers),
    redactedHeaders: redactHeaders(headers, apiKeyHeader),
    body,
    bodyText,
  };
}
