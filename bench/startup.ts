// Start-up time: from spawning the process to the first `/healthz` answered 200, for each way of
// starting Switchyard, over several runs, each on a new data directory (so every run creates and
// migrates its SQLite file and generates its keys, as a first start does).
//
//   npx tsx bench/startup.ts [runs]      (default 5; build dist/ first: npm run build)
//
// Modes: `tsx` is what `npm start` ran before the compiled build (tsx src/main.ts); `node` is
// `node dist/main.js`; `npm` is `npm start` itself (npm, then the incremental tsc check, then node).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? 5);

const modes: Record<string, { command: string; args: string[] }> = {
  tsx: { command: join(root, 'node_modules', '.bin', 'tsx'), args: ['src/main.ts'] },
  node: { command: process.execPath, args: ['dist/main.js'] },
  npm: { command: 'npm', args: ['start', '--silent'] },
};

/** A port free right now: the server must be polled at a known address from the moment it spawns. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function once(mode: string): Promise<number> {
  const { command, args } = modes[mode]!;
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-startup-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('SWITCHYARD_') && name !== 'NODE_OPTIONS') env[name] = value;
  Object.assign(env, { SWITCHYARD_HOST: '127.0.0.1', SWITCHYARD_PORT: String(port), SWITCHYARD_DATA_DIR: dataDir });
  const started = performance.now();
  const child = spawn(command, args, { cwd: root, env, stdio: 'ignore', detached: true });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${mode}: exited (code ${child.exitCode}) before it answered`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (response.status === 200) return performance.now() - started;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // `npm start` runs node as a grandchild: signal the whole process group.
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const results: Record<string, number[]> = {};
// Interleaved, so a change in the machine's load falls on every mode alike.
for (let run = 0; run < runs; run++) {
  for (const mode of Object.keys(modes)) (results[mode] ??= []).push(await once(mode));
}
for (const [mode, times] of Object.entries(results)) {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`${mode.padEnd(5)} median ${median.toFixed(0)} ms  min ${sorted[0]!.toFixed(0)}  max ${sorted.at(-1)!.toFixed(0)}  (${sorted.map((t) => t.toFixed(0)).join(', ')})`);
}
