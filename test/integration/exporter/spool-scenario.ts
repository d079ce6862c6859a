// Shared by test/integration/exporter/spool.test.ts and test/chaos/spool-outage.test.ts: spool directories,
// exporters and children cleaned up after the file, bounded polling, an exporter that keeps the ledger of
// what reported SUCCESS, the Jaeger accounting through the forwarder, and the Kafka-outage scenario itself.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { context, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { forwarderConfig, startForwarder, waitForCommitsAtEnd } from '../forwarder/helpers';
import { createTopic } from '../harness/kafka';
import { testMeter } from '../harness/metrics';
import { uniqueName } from '../harness/names';
import { scenarioResult } from '../harness/scenario';
import type { ScenarioResult } from '../harness/scenario';
import { sharedKafka } from '../harness/stack';
import { accountInJaeger, spanCount } from '../harness/traffic';
import type { JaegerAccount, SpanLedger } from '../harness/traffic';
import { testConfig } from './helpers';

export const SPOOL_BYTES = 'otel_kafka_jaeger.exporter.spool.bytes';
export const broker = sharedKafka();
const dirs: string[] = [];
const exporters: KafkaSpanExporter[] = [];
export const children = new Set<ChildProcess>();

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await broker.start(); // whatever happened, leave the broker up for the suites after this one
  await Promise.allSettled(exporters.map((e) => e.shutdown()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh spool directory, deleted after the file. */
export function spoolDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'okj-spool-it-'));
  dirs.push(d);
  return d;
}

/** An exporter shut down after the file (if the test did not). */
export function exporterOf(config: OtelKafkaJaegerConfig): KafkaSpanExporter {
  const e = new KafkaSpanExporter(config);
  exporters.push(e);
  return e;
}

/** Polls `check` every 100 ms until it holds, failing after `timeoutMillis` with `what`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMillis = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMillis} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function addToLedger(ledger: SpanLedger, spans: Iterable<[string, string]>): void {
  for (const [traceId, spanId] of spans) {
    let ids = ledger.get(traceId);
    if (!ids) ledger.set(traceId, (ids = new Set()));
    ids.add(spanId);
  }
}

/** Delegates to the exporter, keeping the ledger of what reported SUCCESS and counting the rest. */
export class RecordingExporter implements SpanExporter {
  readonly succeeded: SpanLedger = new Map();
  failedSpans = 0;
  constructor(readonly inner: KafkaSpanExporter) {}
  export(spans: ReadableSpan[], cb: (r: ExportResult) => void): void {
    this.inner.export(spans, (r) => {
      if (r.code === ExportResultCode.SUCCESS) {
        addToLedger(
          this.succeeded,
          spans.map((s) => [s.spanContext().traceId, s.spanContext().spanId]),
        );
      } else {
        this.failedSpans += spans.length;
      }
      cb(r);
    });
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/**
 * Starts a forwarder on `topic`, waits until it committed the whole topic, then accounts Jaeger's spans of
 * `service`: none of `expected` missing, nothing unexpected (but spans of `attempted`, exports in flight when a
 * process was killed, which may or may not have been spooled). Returns Jaeger's account of `expected` (its
 * duplicates are allowed: at least once).
 */
export async function expectInJaeger(
  expected: SpanLedger,
  service: string,
  topic: string,
  attempted: SpanLedger = expected,
): Promise<JaegerAccount> {
  const groupId = uniqueName('okj-spool-fwd');
  await startForwarder(forwarderConfig(topic, { groupId }));
  await waitForCommitsAtEnd(groupId, topic, 90_000);
  // Commits follow Jaeger's acceptance; the polls only cover the query side catching up.
  let account = await accountInJaeger(expected, service);
  await until(
    'Jaeger to show every span',
    async () => {
      account = await accountInJaeger(expected, service);
      return account.missing === 0;
    },
    30_000,
  ).catch(() => undefined);
  const beyondAttempted = (await accountInJaeger(attempted, service)).unexpected;
  expect({ missing: account.missing, unexpected: beyondAttempted }).toEqual({ missing: 0, unexpected: 0 });
  return account;
}

/**
 * A traced process (BatchSpanProcessor, ~150 spans/s) whose broker stops for `outageMillis` and starts again:
 * no export fails, the BatchSpanProcessor drops nothing, the spool drains, and every span reaches Jaeger.
 * Recovery: from the broker's restart to the spool drained.
 */
export async function spoolOutageScenario(outageMillis: number): Promise<ScenarioResult> {
  const topic = await createTopic({ partitions: 3 });
  const service = uniqueName('okj-spool-outage');
  const meter = testMeter();
  const recording = new RecordingExporter(
    exporterOf(
      testConfig(topic, {
        exporter: { timeoutMillis: 2_000, spool: { directory: spoolDir() } },
        meterProvider: meter.meterProvider,
      }),
    ),
  );
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor(recording, { scheduledDelayMillis: 100, maxQueueSize: 4096 })],
  });
  const tracer = provider.getTracer('okj-spool');
  let ended = 0;
  // A 3-span trace every 20 ms.
  const load = setInterval(() => {
    const root = tracer.startSpan('op');
    const ctx = trace.setSpan(context.active(), root);
    tracer.startSpan('a', {}, ctx).end();
    tracer.startSpan('b', {}, ctx).end();
    root.end();
    ended += 3;
  }, 20);
  let spooledMax = 0;
  let restartedAt = 0;
  let stopped = false;
  const t0 = Date.now();
  try {
    await until('exports before the outage', () => spanCount(recording.succeeded) > 100);
    await broker.stop();
    stopped = true;
    const stoppedAt = Date.now();
    await until(
      'the outage to last',
      async () => {
        spooledMax = Math.max(spooledMax, await meter.value(SPOOL_BYTES));
        return Date.now() - stoppedAt >= outageMillis;
      },
      outageMillis + 10_000,
    );
    await broker.start();
    stopped = false;
    restartedAt = Date.now();
    const back = spanCount(recording.succeeded);
    await until('exports after the restart', () => spanCount(recording.succeeded) > back + 300);
  } finally {
    clearInterval(load);
    // A run that failed during the outage must not leave the shared broker down for the ones after it.
    if (stopped) await broker.start();
  }
  await provider.forceFlush();
  await until('the spool to drain', async () => (await meter.value(SPOOL_BYTES)) === 0, 90_000);
  const drainedAt = Date.now();

  // Nothing failed and nothing was dropped on the way in: the spool took every export of the outage.
  expect(recording.failedSpans).toBe(0);
  expect(spanCount(recording.succeeded)).toBe(ended);
  expect(spooledMax).toBeGreaterThan(0);
  const spooled = await meter.value('otel_kafka_jaeger.exporter.spool.spans.spooled');
  expect(spooled).toBeGreaterThan((outageMillis / 1000) * 100);
  expect(await meter.value('otel_kafka_jaeger.exporter.spool.spans.drained')).toBe(spooled);
  const account = await expectInJaeger(recording.succeeded, service, topic);
  process.stderr.write(
    `spool outage ${outageMillis} ms: ${ended} spans ended, ${spooled} spooled (max ${spooledMax} bytes), ` +
      `drained ${Math.round((drainedAt - t0) / 1000)} s after the load started, Jaeger duplicates ${account.duplicates}\n`,
  );
  await provider.shutdown();
  return scenarioResult(recording.succeeded, account, drainedAt - restartedAt);
}
