// A tiny request/response protocol over Node's IPC channel, so each benchmark role (receiver,
// Switchyard host, ceilings, subscribers) runs in its own process and the orchestrator drives it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type Handlers = Record<string, (args: any) => unknown>;

/** The shared monotonic clock (CLOCK_MONOTONIC on Linux): comparable across processes on one machine. */
export function hrMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Serves the parent's commands until it goes away (then exits, so no child outlives a crashed run). */
export function serveCommands(handlers: Handlers): void {
  if (!process.send) throw new Error('this module runs as a child of bench/run.ts');
  process.on('message', (raw) => {
    const request = raw as Request;
    const handler = handlers[request.cmd];
    const reply = (response: Response) => process.send?.(response);
    if (!handler) {
      reply({ id: request.id, ok: false, error: `unknown command ${request.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(request.args))
      .then(
        (result) => reply({ id: request.id, ok: true, result: result ?? null }),
        (error: unknown) => reply({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ id: -1, ok: true, result: 'ready' } satisfies Response);
}

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  call<T = any>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** asks the child to exit (profiles are written on a clean exit), kills it after a bound */
  exit(timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
/** Kills every child still running (watchdog, crash). */
export function killAllChildren(): void {
  for (const child of live) if (child.exitCode === null) child.kill('SIGKILL');
}

export async function startChild(
  name: string,
  moduleUrl: URL,
  options: { execArgv?: string[]; env?: Record<string, string>; readyTimeoutMs?: number } = {},
): Promise<Child> {
  const child = fork(fileURLToPath(moduleUrl), [], {
    // compiled children (bench/lib/build.ts) run with plain node; a TypeScript one needs tsx
    execArgv: [...(moduleUrl.pathname.endsWith('.ts') ? ['--import', 'tsx'] : []), ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  live.add(child);
  // Children never write to our stdout (it carries the table only).
  child.stdout?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      live.delete(child);
      for (const [, waiter] of pending) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`${name} exited (code ${code}, signal ${signal})`));
      }
      pending.clear();
      resolve();
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${options.readyTimeoutMs ?? 30_000} ms`)), options.readyTimeoutMs ?? 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready`));
    });
    child.on('message', (raw) => {
      const response = raw as Response;
      if (response.id === -1) {
        clearTimeout(timer);
        resolve();
        return;
      }
      const waiter = pending.get(response.id);
      if (!waiter) return;
      pending.delete(response.id);
      clearTimeout(waiter.timer);
      if (response.ok) waiter.resolve(response.result);
      else waiter.reject(new Error(`${name}: ${response.error}`));
    });
  });
  await ready;
  return {
    name,
    pid: child.pid!,
    process: child,
    call<T>(cmd: string, args?: unknown, timeoutMs = 60_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${name} has exited`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${cmd} did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        child.send({ id, cmd, args: args ?? null } satisfies Request);
      });
    },
    async exit(timeoutMs = 10_000) {
      if (exited) return;
      child.send({ id: 0, cmd: '__exit', args: null } satisfies Request);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** Registers the `__exit` command every child understands. */
export function exitHandler(before?: () => Promise<void> | void): Handlers {
  return {
    __exit: async () => {
      await before?.();
      // Let the reply (none is awaited) and a --cpu-prof profile flush, then go.
      setImmediate(() => process.exit(0));
    },
  };
}
