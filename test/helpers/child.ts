// A Switchyard in a child process (test/helpers/child-server.ts), for tests that kill it or that
// must measure it from outside its own event loop, and a GraphQL client for it shaped like TestApp.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { graphqlClient, type TestApp } from './app.js';

const CHILD_ENTRY = 'test/helpers/child-server.ts';

export interface Child {
  process: ChildProcess;
  exited: Promise<void>;
  /** Resolves with the child's URL once it listens (bounded by `timeoutMs`). */
  listening(timeoutMs?: number): Promise<string>;
  /** Held children only: resolves once the modules are loaded and it waits for `go`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Held children only: lets it open the store and start; resolves with its URL. */
  go(): Promise<string>;
}

/**
 * Spawns `child-server.ts` with `env`. A `held` child loads its modules and then waits for `go()`,
 * so a restart can be made ready while the first process still runs (loading is the slow part).
 */
export function spawnChild(env: Record<string, string>, options: { held?: boolean } = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_ENTRY], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      ...(options.held ? { CHILD_WAIT_FOR_GO: '1' } : {}),
      ...env,
    },
    stdio: [options.held ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) waiter();
  });
  child.once('exit', () => {
    for (const waiter of [...waiters]) waiter();
  });
  const waitForLine = (prefix: string, timeoutMs: number): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines.find((line) => line.startsWith(prefix));
        if (found !== undefined) {
          done();
          resolve(found.slice(prefix.length).trim());
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`the child exited (${child.exitCode ?? child.signalCode}) before "${prefix}"; stderr: ${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the child printed no "${prefix}" within ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    process: child,
    exited,
    // loading the TypeScript sources through tsx takes a while on a busy machine
    listening: (timeoutMs = 90_000) => waitForLine('LISTENING ', timeoutMs),
    ready: async (timeoutMs = 90_000) => {
      await waitForLine('READY', timeoutMs);
    },
    go() {
      child.stdin!.write('go\n');
      return waitForLine('LISTENING ', 10_000);
    },
  };
}

/** A GraphQL client for a child, shaped like TestApp for the fixtures (which only use `ok`/`gql`). */
export function clientOf(url: string): TestApp {
  return { url, ...graphqlClient(url) } as Partial<TestApp> as TestApp;
}

/** Stops a child gracefully (bounded), as an operator would; SIGKILL if it does not end. */
export async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const stopped = await Promise.race([child.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
  if (!stopped) {
    child.process.kill('SIGKILL');
    await child.exited;
  }
}

