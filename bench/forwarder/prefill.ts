// The topic every contender drains: traces of the benchmark's shape (bench/exporter/span-shape.ts), one OTLP
// protobuf ExportTraceServiceRequest per trace, key = trace id, produced once with acks=all. With
// `tracesPerRecord` N > 1, N traces of one partition share a record (their requests concatenated, which is one
// valid request): the large records an exporter grouping spans by partition writes.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { KafkaJS } from '@confluentinc/kafka-javascript';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';

import { SERVICE_NAME, SPANS_PER_TRACE, TraceFactory } from '../exporter/span-shape';

/** One trace as it sits on the topic. */
export interface EncodedTrace {
  traceId: string;
  partition: number;
  /** The encoded ExportTraceServiceRequest (the record value). */
  value: Buffer;
}

/** Which traces belong to one service: the verification query asks Jaeger for one service at a time. */
export interface ServiceShare {
  name: string;
  traces: number;
}

/** One record as it sits on the topic: one or more traces of one partition. */
export interface EncodedRecord {
  /** The first trace's id (the record key). */
  key: string;
  partition: number;
  value: Buffer;
}

export interface PartitionContent {
  partition: number;
  records: number;
  /** Trace ids of the first and last trace: Jaeger's own receiver stores a partition in order. */
  firstTraceId: string;
  lastTraceId: string;
}

export interface PrefilledTopic {
  topic: string;
  traces: EncodedTrace[];
  /** What was produced (one per trace unless `tracesPerRecord` > 1). */
  records: EncodedRecord[];
  spansPerRecord: number;
  spans: number;
  bytes: number;
  services: ServiceShare[];
  partitions: PartitionContent[];
  /** Wall clock (ms) before the first span was created: the verification query's time window starts here. */
  createdAtMillis: number;
  encodeMillis: number;
  produceMillis: number;
}

export interface PrefillOptions {
  brokers: string[];
  admin: KafkaJS.Admin;
  spans: number;
  partitions: number;
  /**
   * Traces per service name. A query for all traces of one service returns them whole, so the verification
   * reads the store one service at a time to keep each response to some tens of MB.
   */
  tracesPerService: number;
  /** Traces of one partition per record. */
  tracesPerRecord: number;
}

/** Collects the spans of the trace being created, so it can be encoded as one request. */
class CaptureProcessor implements SpanProcessor {
  spans: ReadableSpan[] = [];

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }

  take(): ReadableSpan[] {
    const spans = this.spans;
    this.spans = [];
    return spans;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A stable partition per trace id (random ids, so the partitions fill evenly). */
function partitionOf(traceId: string, partitions: number): number {
  return Number.parseInt(traceId.slice(0, 8), 16) % partitions;
}

function encodeTraces(opts: PrefillOptions): { traces: EncodedTrace[]; services: ServiceShare[] } {
  const total = Math.ceil(opts.spans / SPANS_PER_TRACE);
  const traces: EncodedTrace[] = [];
  const services: ServiceShare[] = [];
  for (let first = 0; first < total; first += opts.tracesPerService) {
    const name = `${SERVICE_NAME}-fwd-${String(services.length).padStart(2, '0')}`;
    const capture = new CaptureProcessor();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': name }),
      spanProcessors: [capture],
    });
    const factory = new TraceFactory(provider.getTracer('okj-bench'));
    const count = Math.min(opts.tracesPerService, total - first);
    for (let i = 0; i < count; i++) {
      factory.createTrace();
      const spans = capture.take();
      const traceId = spans[0]?.spanContext().traceId;
      const bytes = ProtobufTraceSerializer.serializeRequest(spans);
      if (!traceId || !bytes || spans.length !== SPANS_PER_TRACE) throw new Error('could not encode a trace');
      traces.push({
        traceId,
        partition: partitionOf(traceId, opts.partitions),
        value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      });
    }
    services.push({ name, traces: count });
  }
  return { traces, services };
}

