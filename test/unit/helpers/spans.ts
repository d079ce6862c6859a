import { context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** `traces` traces of `spansPerTrace` spans each, ended by a real SDK tracer. */
export function makeSpans(
  opts: { traces?: number; spansPerTrace?: number; attributeBytes?: number; serviceName?: string; scope?: string } = {},
): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'unit' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer(opts.scope ?? 'unit-tests', '1.0.0');
  const filler = 'x'.repeat(opts.attributeBytes ?? 0);
  for (let t = 0; t < (opts.traces ?? 1); t++) {
    const root = tracer.startSpan(`root-${t}`, { attributes: filler ? { filler } : {} });
    const ctx = trace.setSpan(context.active(), root);
    for (let i = 1; i < (opts.spansPerTrace ?? 1); i++) {
      tracer.startSpan(`child-${t}-${i}`, { attributes: filler ? { filler } : {} }, ctx).end();
    }
    root.end();
  }
  return exporter.getFinishedSpans();
}
