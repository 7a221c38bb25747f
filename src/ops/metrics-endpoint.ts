// GET /metrics for Prometheus, behind a token of its own: a scrape config carries it as
// `authorization: { credentials: … }`, and neither an API token nor nothing at all opens it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from './metrics.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function createMetricsEndpoint(metrics: Metrics, token: string): (req: IncomingMessage, res: ServerResponse) => void {
  // compared as digests, so the comparison takes the same time whatever the length sent
  const expected = digest(token);
  return (req, res) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end('missing or wrong metrics token\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`could not collect metrics: ${String(error)}\n`);
      },
    );
  };
}
