// The real HTTP thread, which also exits (as a crash would end it) when a request for a path
// containing /die arrives: lets a test kill the thread while other requests are in flight.
// The real thread's listener comes first: a port hands a message only to the listeners it has.
import { parentPort } from 'node:worker_threads';
import type { ToThread } from '../../src/dispatch/http-thread.js';

await import('../../src/dispatch/http-thread-worker.js');
parentPort!.on('message', (message: ToThread) => {
  if (message.type === 'send' && message.requests.some((request) => request.url.includes('/die'))) process.exit(3);
});
