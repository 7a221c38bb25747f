// Builds the HTTP request of one delivery attempt (README, "What leaves Switchyard")
// from its parts: the body by format (body-format.ts, cloudevents.ts) or transform (transform.ts),
// the URL from the hook's path template (path-template.ts), Standard Webhooks headers and the signatures the endpoint chose (signature-schemes.ts),
// receiver auth and the endpoint's static headers (headers.ts). No I/O and the timestamp is
// injected, so the dispatcher builds outside any transaction and tests pin every byte.
import { fillBodyTemplate, type BodyTemplate } from './body-template.js';
import { formatBody, formatTextBody, payloadText, type PayloadFormat } from './body-format.js';
import { HOOK_SETTINGS_EXTENSION, binaryCloudEventHeaders, cloudEventsSource, type CloudEventAttributes } from './cloudevents.js';
import { addReceiverAuth, addStaticHeaders, headerRecord, redactHeaders, type ReceiverAuth } from './headers.js';
import { resolvePathTemplate } from './path-template.js';
import { RequestBuildError } from './request-error.js';
import { redactValues, secretValues } from './secret-redaction.js';
import { DEFAULT_SIGNATURE_SCHEMES, signatureHeaders, type SignatureScheme } from './signature-schemes.js';
import type { KeyObject } from 'node:crypto';
import { buildTemplateScope, type TemplateScope } from './template-scope.js';
import { runTransform } from './transform.js';

// The request's vocabulary is part of this module's API: callers import it from here.
export type { PayloadFormat } from './body-format.js';
export type { BodyTemplate, BodyTemplateKind } from './body-template.js';
export { CLOUDEVENTS_SOURCE_PREFIX } from './cloudevents.js';
export type { ReceiverAuth } from './headers.js';
export type { SignatureScheme } from './signature-schemes.js';
export { RequestBuildError } from './request-error.js';

/**
 * The event id beside `webhook-id` (the delivery id): which producer event a request carries, the same
 * for every hook and endpoint it reaches. Under the `webhook-` prefix, so no static header can forge it.
 */
export const EVENT_ID_HEADER = 'webhook-event-id';

const EMPTY_BODY = Buffer.alloc(0);

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Everything one attempt's request is made from; the dispatcher assembles it from the claimed delivery. */
export interface RequestContext {
  event: {
    /** `msg_…`; sent as `webhook-event-id` and CloudEvents `id` (the same for every hook the event reaches) */
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
    /** `{{path}}` body template (JSON value or text); replaces the body like a transform; null for none */
    template: BodyTemplate | null;
    settings: Record<string, unknown>;
    /** decrypted secrets, in the scope as `secrets`; their values never reach the attempt log */
    secrets: Record<string, unknown>;
    /** the hook's own headers: values with `{{path}}` placeholders over the scope; they win over the endpoint's of the same name */
    headers: Record<string, string>;
  };
  endpoint: {
    id: string;
    url: string;
    auth: ReceiverAuth;
    headers: Record<string, string>;
    /** valid signing secrets (`whsec_…` or their decoded key bytes), newest first; at least one */
    secrets: readonly (string | Buffer)[];
    /** which signatures to send (signature-schemes.ts); default V1 alone */
    signatureSchemes?: readonly SignatureScheme[];
    /** valid ed25519 private keys, newest first; needed (at least one) only with V1A */
    signingKeys?: readonly KeyObject[];
    /** GITHUB_SHA256's HMAC key, the current secret's text as UTF-8 (signature-schemes.ts); needed only when `secrets` are key bytes */
    bodyHmacKey?: Buffer | null;
  };
  tenant: { id: string; name: string };
  /** TemplateScope.captures: what the hooks this one runs after captured for this event; absent or null for none */
  captures?: Record<string, unknown> | null;
  /**
   * `dlv_…`; sent as `webhook-id` and signed: one per event × hook and the same on every retry, so a
   * receiver that de-duplicates on it (as Standard Webhooks asks) keeps each hook's delivery and drops only repeats.
   */
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
  /** the same body as the text it was made from */
  bodyText: string | null;
  /** `url` and `bodyText` as the attempt log keeps them: every value of the hook's secrets replaced by `[redacted]` */
  loggedUrl: string;
  loggedBodyText: string | null;
}

/**
 * Builds the request of one delivery attempt.
 *
 * - Body by `hook.format` (`STANDARD` envelope, `RAW` payload bytes, CloudEvents structured or
 *   binary mode); the producer's `payloadJson` is spliced in verbatim, never re-serialised.
 * - `hook.transform` (JSONata) replaces the body; for the CloudEvents formats its result becomes `data`.
 *   An `undefined` result is an error (return `null` explicitly to send a JSON `null`).
 * - `hook.template` does the same with `{{path}}` placeholders; a text template sends its own content type.
 * - `hook.path` is expanded and appended to the endpoint url's path; the origin never changes.
 * - GET/HEAD carry no body and no content-type (the transform is not evaluated); the signature covers
 *   the empty body; CloudEvents formats then travel as `ce-*` headers only.
 *
 * Throws {@link RequestBuildError} when the transform, the body template or the path template fails for this event; any
 * other error (an invalid signing secret, no secret or key for a chosen scheme) is a broken invariant of the caller.
 */
