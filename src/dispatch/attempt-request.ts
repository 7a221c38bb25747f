// One attempt's request: wait for the endpoint's rate-limit turn, build and send it, and sum up
// what came back (or what was thrown). Never throws: every way it can end is an attempt result.
import type { Services } from '../services.js';
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
      },
      { timeoutMs: job.hook.timeout_ms ?? job.endpoint.timeout_ms ?? services.config.requestTimeoutMs, key: job.endpoint.id },
      signal,
    );
    return { sent: delivered.request, response: delivered.response, summary: summarizeResponse(delivered.response) };
  } catch (error) {
    const stopped = job.interrupted || signal.aborted;
    if (!stopped && !(error instanceof RequestBuildError)) {
      services.log.warn('dispatcher: could not build a request', { delivery: job.delivery.id, error: String(error) });
    }
    return { sent: null, response: null, summary: summarizeThrown(error, stopped) };
  } finally {
    turnOver();
    requestOver();
  }
}
