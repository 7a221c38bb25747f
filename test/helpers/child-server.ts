// A Switchyard process for crash tests: configured only by its environment (SWITCHYARD_*), it
// prints `LISTENING <url>` on stdout once it serves, and is meant to be killed (SIGKILL) or stopped
// (SIGTERM). Run with `node --import tsx test/helpers/child-server.ts`.
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/env.js';
import { createLogger } from '../../src/log.js';

/** The line the parent waits for; the URL follows it. */
const LISTENING = 'LISTENING ';

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
