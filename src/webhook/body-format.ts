// The body of a request by the hook's `format`. The producer's payload
// text, or the transform's result, is spliced in verbatim: never parsed and re-serialised, so the
// receiver gets the producer's number precision and key order.
import { CLOUDEVENTS_JSON_TYPE, structuredCloudEvent, type CloudEventAttributes } from './cloudevents.js';

export type PayloadFormat = 'STANDARD' | 'RAW' | 'CLOUDEVENTS' | 'CLOUDEVENTS_BINARY';

export const JSON_CONTENT_TYPE = 'application/json';

export interface FormattedBody {
  text: string;
  contentType: string;
}

/**
 * The body text and its content type. `dataJson` is the payload text, or the transform's result;
 * with `transformed`, STANDARD sends the transform's result as the whole body (no envelope), while
 * the CloudEvents formats still wrap it as `data`. `source` is the CloudEvents source. `settingsJson`
 * (the hook's settings, null when it has none) joins the STANDARD envelope as `settings`; CloudEvents
 * carry them as an extension attribute of `event` instead.
 */
export function formatBody(
  format: PayloadFormat,
  event: CloudEventAttributes,
  dataJson: string,
  options: { transformed: boolean; source: string; settingsJson?: string | null },
): FormattedBody {
  switch (format) {
    case 'RAW':
    case 'CLOUDEVENTS_BINARY':
      return { text: dataJson, contentType: JSON_CONTENT_TYPE };
    case 'CLOUDEVENTS':
      return {
        text: structuredCloudEvent(event, options.source, { json: dataJson, contentType: JSON_CONTENT_TYPE }),
        contentType: CLOUDEVENTS_JSON_TYPE,
      };
    default:
      // STANDARD, and whatever an older row might hold: the documented default format.
      return {
        text: options.transformed
          ? dataJson
          : `{"type":${JSON.stringify(event.type)},"timestamp":"${event.occurredAt.toISOString()}","data":${dataJson}` +
            (options.settingsJson ? `,"settings":${options.settingsJson}}` : '}'),
        contentType: JSON_CONTENT_TYPE,
      };
  }
}

/**
 * The body of a text template (plain or form-encoded): sent as it is, except in CloudEvents
 * structured mode, where it becomes the string `data` under its own `datacontenttype`.
 */
export function formatTextBody(format: PayloadFormat, event: CloudEventAttributes, filled: FormattedBody, source: string): FormattedBody {
  if (format !== 'CLOUDEVENTS') return filled;
  return {
    text: structuredCloudEvent(event, source, { json: JSON.stringify(filled.text), contentType: filled.contentType }),
    contentType: CLOUDEVENTS_JSON_TYPE,
  };
}

/** The payload as JSON text: what the producer sent, else (a context built from a parsed payload alone) its serialisation. */
export function payloadText(event: { payload: unknown; payloadJson: string }): string {
  // payloadJson is the source of truth (it keeps the producer's number precision); the fallback
  // only covers callers that built a context from a parsed payload alone, e.g. a hook test.
  if (event.payloadJson !== '') return event.payloadJson;
  return JSON.stringify(event.payload) ?? 'null';
}
