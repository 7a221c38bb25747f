// The OpenTelemetry SDK, loaded by main.ts only when OTEL_TRACES_EXPORTER asks for one: a Node
// tracer provider (AsyncLocalStorage context, W3C propagator) exporting in batches. The exporters
// and the batch processor read the standard OTEL_* variables themselves (endpoint, headers,
// timeouts, OTEL_BSP_*); the resource takes OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

import type { TraceExporterName } from '../env.js';

export interface Tracing {
  /** exports the spans still buffered, then stops */
  shutdown(): Promise<void>;
}

export function startTracing(exporters: readonly TraceExporterName[]): Tracing {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'switchyard' }))
    .merge(detectResources({ detectors: [envDetector] }));
  const spanProcessors = exporters.map((name) => new BatchSpanProcessor(name === 'otlp' ? new OTLPTraceExporter() : new ConsoleSpanExporter()));
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
