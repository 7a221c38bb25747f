// Started by http-thread.test.ts from another working directory: the HTTP thread must still load.
import { createThreadedHttpClient } from '../../src/dispatch/http-thread.js';

const client = createThreadedHttpClient({ allowPrivateCidrs: [] });
await client.ready;
process.stdout.write('ready\n');
await client.close();
