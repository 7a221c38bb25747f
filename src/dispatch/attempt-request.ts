// One attempt's request: wait for the endpoint's rate-limit turn, build and send it, and sum up
// what came back (or what was thrown). Never throws: every way it can end is an attempt result.
import type { Services } from '../services.js';
import { parseJson } from '../db/json.js';
import { captureResponse, runCapture, type CaptureOutcome } from '../webhook/capture.js';
import type { AttemptResultSummary } from '../webhook/outcome.js';
import { RequestBuildError } from '../webhook/request.js';
import type { RateLimiter } from './admission.js';
import { summarizeResponse, summarizeThrown } from './completion.js';
import type { Deliverer, SentRequest, StoredResponse } from './deliverer.js';
import type { Job } from './job-preparation.js';
import type { SpecCache } from './specs.js';

export const USER_AGENT = 'Switchyard/0.1.0';

export interface AttemptRequestResult {
  sent: SentRequest | null;
  response: StoredResponse | null;
  summary: AttemptResultSummary;
  /** what the hook's capture made of a 2xx answer; null when it has none or the answer was not a 2xx */
  capture: CaptureOutcome | null;
}

export interface AttemptRequestDeps {
  services: Services;
  deliverer: Deliverer;
  specs: SpecCache;
  rateLimiter: RateLimiter;
}

/**
 * Sends `job`'s request unless the dispatcher is stopping; `requestOver` runs once the request is
 * over, whatever happened, so its slot frees before the outcome is durable.
 */
export async function sendAttempt(
  { services, deliverer, specs, rateLimiter }: AttemptRequestDeps,
  job: Job,
  { signal, traceparent, requestOver }: { signal: AbortSignal; traceparent: string | null; requestOver: () => void },
): Promise<AttemptRequestResult> {
  let turnOver = () => undefined as void;
  try {
    if (job.interrupted || signal.aborted) throw new Error('dispatcher stopped');
    turnOver = await rateLimiter.waitForTurn(job.endpoint.id, job.endpoint.rate_limit_per_second);
    const now = services.clock.now();
    const delivered = await deliverer.deliver(
      {
        event: job.event,
        hook: specs.hook(job.hook),
        endpoint: specs.currentEndpoint(job.endpoint, now) ?? (await specs.loadEndpoint(job.endpoint, now)),
        tenant: { id: job.tenant.id, name: job.tenant.name },
        deliveryId: job.delivery.id,
        timestamp: Math.floor(services.clock.now() / 1000),
        userAgent: USER_AGENT,
        traceparent,
        captures: job.captures,
      },
      { timeoutMs: job.hook.timeout_ms ?? job.endpoint.timeout_ms ?? services.config.requestTimeoutMs, key: job.endpoint.id, sendAfter: job.sendAfter },
      signal,
    );
    const summary = summarizeResponse(delivered.response);
    const capture = job.hook.capture && summary.errorClass === null ? await captureOf(job, job.hook.capture, delivered.response) : null;
    return { sent: delivered.request, response: delivered.response, summary, capture };
  } catch (error) {
    const stopped = job.interrupted || signal.aborted;
    if (!stopped && !(error instanceof RequestBuildError)) {
      services.log.warn('dispatcher: could not build a request', { delivery: job.delivery.id, error: String(error) });
    }
    return { sent: null, response: null, summary: summarizeThrown(error, stopped), capture: null };
  } finally {
    turnOver();
    requestOver();
  }
}

/** The capture over a 2xx answer: the response as stored (its body up to the stored size), the event and its payload. */
function captureOf(job: Job, source: string, response: StoredResponse): Promise<CaptureOutcome> {
  const { event } = job;
  return runCapture(source, {
    response: captureResponse({ status: response.status ?? 0, headersJson: response.headersJson, body: response.body, bodyEncoding: response.bodyEncoding }),
    event: {
      id: event.id,
      type: event.type,
      channels: parseJson<string[]>(event.channels),
      occurredAt: new Date(event.occurred_at).toISOString(),
      createdAt: new Date(event.created_at).toISOString(),
    },
    data: parseJson<unknown>(event.payload),
  });
}
