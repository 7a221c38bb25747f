// The only reader of process.env. Every setting is parsed once, here, and every problem is
// reported together so an operator fixes a bad deployment in one go.
import { z } from 'zod';

const DAY_MS = 86_400_000;

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const list = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

// OTLP over gRPC would need the gRPC exporter and its native HTTP/2 stack; collectors take both
// HTTP encodings on the same port (4318).
const otlpProtocol = z.enum(['http/protobuf', 'http/json'], { error: 'must be http/protobuf or http/json (OTLP over HTTP; grpc is not supported)' });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  SWITCHYARD_HOST: z.string().default('0.0.0.0'),
  SWITCHYARD_PORT: int(0, 65535).default(8080),
  SWITCHYARD_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  SWITCHYARD_DATA_DIR: z.string().default('./data'),
  SWITCHYARD_DATABASE_URL: z.string().optional(),
  SWITCHYARD_REDIS_URL: z.string().url().optional(),
  SWITCHYARD_REDIS_PREFIX: z.string().min(1).default('switchyard:'),
  SWITCHYARD_ENCRYPTION_KEY: z.string().optional(),
  SWITCHYARD_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SWITCHYARD_ALLOW_HTTP: bool.optional(),
  SWITCHYARD_ALLOW_PRIVATE_CIDRS: list.default([]),
  SWITCHYARD_GRAPHIQL: bool.optional(),
  SWITCHYARD_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  SWITCHYARD_MAX_PAYLOAD_BYTES: int(1024, 16 * 1024 * 1024).default(1024 * 1024),
  SWITCHYARD_IDEMPOTENCY_WINDOW_MS: int(60_000, 30 * DAY_MS).default(DAY_MS),
  SWITCHYARD_SECRET_OVERLAP_MS: int(0, 7 * DAY_MS).default(DAY_MS),
  SWITCHYARD_RETENTION_DAYS: int(1, 3650).default(30),
  SWITCHYARD_REQUEST_TIMEOUT_MS: int(100, 300_000).default(15_000),
  SWITCHYARD_CONNECT_TIMEOUT_MS: int(100, 60_000).default(5_000),
  SWITCHYARD_MAX_IN_FLIGHT: int(1, 10_000).default(512),
  SWITCHYARD_MAX_IN_FLIGHT_PER_ENDPOINT: int(1, 1_000).default(32),
  SWITCHYARD_HTTP_THREAD: bool.optional(),
  SWITCHYARD_AUTO_DISABLE_AFTER_MS: int(60_000, 365 * DAY_MS).default(5 * DAY_MS),
  SWITCHYARD_LEASE_MS: int(1_000, 3_600_000).default(60_000),
  SWITCHYARD_MAX_QUERY_COST: int(100, 10_000_000).default(10_000),
  SWITCHYARD_MAX_EXECUTION_MS: int(1, 600_000).default(10_000),
  SWITCHYARD_MAX_RESPONSE_BYTES: int(256, 1024 * 1024 * 1024).default(32 * 1024 * 1024),
  SWITCHYARD_TRUSTED_DOCUMENTS: z.enum(['off', 'token', 'tenant']).default('token'),
  SWITCHYARD_TOKEN_REQUESTS_PER_SECOND: int(1, 1_000_000).default(100),
  SWITCHYARD_TOKEN_REQUEST_BURST: int(1, 1_000_000).default(200),
  SWITCHYARD_TOKEN_EVENTS_PER_SECOND: int(1, 1_000_000).default(500),
  SWITCHYARD_TOKEN_EVENT_BURST: int(1, 1_000_000).default(1_000),
  SWITCHYARD_TOKEN_MAX_SUBSCRIPTIONS: int(1, 10_000).default(20),
  SWITCHYARD_TOKEN_BODY_BYTES_PER_SECOND: int(1, 1 << 30).default(4 * 1024 * 1024),
  SWITCHYARD_TOKEN_BODY_BYTE_BURST: int(1, 1 << 30).default(32 * 1024 * 1024),
  SWITCHYARD_WS_INIT_TIMEOUT_MS: int(100, 60_000).default(5_000),
  SWITCHYARD_WS_MAX_BUFFERED_BYTES: int(16 * 1024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  SWITCHYARD_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SWITCHYARD_FAILING_AFTER_ATTEMPTS: int(1, 1_000).default(5),
  SWITCHYARD_PUBLIC_URL: z.string().url().refine((v) => /^https?:\/\//.test(v), 'must be an http(s) URL').optional(),
  SWITCHYARD_CONSOLE_PRODUCT_NAME: z.string().trim().min(1).max(60, 'must be at most 60 characters').default('Switchyard'),
  SWITCHYARD_CONSOLE_ACCENT: z
    .string()
    .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'must be a hex colour like #4f46e5')
    .default('#4f46e5'),
  /** the standard OpenTelemetry variable; the SDK it loads reads the other OTEL_* variables itself */
  OTEL_TRACES_EXPORTER: list.pipe(z.array(z.enum(['otlp', 'console', 'none']))).default([]),
  /** the standard OTLP encodings over HTTP; the traces' own variable wins over the general one */
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
});

