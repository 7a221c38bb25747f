// What reaches Yoga at /graphql, checked first by the HTTP server: a body over the limit is answered
// 413 before it is read (or as soon as a chunked body passes the limit), a large body only once its
// token has passed, and GET parameters that are not what the GraphQL-over-HTTP spec asks for are
// answered 400 with the reason, instead of the "Unexpected error." Yoga gives a malformed
// `variables` or `extensions`.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest HTTP request body accepted; a `sendEvents` batch of 100 events at the payload limit would exceed it on purpose. */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/**
 * Bodies up to this are handed to Yoga as they come; over it, or of unknown length, the token is
 * checked first. Yoga parses a body before the context checks its token, and parsing megabytes of
 * JSON holds the event loop (bench/README.md has the figures): without this, anyone, with no token
 * at all, could make the server parse bodies back to back and answer nobody else. A body this small
 * parses in less time than the extra turn the early check takes.
 */
export const CHECKED_BODY_BYTES = 64 * 1024;

/** Why a request may not send its body: answered before the body is read. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/** Checks the request's token before its body of `bytes` is read (a chunked one counts as the largest allowed); null: go on. */
export type AdmitBody = (req: IncomingMessage, bytes: number) => Promise<Refusal | null>;

/** The GET parameters that carry JSON (GraphQL over HTTP, "GET"). */
const JSON_PARAMETERS = ['variables', 'extensions'] as const;

interface FetchHandler {
  fetch(url: string, init: RequestInit): Promise<Response> | Response;
}

/** A Node request handler that also speaks fetch: graphql-yoga's server instance. */
export type YogaHandler = FetchHandler & ((req: IncomingMessage, res: ServerResponse) => unknown);

function answerError(res: ServerResponse, status: number, code: string, message: string, close = false, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers, ...(close ? { connection: 'close' } : {}) });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/**
 * After an answer that refuses the body: a well-behaved client may finish sending (so it reads the
 * answer instead of a reset), but only up to a bound; a body that never ends is cut off. The bytes
 * are dropped unread.
 */
function discardBody(req: IncomingMessage): void {
  let drained = 0;
  req.on('data', (more: Buffer) => {
    drained += more.length;
    if (drained > MAX_REQUEST_BYTES) req.destroy();
  });
}

function answerTooLarge(res: ServerResponse): void {
  answerError(res, 413, 'PAYLOAD_TOO_LARGE', `request body over ${MAX_REQUEST_BYTES} bytes`, true);
}

/** Why the query string cannot be a GraphQL request, or null when it can. */
export function malformedQueryString(url: string): string | null {
  const question = url.indexOf('?');
  if (question < 0) return null;
  const search = url.slice(question + 1);
  // URLSearchParams keeps a broken escape as text; a JSON parameter with one is refused below.
  const params = new URLSearchParams(search);
  for (const name of JSON_PARAMETERS) {
    const value = params.get(name);
    if (value === null || value === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return `the \`${name}\` parameter is not valid JSON (URL-encode a JSON object)`;
    }
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) return `the \`${name}\` parameter must be a JSON object`;
  }
  return null;
}

/** Reads a body of unknown length up to the limit (413 past it), then lets Yoga answer as usual. */
async function answerChunked(req: IncomingMessage, res: ServerResponse, yoga: FetchHandler): Promise<void> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > MAX_REQUEST_BYTES) {
        answerTooLarge(res);
        discardBody(req);
        return;
      }
      chunks.push(chunk);
    }
  } catch {
    res.destroy();
    return;
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'transfer-encoding') continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const response = await yoga.fetch(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method: req.method ?? 'POST',
    headers,
    body: Buffer.concat(chunks),
  });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body) for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) res.write(part);
  res.end();
}

/**
 * Answers one request for the GraphQL endpoint: refused here, or handed to Yoga. With `admit`, a body
 * over CHECKED_BODY_BYTES or of unknown length is read only once its token passes.
 */
export function handleGraphQLRequest(req: IncomingMessage, res: ServerResponse, yoga: YogaHandler, admit?: AdmitBody): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > MAX_REQUEST_BYTES) {
    answerTooLarge(res);
    req.resume();
    return;
  }
  if (req.method === 'GET' && req.url) {
    const problem = malformedQueryString(req.url);
    if (problem) {
      answerError(res, 400, 'BAD_REQUEST', problem);
      return;
    }
  }
  const chunked = declared === undefined && req.headers['transfer-encoding'] !== undefined;
  // A chunked upload announces no size: read it here, counting, and hand Yoga the whole body.
  const handOver = () => void (chunked ? answerChunked(req, res, yoga) : yoga(req, res));
  if (!admit || !(chunked || Number(declared ?? 0) > CHECKED_BODY_BYTES)) {
    handOver();
    return;
  }
  admit(req, chunked ? MAX_REQUEST_BYTES : Number(declared)).then(
    (refusal) => {
      if (refusal === null) return handOver();
      answerError(res, refusal.status, refusal.code, refusal.message, true, refusal.headers);
      discardBody(req);
    },
    // The check could not be made (the store is away): Yoga answers as it does for any request then.
    handOver,
  );
}
