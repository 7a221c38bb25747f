// /readyz: whether this node can do its work now — the store answers and has every migration this
// code expects, and Redis (when configured) answers. /healthz stays liveness: the process runs.
import type { ServerResponse } from 'node:http';
import { pendingMigrations, type Store } from '../db/connect.js';

/** A check that has not answered by then counts as failed: a load balancer must not wait on a hung store. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

export interface ReadinessOptions {
  store: Store;
  /** PINGs Redis; absent without SWITCHYARD_REDIS_URL */
  pingRedis?: (() => Promise<void>) | undefined;
  timeoutMs?: number;
}

export interface Readiness {
  /** each check by name: `ok`, or why not */
  check(): Promise<{ ready: boolean; checks: Record<string, string> }>;
  /** answers the probe: 200 when ready, 503 with the failed checks otherwise */
  answer(res: ServerResponse): void;
  /** from now on not ready (the app is stopping), whatever the checks say */
  drain(): void;
}

function withTimeout(work: Promise<string>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
  });
  return Promise.race([work.catch((error: unknown) => (error instanceof Error ? error.message : String(error))), late]).finally(() => clearTimeout(timer));
}

export function createReadiness(options: ReadinessOptions): Readiness {
  const timeoutMs = options.timeoutMs ?? READINESS_CHECK_TIMEOUT_MS;
  let draining = false;
  const checkStore = async () => {
    const pending = await pendingMigrations(options.store.db, options.store.dialect);
    return pending.length === 0 ? 'ok' : `migrations not applied: ${pending.join(', ')}`;
  };
  const checkRedis = async () => {
    await options.pingRedis!();
    return 'ok';
  };
  const readiness: Readiness = {
    async check() {
      const [store, redis] = await Promise.all([
        withTimeout(checkStore(), timeoutMs),
        options.pingRedis ? withTimeout(checkRedis(), timeoutMs) : Promise.resolve(null),
      ]);
      const checks: Record<string, string> = { store };
      if (redis !== null) checks.redis = redis;
      if (draining) checks.node = 'stopping';
      return { ready: !draining && Object.values(checks).every((value) => value === 'ok'), checks };
    },
    answer(res) {
      readiness.check().then(
        ({ ready, checks }) => {
          res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify({ status: ready ? 'ready' : 'not ready', checks }));
        },
        (error: unknown) => {
          res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'not ready', error: String(error) }));
        },
      );
    },
    drain() {
      draining = true;
    },
  };
  return readiness;
}
