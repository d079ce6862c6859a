// Wire compatibility: Jaeger v2's own Kafka receiver (encoding otlp_proto) reads the topic our exporter
// writes, and the traces appear in its query API with every span.
import { context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { freeJaegerPorts, JaegerInstance } from '../../../scripts/stack/stack';
import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { waitForTrace } from '../harness/jaeger';
import { createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import { testConfig } from './helpers';

describe('Jaeger v2 as a Kafka ingester', () => {
  let jaeger: JaegerInstance;
  let topic: string;

  beforeAll(async () => {
    topic = await createTopic({ partitions: 3 });
    jaeger = new JaegerInstance({
      name: uniqueName('jaeger-ingester'),
      ports: await freeJaegerPorts(),
      kafkaReceiver: { brokers: endpoints.kafkaBrokers, topic, groupId: uniqueName('jaeger-ingester') },
    });
    await jaeger.start();
  });

  afterAll(async () => {
    await jaeger.destroy();
  });

  it('reads our topic unchanged: every span of every trace is queryable', async () => {
    const exporter = new KafkaSpanExporter(testConfig(topic));
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'wire-compat' }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('wire-compat');
    const traces: { traceId: string; spanIds: string[] }[] = [];
    for (let t = 0; t < 20; t++) {
      const root = tracer.startSpan(`op-${t}`);
      const spanIds = [root.spanContext().spanId];
      for (let i = 0; i < 4; i++) {
        const child = tracer.startSpan(`step-${i}`, {}, trace.setSpan(context.active(), root));
        spanIds.push(child.spanContext().spanId);
        child.end();
      }
      root.end();
      traces.push({ traceId: root.spanContext().traceId, spanIds });
    }
    await provider.shutdown();

    for (const t of traces) {
      const stored = await waitForTrace(t.traceId, { spanCount: 5, queryUrl: jaeger.queryUrl, timeoutMillis: 60_000 });
      expect(new Set(stored.map((s) => s.spanId))).toEqual(new Set(t.spanIds));
      expect(stored[0]?.serviceName).toBe('wire-compat');
    }
  });
});
