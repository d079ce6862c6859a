// The exporter while the broker is down: exports fail within their timeout, the application keeps
// running, the producer's queue stays within exporter.maxQueueBytes, every failed span is counted, and
// exporting works again once the broker is back, also for an exporter created during the outage. What
// the topic holds afterwards is read to its end offsets: exactly the spans of the exports that reported
// SUCCESS, once each, and nothing of those that reported FAILED — except what README names as the one case
// librdkafka cannot undo: a request already on its way to the broker as it went down may have been written
// though its export timed out. Those may be present, at most once. Stops the shared broker, so it restarts it
// before it ends.
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import type { ProduceError } from '../../../src/errors/errors';
import { createTopic } from '../harness/kafka';
import { testMeter } from '../harness/metrics';
import { sharedKafka } from '../harness/stack';
import { FAILED, SUCCESS, exportSpans, idsOf, readToEnd, sortedIds, spanIdsOf, testConfig } from './helpers';

const TIMEOUT_MILLIS = 3_000;
/** The smallest queue the exporter accepts; a few dozen exports fill it. */
const MAX_QUEUE_BYTES = 1024 * 1024;
const QUEUE_BYTES = 'otel_kafka_jaeger.exporter.queue.bytes';
const broker = sharedKafka();
const exporters: KafkaSpanExporter[] = [];

afterAll(async () => {
  await broker.start(); // whatever happened, leave the broker up for the suites after this one
  await Promise.all(exporters.map((e) => e.shutdown()));
});

function spans(name: string, payloadBytes = 0): ReadableSpan[] {
  const truth = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(truth)] });
  const attributes = payloadBytes > 0 ? { payload: 'q'.repeat(payloadBytes) } : {};
  provider.getTracer('outage').startSpan(name, { attributes }).end();
  return truth.getFinishedSpans();
}

interface Outcome {
  spans: ReadableSpan[];
  result: ExportResult;
  elapsedMillis: number;
}

/** Every export, with what it reported: the ledger the topic and the metrics are checked against. */
class Ledger {
  readonly #pending = new Set<Promise<Outcome>>();
  readonly #pendingSpans = new Map<Promise<Outcome>, ReadableSpan[]>();
  readonly outcomes: Outcome[] = [];

  constructor(readonly exporter: KafkaSpanExporter) {}

  export(batch: ReadableSpan[]): Promise<Outcome> {
    const t0 = Date.now();
    const outcome = exportSpans(this.exporter, batch).then((result) => {
      const o = { spans: batch, result, elapsedMillis: Date.now() - t0 };
      this.outcomes.push(o);
      return o;
    });
    this.#pending.add(outcome);
    this.#pendingSpans.set(outcome, batch);
    void outcome.finally(() => {
      this.#pending.delete(outcome);
      this.#pendingSpans.delete(outcome);
    });
    return outcome;
  }

