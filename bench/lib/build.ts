// The processes the bench measures (Switchyard, the bare loop, the peers, the ceilings, the receiver)
// run as `npm start` runs Switchyard: JavaScript emitted by tsc, with plain node. Run through tsx they
// measured something no user runs: tsx transforms with esbuild's keepNames, which wraps every function
// it creates in a call that sets its name, so closures made per request or per delivery paid for it
// (bench/README has the figures). The orchestrator itself stays TypeScript: it only drives and counts.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);
const buildDir = new URL('bench/.build/', root);

/**
 * Compiles src/ and bench/ into bench/.build/ (incremental: a few seconds when nothing changed).
 * Switchyard finds the SDK's document manifest and the console's build relative to its own files,
 * one folder up from src/; links in the build folder keep those paths true there.
 */
export function buildChildren(): void {
  execFileSync(fileURLToPath(new URL('node_modules/.bin/tsc', root)), ['-p', fileURLToPath(new URL('tsconfig.bench.json', root))], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  mkdirSync(buildDir, { recursive: true });
  for (const folder of ['sdk', 'console']) {
    const link = fileURLToPath(new URL(folder, buildDir));
    if (lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) continue;
    rmSync(link, { recursive: true, force: true });
    symlinkSync(`../../${folder}`, link, 'dir');
  }
}

/** The compiled form of a bench file named relative to bench/ (`./server.ts` → bench/.build/bench/server.js). */
export function compiledChild(file: string): URL {
  return new URL(`bench/${file.replace(/^\.\//, '').replace(/\.ts$/, '.js')}`, buildDir);
}
