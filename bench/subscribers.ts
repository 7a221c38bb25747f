// Figure (4)'s subscribers, in their own process so the server's CPU is its own: N graphql-ws
// clients with the same document and variables. Each message carries its publish time (shared
// monotonic clock) in `errorMessage`; latency = receipt (after the client parsed it) − publish.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { exitHandler, hrMs, serveCommands } from './lib/ipc.js';
import { percentiles } from './lib/stats.js';

const MAX_SAMPLES = 2_000_000;
let clients: Client[] = [];
let stops: (() => void)[] = [];
let samples = new Float64Array(MAX_SAMPLES);
let sampleCount = 0;
let perClient: number[] = [];
let errors: string[] = [];
let closes: number[] = [];
let sample: unknown = null;

async function connect(args: { url: string; token: string; n: number; query: string; variables: Record<string, unknown>; timeoutMs: number }) {
  await close();
  perClient = new Array<number>(args.n).fill(0);
  const connected: Promise<void>[] = [];
  for (let index = 0; index < args.n; index++) {
    let onConnected!: () => void;
    connected.push(new Promise<void>((resolve) => (onConnected = resolve)));
    const client = createClient({
      url: args.url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${args.token}` },
      retryAttempts: 0,
      lazy: false,
      on: {
        connected: () => onConnected(),
        closed: (event) => {
          const code = (event as { code?: number }).code;
          if (code !== undefined && code !== 1000) closes.push(code);
        },
      },
    });
    clients.push(client);
    stops.push(
      client.subscribe<{ deliveryAttempts: { errorMessage: string | null } }>(
        { query: args.query, variables: args.variables },
        {
          next: (value) => {
            const at = hrMs();
            const message = value.data?.deliveryAttempts.errorMessage;
            if (!message?.startsWith('t=')) {
              if (value.errors && errors.length < 20) errors.push(JSON.stringify(value.errors));
              return;
            }
            perClient[index]!++;
            if (sample === null) sample = value.data;
            if (sampleCount < MAX_SAMPLES) samples[sampleCount++] = at - Number(message.slice(2));
          },
          error: (error) => {
            if (errors.length < 20) errors.push(error instanceof Error ? error.message : JSON.stringify(error));
          },
          complete: () => {},
        },
      ),
    );
  }
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('subscribers did not connect in time')), args.timeoutMs).unref());
  await Promise.race([Promise.all(connected), timeout]);
  return { connected: clients.length };
}

function reset() {
  sampleCount = 0;
  perClient.fill(0);
  errors = [];
  closes = [];
}

function stats() {
  return {
    latency: percentiles(samples.subarray(0, sampleCount)),
    received: sampleCount,
    perClientMin: Math.min(...perClient),
    perClientMax: Math.max(...perClient),
    errors,
    closes,
    sample,
  };
}

async function close() {
  for (const stop of stops) stop();
  await Promise.all(clients.map((client) => client.dispose()));
  clients = [];
  stops = [];
  samples = new Float64Array(MAX_SAMPLES);
  sampleCount = 0;
}

serveCommands({ ...exitHandler(close), connect, reset, stats, close });