/**
 * Groups consecutive traces into records of `perRecord` traces, record k on partition k mod `partitions` (each
 * trace's partition is set to its record's). run.ts makes the trace count a multiple of `perRecord`, so every
 * record holds as many spans.
 */
function groupIntoRecords(traces: EncodedTrace[], partitions: number, perRecord: number): EncodedRecord[] {
  if (perRecord === 1) return traces.map((t) => ({ key: t.traceId, partition: t.partition, value: t.value }));
  const records: EncodedRecord[] = [];
  for (let i = 0; i < traces.length; i += perRecord) {
    const group = traces.slice(i, i + perRecord);
    const partition = records.length % partitions;
    for (const t of group) t.partition = partition;
    records.push({ key: group[0]!.traceId, partition, value: Buffer.concat(group.map((t) => t.value)) });
  }
  return records;
}

const PRODUCE_CHUNK = 5_000;
const PRODUCE_CONCURRENCY = 4;

/** Creates a fresh topic and fills it; checks that every partition holds exactly what was sent to it. */
export async function prefillTopic(opts: PrefillOptions): Promise<PrefilledTopic> {
  const createdAtMillis = Date.now();
  const encodeStart = performance.now();
  const { traces, services } = encodeTraces(opts);
  const encodeMillis = performance.now() - encodeStart;

  const records = groupIntoRecords(traces, opts.partitions, opts.tracesPerRecord);

  const topic = `okj-bench-fwd-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  await opts.admin.createTopics({ topics: [{ topic, numPartitions: opts.partitions }] });
  const producer = new KafkaJS.Kafka({}).producer({
    'bootstrap.servers': opts.brokers.join(','),
    'client.id': 'okj-bench-prefill',
    'linger.ms': 20,
    'batch.size': 1_000_000,
    'queue.buffering.max.kbytes': 1_048_576,
    'queue.buffering.max.messages': 1_000_000,
    // Idempotence keeps each partition in send order, which the (b) contender's completion check relies on.
    kafkaJS: { acks: -1, idempotent: true, logLevel: KafkaJS.logLevel.NOTHING },
  });
  const headers = { 'content-type': 'application/x-protobuf', 'otelcol.signal': 'traces' };
  const produceStart = performance.now();
  await producer.connect();
  try {
    const chunks: EncodedRecord[][] = [];
    for (let i = 0; i < records.length; i += PRODUCE_CHUNK) chunks.push(records.slice(i, i + PRODUCE_CHUNK));
    for (let i = 0; i < chunks.length; i += PRODUCE_CONCURRENCY) {
      await Promise.all(
        chunks.slice(i, i + PRODUCE_CONCURRENCY).map((chunk) =>
          producer.send({
            topic,
            messages: chunk.map((r) => ({ key: r.key, value: r.value, partition: r.partition, headers })),
          }),
        ),
      );
    }
    await producer.flush({ timeout: 60_000 });
  } finally {
    await producer.disconnect();
  }
  const produceMillis = performance.now() - produceStart;

  const partitions: PartitionContent[] = [];
  for (let p = 0; p < opts.partitions; p++) {
    const mine = traces.filter((t) => t.partition === p);
    partitions.push({
      partition: p,
      records: records.filter((r) => r.partition === p).length,
      firstTraceId: mine[0]?.traceId ?? '',
      lastTraceId: mine.at(-1)?.traceId ?? '',
    });
  }
  const offsets = await opts.admin.fetchTopicOffsets(topic);
  for (const o of offsets) {
    const expected = partitions[o.partition]?.records ?? 0;
    const held = Number(o.high) - Number(o.low);
    if (held !== expected) throw new Error(`prefill: partition ${o.partition} holds ${held} records, sent ${expected}`);
  }
  return {
    topic,
    traces,
    records,
    spansPerRecord: opts.tracesPerRecord * SPANS_PER_TRACE,
    spans: traces.length * SPANS_PER_TRACE,
    bytes: traces.reduce((n, t) => n + t.value.length, 0),
    services,
    partitions,
    createdAtMillis,
    encodeMillis,
    produceMillis,
  };
}
