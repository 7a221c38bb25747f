// graphql-ws on the HTTP server's port and path. Every subscribe goes through Yoga's envelop
// (same parser cache, validation, armor limits, context and auth as HTTP). Our own adapter around
// graphql-ws's `makeServer` (instead of `useServer`) so that (a) a result shared by many
// subscribers is serialised once and pushed to each socket as a prebuilt frame, and (b) a socket
// whose send buffer grows past a bound is closed as a slow consumer.
import type { IncomingMessage, Server } from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log.js';
import { SLOW_CONSUMER_CLOSE_CODE } from '../pubsub/subscription-stream.js';
import { exposedError, UNEXPECTED_ERROR_MESSAGE } from './mask-error.js';
import { sizeRefusal } from './budget.js';
import { serializeOnce, type PushableResults } from './shared-execution.js';
import type { SocketCapabilities } from './builder.js';

/** WebSocket close code for a subscriber that cannot keep up (like HTTP 413: more than we hold for it). */
/** Largest client message: subscriptions are small documents; anything bigger is hostile. */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
/** Server pings this often; a peer that does not pong within the same time is terminated. */
export const KEEP_ALIVE_MS = 12_000;


/**
 * The fan-out path: results are pushed straight onto the socket as graphql-transport-ws `next`
 * frames built from the once-serialised payload, instead of graphql-ws pulling an iterator and
 * validating and stringifying every message for every subscriber. graphql-ws still owns the
 * protocol (init, subscribe, complete, ping); it sees an iterator that ends when the stream ends.
 */
