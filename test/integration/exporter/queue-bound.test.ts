// exporter.maxQueueBytes bounds what the exporter holds while Kafka cannot be reached — also before the first
// connection, when librdkafka's own queue limit does not apply yet because nothing was produced. Exports that
// would not fit fail at once, and every failed span is counted.
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { testMeter } from '../harness/metrics';
import { FAILED, exportSpans } from './helpers';

const MAX_QUEUE_BYTES = 1024 * 1024;

function bigSpan(name: string): ReadableSpan[] {
  const finished = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(finished)] });
  provider
    .getTracer('queue-bound')
    .startSpan(name, { attributes: { payload: 'q'.repeat(60_000) } })
    .end();
  return finished.getFinishedSpans();
}

describe('exporter: queue bound while Kafka is unreachable', () => {
  it('never holds more than maxQueueBytes while the first connection is pending, and counts every failed span', async () => {
    const meter = testMeter();
    // Port 1: nothing listens, so the first connect stays pending for the whole test.
    const exporter = new KafkaSpanExporter({
      kafka: { brokers: ['127.0.0.1:1'], topic: 'queue-bound' },
      exporter: { timeoutMillis: 3_000, maxQueueBytes: MAX_QUEUE_BYTES },
      meterProvider: meter.meterProvider,
    });
    try {
      const exports = Array.from({ length: 40 }, (_, i) => exportSpans(exporter, bigSpan(`s${i}`)));
      let settled = false;
      const all = Promise.all(exports).finally(() => (settled = true));
      let peak = 0;
      while (!settled) {
        peak = Math.max(peak, await meter.value('otel_kafka_jaeger.exporter.queue.bytes'));
        await Promise.race([all, new Promise((r) => setTimeout(r, 25))]);
      }
      const results = await all;

      expect(results.every((r) => r.code === FAILED)).toBe(true);
      // 40 × ~60 KB is more than twice the bound: the bound did its work, and the queue really filled.
      expect(peak).toBeLessThanOrEqual(MAX_QUEUE_BYTES);
      expect(peak).toBeGreaterThan(MAX_QUEUE_BYTES / 2);
      const queueFull = results.filter((r) => /exporter queue full/.test(r.error?.message ?? ''));
      expect(queueFull.length).toBeGreaterThan(0);
      expect(queueFull[0]!.error!.message).toMatch(/maxQueueBytes \(1048576\).*127\.0\.0\.1:1/);
      expect(await meter.value('otel_kafka_jaeger.exporter.spans.failed')).toBe(40);
      expect(await meter.value('otel_kafka_jaeger.exporter.queue.bytes')).toBe(0);
    } finally {
      await exporter.shutdown();
    }
  });
});
