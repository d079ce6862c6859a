// One contender in one fresh process: creates spans of the benchmark's shape through a BatchSpanProcessor into
// one exporter, and prints what was delivered and what it cost this process (user + system CPU, which
// includes librdkafka's native threads). Started by run.ts; not meant to be run by hand, but it can be:
//   node --import tsx bench/exporter/contender.ts '{"kind":"noop","spans":200000,...}'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

import { RESULT_PREFIX, START_LINE } from './protocol';
import type { ContenderResult, ContenderSpec } from './protocol';
import { SERVICE_NAME, TraceFactory } from './span-shape';

/** Calls back SUCCESS at once: the floor (span creation + BSP). */
class NoopExporter implements SpanExporter {
  export(_spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Encodes the batch as OTLP protobuf (what both real exporters start with) and calls back SUCCESS. */
class SerializeOnlyExporter implements SpanExporter {
  bytes = 0;
  readonly #encode: (spans: ReadableSpan[]) => Uint8Array | undefined;

  constructor(encode: (spans: ReadableSpan[]) => Uint8Array | undefined) {
    this.#encode = encode;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const body = this.#encode(spans);
    if (!body) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('serializer returned nothing') });
      return;
    }
    this.bytes += body.length;
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Wraps the exporter under test and counts what it reports: only spans of exports that called back SUCCESS
 * count as delivered, so spans a BSP drops, or an export that fails, can never inflate the throughput.
 */
class CountingExporter implements SpanExporter {
  readonly inner: SpanExporter;
  handedOff = 0;
  delivered = 0;
  failed = 0;
  exports = 0;
  pending = 0;
  firstError: string | undefined;
  /** Milliseconds from each export call to its callback. */
  latenciesMillis: number[] = [];
  #waiters: (() => void)[] = [];

  constructor(inner: SpanExporter) {
    this.inner = inner;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const count = spans.length;
    this.handedOff += count;
    this.exports += 1;
    this.pending += 1;
    this.#wake();
    const started = performance.now();
    this.inner.export(spans, (result) => {
      this.latenciesMillis.push(performance.now() - started);
      this.pending -= 1;
      if (result.code === ExportResultCode.SUCCESS) {
        this.delivered += count;
      } else {
        this.failed += count;
        this.firstError ??= result.error ? String(result.error) : 'FAILED without an error';
      }
      this.#wake();
      resultCallback(result);
    });
  }

  /** Resolves at the next export call or callback; rejects when nothing happens for `timeoutMillis`. */
  progress(timeoutMillis: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no export progress for ${timeoutMillis} ms (${this.describe()})`));
      }, timeoutMillis);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  describe(): string {
    return `handed off ${this.handedOff}, delivered ${this.delivered}, failed ${this.failed}, pending exports ${this.pending}`;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** A fresh spool directory, removed when this process exits. */
function benchSpoolDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'okj-bench-spool-'));
  process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

async function exporterFor(spec: ContenderSpec): Promise<SpanExporter> {
  switch (spec.kind) {
    case 'noop':
      return new NoopExporter();
    case 'serializer': {
      if (spec.encoder === 'fast') {
        const { otlpProtoSerializer } = await import('../../src/serializers/otlp-serializers.js');
        const fast = otlpProtoSerializer({ encoder: 'fast' });
        return new SerializeOnlyExporter((spans) => fast.serialize(spans));
      }
      return new SerializeOnlyExporter((spans) => ProtobufTraceSerializer.serializeRequest(spans));
    }
    case 'kafka': {
      if (!spec.brokers || !spec.topic) throw new Error('kafka contender needs brokers and topic');
      // Loaded only here, so no other contender loads librdkafka's native module.
      const { KafkaSpanExporter } = await import('../../src/exporter/kafka-span-exporter.js');
      return new KafkaSpanExporter({
        kafka: { brokers: spec.brokers, topic: spec.topic, ...(spec.rdkafka && { rdkafka: spec.rdkafka }) },
        exporter: {
          ...(spec.lingerMillis !== undefined && { lingerMillis: spec.lingerMillis }),
          ...(spec.compression !== undefined && { compression: spec.compression }),
          ...(spec.partitionByTraceId !== undefined && { partitionByTraceId: spec.partitionByTraceId }),
          ...(spec.messagePer !== undefined && { messagePer: spec.messagePer }),
          // With Kafka healthy the spool is never written: this measures what having it on costs.
          ...(spec.spool && { spool: { directory: benchSpoolDirectory() } }),
        },
      });
    }
    case 'otlp-http':
      if (!spec.url) throw new Error('otlp-http contender needs url');
      return new OTLPTraceExporter({ url: spec.url });
  }
}

/**
 * CPU ticks of each thread of this process (Linux /proc; empty elsewhere), keyed by thread id, so the
 * orchestrator can tell the JS thread from librdkafka's threads and V8's helpers.
 */
function threadTicks(): Map<string, { group: string; ticks: number }> {
  const threads = new Map<string, { group: string; ticks: number }>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const group = tid === String(process.pid) ? 'main' : name.startsWith('rdk:') ? 'librdkafka' : 'other';
      threads.set(tid, { group, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return threads;
}

/** CPU µs per thread group between two {@link threadTicks} samples (USER_HZ is 100 on Linux). */
function threadCpuMicros(
  before: Map<string, { group: string; ticks: number }>,
  after: Map<string, { group: string; ticks: number }>,
): Record<string, number> {
  const micros: Record<string, number> = {};
  for (const [tid, { group, ticks }] of after) {
    micros[group] = (micros[group] ?? 0) + (ticks - (before.get(tid)?.ticks ?? 0)) * 10_000;
  }
  return micros;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function withTimeout<T>(what: string, work: Promise<T>, timeoutMillis: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMillis} ms`)), timeoutMillis);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Creates `spans` spans in chunks, yielding to the event loop between chunks and pausing while the BSP lags. */
