// KafkaSpanExporter against the real broker: what lands in the topic, byte for byte decodable.
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { ConfigError, MessageTooLargeError } from '../../../src/errors/errors';
import type { Compression, OtelKafkaJaegerConfig } from '../../../src/config/types';
import { crc32 } from '../../../src/kafka/partitioner';
import { decodeTraceRequest } from '../../../src/serializers/otlp/decode';
import type { DecodedSpan } from '../../../src/serializers/otlp/model';
import { createTopic } from '../harness/kafka';
import { FAILED, SUCCESS, exportSpans, idsOf, nanos, readToEnd, sortedIds, spanIdsOf, testConfig } from './helpers';

const exporters: KafkaSpanExporter[] = [];
afterAll(async () => {
  await Promise.all(exporters.map((e) => e.shutdown()));
});

function newExporter(...args: ConstructorParameters<typeof KafkaSpanExporter>): KafkaSpanExporter {
  const exporter = new KafkaSpanExporter(...args);
  exporters.push(exporter);
  return exporter;
}

/** Ends a few rich traces on a provider that sends to `exporter` through a BatchSpanProcessor. */
async function endRichTraces(exporter: KafkaSpanExporter, traces: number): Promise<ReadableSpan[]> {
  const truth = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'exporter-it', 'deployment.environment': 'test', pid: 42 }),
    spanProcessors: [new SimpleSpanProcessor(truth), new BatchSpanProcessor(exporter, { scheduledDelayMillis: 50 })],
  });
  const tracer = provider.getTracer('exporter-it-scope', '2.3.4');
  const linkTarget = tracer.startSpan('link-target');
  linkTarget.end();
  for (let t = 0; t < traces; t++) {
    const root = tracer.startSpan(`GET /orders/${t}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.method': 'GET', 'http.status_code': 200, sampled: true, ratio: 0.25, tags: ['a', 'b'] },
      links: [{ context: linkTarget.spanContext(), attributes: { reason: 'follows' } }],
    });
    const ctx = trace.setSpan(context.active(), root);
    const child = tracer.startSpan(
      'SELECT orders',
      { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } },
      ctx,
    );
    child.addEvent('row fetched', { rows: 3 });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock' });
    child.end();
    tracer.startSpan('render', { kind: SpanKind.INTERNAL }, ctx).end();
    root.setStatus({ code: SpanStatusCode.OK });
    root.end();
  }
  await provider.forceFlush();
  const ended = truth.getFinishedSpans(); // before shutdown, which clears the in-memory exporter
  await provider.shutdown();
  return ended;
}

/** Attributes as OTLP carries them: integers become int64 (bigint in the decoder), other numbers doubles. */
function otlpAttributes(attrs: Record<string, unknown> | undefined): Record<string, unknown> {
  const conv = (v: unknown): unknown =>
    typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : Array.isArray(v) ? v.map(conv) : v;
  return Object.fromEntries(Object.entries(attrs ?? {}).map(([k, v]) => [k, conv(v)]));
}

function expectSameSpan(got: DecodedSpan, want: ReadableSpan): void {
  const ctx = want.spanContext();
  expect(got.traceId).toBe(ctx.traceId);
  expect(got.spanId).toBe(ctx.spanId);
  expect(got.parentSpanId).toBe(want.parentSpanContext?.spanId ?? '');
  expect(got.name).toBe(want.name);
  expect(got.kind).toBe(want.kind + 1); // OTLP's SpanKind is the API's shifted by one (0 = unspecified)
  expect(got.startTimeUnixNano).toBe(nanos(want.startTime));
  expect(got.endTimeUnixNano).toBe(nanos(want.endTime));
  expect(got.attributes).toEqual(otlpAttributes(want.attributes));
  expect(got.events.map((e) => ({ name: e.name, attributes: e.attributes }))).toEqual(
    want.events.map((e) => ({ name: e.name, attributes: otlpAttributes(e.attributes) })),
  );
  expect(got.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: l.attributes }))).toEqual(
    want.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      attributes: otlpAttributes(l.attributes),
    })),
  );
  expect(got.status.code).toBe(want.status.code);
  expect(got.status.message ?? '').toBe(want.status.message ?? '');
}

describe('KafkaSpanExporter on the real broker', () => {
  it("with messagePer 'trace' writes one message per trace, keyed by trace id, that decodes to exactly the ended spans", async () => {
    const topic = await createTopic({ partitions: 3 });
    const exporter = newExporter(testConfig(topic, { exporter: { messagePer: 'trace' } }));

    const all = await endRichTraces(exporter, 5);
    const ended = all.filter((s) => s.name !== 'link-target');
    const traceIds = new Set(all.map((s) => s.spanContext().traceId));
    // forceFlush returned: every export was acknowledged, so the end offsets cover all of them.
    const records = await readToEnd(topic);
    // 5 traces plus the link target's own trace, one message each; every span exactly once, nothing else.
    expect(records).toHaveLength(traceIds.size);
    expect(sortedIds(spanIdsOf(records))).toEqual(sortedIds(idsOf(all)));

    const decoded = new Map<string, DecodedSpan>();
    for (const record of records) {
      expect(record.headers['content-type']?.toString()).toBe('application/x-protobuf');
      expect(record.headers['otelcol.signal']?.toString()).toBe('traces');
      const request = decodeTraceRequest(record.value!);
      for (const rs of request.resourceSpans) {
        expect(rs.resource.attributes).toMatchObject({
          'service.name': 'exporter-it',
          'deployment.environment': 'test',
          pid: 42n,
        });
        for (const ss of rs.scopeSpans) {
          expect(ss.scope).toMatchObject({ name: 'exporter-it-scope', version: '2.3.4' });
          for (const span of ss.spans) {
            expect(record.key?.toString()).toBe(span.traceId);
            decoded.set(span.spanId, span);
          }
        }
      }
    }
    for (const want of ended) {
      const got = decoded.get(want.spanContext().spanId);
      expect(got).toBeDefined();
      expectSameSpan(got!, want);
    }
    // All spans of one trace share one partition (one message per trace here).
    const partitionOf = new Map<string, number>();
    for (const r of records) {
      const key = r.key!.toString();
      expect(partitionOf.get(key) ?? r.partition).toBe(r.partition);
      partitionOf.set(key, r.partition);
    }
  });

  it("with messagePer 'batch' writes one unkeyed message per export batch", async () => {
    const topic = await createTopic({ partitions: 2 });
    const exporter = newExporter(testConfig(topic, { exporter: { messagePer: 'batch' } }));
    const ended = await endRichTraces(exporter, 3);

    const records = await readToEnd(topic);
    expect(records).toHaveLength(1);
    expect(records[0]?.key).toBeNull();
    expect(sortedIds(spanIdsOf(records))).toEqual(sortedIds(idsOf(ended)));
  });

  it('writes OTLP JSON with the otlp_json serializer', async () => {
    const topic = await createTopic();
    const exporter = newExporter(testConfig(topic, { serializer: 'otlp_json', exporter: { messagePer: 'trace' } }));
    const ended = await endRichTraces(exporter, 1);
    const records = await readToEnd(topic);
    expect(records).toHaveLength(2); // the trace and the link target's
    for (const r of records) expect(r.headers['content-type']?.toString()).toBe('application/json');
    expect(sortedIds(spanIdsOf(records))).toEqual(sortedIds(idsOf(ended)));
  });

  it('splits a 5 MB trace into messages under the limit and delivers every span', async () => {
    const topic = await createTopic({ partitions: 2 });
    const exporter = newExporter(testConfig(topic));
    const truth = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(truth)] });
    const tracer = provider.getTracer('big');
    const root = tracer.startSpan('big-root');
    const ctx = trace.setSpan(context.active(), root);
    const payload = 'p'.repeat(2_000);
    for (let i = 0; i < 2_500; i++) tracer.startSpan(`part-${i}`, { attributes: { payload } }, ctx).end();
    root.end();
    const spans = truth.getFinishedSpans();

    const result = await exportSpans(exporter, spans);

    expect(result.code).toBe(SUCCESS);
    const traceId = root.spanContext().traceId;
    const records = await readToEnd(topic, { timeoutMillis: 60_000 });
    let total = 0;
    for (const r of records) {
      // Keyed by the trace id (per-trace messages until the exporter knows the partitions), or unkeyed and
      // produced to the partition that key hashes to.
      if (r.key !== null) expect(r.key.toString()).toBe(traceId);
      else expect(r.partition).toBe(crc32(traceId) % 2);
      expect(r.value!.length).toBeLessThanOrEqual(1_000_000);
      total += r.value!.length;
    }
    expect(total).toBeGreaterThan(5_000_000);
    expect(sortedIds(spanIdsOf(records))).toEqual(sortedIds(idsOf(spans)));
    // All parts of the trace went to one partition.
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);
  });

  it('fails the export clearly for a span above the limit, and still delivers the rest of the batch', async () => {
    const topic = await createTopic();
    const exporter = newExporter(testConfig(topic));
    const truth = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(truth)] });
    const tracer = provider.getTracer('huge');
    tracer.startSpan('huge', { attributes: { blob: 'h'.repeat(1_200_000) } }).end();
    tracer.startSpan('normal').end();
    const [huge, normal] = truth.getFinishedSpans();

    const result = await exportSpans(exporter, [huge!, normal!]);

    expect(result.code).toBe(FAILED);
    expect(result.error).toBeInstanceOf(MessageTooLargeError);
    expect(result.error?.message).toContain(huge!.spanContext().spanId);
    const records = await readToEnd(topic);
    expect(spanIdsOf(records)).toEqual([normal!.spanContext().spanId]);
  });

  it('reports FAILED after shutdown, and shutdown is idempotent', async () => {
    const topic = await createTopic();
    const exporter = newExporter(testConfig(topic));
    const truth = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(truth)] });
    provider.getTracer('t').startSpan('s').end();

    expect((await exportSpans(exporter, truth.getFinishedSpans())).code).toBe(SUCCESS);
    await Promise.all([exporter.shutdown(), exporter.shutdown()]);
    const after = await exportSpans(exporter, truth.getFinishedSpans());
    expect(after.code).toBe(FAILED);
    expect(after.error?.name).toBe('ShutdownError');
    // The span went out once, from the export before shutdown; the FAILED one sent nothing.
    expect(spanIdsOf(await readToEnd(topic))).toEqual(idsOf(truth.getFinishedSpans()));
  });

  // The topic's limit sits below the uncompressed message: the broker checks the batch as sent, so it
  // accepts the message only if the producer really compressed it with the codec ('none' gets no limit).
  it.each<[Compression, Record<string, string>]>([
    ['none', {}],
    ['gzip', { 'max.message.bytes': '65536' }],
    ['snappy', { 'max.message.bytes': '65536' }],
    ['lz4', { 'max.message.bytes': '65536' }],
    ['zstd', { 'max.message.bytes': '65536' }],
  ])('with compression %s, the broker takes the message and it decodes to exactly the spans', async (codec, config) => {
    const topic = await createTopic({ config });
    const exporter = newExporter(testConfig(topic, { exporter: { compression: codec } }));
    const truth = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(truth)] });
    const tracer = provider.getTracer('codec');
    const root = tracer.startSpan(`root ${codec}`);
    const ctx = trace.setSpan(context.active(), root);
    for (let i = 0; i < 20; i++) {
      tracer.startSpan(`part-${i}`, { attributes: { payload: `${codec} ${i} `.repeat(1_500) } }, ctx).end();
    }
    root.end();
    const spans = truth.getFinishedSpans();

    const result = await exportSpans(exporter, spans);

    expect(result.error).toBeUndefined();
    expect(result.code).toBe(SUCCESS);
    const records = await readToEnd(topic);
    expect(records).toHaveLength(1);
    expect(records[0]!.value!.length).toBeGreaterThan(100_000); // the uncompressed value the consumer sees
    const decoded = decodeTraceRequest(records[0]!.value!).resourceSpans.flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) => ss.spans),
    );
    expect(sortedIds(decoded.map((d) => d.spanId))).toEqual(sortedIds(idsOf(spans)));
    for (const want of spans)
      expectSameSpan(
        decoded.find((d) => d.spanId === want.spanContext().spanId)!,
        want,
      );
  });

  it.each<[string, (base: OtelKafkaJaegerConfig) => OtelKafkaJaegerConfig, string]>([
    ['no brokers', (base) => ({ ...base, kafka: { topic: base.kafka?.topic } }), 'kafka.brokers'],
    [
      'an unknown compression',
      (base) => ({ ...base, exporter: { compression: 'brotli' as 'gzip' } }),
      'exporter.compression',
    ],
    ['a negative timeout', (base) => ({ ...base, exporter: { timeoutMillis: -1 } }), 'exporter.timeoutMillis'],
    [
      'a property librdkafka rejects',
      (base) => ({ ...base, kafka: { ...base.kafka, rdkafka: { 'no.such.property': 1 } } }),
      "kafka.rdkafka['no.such.property']",
    ],
  ])('refuses %s at construction with a ConfigError naming the field', async (_what, make, field) => {
    const config = make(testConfig(await createTopic()));
    // An empty environment: nothing may fill in what the code left out.
    expect(() => new KafkaSpanExporter(config, {})).toThrow(ConfigError);
    try {
      new KafkaSpanExporter(config, {});
    } catch (err) {
      expect((err as ConfigError).field).toBe(field);
      expect((err as ConfigError).message).toContain(field);
    }
  });
});
