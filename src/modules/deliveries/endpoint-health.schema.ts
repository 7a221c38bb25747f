// Endpoint.health: success rate, latency and failures of an endpoint, read from its attempt log.
import { builder } from '../../graphql/builder.js';
import { EndpointRef } from '../endpoints/endpoint.schema.js';
import { HEALTH_WINDOW, endpointHealth, type EndpointHealth } from './delivery.service.js';

const EndpointHealthRef = builder.objectRef<EndpointHealth>('EndpointHealth').implement({
  description: `How an endpoint is doing, over its latest ${HEALTH_WINDOW} finished attempts.`,
  fields: (t) => ({
    attemptsCounted: t.exposeInt('attemptsCounted', { description: 'Attempts the figures are computed over.' }),
    successRate: t.exposeFloat('successRate', { nullable: true, description: 'Share of successful attempts, 0–1; null without attempts.' }),
    p50LatencyMs: t.exposeFloat('p50LatencyMs', { nullable: true, description: 'Median attempt duration in ms.' }),
    p95LatencyMs: t.exposeFloat('p95LatencyMs', { nullable: true, description: '95th percentile attempt duration in ms.' }),
    consecutiveFailures: t.exposeInt('consecutiveFailures', { description: 'Failed attempts since the last success.' }),
    lastSuccessAt: t.field({ type: 'DateTime', nullable: true, description: 'When the last attempt succeeded.', resolve: (h) => h.lastSuccessAt }),
    lastFailureAt: t.field({ type: 'DateTime', nullable: true, description: 'When the last attempt failed.', resolve: (h) => h.lastFailureAt }),
    failingSince: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Failing continuously since then (auto-disabled after the configured period).',
      resolve: (h) => h.failingSince,
    }),
  }),
});

builder.objectField(EndpointRef, 'health', (t) =>
  t.field({
    type: EndpointHealthRef,
    description: 'Success rate, latency and failures, from the attempt log.',
    resolve: (endpoint, _args, context) => endpointHealth(context.services, endpoint.id, endpoint.failing_since),
  }),
);
