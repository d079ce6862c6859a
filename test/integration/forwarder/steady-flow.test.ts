// Steady flow over several partitions into the shared Jaeger: every exported span arrives, and the group's
// committed offsets reach the end offsets. Plus the whole path: KafkaSpanExporter → topic → forwarder.
import { setTimeout as delay } from 'node:timers/promises';

import { context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { committedOffsets, createTopic, endOffsets, produceRaw, topicRecordCount } from '../harness/kafka';
import type { RawRecord } from '../harness/kafka';
import { testMeter } from '../harness/metrics';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import {
  ledgerOf,
  makeTraces,
  mergeLedgers,
  produceTraces,
  spanCount,
  traceRecords,
  waitForAllSpans,
} from '../harness/traffic';
import { expectEachSpanOnce, forwarderConfig, startForwarder } from './helpers';

async function waitForCommitsAtEnd(groupId: string, topic: string, timeoutMillis = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const [committed, end] = await Promise.all([committedOffsets(groupId, topic), endOffsets(topic)]);
    const behind = [...end].filter(([p, high]) => (committed.get(p) ?? -1) !== high);
    if (behind.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `committed offsets ${JSON.stringify([...committed])} never reached the ends ${JSON.stringify([...end])}`,
      );
    }
    await delay(100);
  }
}

describe('forwarder: steady flow', () => {
  it('forwards every span from 4 partitions and commits up to the end offsets', async () => {
    const topic = await createTopic({ partitions: 4 });
    const service = uniqueName('steady');
    const expected = await produceTraces(topic, service, 2_000);
    const config = forwarderConfig(topic);
    const forwarder = await startForwarder(config);

    const account = await waitForAllSpans(expected, service, { timeoutMillis: 90_000 });

    expect(account.missing).toBe(0);
    expect(account.unexpected).toBe(0);
    expect(spanCount(account.found)).toBe(10_000);
    await waitForCommitsAtEnd(config.forwarder!.groupId!, topic);
    await expectEachSpanOnce(expected, service, config.forwarder!.groupId!, topic);
    const health = forwarder.health();
    expect(health.state).toBe('running');
    expect(health.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
    for (const p of health.partitions) {
      expect(p.paused).toBe(false);
      expect(p.lastError).toBeUndefined();
    }
  });

  it('reads records without a content-type header: OTLP/JSON by its first byte, protobuf otherwise', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('headerless');
    const protoTraces = makeTraces(service, 10);
    const jsonTraces = makeTraces(service, 10);
    const records: RawRecord[] = [
      ...traceRecords(protoTraces).map(({ key, value }) => ({ key, value })),
      ...jsonTraces.map((spans) => ({
        key: spans[0]!.spanContext().traceId,
        value: Buffer.from(JsonTraceSerializer.serializeRequest(spans)!),
      })),
    ];
    await produceRaw(topic, records);
    const config = forwarderConfig(topic);
    const forwarder = await startForwarder(config);

    const expected = mergeLedgers(ledgerOf(protoTraces), ledgerOf(jsonTraces));
    const account = await waitForAllSpans(expected, service, { timeoutMillis: 60_000 });
    expect(account.missing).toBe(0);
    await expectEachSpanOnce(expected, service, config.forwarder!.groupId!, topic);
    expect(await topicRecordCount(forwarder.deadLetterTopic)).toBe(0);
  });

  it('started before its topic exists, forwards once the topic is created', async () => {
    const topic = uniqueName('okj-late-topic');
    const service = uniqueName('late-topic');
    const config = forwarderConfig(topic);
    await startForwarder(config);
    await delay(1_000);
    await createTopic({ name: topic, partitions: 2 });
    const expected = await produceTraces(topic, service, 20);

    // Within the metadata refresh (10 s), not librdkafka's default 5 minutes.
    const account = await waitForAllSpans(expected, service, { timeoutMillis: 30_000 });
    expect(account.missing).toBe(0);
    await expectEachSpanOnce(expected, service, config.forwarder!.groupId!, topic);
  });

  it('end to end: KafkaSpanExporter in the traced process → topic → forwarder → Jaeger', async () => {
    const topic = await createTopic({ partitions: 3 });
    const service = uniqueName('e2e');
    const metrics = testMeter();
    const forwarder = await startForwarder({ ...forwarderConfig(topic), meterProvider: metrics.meterProvider });
    const exporter = new KafkaSpanExporter({
      kafka: { brokers: endpoints.kafkaBrokers, topic },
      meterProvider: metrics.meterProvider,
    });
    const truth = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new SimpleSpanProcessor(truth), new BatchSpanProcessor(exporter, { scheduledDelayMillis: 50 })],
    });
    const tracer = provider.getTracer('e2e');
    for (let t = 0; t < 300; t++) {
      const root = tracer.startSpan(`request-${t}`);
      const ctx = trace.setSpan(context.active(), root);
      for (let i = 0; i < 4; i++) tracer.startSpan(`work-${i}`, {}, ctx).end();
      root.end();
    }
    await provider.forceFlush();
    const expected = ledgerOf([truth.getFinishedSpans()]);
    await provider.shutdown();

    const account = await waitForAllSpans(expected, service, { timeoutMillis: 60_000 });
    expect(account.missing).toBe(0);
    expect(spanCount(expected)).toBe(1_500);

    // Self-metrics on both sides, through a real MeterProvider.
    expect(await metrics.value('otel_kafka_jaeger.exporter.spans.exported')).toBe(1_500);
    expect(await metrics.value('otel_kafka_jaeger.exporter.spans.failed')).toBe(0);
    // One message per trace per export batch: a trace the BatchSpanProcessor cut in two makes two.
    const messages = await metrics.value('otel_kafka_jaeger.exporter.messages');
    expect(messages).toBeGreaterThanOrEqual(300);
    expect(await metrics.value('otel_kafka_jaeger.exporter.bytes')).toBeGreaterThan(0);
    expect(await metrics.count('otel_kafka_jaeger.exporter.export.duration')).toBeGreaterThan(0);
    expect(await metrics.value('otel_kafka_jaeger.forwarder.spans')).toBe(1_500);
    expect(await metrics.value('otel_kafka_jaeger.forwarder.records')).toBe(messages);
    expect(await metrics.count('otel_kafka_jaeger.forwarder.sink.duration')).toBeGreaterThan(0);
    expect(await metrics.value('otel_kafka_jaeger.forwarder.dead_lettered')).toBe(0);
    await expectEachSpanOnce(expected, service, forwarder.health().groupId, topic);
    const committed = await metrics.points('otel_kafka_jaeger.forwarder.committed_offset');
    expect(committed.map((p) => p.attributes.partition).sort()).toEqual([0, 1, 2]);
    expect(committed.reduce((n, p) => n + (p.value as number), 0)).toBe(messages);
    const lag = await metrics.points('otel_kafka_jaeger.forwarder.consumer.lag');
    expect(lag.every((p) => p.value === 0)).toBe(true);
  });
});
