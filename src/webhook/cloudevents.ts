// CloudEvents 1.0 over HTTP: the structured-mode
// body and the binary-mode `ce-*` headers, both made from the same event, source and data.
/**
 * CloudEvents `source` is `/switchyard/tenants/<tenantId>`: a relative URI-reference (allowed by the
 * spec) that names the producer-side context the event belongs to; `source` + `id` (the event id) is
 * unique per event and identical across retries and hooks, as CloudEvents de-duplication expects.
 */
export const CLOUDEVENTS_SOURCE_PREFIX = '/switchyard/tenants/';
export const CLOUDEVENTS_JSON_TYPE = 'application/cloudevents+json';
const CLOUDEVENTS_SPEC_VERSION = '1.0';

/**
 * The hook's settings travel as this extension attribute, their JSON as a string: extension values
 * are scalars, and `data` stays the producer's payload (or the transform's result) for every hook.
 */
export const HOOK_SETTINGS_EXTENSION = 'hooksettings';

/** The event attributes both modes carry. */
export interface CloudEventAttributes {
  id: string;
  type: string;
  occurredAt: Date;
  /** extension attributes (lower-case a-z0-9 names, string values), in the order sent */
  extensions?: readonly (readonly [name: string, value: string])[];
}

export function cloudEventsSource(tenantId: string): string {
  return CLOUDEVENTS_SOURCE_PREFIX + encodeURIComponent(tenantId);
}

/** Structured mode: the whole event as one JSON document, `data` spliced in as the JSON text given. */
export function structuredCloudEvent(
  event: CloudEventAttributes,
  source: string,
  data: { json: string; contentType: string },
): string {
  // Hand-assembled so the payload text is not parsed and re-serialised; every other member is JSON.stringify'd.
  return (
    `{"specversion":"${CLOUDEVENTS_SPEC_VERSION}","id":${JSON.stringify(event.id)},` +
    `"source":${JSON.stringify(source)},"type":${JSON.stringify(event.type)},` +
    `"time":"${event.occurredAt.toISOString()}",` +
    (event.extensions ?? []).map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)},`).join('') +
    `"datacontenttype":${JSON.stringify(data.contentType)},"data":${data.json}}`
  );
}

/** Binary mode: the attributes as `ce-*` headers, in the order they are sent. */
export function binaryCloudEventHeaders(event: CloudEventAttributes, source: string): [name: string, value: string][] {
  return [
    ['ce-specversion', CLOUDEVENTS_SPEC_VERSION],
    ['ce-id', ceHeaderValue(event.id)],
    ['ce-source', ceHeaderValue(source)],
    ['ce-type', ceHeaderValue(event.type)],
    ['ce-time', event.occurredAt.toISOString()],
    ...(event.extensions ?? []).map(([name, value]) => [`ce-${name}`, ceHeaderValue(value)] as [string, string]),
  ];
}

const NEEDS_ENCODING = /[^\x21-\x7e]|["%]/;

/**
 * HTTP binding 3.1.3.2: header values percent-encode space, '"', '%' and anything outside printable
 * ASCII. Ids, type names and tenant ids are plain ASCII already, so this is almost always a no-op.
 */
function ceHeaderValue(value: string): string {
  if (!NEEDS_ENCODING.test(value)) return value;
  return Array.from(value, (char) =>
    NEEDS_ENCODING.test(char)
      ? Array.from(Buffer.from(char, 'utf8'), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('')
      : char,
  ).join('');
}
