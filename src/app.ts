// Builds Switchyard from a config: the store, the services, the GraphQL server (HTTP + graphql-ws on
// one port) and, for the worker role, the dispatcher. `start()` listens; `stop()` shuts down in order.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { systemClock, type Clock } from './clock.js';
import { createCipher, resolveEncryptionKey } from './crypto.js';
import { defaultSqlitePath, migrateToLatest, openStore, type Store, type StoreOptions } from './db/connect.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './db/pagination.js';
import { Dispatcher, USER_AGENT } from './dispatch/dispatcher.js';
import { createAddressPolicy } from './webhook/address-policy.js';
import { createHttpClient } from './dispatch/http-client.js';
import { createThreadedHttpClient } from './dispatch/http-thread.js';
import { createDeliverer } from './dispatch/deliverer.js';
import { createLocalBus, type Bus } from './pubsub/bus.js';
import { createRedisBus } from './pubsub/redis-bus.js';
import { startRetention } from './dispatch/retention.js';
import { useSharedSubscriptionExecution } from './graphql/shared-execution.js';
import { attachGraphQLWs, type GraphQLWsServer } from './graphql/ws-server.js';
import type { Config } from './env.js';
import type { GraphQLContext } from './graphql/builder.js';
import { UNBOUNDED_LIST_SIZE } from './graphql/cost.js';
import { useCostLimit } from './graphql/cost-limit.js';
import { useBudget } from './graphql/budget.js';
import { loadTrustedDocuments, resolveQuery, useTrustedDocuments } from './graphql/trusted-documents.js';
import { useDocumentNestingLimit } from './graphql/document-nesting.js';
import { createTokenLimits } from './graphql/token-limits.js';
import { exposedError } from './graphql/mask-error.js';
import { buildSchema } from './graphql/schema.js';
import { handleGraphQLRequest, type AdmitBody, type Refusal } from './http/graphql-request.js';
import { createJsonSchemaCache } from './json-schema.js';
import { createLogger, type Logger } from './log.js';
import { authenticate, ensureAdminToken } from './modules/tokens/token.service.js';
import type { Actor } from './auth/actor.js';
import type { Services, Signals } from './services.js';
import { createConsoleServer } from './console/serve.js';
import { createReadiness } from './ops/readiness.js';
import { createMetrics } from './ops/metrics.js';
import { countQueuedByStatus } from './modules/deliveries/delivery.repository.js';
import { createMetricsEndpoint } from './ops/metrics-endpoint.js';

export const VERSION = '0.1.0';


export interface AppOptions {
  config: Config;
  /** default: the system clock */
  clock?: Clock;
  /** default: JSON lines on stderr at config.logLevel */
  log?: Logger;
  /** where to print the generated admin token once (default: stdout) */
  announce?: (message: string) => void;
  /** passed to the store: sees the SQL of every Kysely statement (tests count statements with it) */
  onQuery?: (sql: string) => void;
  /** passed to the store: syncs SQLite's WAL file for the group commit (tests inject a failing disk) */
  syncWal?: StoreOptions['syncWal'];
}

export interface App {
  services: Services;
  /** the delivery loop (started by `start()` unless the role is api) */
  dispatcher: Dispatcher;
  /** `http://host:port` once started */
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** graphql-ws clients send `{ authorization: 'Bearer …' }` (or `Authorization`) as connectionParams. */
function connectionAuthorization(params: Record<string, unknown> | undefined): string | null {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === 'string' ? value : null;
}

function unauthenticated(): GraphQLError {
  return new GraphQLError('missing or invalid token: send `Authorization: Bearer <token>`', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } },
  });
}

/** The HTTP answer a refusal made for the GraphQL context (401, 429) gives before a body is read. */
function refusalOf(error: GraphQLError): Refusal {
  const http = error.extensions.http as { status?: number; headers?: Record<string, string> } | undefined;
  return { status: http?.status ?? 400, code: String(error.extensions.code ?? 'BAD_REQUEST'), message: error.message, ...(http?.headers ? { headers: http.headers } : {}) };
}

