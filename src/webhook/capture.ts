// Response capture: a hook's JSONata expression over the receiver's 2xx answer, e.g. to keep the id
// a remote system assigned, which hooks that run after it (runAfter) read as `captures`. Evaluated
// under the transform bounds (transform.ts); what it makes is kept on the delivery, so its size is capped.
import { ExpressionError, evaluateToJson, type EvaluationBounds } from './transform.js';
import type { TemplateScope } from './template-scope.js';

/** Largest capture result kept on a delivery, in bytes of JSON: an id or a few fields, not a copy of the response. */
export const MAX_CAPTURE_BYTES = 16 * 1024;
/**
 * How many capture events deep one chain may go (an event sent by a capture of a delivery of an
 * event sent by a capture…): a chain of hooks that feed each other stops here instead of running for ever.
 */
export const MAX_CAPTURE_CHAIN = 8;

const CAPTURE_BOUNDS: EvaluationBounds = {
  label: 'capture',
  maxBytes: MAX_CAPTURE_BYTES,
  undefinedHint: '; return null explicitly to capture nothing',
};

/** The response as a capture sees it. */
export interface CaptureResponse {
  status: number;
  /** lower-case names, as the receiver sent them */
  headers: Record<string, string | string[]>;
  /** parsed when the content type is JSON and the text parses, the text otherwise; null when the body is not UTF-8 text */
  body: unknown;
}

/** What a capture expression is evaluated over. */
export interface CaptureInput {
  response: CaptureResponse;
  event: TemplateScope['event'];
  data: unknown;
}

/** What a capture made: its result as JSON text, or why there is none. */
export type CaptureOutcome = { captured: string; error: null } | { captured: null; error: string };

/** The response as stored for the attempt log (deliverer.ts StoredResponse), the parts a capture reads. */
export interface StoredResponseParts {
  status: number;
  headersJson: string | null;
  body: string;
  bodyEncoding: 'utf8' | 'base64';
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]*\+)?json\b/i;

/** The body a capture sees: parsed JSON when the answer says it is JSON and it parses, else the text. */
export function captureBody(contentType: string | undefined, body: string, encoding: 'utf8' | 'base64'): unknown {
  if (encoding !== 'utf8') return null;
  if (contentType !== undefined && JSON_CONTENT_TYPE.test(contentType.trim())) {
    try {
      return JSON.parse(body) as unknown;
    } catch {
      // a JSON content type over text that is not JSON (or was cut at the stored size): the text
    }
  }
  return body;
}

export function captureResponse(stored: StoredResponseParts): CaptureResponse {
  const headers = stored.headersJson === null ? {} : (JSON.parse(stored.headersJson) as Record<string, string | string[]>);
  const contentType = headers['content-type'];
  return {
    status: stored.status,
    headers,
    body: captureBody(Array.isArray(contentType) ? contentType[0] : contentType, stored.body, stored.bodyEncoding),
  };
}

/**
 * Evaluates the capture over `input`. Never throws: a syntax error, an evaluation error, an
 * `undefined` result, a result that is not JSON or is larger than MAX_CAPTURE_BYTES is the
 * outcome's `error`, and the delivery keeps the outcome its response gave it.
 */
export async function runCapture(source: string, input: CaptureInput): Promise<CaptureOutcome> {
  try {
    return { captured: await evaluateToJson(source, input, CAPTURE_BOUNDS), error: null };
  } catch (error) {
    return { captured: null, error: error instanceof ExpressionError ? error.message : `capture failed: ${String(error)}` };
  }
}
