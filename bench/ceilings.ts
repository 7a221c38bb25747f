// The ceilings that need a server of their own, each in this separate process:
// - a bare Yoga server answering `{ __typename }`, or Switchyard's `sendEvent` with a resolver that
//   answers at once (figure 2);
// - a bare `ws` broadcast server speaking just enough graphql-transport-ws for the same graphql-ws
//   clients, sending the same message bytes, serialised once per message (figure 4).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { WebSocketServer, type WebSocket } from 'ws';
import { exitHandler, hrMs, serveCommands } from './lib/ipc.js';
import { profile } from './lib/profiler.js';
import { paced } from './lib/stats.js';

let server: Server | null = null;
let wss: WebSocketServer | null = null;
const subscriptions = new Map<WebSocket, Set<string>>();

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function close(): Promise<void> {
  if (wss) {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss!.close(() => resolve()));
    wss = null;
    subscriptions.clear();
  }
  if (server) {
    const s = server;
    server = null;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  }
}

/** The input and result types of Switchyard's `sendEvent`, for a Yoga whose resolver answers at once. */
const SEND_EVENT_TYPE_DEFS = /* GraphQL */ `
  scalar JSON
  scalar DateTime
  type Query { ok: Boolean }
  input SendEventInput { channels: [String!], idempotencyKey: String, occurredAt: DateTime, payload: JSON!, tenantId: ID, traceparent: String, type: String! }
  type SendEventPayload { deliveryCount: Int! }
  type ValidationError { message: String! }
  type NotFoundError { message: String! }
  type ConflictError { message: String! }
  union SendEventResult = ConflictError | NotFoundError | SendEventPayload | ValidationError
  type Mutation { sendEvent(input: SendEventInput!): SendEventResult! }
`;

/**
 * A stock Yoga answering `{ __typename }` (the ceiling). With `bodyLimit: false`, Yoga as
 * Switchyard runs it: without its request-body limit, whose per-request TransformStream costs more
 * than the rest of a `{ __typename }` request (Switchyard enforces its limit before Yoga instead).
 * With `sendEvent: true` (and no body limit) it also executes Switchyard's `sendEvent` operation, its
 * resolver answering at once: what GraphQL itself costs for that request (parsing its variables,
 * coercing the input, resolving the union), without anything Switchyard does.
 */
async function startYoga(options: { bodyLimit?: boolean; sendEvent?: boolean } | null = null): Promise<string> {
  await close();
  const schema = options?.sendEvent
    ? createSchema({
        typeDefs: SEND_EVENT_TYPE_DEFS,
        resolvers: {
          JSON: JSONResolver,
          DateTime: DateTimeResolver,
          SendEventResult: { __resolveType: () => 'SendEventPayload' },
          Mutation: { sendEvent: async () => ({ deliveryCount: 1 }) },
        },
      })
    : createSchema({ typeDefs: 'type Query { ok: Boolean }' });
  const yoga = createYoga({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    logging: false,
    ...(options?.bodyLimit === false || options?.sendEvent ? { maxRequestBodySize: false as const } : {}),
  });
  server = createServer(yoga);
  server.keepAliveTimeout = 120_000;
  return listen(server);
}

async function startWs(): Promise<string> {
  await close();
  server = createServer((_req, res) => res.writeHead(404).end());
  wss = new WebSocketServer({
    server,
    path: '/graphql',
    maxPayload: 64 * 1024,
    handleProtocols: (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false),
  });
  wss.on('connection', (socket) => {
    subscriptions.set(socket, new Set());
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string; id?: string };
      if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
      else if (message.type === 'ping') socket.send('{"type":"pong"}');
      else if (message.type === 'subscribe' && message.id) subscriptions.get(socket)?.add(message.id);
      else if (message.type === 'complete' && message.id) subscriptions.get(socket)?.delete(message.id);
    });
    socket.on('close', () => subscriptions.delete(socket));
  });
  return listen(server);
}

/** `template` is one `data` object as Switchyard sent it; its errorMessage carries the send time. */
async function broadcast(args: { rate: number; durationMs: number; template: { deliveryAttempts: Record<string, unknown> } }) {
  const template = args.template;
  return paced(args.rate, args.durationMs, () => {
    const data = { deliveryAttempts: { ...template.deliveryAttempts, errorMessage: `t=${hrMs()}` } };
    const payload = JSON.stringify({ data });
    for (const [socket, ids] of subscriptions) {
      for (const id of ids) socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
    }
  });
}

serveCommands({
  ...exitHandler(close),
  profile,
  startYoga,
  startWs,
  close,
  subscribers: () => [...subscriptions.values()].reduce((n, ids) => n + ids.size, 0),
  broadcast,
});
