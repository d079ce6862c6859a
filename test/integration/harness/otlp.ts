// Real spans from the OpenTelemetry SDK, encoded by @opentelemetry/otlp-transformer, for tests that need
// an ExportTraceServiceRequest without the library under test.
import { context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Ends `spanCount` spans of one trace (a root and its children) and returns them. */
export function makeTrace(opts: { serviceName?: string; spanCount?: number; name?: string } = {}): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'okj-test' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('okj-tests');
  const root = tracer.startSpan(opts.name ?? 'root');
  const ctx = trace.setSpan(context.active(), root);
  for (let i = 1; i < (opts.spanCount ?? 1); i++) tracer.startSpan(`child-${i}`, {}, ctx).end();
  root.end();
  return exporter.getFinishedSpans();
}

export function encodeOtlpProto(spans: ReadableSpan[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('ProtobufTraceSerializer returned nothing');
  return bytes;
}

export function traceIdOf(spans: ReadableSpan[]): string {
  const first = spans[0];
  if (!first) throw new Error('no spans');
  return first.spanContext().traceId;
}