async function feed(
  factory: TraceFactory,
  sink: CountingExporter,
  spans: number,
  spec: ContenderSpec,
): Promise<number> {
  let created = 0;
  const base = sink.handedOff;
  while (created < spans) {
    for (let t = 0; t < spec.chunkTraces && created < spans; t++) created += factory.createTrace(spec.spansPerTrace);
    await yieldToLoop();
    while (created - (sink.handedOff - base) > spec.queueBoundSpans) await sink.progress(spec.stallTimeoutMillis);
  }
  return created;
}

/** Flushes the BSP, then waits until every export it started has called back. */
async function drain(provider: BasicTracerProvider, sink: CountingExporter, spec: ContenderSpec): Promise<void> {
  await withTimeout('provider.forceFlush()', provider.forceFlush(), spec.stallTimeoutMillis);
  while (sink.pending > 0) await sink.progress(spec.stallTimeoutMillis);
}

async function main(arg: string | undefined): Promise<void> {
  if (!arg) throw new Error('usage: contender.ts <spec json>');
  const spec = JSON.parse(arg) as ContenderSpec;
  const inner = await exporterFor(spec);
  const sink = new CountingExporter(inner);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE_NAME }),
    spanProcessors: [
      new BatchSpanProcessor(sink, {
        maxExportBatchSize: spec.maxExportBatchSize,
        maxQueueSize: spec.maxQueueSize,
        scheduledDelayMillis: spec.scheduledDelayMillis,
        exportTimeoutMillis: spec.stallTimeoutMillis,
      }),
    ],
  });
  const factory = new TraceFactory(provider.getTracer('okj-bench'));

  const warmed = await feed(factory, sink, spec.warmupSpans, spec);
  await drain(provider, sink, spec);
  const warmDelivered = sink.delivered;
  const warmHandedOff = sink.handedOff;
  const warmFailed = sink.failed;
  const warmExports = sink.exports;
  sink.latenciesMillis = [];
  const warmBytes = inner instanceof SerializeOnlyExporter ? inner.bytes : 0;
  // Start every contender's window from a collected heap, so garbage of the warm-up is not billed to it.
  (globalThis as { gc?: () => void }).gc?.();

  process.stdout.write(`${START_LINE}\n`);
  const threadsBefore = threadTicks();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const created = await feed(factory, sink, spec.spans, spec);
  await drain(provider, sink, spec);
  const elapsedMillis = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const threads = threadCpuMicros(threadsBefore, threadTicks());

  const result: ContenderResult = {
    kind: spec.kind,
    created,
    delivered: sink.delivered - warmDelivered,
    failed: sink.failed - warmFailed,
    handedOff: sink.handedOff - warmHandedOff,
    exports: sink.exports - warmExports,
    elapsedMillis,
    cpuUserMicros: cpu.user,
    cpuSystemMicros: cpu.system,
    createdTotal: warmed + created,
    deliveredTotal: sink.delivered,
    rssBytes: process.memoryUsage().rss,
    threadCpuMicros: threads,
    exportLatencyMillis: median(sink.latenciesMillis),
    ...(sink.firstError !== undefined && { firstError: sink.firstError }),
    ...(inner instanceof SerializeOnlyExporter && { serializedBytes: inner.bytes - warmBytes }),
  };
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  await withTimeout('provider.shutdown()', provider.shutdown(), spec.stallTimeoutMillis);
}

main(process.argv[2]).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`contender failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
