// `npm start`: read the environment, build the app, serve until SIGINT/SIGTERM.
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './env.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  // The SDK is loaded only when asked for: without it every span is a no-op and nothing of it is imported.
  const tracing = config.traceExporters.length > 0 ? (await import('./ops/otel-setup.js')).startTracing(config.traceExporters, config.otlpProtocol) : null;
  const app = await buildApp({ config });
  await app.start();
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: shutting down`);
    app
      .stop()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