export type Role = 'all' | 'api' | 'worker';
export type TrustedDocumentsMode = 'off' | 'token' | 'tenant';

/** Everything Switchyard can be told, already parsed and defaulted. */
export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  role: Role;
  dataDir: string;
  /** `postgres://…` selects PostgreSQL; anything else is a SQLite file path (default `<dataDir>/switchyard.db`). */
  databaseUrl: string | null;
  /** live events cross nodes through Redis pub/sub when set */
  redisUrl: string | null;
  /** channel name prefix, so deployments can share a Redis */
  redisPrefix: string;
  /** base64 or hex of 32 bytes; when null outside production a key is generated into the data folder. */
  encryptionKey: string | null;
  adminToken: string | null;
  allowHttp: boolean;
  allowPrivateCidrs: string[];
  graphiql: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  maxPayloadBytes: number;
  idempotencyWindowMs: number;
  secretOverlapMs: number;
  retentionDays: number;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  maxInFlight: number;
  maxInFlightPerEndpoint: number;
  /** outbound requests run on a worker thread of their own (default), not on the thread that runs the store and GraphQL */
  httpThread: boolean;
  autoDisableAfterMs: number;
  leaseMs: number;
  /** the most items one GraphQL operation may return, counted before it runs (lists × their page sizes) */
  maxQueryCost: number;
  /** how long one operation may run (a subscription: its setup) before it answers EXECUTION_TIMEOUT */
  maxExecutionMs: number;
  /** the largest JSON result of one operation, or of one subscription message, before it answers RESPONSE_TOO_LARGE */
  maxResponseBytes: number;
  /**
   * Which tenant tokens run only the trusted documents (the SDK's operations): `token` — each token's
   * flag decides (minted tokens default to unrestricted, portal sessions to restricted); `tenant` —
   * minted tenant tokens default to restricted too; `off` — no document is refused for it (flags are kept).
   */
  trustedDocuments: TrustedDocumentsMode;
  /** per tenant token (admin tokens are not limited): requests, events sent, live subscriptions, bytes of large bodies */
  tokenLimits: {
    requests: { perSecond: number; burst: number };
    events: { perSecond: number; burst: number };
    maxSubscriptions: number;
    bodyBytes: { perSecond: number; burst: number };
  };
  /** graphql-ws: time a client has to send connection_init */
  wsInitTimeoutMs: number;
  /** graphql-ws: bytes queued on one socket before its subscriber is dropped as too slow */
  wsMaxBufferedBytes: number;
  /** the bearer token a Prometheus scrape of /metrics must send; null = /metrics is not served */
  metricsToken: string | null;
  /** consecutive failed attempts after which an endpoint raises an `endpoint.failing` operational event */
  failingAfterAttempts: number;
  /** where people reach this server (portal links are absolute under it); null = links are paths */
  publicUrl: string | null;
  /** the console's product name and accent colour (portal links show the producer's brand) */
  consoleProductName: string;
  consoleAccent: string;
  /** where spans go (OTEL_TRACES_EXPORTER); empty: no SDK is loaded and every span is a no-op */
  traceExporters: TraceExporterName[];
  /** how the otlp exporter encodes spans (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL; the specification's default, protobuf) */
  otlpProtocol: OtlpProtocol;
}