function pushToSocket(
  results: PushableResults,
  socket: WebSocket,
  id: string,
  options: Pick<GraphQLWsOptions, 'maxBufferedBytes' | 'maxResultBytes'>,
): AsyncIterableIterator<ExecutionResult> {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  let ended = false;
  let wake: ((step: IteratorResult<ExecutionResult>) => void) | null = null;
  const end = () => {
    ended = true;
    wake?.({ value: undefined, done: true });
    wake = null;
  };
  results.attachResults((result) => {
    if (ended || socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > options.maxBufferedBytes) {
      socket.close(SLOW_CONSUMER_CLOSE_CODE, 'slow consumer: send buffer full');
      void results.return?.();
      return;
    }
    const text = serializeOnce(result);
    // This path skips the envelop's result hooks, so the size budget is applied here.
    const tooLarge = sizeRefusal(text, options.maxResultBytes);
    socket.send(`${prefix}${tooLarge ? serializeOnce({ errors: [tooLarge] }) : text}}`);
  }, end);
  return {
    next: () => (ended ? Promise.resolve({ value: undefined, done: true }) : new Promise((resolve) => (wake = resolve))),
    return: async () => {
      await results.return?.();
      end();
      return { value: undefined, done: true };
    },
    throw: async (error?: unknown) => {
      await results.return?.();
      end();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export interface WsExtra {
  socket: WebSocket;
  request: IncomingMessage;
}

export interface GraphQLWsOptions {
  server: Server;
  path: string;
  log: Logger;
  /** Envelop for one subscribe: parse, validate, contextFactory, execute, subscribe, schema. */
  envelop: (initialContext: Record<string, unknown>) => {
    parse: (source: string) => ExecutionArgs['document'];
    validate: (schema: ExecutionArgs['schema'], document: ExecutionArgs['document']) => readonly unknown[];
    contextFactory: () => Promise<unknown> | unknown;
    execute: (args: ExecutionArgs) => unknown;
    subscribe: (args: ExecutionArgs) => unknown;
    schema: ExecutionArgs['schema'];
  };
  /** Time a client has to send connection_init before it is closed with 4408. */
  initTimeoutMs: number;
  /** Bytes queued on one socket before its subscriber is dropped with SLOW_CONSUMER_CLOSE_CODE. */
  maxBufferedBytes: number;
  /**
   * The document a subscribe names: its `query`, or (when that is empty: graphql-ws requires a string)
   * the trusted document its `extensions` name by id. Throws a GraphQLError, answered for that operation.
   */
  resolveQuery: (payload: { query: string; extensions?: Record<string, unknown> | null }) => string;
  /** Largest JSON text of one pushed subscription message; a bigger one is sent as a RESPONSE_TOO_LARGE error. */
  maxResultBytes: number;
  /** Returns false to refuse the connection (closed with 4403 Forbidden). */
  authorize: (connectionParams: Record<string, unknown> | undefined) => Promise<boolean>;
}

export interface GraphQLWsServer {
  /** open sockets */
  readonly clients: number;
  close(): Promise<void>;
}

/** An error for one operation: a GraphQLError as it is (masked when it wraps a fault), anything else masked. */
function operationError(error: unknown): GraphQLError {
  const graphQLError = error instanceof GraphQLError ? error : new GraphQLError(UNEXPECTED_ERROR_MESSAGE, { originalError: error as Error });
  return exposedError(graphQLError) ?? new GraphQLError(UNEXPECTED_ERROR_MESSAGE, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/** Runs execute or subscribe; what they throw becomes a result with that error, not a closed socket. */
async function answerErrors(run: () => unknown): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
  try {
    return (await run()) as AsyncIterable<ExecutionResult> | ExecutionResult;
  } catch (error) {
    return { errors: [operationError(error)] };
  }
}

export function attachGraphQLWs(options: GraphQLWsOptions): GraphQLWsServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    handleProtocols: (protocols) => handleProtocols(protocols) || false,
  });

  const serverOptions: ServerOptions<Record<string, unknown> | undefined, WsExtra> = {
    connectionInitWaitTimeout: options.initTimeoutMs,
    onConnect: async (ctx) => options.authorize(ctx.connectionParams),
    onSubscribe: async (ctx, id, payload) => {
      let pushable: PushableResults | null = null;
      const socket: SocketCapabilities = {
        close: (code, reason) => ctx.extra.socket.close(code, reason),
        push: (results) => {
          pushable = results;
        },
      };
      const envelop = options.envelop({ connectionParams: ctx.connectionParams, socket, params: payload });
      // A document refused by parsing, validation, a limit or the context (a rate limit) answers an
      // `error` message for this operation only: thrown, it would close the socket and every other
      // subscription on it with 4500.
      let document: ExecutionArgs['document'];
      let contextValue: unknown;
      try {
        document = envelop.parse(options.resolveQuery(payload));
        const errors = envelop.validate(envelop.schema, document);
        if (errors.length > 0) return errors as never;
        contextValue = await envelop.contextFactory();
      } catch (error) {
        return [operationError(error)] as never;
      }
      const args: ExecutionArgs = {
        schema: envelop.schema,
        document,
        operationName: payload.operationName ?? null,
        variableValues: payload.variables ?? null,
        contextValue,
        rootValue: {
          execute: envelop.execute,
          subscribe: async (subscribeArgs: ExecutionArgs) => {
            const result = await envelop.subscribe(subscribeArgs);
            return pushable ? pushToSocket(pushable, ctx.extra.socket, id, options) : result;
          },
        },
      };
      return args;
    },
    execute: (args) => answerErrors(() => (args.rootValue as { execute: (a: ExecutionArgs) => never }).execute(args)),
    subscribe: (args) => answerErrors(() => (args.rootValue as { subscribe: (a: ExecutionArgs) => never }).subscribe(args)),
  };
  const protocol = makeServer(serverOptions);

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    let pongWait: NodeJS.Timeout | null = null;
    const ping = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), KEEP_ALIVE_MS);
      socket.once('pong', () => {
        if (pongWait) clearTimeout(pongWait);
        pongWait = null;
      });
      socket.ping();
    }, KEEP_ALIVE_MS);
    socket.on('error', (error) => options.log.debug('websocket error', { error: error.message }));
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            if (socket.bufferedAmount > options.maxBufferedBytes) {
              socket.close(SLOW_CONSUMER_CLOSE_CODE, 'slow consumer: send buffer full');
              return resolve();
            }
            // Resolve when the frame is handed to the socket, not when the peer reads it: a slow
            // peer then shows up as a growing bufferedAmount (bounded above), not as a stalled loop.
            socket.send(data, (error) => {
              if (error) options.log.debug('websocket send failed', { error: error.message });
            });
            resolve();
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handler) =>
          socket.on('message', (raw) => {
            handler(String(raw)).catch((error: unknown) => {
              options.log.warn('graphql-ws message failed', { error: String(error) });
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearInterval(ping);
      if (pongWait) clearTimeout(pongWait);
      void closed(code, String(reason));
    });
  });

  const onUpgrade = (request: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== options.path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  options.server.on('upgrade', onUpgrade);

  return {
    get clients() {
      return wss.clients.size;
    },
    async close() {
      options.server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const client of wss.clients) client.terminate();
    },
  };
}
