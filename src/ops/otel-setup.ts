// The OpenTelemetry SDK, loaded by main.ts only when OTEL_TRACES_EXPORTER asks for one: a Node
// tracer provider (AsyncLocalStorage context, W3C propagator) exporting in batches. The exporters
// and the batch processor read the standard OTEL_* variables themselves (endpoint, headers,
// timeouts, OTEL_BSP_*); the resource takes OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. The
// OTLP encoding (protobuf or JSON) is chosen in env.ts from the standard protocol variables.
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

import type { OtlpProtocol, TraceExporterName } from '../env.js';

export interface Tracing {
  /** exports the spans still buffered, then stops */
  shutdown(): Promise<void>;
}

export function startTracing(exporters: readonly TraceExporterName[], otlpProtocol: OtlpProtocol): Tracing {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'switchyard' }))
    .merge(detectResources({ detectors: [envDetector] }));
  const otlp = () => (otlpProtocol === 'http/protobuf' ? new OTLPProtobufTraceExporter() : new OTLPJsonTraceExporter());
  const spanProcessors = exporters.map((name) => new BatchSpanProcessor(name === 'otlp' ? otlp() : new ConsoleSpanExporter()));
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
