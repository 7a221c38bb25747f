// A Switchyard process for crash tests: configured only by its environment (SWITCHYARD_*), it
// prints `LISTENING <url>` on stdout once it serves, and is meant to be killed (SIGKILL) or stopped
// (SIGTERM). Run with `node --import tsx test/helpers/child-server.ts`.
//
// With CHILD_WAIT_FOR_GO=1 it loads its modules (the slow part of starting) and then waits for a
// line `go` on stdin before it opens the store and starts, so a test can have a restart ready.
import { createInterface } from 'node:readline';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/env.js';
import { createLogger } from '../../src/log.js';

const LISTENING = 'LISTENING ';
const READY = 'READY';

if (process.env.CHILD_WAIT_FOR_GO === '1') {
  process.stdout.write(`${READY}\n`);
  await new Promise<void>((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      if (line.trim() !== 'go') return;
      lines.close();
      resolve();
    });
  });
}

const config = loadConfig(process.env);
const app = await buildApp({ config, log: createLogger(config.logLevel), announce: () => {} });
await app.start();
process.stdout.write(`${LISTENING}${app.url}\n`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  app.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
