// A traced process with a spooling KafkaSpanExporter, run as a child so a test can SIGKILL it. Config in
// OKJ_SPOOL_CHILD_CONFIG (JSON), service name in OKJ_SPOOL_CHILD_SERVICE. OKJ_SPOOL_CHILD_MODE:
//   load:  exports a 3-span trace every 20 ms; prints {"event":"exporting","spans":[[traceId,spanId],...]} before
//          each export, {"event":"exported","spans":[...]} when it reported SUCCESS ({"event":"failed"}
//          otherwise), until killed.
//   drain: exports nothing; prints {"event":"drained"} once the spool directory holds no segment, then shuts down.
import { existsSync, readdirSync } from 'node:fs';

import { context, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';

const config = JSON.parse(process.env.OKJ_SPOOL_CHILD_CONFIG ?? '{}') as OtelKafkaJaegerConfig;
const service = process.env.OKJ_SPOOL_CHILD_SERVICE ?? 'okj-spool-child';
const mode = process.env.OKJ_SPOOL_CHILD_MODE ?? 'load';
const say = (o: Record<string, unknown>): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);

const exporter = new KafkaSpanExporter(config);

// The harness's makeTraces lives beside Jest-only hooks; this process runs outside Jest.
const ended = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': service }),
  spanProcessors: [new SimpleSpanProcessor(ended)],
}).getTracer('okj-spool-child');

function traceOf3(): ReadableSpan[] {
  ended.reset();
  const root = tracer.startSpan('op');
  const ctx = trace.setSpan(context.active(), root);
  tracer.startSpan('a', {}, ctx).end();
  tracer.startSpan('b', {}, ctx).end();
  root.end();
  return ended.getFinishedSpans();
}
say({ event: 'started', pid: process.pid });
const directory = config.exporter?.spool?.directory ?? '';

if (mode === 'load') {
  setInterval(() => {
    const spans = traceOf3();
    say({ event: 'exporting', spans: spans.map((s) => [s.spanContext().traceId, s.spanContext().spanId]) });
    exporter.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        say({ event: 'exported', spans: spans.map((s) => [s.spanContext().traceId, s.spanContext().spanId]) });
      } else {
        say({ event: 'failed', error: result.error?.message });
      }
    });
  }, 20);
} else {
  const deadline = Date.now() + 90_000;
  const poll = setInterval(() => {
    const left = existsSync(directory) ? readdirSync(directory).filter((f) => f.endsWith('.seg')) : [];
    if (left.length === 0 || Date.now() > deadline) {
      clearInterval(poll);
      say({ event: left.length === 0 ? 'drained' : 'not-drained', left });
      void exporter.shutdown().then(() => process.exit(0));
    }
  }, 100);
}
