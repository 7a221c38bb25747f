// A receiver on 127.0.0.1:0 that records every request and answers as each test tells it to.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  receivedAt: number;
}

/** Answers one request; may also stall, drip or destroy the socket. */
export type Behaviour = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export const ok: Behaviour = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
};

export function status(code: number, headers: Record<string, string> = {}, body = ''): Behaviour {
  return (_req, res) => {
    res.writeHead(code, headers).end(body);
  };
}

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** every request answers with this from now on (default 200 ok) */
  setDefault(behaviour: Behaviour): void;
  /** the next requests answer with these, in order, before the default applies again */
  enqueue(...behaviours: Behaviour[]): void;
  /** resolves once `count` requests in total have arrived (bounded by `timeoutMs`) */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  connections: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const queue: Behaviour[] = [];
  let fallback: Behaviour = ok;
  const waiters: { count: number; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : (value ?? '');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers, body, receivedAt: performance.now() });
      for (const waiter of [...waiters]) {
        if (requests.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      const behaviour = queue.shift() ?? fallback;
      void Promise.resolve(behaviour(req, res, body)).catch(() => res.destroy());
    });
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    setDefault(behaviour) {
      fallback = behaviour;
    },
    enqueue(...behaviours) {
      queue.push(...behaviours);
    },
    waitFor(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${requests.length} of ${count} requests in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(requests.slice());
          },
        });
      });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Hostile behaviours (faults and timing tests)

/** Never answers: the request hangs until the client gives up or the receiver closes. */
export const hang: Behaviour = () => {};

/** Drops the TCP connection without answering (the client sees a reset / socket hang up). */
export const reset: Behaviour = (req) => {
  req.socket.destroy();
};

/** Sends a 200 head, then one byte every `intervalMs`, forever (until the client goes away). */
export function drip(intervalMs: number, byte = 'x'): Behaviour {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(byte);
    const timer = setInterval(() => res.write(byte), intervalMs);
    res.on('close', () => clearInterval(timer));
  };
}

/** Answers with `body` (any size) and the given status and headers. */
export function body(code: number, payload: Buffer | string, headers: Record<string, string> = {}): Behaviour {
  return (_req, res) => {
    res.on('error', () => {});
    res.writeHead(code, { 'content-length': String(Buffer.byteLength(payload)), ...headers }).end(payload);
  };
}

/** Runs `then` after `ms` (a slow receiver), unless the client has gone away in the meantime. */
export function delayed(ms: number, then: Behaviour = ok): Behaviour {
  return (req, res, received) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        if (!res.destroyed && !req.socket.destroyed) void Promise.resolve(then(req, res, received)).finally(resolve);
        else resolve();
      }, ms);
      res.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
}

/** A behaviour that holds every request it gets until `open()`, then answers each with `then`. */
export function gate(then: Behaviour = ok): { behaviour: Behaviour; open(): void; readonly held: number } {
  let opened = false;
  const held: (() => void)[] = [];
  return {
    behaviour: (req, res, received) => {
      if (opened) return then(req, res, received);
      held.push(() => void then(req, res, received));
    },
    open() {
      opened = true;
      for (const release of held.splice(0)) release();
    },
    get held() {
      return held.length;
    },
  };
}

/** Picks a behaviour by request path (the part before `?`); `fallback` for any other path. */
export function byPath(routes: Record<string, Behaviour>, fallback: Behaviour = ok): Behaviour {
  return (req, res, received) => (routes[(req.url ?? '').split('?')[0] ?? ''] ?? fallback)(req, res, received);
}