export async function buildApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const store: Store = openStore({
    url: config.databaseUrl ?? defaultSqlitePath(config.dataDir),
    onQuery: options.onQuery,
    ...(options.syncWal ? { syncWal: options.syncWal } : {}),
    onConnectionLost: (error) => log.warn('database connection lost; reconnecting on the next statement', { error: error.message }),
  });
  await migrateToLatest(store.db, store.dialect);
  // Only with a scrape token: without one nothing is counted and /metrics is not served.
  const metrics = config.metricsToken ? createMetrics({ now: () => clock.now() }) : null;
  if (metrics) store.writes.observeCommits((durationMs, units) => metrics.committed(durationMs, units));
  const cipher = createCipher(resolveEncryptionKey(config.encryptionKey, config.dataDir, (m) => log.warn(m)));
  const wakeListeners = new Set<() => void>();
  const redisBus = config.redisUrl ? createRedisBus(config.redisUrl, log, config.redisPrefix) : null;
  if (redisBus) {
    await redisBus.ready.catch(async (error: unknown) => {
      await redisBus.close();
      await store.close();
      throw error;
    });
  }
  const transport: Bus = redisBus ?? createLocalBus((error) => log.warn('a live subscriber failed', { error: String(error) }));
  const bus: Bus = metrics ? metrics.observe(transport) : transport;
  const wakeLocal = () => {
    for (const listener of wakeListeners) listener();
  };
  const signals: Signals = {
    // With Redis, every node's dispatcher hears it (API nodes accept events, workers send them).
    deliveriesDue: () => (redisBus ? redisBus.announceDue() : wakeLocal()),
    // only a running dispatcher leases (the api role never starts one)
    leaseAsWritten: (due) => dispatcher.leaseAsWritten(due),
    eventsAccepted: metrics ? (count) => metrics.eventsAccepted(count) : () => undefined,
  };
  const addressPolicy = createAddressPolicy(config.allowPrivateCidrs);
  const threaded = config.httpThread
    ? createThreadedHttpClient({
        allowPrivateCidrs: config.allowPrivateCidrs,
        connectTimeoutMs: config.connectTimeoutMs,
        userAgent: USER_AGENT,
        maxConcurrent: config.maxInFlight,
        maxConcurrentPerKey: config.maxInFlightPerEndpoint,
      })
    : null;
  const deliverer = createDeliverer(
    threaded ?? createHttpClient({ policy: addressPolicy, connectTimeoutMs: config.connectTimeoutMs, userAgent: USER_AGENT }),
  );
  const services: Services = {
    config,
    store,
    db: store.db,
    cipher,
    clock,
    log,
    addressPolicy,
    jsonSchemas: createJsonSchemaCache(),
    signals,
    bus,
    // dispatcher is created right below; nothing runs a delivery before buildApp returns
    sender: { runNow: (deliveryIds) => dispatcher.runNow(deliveryIds) },
  };
  // The thread bounds concurrency itself, so requests can wait there ready to go.
  const dispatcher = new Dispatcher({
    services,
    deliverer,
    publisher: bus,
    queueAhead: threaded ? config.maxInFlight : 0,
    ...(metrics ? { onClaim: (batchSize: number) => metrics.claimed(batchSize) } : {}),
  });
  wakeListeners.add(() => dispatcher.wake());
  redisBus?.onDue(wakeLocal);

  const generatedAdminToken = await ensureAdminToken(services);
  if (generatedAdminToken) {
    (options.announce ?? ((m) => process.stdout.write(`${m}\n`)))(
      `Generated an admin token (shown once, stored hashed):\n\n    ${generatedAdminToken}\n\n` +
        'Keep it: it is the only admin credential. Set SWITCHYARD_ADMIN_TOKEN to use your own instead.',
    );
  }

  const tokenLimits = createTokenLimits(config.tokenLimits);
  const trustedDocuments = loadTrustedDocuments();
  // The actors of requests whose token was checked before their body was read (handleGraphQLRequest):
  // their context takes the actor from here, and their request is not counted twice.
  const admittedBeforeBody = new WeakMap<IncomingMessage, Actor>();
  /** Who may send a large body: the token is checked, and the request counted, before Yoga reads it. */
  const admitBody: AdmitBody = async (req, bytes) => {
    const actor = await authenticate(services, typeof req.headers.authorization === 'string' ? req.headers.authorization : null);
    if (!actor) return refusalOf(unauthenticated());
    try {
      tokenLimits.admitRequest(actor);
      tokenLimits.admitBody(actor, bytes);
    } catch (error) {
      if (error instanceof GraphQLError) return refusalOf(error);
      throw error;
    }
    admittedBeforeBody.set(req, actor);
    return null;
  };
  const holdSubscription: GraphQLContext['holdSubscription'] = metrics
    ? (actor) => metrics.countSubscription(tokenLimits.holdSubscription(actor))
    : tokenLimits.holdSubscription;
  const consoleServer = createConsoleServer({ productName: config.consoleProductName, accent: config.consoleAccent });
  const yoga: YogaServerInstance<{ req: IncomingMessage; res: ServerResponse }, GraphQLContext> = createYoga({
    schema: buildSchema(),
    graphqlEndpoint: '/graphql',
    graphiql: config.graphiql ? { title: 'Switchyard', headers: JSON.stringify({ Authorization: 'Bearer <token>' }) } : false,
    // GraphiQL from the console build (local assets, subscriptions over graphql-ws), not from a CDN.
    renderGraphiQL: (options) => consoleServer.graphiqlHtml(options ?? {}),
    landingPage: false,
    maskedErrors: {
      maskError: (error, message, isDev) => (error instanceof GraphQLError && exposedError(error)) || maskError(error, message, isDev),
    },
    logging: false,
    // The server below refuses bodies over MAX_REQUEST_BYTES before Yoga sees them (by Content-Length,
    // which Node's parser holds the body to, or by counting a chunked body). Yoga's own limit would
    // pipe every body through a TransformStream (and abort a controller, which builds a DOMException,
    // when the pipe ends) for a check already made, and that costs more than the rest of a
    // `{ __typename }` request (bench/README.md has the figures).
    maxRequestBodySize: false,
    plugins: [
      ...useTrustedDocuments(trustedDocuments),
      useDocumentNestingLimit(),
      tokenLimits.plugin,
      useSharedSubscriptionExecution(),
      useCostLimit({ maxCost: config.maxQueryCost, defaultPageSize: DEFAULT_PAGE_SIZE, maxPageSize: MAX_PAGE_SIZE, unboundedListSize: UNBOUNDED_LIST_SIZE }),
      useBudget({ maxExecutionMs: config.maxExecutionMs, maxResponseBytes: config.maxResponseBytes }),
      EnvelopArmorPlugin({
        maxDepth: { n: 12 },
        maxAliases: { n: 30 },
        maxDirectives: { n: 20 },
        maxTokens: { n: 5000 },
        // counted by useCostLimit below, with list sizes and variables
        costLimit: { enabled: false },
        blockFieldSuggestion: { enabled: config.env === 'production' },
      }),
    ],
    context: async (initial): Promise<GraphQLContext> => {
      // HTTP and SSE carry the token in the Authorization header; graphql-ws in connectionParams.
      const { request, connectionParams, socket, req } = initial as unknown as {
        request?: Request;
        connectionParams?: Record<string, unknown>;
        socket?: GraphQLContext['socket'];
        req?: IncomingMessage;
      };
      let actor = req ? admittedBeforeBody.get(req) : undefined;
      if (!actor) {
        actor = (await authenticate(services, request?.headers.get('authorization') ?? connectionAuthorization(connectionParams))) ?? undefined;
        if (!actor) throw unauthenticated();
        tokenLimits.admitRequest(actor);
      }
      const traceparent = request?.headers.get('traceparent') ?? null;
      return { actor, services, holdSubscription, traceparent, ...(socket ? { socket } : {}) };
    },
  });

  const readiness = createReadiness({ store, pingRedis: redisBus ? () => redisBus.ping() : undefined });
  let server: Server | null = null;
  let ws: GraphQLWsServer | null = null;
  const serveMetrics = metrics && config.metricsToken ? createMetricsEndpoint(metrics, config.metricsToken) : null;
  metrics?.setSources({
    dispatcherInFlight: () => dispatcher.inFlight,
    httpThreadInFlight: () => (threaded ? threaded.inFlight : null),
    websocketConnections: () => ws?.clients ?? 0,
    queuedDeliveries: () => countQueuedByStatus(services.db),
  });
  let stopRetention: (() => Promise<void>) | null = null;
  const app: App = {
    services,
    dispatcher,
    url: '',
    async start() {
      server = createServer((req, res) => {
        if (req.url === '/healthz') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
          return;
        }
        if (serveMetrics && req.url === '/metrics') {
          serveMetrics(req, res);
          return;
        }
        if (req.url === '/readyz') {
          readiness.answer(res);
          return;
        }
        if (consoleServer.handle(req, res)) return;
        handleGraphQLRequest(req, res, yoga, admitBody);
      });
      ws = attachGraphQLWs({
        server,
        path: '/graphql',
        log,
        initTimeoutMs: config.wsInitTimeoutMs,
        maxBufferedBytes: config.wsMaxBufferedBytes,
        maxResultBytes: config.maxResponseBytes,
        envelop: (initialContext) => yoga.getEnveloped(initialContext) as never,
        resolveQuery: (payload) => resolveQuery(trustedDocuments, payload),
        authorize: async (params) => (await authenticate(services, connectionAuthorization(params))) !== null,
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(config.port, config.host, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      app.url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
      // The first delivery must not be the one that waits for the HTTP thread to load its code.
      await deliverer.ready;
      if (config.role !== 'api') {
        dispatcher.start();
        stopRetention = startRetention(services);
      }
      log.info('switchyard listening', { url: `${app.url}/graphql`, role: config.role, dialect: store.dialect });
    },
    async stop() {
      readiness.drain();
      await ws?.close();
      ws = null;
      if (server) {
        const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeAllConnections();
        await closing;
        server = null;
      }
      await stopRetention?.();
      await dispatcher.stop();
      wakeListeners.clear();
      await deliverer.close();
      await bus.close();
      await store.close();
    },
  };
  return app;
}
