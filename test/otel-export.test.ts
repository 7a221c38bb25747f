// The real server (src/main.ts in a child process) with OTEL_TRACES_EXPORTER=otlp exports its spans
// over OTLP/HTTP, protobuf by default and JSON when OTEL_EXPORTER_OTLP_PROTOCOL asks, to the endpoint
// the standard OTEL_* variables name: here a test collector that reads either.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseTraceparent } from '../src/tracing.js';
import { ADMIN_TOKEN, TEST_DIALECTS, createPgSchema, type TestApp } from './helpers/app.js';
import { clientOf } from './helpers/child.js';
import { sendEvent, setup, waitUntil } from './helpers/fixtures.js';
import { decodeTraceRequest } from './helpers/otlp-protobuf.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

const PRODUCER_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACEPARENT = `00-${PRODUCER_TRACE_ID}-b7ad6b7169203331-01`;

interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
  service: unknown;
}

/** An OTLP/HTTP traces endpoint that keeps every span it is sent, and the encodings they came in. */
async function startCollector(): Promise<{ url: string; spans: ExportedSpan[]; contentTypes: Set<string>; close(): Promise<void> }> {
  const spans: ExportedSpan[] = [];
  const contentTypes = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces' && req.headers['content-type'] === 'application/x-protobuf') {
        contentTypes.add('application/x-protobuf');
        spans.push(...decodeTraceRequest(Buffer.concat(chunks)));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        return;
      }
      if (req.method === 'POST' && req.url === '/v1/traces') {
        contentTypes.add(String(req.headers['content-type']));
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as any;
        for (const resourceSpans of body.resourceSpans ?? []) {
          const service = resourceSpans.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue;
          for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) spans.push({ name: span.name, traceId: span.traceId, spanId: span.spanId, service });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, spans, contentTypes, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** `node --import tsx src/main.ts` with `env`; resolves with its URL once it logs that it listens. */
function startMain(env: Record<string, string>): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = new Promise<string>((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const listening = /"message":"switchyard listening","url":"([^"]+)\/graphql"/.exec(stderr)?.[1];
      if (listening !== undefined) resolve(listening);
    });
    child.once('exit', (code) => reject(new Error(`src/main.ts exited (code ${code}) before it listened:\n${stderr}`)));
  });
  return { child, url };
}

// both encodings on SQLite; the default one on PostgreSQL too
const CASES = [
  { dialect: 'sqlite', protocol: undefined },
  { dialect: 'sqlite', protocol: 'http/json' },
  ...TEST_DIALECTS.filter((dialect) => dialect === 'postgres').map((dialect) => ({ dialect, protocol: undefined })),
] as const;

for (const { dialect, protocol } of CASES) {
  describe(`OTLP export from the real server (${dialect}, ${protocol ?? 'default protocol'})`, () => {
    let collector: Awaited<ReturnType<typeof startCollector>>;
    let receiver: Receiver;
    let child: ChildProcess;
    let t: TestApp;
    let dataDir: string;
    let pgSchema: Awaited<ReturnType<typeof createPgSchema>> | null = null;
    before(async () => {
      collector = await startCollector();
      receiver = await startReceiver();
      dataDir = mkdtempSync(join(tmpdir(), 'switchyard-otel-'));
      pgSchema = dialect === 'postgres' ? await createPgSchema() : null;
      const started = startMain({
        SWITCHYARD_HOST: '127.0.0.1',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_DATA_DIR: dataDir,
        SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
        SWITCHYARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        SWITCHYARD_ALLOW_HTTP: 'true',
        SWITCHYARD_ALLOW_PRIVATE_CIDRS: '127.0.0.1/32',
        ...(pgSchema ? { SWITCHYARD_DATABASE_URL: pgSchema.url } : {}),
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url,
        OTEL_BSP_SCHEDULE_DELAY: '20',
        OTEL_SERVICE_NAME: 'switchyard-otel-test',
        ...(protocol ? { OTEL_EXPORTER_OTLP_PROTOCOL: protocol } : {}),
      });
      child = started.child;
      t = clientOf(await started.url);
    });
    after(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await receiver.close();
      await collector.close();
      await pgSchema?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('spans in the producer trace reach the OTLP endpoint, the attempt span the parent of the receiver', async () => {
      const s = await setup(t, `${receiver.url}/otlp`);
      await sendEvent(t, s.tenantId, { n: 1 }, { traceparent: TRACEPARENT });
      const [request] = await receiver.waitFor(1);
      const received = parseTraceparent(request!.headers.traceparent ?? '');
      assert.equal(received?.traceId, PRODUCER_TRACE_ID);

      const attempt = await waitUntil(
        () => collector.spans.find((span) => span.name === 'switchyard.attempt' && span.traceId === PRODUCER_TRACE_ID),
        { what: 'the attempt span exported', timeoutMs: 20_000 },
      );
      assert.equal(attempt.spanId, received?.spanId);
      assert.equal(attempt.service, 'switchyard-otel-test');
      // on SQLite the commit that accepts the event leases its delivery: no claim, so no claim span
      const names = ['switchyard.sendEvent', 'switchyard.commit', ...(dialect === 'postgres' ? ['switchyard.claim'] : [])];
      await waitUntil(() => names.every((name) => collector.spans.some((span) => span.name === name)), {
        what: `${names.join(', ')} exported`,
        timeoutMs: 20_000,
      });
      assert.deepEqual([...collector.contentTypes], [protocol === 'http/json' ? 'application/json' : 'application/x-protobuf']);
    });
  });
}
