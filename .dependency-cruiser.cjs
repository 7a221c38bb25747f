// The layers of src/, from the bottom up, and the directions imports may run between them.
// `npm test` runs these rules (npm run lint:deps); a wrong import fails with the rule's name and comment.
//
//   kernel (env, errors, clock, log, crypto, json-schema, json-depth, lru-cache, tracing, auth)
//     ← db (store, migrations, ids, row types)      ← pubsub (typed topics, in-process and Redis buses)
//     ← webhook (pure webhook logic: signing, schedule, address policy, request building, filters)
//     ← services.ts (what every service can reach)  ← graphql kit (builder, scalars, errors, connections)
//     ← modules (repositories, services, Pothos schema per domain)
//     ← dispatch (the delivery loop)                 ← graphql assembly (schema.ts, print-schema.ts)
//     ← app.ts ← main.ts            (src/http: raw-request guards, kernel only, used by app.ts)
//                                    (src/ops: probes and metrics, read the store and the bus, wired by app.ts;
//                                     its otel-setup.ts, the OpenTelemetry SDK, is loaded by main.ts)
const KERNEL = '^src/(env|errors|clock|log|crypto|json-schema|json-depth|lru-cache|tracing)\\.ts$|^src/auth/';
const ASSEMBLY = '^src/graphql/(schema|print-schema)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Imports form no circle: a layer that needs something from above takes it as an interface or a parameter.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'kernel-is-the-floor',
      severity: 'error',
      comment: 'env, errors, clock, log, crypto, json-schema and auth import nothing of the layers above them.',
      from: { path: KERNEL },
      to: { path: '^src/', pathNot: KERNEL },
    },
    {
      name: 'store-knows-no-graphql',
      severity: 'error',
      comment: 'src/db is the store: it imports only the kernel, never GraphQL, modules, webhook logic, pub/sub or the dispatcher.',
      from: { path: '^src/db/' },
      to: { path: ['^src/(modules|webhook|dispatch|pubsub|graphql)/', '^src/(services|app|main)\\.ts$', '^node_modules/(graphql|graphql-yoga|@pothos)/'] },
    },
    {
      name: 'webhook-logic-is-pure',
      severity: 'error',
      comment: 'src/webhook is pure webhook logic: no store, no modules, no pub/sub, no GraphQL, no dispatcher.',
      from: { path: '^src/webhook/' },
      to: { path: ['^src/(db|modules|dispatch|pubsub|graphql)/', '^src/(services|app|main)\\.ts$', '^node_modules/(kysely|better-sqlite3|pg|graphql|undici)/'] },
    },
    {
      name: 'pubsub-is-transport',
      severity: 'error',
      comment: 'src/pubsub carries typed topics; it may use row types from the store, nothing above it.',
      from: { path: '^src/pubsub/' },
      to: { path: ['^src/(modules|webhook|dispatch|graphql)/', '^src/(services|app|main)\\.ts$'] },
    },
    {
      name: 'http-guards-stand-alone',
      severity: 'error',
      comment: 'src/http checks raw HTTP requests before GraphQL sees them; it imports only the kernel.',
      from: { path: '^src/http/' },
      to: { path: '^src/', pathNot: [KERNEL, '^src/http/'] },
    },
    {
      name: 'services-is-an-interface',
      severity: 'error',
      comment: 'src/services.ts describes what services can reach; it imports no module, no dispatcher, no GraphQL.',
      from: { path: '^src/services\\.ts$' },
      to: { path: ['^src/(modules|dispatch|graphql)/', '^src/(app|main)\\.ts$'] },
    },
    {
      name: 'graphql-kit-below-modules',
      severity: 'error',
      comment: 'The builder, scalars, errors and connection helpers are used by modules; only schema.ts assembles the modules.',
      from: { path: '^src/graphql/', pathNot: ASSEMBLY },
      to: { path: ['^src/(modules|dispatch)/', '^src/(app|main)\\.ts$', ASSEMBLY] },
    },
    {
      name: 'modules-do-not-reach-the-dispatcher',
      severity: 'error',
      comment: 'Modules (repositories, services, schema) sit below the dispatcher: what a service needs of it is an interface in services.ts.',
      from: { path: '^src/modules/' },
      to: { path: ['^src/dispatch/', '^src/(app|main)\\.ts$', ASSEMBLY] },
    },
    {
      name: 'dispatch-knows-no-graphql',
      severity: 'error',
      comment: 'The dispatcher uses repositories and webhook logic; it knows nothing of GraphQL or the app.',
      from: { path: '^src/dispatch/' },
      to: { path: ['^src/graphql/', '^src/(app|main)\\.ts$', '^node_modules/(graphql|graphql-yoga|@pothos)/'] },
    },
    {
      name: 'assembly-is-not-the-app',
      severity: 'error',
      comment: 'The schema assembly imports modules and the GraphQL kit; the app wires it to the dispatcher.',
      from: { path: ASSEMBLY },
      to: { path: ['^src/dispatch/', '^src/(app|main)\\.ts$'] },
    },
    {
      name: 'ops-watches-from-outside',
      severity: 'error',
      comment: 'src/ops (readiness, metrics) reads the store and observes the bus; it imports no module, webhook logic, dispatcher or GraphQL.',
      from: { path: '^src/ops/' },
      to: { path: ['^src/(modules|webhook|dispatch|graphql)/', '^src/(services|app|main)\\.ts$'] },
    },
    {
      name: 'only-the-app-wires-ops',
      severity: 'error',
      comment: 'Only app.ts imports src/ops: modules and the dispatcher report through Signals and options, not to a metrics library.',
      from: { path: '^src/', pathNot: ['^src/app\\.ts$', '^src/ops/'] },
      to: { path: '^src/ops/', pathNot: '^src/ops/otel-setup\\.ts$' },
    },
    {
      name: 'only-main-loads-the-otel-sdk',
      severity: 'error',
      comment: 'The OpenTelemetry SDK is loaded by main.ts alone, through src/ops/otel-setup.ts, when OTEL_TRACES_EXPORTER asks for it; everything else uses @opentelemetry/api.',
      from: { path: '^src/', pathNot: ['^src/main\\.ts$', '^src/ops/otel-setup\\.ts$'] },
      to: { path: ['^src/ops/otel-setup\\.ts$', '^node_modules/@opentelemetry/(?!api/)'] },
    },
    {
      name: 'console-serving-is-standalone',
      comment: 'src/console serves the built console (files and branding handed in by the app); it imports nothing else of src/.',
      severity: 'error',
      from: { path: '^src/console/' },
      to: { path: '^src/', pathNot: '^src/console/' },
    },
    {
      name: 'only-main-starts-the-app',
      severity: 'error',
      comment: 'Inside src/, only main.ts imports app.ts (tests and the bench build their own).',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^src/(app|main)\\.ts$' },
    },
    {
      name: 'no-dev-dependencies-in-src',
      severity: 'error',
      comment:
        'Production code uses only runtime dependencies. register-tsx.mjs is not production code: the build does not emit it, and it runs only when src/ runs as TypeScript, through tsx.',
      from: { path: '^src/', pathNot: '^src/dispatch/register-tsx\\.mjs$' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'resolvable',
      severity: 'error',
      comment: 'Every import resolves.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    exclude: { path: '^src/.*\\.d\\.ts$' },
  },
};
