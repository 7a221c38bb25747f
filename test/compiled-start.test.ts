// `npm start` runs the compiled build: this builds dist/ the way `npm start` does (tsc with
// tsconfig.build.json, incremental, so a fresh build is reused), starts `node dist/main.js` with no
// tsx anywhere, and talks to it. Starting also proves the compiled HTTP thread loads (the app awaits
// it before it listens) and that the migrations run from dist/.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const ADMIN_TOKEN = /^\s*(sy_adm_\S+)\s*$/m;

/** Only what a user's shell would have: no SWITCHYARD_* from the test's environment, no loader flags. */
function cleanEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('SWITCHYARD_') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return { ...env, SWITCHYARD_HOST: '127.0.0.1', SWITCHYARD_PORT: '0', SWITCHYARD_DATA_DIR: dataDir };
}

/** Resolves with the admin token and the URL once the process has printed both. */
function started(child: ChildProcess): Promise<{ token: string; url: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const check = () => {
      const token = ADMIN_TOKEN.exec(stdout)?.[1];
      const listening = /"message":"switchyard listening","url":"([^"]+)\/graphql"/.exec(stderr)?.[1];
      if (token !== undefined && listening !== undefined) resolve({ token, url: listening });
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      check();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      check();
    });
    child.once('exit', (code) => reject(new Error(`node dist/main.js exited (code ${code}) before it listened:\n${stdout}\n${stderr}`)));
  });
}

describe('compiled start (node dist/main.js)', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, timeout: 120_000 });
    dataDir = mkdtempSync(join(tmpdir(), 'switchyard-compiled-'));
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('serves /healthz and GraphQL with the admin token it printed', async () => {
    // From another working directory, as a service manager would start it.
    child = spawn(process.execPath, [join(root, 'dist', 'main.js')], { cwd: dataDir, env: cleanEnv(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
    const { token, url } = await started(child);

    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);

    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { data: { __typename: 'Query' } });
  });
});
