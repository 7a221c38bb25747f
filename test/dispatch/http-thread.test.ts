// The outbound client on its own thread keeps the in-process client's whole contract: the same
// suite, run against createThreadedHttpClient, plus what only the thread has (its concurrency gate).
process.env.HTTP_CLIENT_VARIANT = 'thread';
await import('./http-client.test.js');
