// Real spans from the OpenTelemetry SDK, encoded by @opentelemetry/otlp-transformer, for tests that need
// an ExportTraceServiceRequest without the library under test.
import { context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import * as protobuf from 'protobufjs';

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

/**
 * The OTLP span identity fields only, as a protobufjs schema written here (field numbers from
 * opentelemetry-proto `trace.proto`): an oracle independent of the library's own decoder. Other fields are
 * skipped as unknown.
 */
const spanIdentityRoot = protobuf.Root.fromJSON({
  nested: {
    ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
    ResourceSpans: { fields: { scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 } } },
    ScopeSpans: { fields: { spans: { rule: 'repeated', type: 'Span', id: 2 } } },
    Span: {
      fields: { traceId: { type: 'bytes', id: 1 }, spanId: { type: 'bytes', id: 2 }, name: { type: 'string', id: 5 } },
    },
  },
});
const ExportRequestIdentity = spanIdentityRoot.lookupType('ExportTraceServiceRequest');

/** Trace id, span id (hex) and name of every span of a protobuf ExportTraceServiceRequest. */
export function decodeSpanIdentities(value: Uint8Array): { traceId: string; spanId: string; name: string }[] {
  const request = ExportRequestIdentity.decode(value) as unknown as {
    resourceSpans?: { scopeSpans?: { spans?: { traceId: Uint8Array; spanId: Uint8Array; name: string }[] }[] }[];
  };
  return (request.resourceSpans ?? []).flatMap((rs) =>
    (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: Buffer.from(s.traceId).toString('hex'),
        spanId: Buffer.from(s.spanId).toString('hex'),
        name: s.name,
      })),
    ),
  );
}