export type TraceExporterName = 'otlp' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment (default `process.env`); throws one ConfigError listing every problem. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = source[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const env = parsed.data;
  const problems: string[] = [];
  if (env.NODE_ENV === 'production' && !env.SWITCHYARD_ENCRYPTION_KEY) {
    problems.push('SWITCHYARD_ENCRYPTION_KEY: required in production (32 bytes, base64 or hex)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const development = env.NODE_ENV !== 'production';
  return {
    env: env.NODE_ENV,
    host: env.SWITCHYARD_HOST,
    port: env.SWITCHYARD_PORT,
    role: env.SWITCHYARD_ROLE,
    dataDir: env.SWITCHYARD_DATA_DIR,
    databaseUrl: env.SWITCHYARD_DATABASE_URL ?? null,
    redisUrl: env.SWITCHYARD_REDIS_URL ?? null,
    redisPrefix: env.SWITCHYARD_REDIS_PREFIX,
    encryptionKey: env.SWITCHYARD_ENCRYPTION_KEY ?? null,
    adminToken: env.SWITCHYARD_ADMIN_TOKEN ?? null,
    allowHttp: env.SWITCHYARD_ALLOW_HTTP ?? false,
    allowPrivateCidrs: env.SWITCHYARD_ALLOW_PRIVATE_CIDRS,
    graphiql: env.SWITCHYARD_GRAPHIQL ?? development,
    logLevel: env.SWITCHYARD_LOG_LEVEL,
    maxPayloadBytes: env.SWITCHYARD_MAX_PAYLOAD_BYTES,
    idempotencyWindowMs: env.SWITCHYARD_IDEMPOTENCY_WINDOW_MS,
    secretOverlapMs: env.SWITCHYARD_SECRET_OVERLAP_MS,
    retentionDays: env.SWITCHYARD_RETENTION_DAYS,
    requestTimeoutMs: env.SWITCHYARD_REQUEST_TIMEOUT_MS,
    connectTimeoutMs: env.SWITCHYARD_CONNECT_TIMEOUT_MS,
    maxInFlight: env.SWITCHYARD_MAX_IN_FLIGHT,
    maxInFlightPerEndpoint: env.SWITCHYARD_MAX_IN_FLIGHT_PER_ENDPOINT,
    httpThread: env.SWITCHYARD_HTTP_THREAD ?? true,
    autoDisableAfterMs: env.SWITCHYARD_AUTO_DISABLE_AFTER_MS,
    leaseMs: env.SWITCHYARD_LEASE_MS,
    maxQueryCost: env.SWITCHYARD_MAX_QUERY_COST,
    maxExecutionMs: env.SWITCHYARD_MAX_EXECUTION_MS,
    maxResponseBytes: env.SWITCHYARD_MAX_RESPONSE_BYTES,
    trustedDocuments: env.SWITCHYARD_TRUSTED_DOCUMENTS,
    tokenLimits: {
      requests: { perSecond: env.SWITCHYARD_TOKEN_REQUESTS_PER_SECOND, burst: env.SWITCHYARD_TOKEN_REQUEST_BURST },
      events: { perSecond: env.SWITCHYARD_TOKEN_EVENTS_PER_SECOND, burst: env.SWITCHYARD_TOKEN_EVENT_BURST },
      maxSubscriptions: env.SWITCHYARD_TOKEN_MAX_SUBSCRIPTIONS,
      bodyBytes: { perSecond: env.SWITCHYARD_TOKEN_BODY_BYTES_PER_SECOND, burst: env.SWITCHYARD_TOKEN_BODY_BYTE_BURST },
    },
    wsInitTimeoutMs: env.SWITCHYARD_WS_INIT_TIMEOUT_MS,
    wsMaxBufferedBytes: env.SWITCHYARD_WS_MAX_BUFFERED_BYTES,
    metricsToken: env.SWITCHYARD_METRICS_TOKEN ?? null,
    failingAfterAttempts: env.SWITCHYARD_FAILING_AFTER_ATTEMPTS,
    publicUrl: env.SWITCHYARD_PUBLIC_URL?.replace(/\/+$/, '') ?? null,
    consoleProductName: env.SWITCHYARD_CONSOLE_PRODUCT_NAME,
    consoleAccent: env.SWITCHYARD_CONSOLE_ACCENT,
    traceExporters: env.OTEL_TRACES_EXPORTER.includes('none')
      ? []
      : [...new Set(env.OTEL_TRACES_EXPORTER.filter((name): name is TraceExporterName => name !== 'none'))],
    otlpProtocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
  };
}
