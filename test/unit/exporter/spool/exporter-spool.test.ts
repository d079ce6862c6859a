// KafkaSpanExporter with exporter.spool while Kafka cannot be reached: the lock at construction, exports
// spooled (SUCCESS) once the first one timed out and at once after it, the bound, and a restart that finds the
// spool. Delivery from the spool is tested against the real broker (test/integration/exporter/spool.test.ts).
// The connection is stubbed as one that never completes (a broker that does not answer): a real native
// client left connecting to an unreachable address outlives this file, and its callback firing after Jest
// disposed the file's context crashed the in-band test process (a segfault in a CI run).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

import { SpoolError } from '../../../../src/errors/errors';
import { KafkaSpanExporter } from '../../../../src/exporter/kafka-span-exporter';
import { DeliveryProducer } from '../../../../src/kafka/delivery-producer';
import { makeSpans } from '../../helpers/spans';

const UNREACHABLE = ['127.0.0.1:1'];
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let dir: string;
const exporters: KafkaSpanExporter[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okj-exp-spool-'));
  jest.spyOn(DeliveryProducer, 'connect').mockImplementation(() => new Promise<never>(() => undefined));
});
afterEach(async () => {
  await Promise.all(exporters.splice(0).map((e) => e.shutdown()));
  rmSync(dir, { recursive: true, force: true });
  jest.restoreAllMocks();
});

function exporter(spool: Record<string, unknown> = {}, meterProvider?: MeterProvider): KafkaSpanExporter {
  const e = new KafkaSpanExporter({
    kafka: { brokers: UNREACHABLE },
    exporter: { timeoutMillis: 300, messagePer: 'trace', spool: { directory: dir, fsync: 'never', ...spool } },
    logger: quiet,
    ...(meterProvider && { meterProvider }),
  });
  exporters.push(e);
  return e;
}

function exportOnce(e: KafkaSpanExporter, traces = 2): Promise<{ result: ExportResult; millis: number }> {
  const t0 = performance.now();
  return new Promise((resolve) =>
    e.export(makeSpans({ traces, spansPerTrace: 3 }), (result) => resolve({ result, millis: performance.now() - t0 })),
  );
}

const segments = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.seg'));

describe('KafkaSpanExporter with a spool', () => {
  it('a second exporter on the same directory throws SPOOL_LOCKED naming the pid; after shutdown it may', async () => {
    const first = exporter();
    let error: unknown;
    try {
      exporter();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as SpoolError).code).toBe('SPOOL_LOCKED');
    expect((error as SpoolError).message).toContain(`pid ${process.pid}`);
    await first.shutdown();
    exporter();
  });

  it('Kafka unreachable: the first export times out into the spool, later ones go there at once; all SUCCESS, metered', async () => {
    const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const e = exporter({}, provider);
    const first = await exportOnce(e);
    expect(first.result.code).toBe(ExportResultCode.SUCCESS);
    expect(first.millis).toBeGreaterThanOrEqual(250);
    for (let i = 0; i < 5; i++) {
      const next = await exportOnce(e);
      expect(next.result.code).toBe(ExportResultCode.SUCCESS);
      expect(next.millis).toBeLessThan(250);
    }
    expect(segments().length).toBeGreaterThan(0);

    // 6 exports of 2 traces of 3 spans: 12 messages, 36 spans.
    await reader.forceFlush();
    const value = (name: string): number =>
      metrics
        .getMetrics()
        .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
        .filter((m) => m.descriptor.name === `otel_kafka_jaeger.exporter.${name}`)
        .flatMap((m) => m.dataPoints.map((p) => p.value as number))
        .reduce((a, b) => a + b, 0);
    expect(value('spool.spans.spooled')).toBe(36);
    expect(value('spool.messages')).toBe(12);
    expect(value('spool.bytes')).toBeGreaterThan(0);
    expect(value('spool.oldest.age')).toBeGreaterThan(0);
    expect(value('spans.failed')).toBe(0);
    await provider.shutdown();
  });

  it('at maxBytes exports report FAILED with SPOOL_FULL; the files stay within the bound', async () => {
    const e = exporter({ maxBytes: 64 * 1024, segmentBytes: 16 * 1024 });
    const codes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { result } = await exportOnce(e, 10);
      codes.push(result.code === ExportResultCode.SUCCESS ? 'ok' : (result.error as SpoolError).code);
    }
    const firstFull = codes.indexOf('SPOOL_FULL');
    expect(firstFull).toBeGreaterThan(0);
    expect(codes.slice(firstFull).every((c) => c === 'SPOOL_FULL')).toBe(true);
  });

  it('a restart finds the segments and keeps them until Kafka takes them', async () => {
    const e = exporter();
    await exportOnce(e);
    await exportOnce(e);
    await e.shutdown();
    const left = segments();
    expect(left.length).toBeGreaterThan(0);
    exporter();
    expect(segments()).toEqual(left);
  });
});