export async function buildRequest(context: RequestContext): Promise<BuiltRequest> {
  const { event, hook, endpoint } = context;
  const hasBody = hook.method !== 'GET' && hook.method !== 'HEAD';
  const transform = hasBody && hook.transform ? hook.transform : null;
  // Validation allows one of the two; should a row hold both, the transform wins.
  const template = hasBody && transform === null && hook.template ? hook.template : null;
  // Built at most once and shared: the transform and the path template see the same view.
  let scope: TemplateScope | undefined;
  const getScope = (): TemplateScope => (scope ??= buildTemplateScope(context));

  const url = hook.path ? resolvePathTemplate(hook.path, endpoint.url, getScope()) : endpoint.url;

  const isCloudEvents = hook.format === 'CLOUDEVENTS' || hook.format === 'CLOUDEVENTS_BINARY';
  // Structured mode has nowhere to put the event without a body, so GET/HEAD fall back to binary mode.
  const ceHeaders = hook.format === 'CLOUDEVENTS_BINARY' || (isCloudEvents && !hasBody);
  const source = isCloudEvents ? cloudEventsSource(context.tenant.id) : '';
  // Settings go out with the event only when there are some, so a hook without them sends what it always did.
  const settingsJson = Object.keys(hook.settings).length > 0 ? JSON.stringify(hook.settings) : null;
  // Named fields, not a spread: the dispatcher's `event.payload` is a getter that parses on first read.
  const attributes: CloudEventAttributes =
    isCloudEvents && settingsJson !== null
      ? { id: event.id, type: event.type, occurredAt: event.occurredAt, extensions: [[HOOK_SETTINGS_EXTENSION, settingsJson]] }
      : event;

  let body: Buffer | null = null;
  let bodyText: string | null = null;
  let contentType: string | null = null;
  if (hasBody) {
    let formatted;
    if (template !== null && template.kind !== 'JSON') {
      formatted = formatTextBody(hook.format, attributes, fillBodyTemplate(template, getScope()), source);
    } else {
      const data =
        template !== null ? fillBodyTemplate(template, getScope()).text : transform !== null ? await runTransform(transform, getScope()) : payloadText(event);
      formatted = formatBody(hook.format, attributes, data, { transformed: transform !== null || template !== null, source, settingsJson });
    }
    body = Buffer.from(formatted.text, 'utf8');
    bodyText = formatted.text;
    contentType = formatted.contentType;
  }

  // A Map until the end: insertion order is kept and a name like `__proto__` stays an ordinary header.
  const headers = new Map<string, string>();
  headers.set('webhook-id', context.deliveryId);
  headers.set('webhook-timestamp', String(context.timestamp));
  const signatures = signatureHeaders({
    id: context.deliveryId,
    timestamp: context.timestamp,
    body: body ?? EMPTY_BODY,
    schemes: endpoint.signatureSchemes ?? DEFAULT_SIGNATURE_SCHEMES,
    secrets: endpoint.secrets,
    signingKeys: endpoint.signingKeys ?? [],
    bodyHmacKey: endpoint.bodyHmacKey ?? null,
  });
  for (const [name, value] of signatures) headers.set(name, value);
  headers.set(EVENT_ID_HEADER, event.id);
  if (contentType !== null) headers.set('content-type', contentType);
  headers.set('user-agent', context.userAgent);
  if (ceHeaders) for (const [name, value] of binaryCloudEventHeaders(attributes, source)) headers.set(name, value);
  if (context.traceparent) headers.set('traceparent', context.traceparent);
  const apiKeyHeader = addReceiverAuth(headers, endpoint.auth);
  // The hook's first: a header it names wins over the endpoint's of the same name (the hook is the more specific).
  addStaticHeaders(headers, fillHookHeaders(hook.headers, getScope));
  addStaticHeaders(headers, endpoint.headers);

  const secrets = secretValues(hook.secrets);
  const redacted = redactHeaders(headers, apiKeyHeader);
  return {
    method: hook.method,
    url,
    headers: headerRecord(headers),
    redactedHeaders: secrets.length === 0 ? redacted : Object.fromEntries(Object.entries(redacted).map(([name, value]) => [name, redactValues(value, secrets)])),
    body,
    bodyText,
    loggedUrl: secrets.length === 0 ? url : redactValues(url, secrets),
    loggedBodyText: secrets.length === 0 || bodyText === null ? bodyText : redactValues(bodyText, secrets),
  };
}

/** The hook's header values with their placeholders filled; a value that would break the header line is the hook's error. */
function fillHookHeaders(templates: Record<string, string>, scope: () => TemplateScope): Record<string, string> {
  const entries = Object.entries(templates);
  if (entries.length === 0) return templates;
  return Object.fromEntries(
    entries.map(([name, template]) => {
      const value = template.includes('{{') ? fillBodyTemplate({ kind: 'TEXT', body: template }, scope()).text : template;
      // A value from the payload could otherwise smuggle a second header or end the head.
      if (/[\r\n\0]/.test(value)) throw new RequestBuildError('template', `header ${name}: its value holds a line break or NUL once filled`);
      return [name, value];
    }),
  );
}
