// OpenTelemetry through @opentelemetry/api only: every span here is a no-op until the process
// registers an SDK's tracer provider (e.g. with `node --import` of an OTel setup file). The
// producer's W3C `traceparent` is parsed and written by hand, so carrying it needs no propagator.
import { ROOT_CONTEXT, SpanStatusCode, context, isSpanContextValid, trace, type Context, type Span, type SpanContext } from '@opentelemetry/api';

/** A proxy: it follows whatever tracer provider is registered, also one registered after this import. */
export const tracer = trace.getTracer('switchyard');

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The span context of a version-00 `traceparent`, or null when it is malformed or all zeros. */
export function parseTraceparent(value: string): SpanContext | null {
  const match = TRACEPARENT.exec(value);
  if (!match) return null;
  const context: SpanContext = { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16), isRemote: true };
  return isSpanContextValid(context) ? context : null;
}

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The context to start a span in: a child of the stored `traceparent`, or of `base` (a new trace by default). */
export function contextOf(traceparent: string | null, base: Context = ROOT_CONTEXT): Context {
  const parent = traceparent === null ? null : parseTraceparent(traceparent);
  return parent ? trace.setSpanContext(base, parent) : base;
}

/**
 * The context a request's spans start in: a child of the `traceparent` header it came with (the
 * producer's trace goes on through Switchyard), else whatever is active (an SDK's own HTTP
 * instrumentation, or nothing). A malformed header is ignored, as W3C Trace Context asks.
 */
export function requestContext(traceparent: string | null): Context {
  return contextOf(traceparent, context.active());
}

/** The `traceparent` of a span when it has a valid context (an SDK records it, or it continues one), else null. */
export function traceparentOf(span: Span): string | null {
  const context = span.spanContext();
  return isSpanContextValid(context) ? formatTraceparent(context) : null;
}

/** Ends a span with the error as its status. */
export function endWithError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  span.end();
}
