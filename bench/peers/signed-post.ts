// What every peer's worker does for one delivery, the way a team building it on a job queue would:
// a Standard Webhooks envelope, signed with HMAC-SHA256 over `id.timestamp.body`, POSTed with undici
// over a shared keep-alive pool. A non-2xx answer or a network error throws, so the queue retries.
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';

export interface DeliveryJob {
  id: string;
  url: string;
  type: string;
  payload: unknown;
}

export interface PostedAttempt {
  status: number;
  durationMs: number;
}

export function signedPoster(connections: number) {
  const agent = new Agent({ connections, keepAliveTimeout: 30_000 });
  const key = randomBytes(32);
  return {
    async post(job: DeliveryJob): Promise<PostedAttempt> {
      const started = performance.now();
      const timestamp = String(Math.floor(Date.now() / 1000));
      const body = JSON.stringify({ type: job.type, timestamp: new Date().toISOString(), data: job.payload });
      const signature = createHmac('sha256', key).update(`${job.id}.${timestamp}.${body}`).digest('base64');
      const response = await request(job.url, {
        dispatcher: agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'bench-peer/1',
          'webhook-id': job.id,
          'webhook-timestamp': timestamp,
          'webhook-signature': `v1,${signature}`,
        },
        body,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      await response.body.arrayBuffer();
      if (response.statusCode < 200 || response.statusCode >= 300) throw new Error(`HTTP ${response.statusCode}`);
      return { status: response.statusCode, durationMs: performance.now() - started };
    },
    close: () => agent.close(),
  };
}

/** The jobs of one run: one per event, round-robin over the receiver's endpoints. */
export function deliveryJobs(args: { n: number; urls: string[]; type: string; payload: unknown; runId: string }): DeliveryJob[] {
  return Array.from({ length: args.n }, (_, i) => ({ id: `${args.runId}_${i}`, url: args.urls[i % args.urls.length]!, type: args.type, payload: args.payload }));
}