  /** Exports that have not called back yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Span ids of the exports that have not called back yet. */
  pendingIds(): string[] {
    return [...this.#pendingSpans.values()].flatMap(idsOf);
  }

  async settled(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  ids(code: typeof SUCCESS | typeof FAILED): string[] {
    return this.outcomes.filter((o) => o.result.code === code).flatMap((o) => idsOf(o.spans));
  }

  /** Exports until one succeeds (the producer reconnects in the background), bounded by `withinMillis`. */
  async untilSuccess(name: string, withinMillis: number): Promise<ReadableSpan[]> {
    const deadline = Date.now() + withinMillis;
    for (;;) {
      const { spans: batch, result } = await this.export(spans(name));
      if (result.code === SUCCESS) return batch;
      if (Date.now() > deadline) {
        throw new Error(`no successful export within ${withinMillis} ms: ${result.error?.message}`);
      }
    }
  }
}

/**
 * The topic holds exactly the spans of the SUCCESS exports, once each, and none of a FAILED one, early or
 * late — but for FAILED exports in `mayHaveLanded` (pending when the broker went down: their request may have
 * been written), which may be present at most once.
 */
async function expectTopicMatchesLedger(
  topic: string,
  ledger: Ledger,
  mayHaveLanded = new Set<string>(),
): Promise<void> {
  // Read after the last SUCCESS was acknowledged: a FAILED export's message, had it stayed queued, would
  // have been delivered before it (one partition, one idempotent producer, order kept), so inside the end.
  const delivered = spanIdsOf(await readToEnd(topic));
  const failed = new Set(ledger.ids(FAILED));
  expect(delivered.filter((id) => failed.has(id) && !mayHaveLanded.has(id))).toEqual([]);
  const landedAnyway = delivered.filter((id) => failed.has(id));
  expect(new Set(landedAnyway).size).toBe(landedAnyway.length);
  expect(sortedIds(delivered.filter((id) => !failed.has(id)))).toEqual(sortedIds(ledger.ids(SUCCESS)));
}

describe('KafkaSpanExporter when the broker goes away', () => {
  it('fails exports within the timeout while they keep coming, queue bounded and every failure counted, then recovers', async () => {
    const topic = await createTopic();
    const meter = testMeter();
    const exporter = new KafkaSpanExporter(
      testConfig(topic, {
        // Messages linger in the producer's queue, so the broker stops with exports in flight.
        exporter: { timeoutMillis: TIMEOUT_MILLIS, maxQueueBytes: MAX_QUEUE_BYTES, lingerMillis: 200 },
        meterProvider: meter.meterProvider,
      }),
    );
    exporters.push(exporter);
    const ledger = new Ledger(exporter);
    expect((await ledger.export(spans('before'))).result.code).toBe(SUCCESS);

    // Exports keep coming: ~60 KB every 20 ms, several times what the queue holds over one timeout.
    let sent = 0;
    const mayHaveLanded = new Set<string>();
    const driver = setInterval(() => void ledger.export(spans(`during-${sent++}`, 60_000)), 20);
    let queueMax = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        queueMax = Math.max(queueMax, await meter.value(QUEUE_BYTES));
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 500));
      const inFlightAtStop = ledger.pending;
      for (const id of ledger.pendingIds()) mayHaveLanded.add(id);
      await broker.stop();
      expect(inFlightAtStop).toBeGreaterThan(0);
      const stoppedAt = Date.now();
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 100);
      // Past one export timeout: the first queued exports time out while later ones find the queue full.
      await new Promise((r) => setTimeout(r, TIMEOUT_MILLIS + 1_500));
      clearInterval(ticker);
      // The event loop kept turning while exports waited on the broker: roughly one tick per 100 ms.
      expect(ticks).toBeGreaterThanOrEqual(Math.floor((Date.now() - stoppedAt) / 100) - 5);
    } finally {
      clearInterval(driver);
    }
    await ledger.settled();
    sampling = false;
    await sampler;

    // The queue filled up to its bound and no further (the gauge is read every 25 ms during the outage).
    expect(queueMax).toBeLessThanOrEqual(MAX_QUEUE_BYTES);
    expect(queueMax).toBeGreaterThan(MAX_QUEUE_BYTES / 2);
    const failures = ledger.outcomes.filter((o) => o.result.code === FAILED);
    for (const f of failures) {
      expect(f.result.error).toBeDefined();
      expect(f.elapsedMillis).toBeLessThanOrEqual(TIMEOUT_MILLIS + 1_000);
    }
    // Both ways an export fails in an outage happened: its messages timed out (librdkafka's report or,
    // when that comes late, the export's own timer), and the queue was full.
    const kinds = new Set(
      failures.map(({ result: { error } }) =>
        error?.name === 'TimeoutError' ? 'ERR__MSG_TIMED_OUT' : (error as ProduceError).kafkaName,
      ),
    );
    expect([...kinds].sort()).toEqual(['ERR__MSG_TIMED_OUT', 'ERR__QUEUE_FULL']);

    await broker.start();
    await ledger.untilSuccess('after', 60_000);
    await ledger.settled();

    expect(await meter.value(QUEUE_BYTES)).toBe(0);
    expect(await meter.value('otel_kafka_jaeger.exporter.spans.failed')).toBe(ledger.ids(FAILED).length);
    expect(await meter.value('otel_kafka_jaeger.exporter.spans.exported')).toBe(ledger.ids(SUCCESS).length);
    await expectTopicMatchesLedger(topic, ledger, mayHaveLanded);
  });

  it('an exporter created while the broker is down works once it is up, and its FAILED export is never delivered', async () => {
    const topic = await createTopic();
    await broker.stop();
    const exporter = new KafkaSpanExporter(testConfig(topic, { exporter: { timeoutMillis: TIMEOUT_MILLIS } }));
    exporters.push(exporter);
    const ledger = new Ledger(exporter);

    const during = await ledger.export(spans('while down'));
    expect(during.result.code).toBe(FAILED);
    expect(during.result.error?.message).toMatch(/within 3000 ms|connect/);

    await broker.start();
    await ledger.untilSuccess('once up', 60_000);

    expect(ledger.ids(FAILED)).toContain(idsOf(during.spans)[0]);
    await expectTopicMatchesLedger(topic, ledger);
  });
});
