// The exporter while the broker is down: exports fail within their timeout, the application keeps
// running, and exporting works again once the broker is back, also for an exporter created during the
// outage. Stops the shared broker, so it restarts it before it ends.
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { consumeRaw, createTopic } from '../harness/kafka';
import { sharedKafka } from '../harness/stack';
import { FAILED, SUCCESS, exportSpans, testConfig } from './helpers';

const TIMEOUT_MILLIS = 3_000;
const broker = sharedKafka();
const exporters: KafkaSpanExporter[] = [];

afterAll(async () => {
  await broker.start(); // whatever happened, leave the broker up for the suites after this one
  await Promise.all(exporters.map((e) => e.shutdown()));
});

function spans(name: string): ReadableSpan[] {
  const truth = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(truth)] });
  provider.getTracer('outage').startSpan(name).end();
  return truth.getFinishedSpans();
}

/** Exports until one succeeds (the producer reconnects in the background), bounded by `withinMillis`. */
async function exportUntilSuccess(
  exporter: KafkaSpanExporter,
  name: string,
  withinMillis: number,
): Promise<ReadableSpan[]> {
  const deadline = Date.now() + withinMillis;
  for (;;) {
    const batch = spans(name);
    const result = await exportSpans(exporter, batch);
    if (result.code === SUCCESS) return batch;
    if (Date.now() > deadline)
      throw new Error(`no successful export within ${withinMillis} ms: ${result.error?.message}`);
  }
}

describe('KafkaSpanExporter when the broker goes away', () => {
  it('fails exports within the timeout without blocking the event loop, then recovers', async () => {
    const topic = await createTopic();
    const exporter = new KafkaSpanExporter(testConfig(topic, { exporter: { timeoutMillis: TIMEOUT_MILLIS } }));
    exporters.push(exporter);
    expect((await exportSpans(exporter, spans('before'))).code).toBe(SUCCESS);

    await broker.stop();

    let ticks = 0;
    const ticker = setInterval(() => ticks++, 100);
    const t0 = Date.now();
    const during = await exportSpans(exporter, spans('during'));
    const elapsed = Date.now() - t0;
    clearInterval(ticker);

    expect(during.code).toBe(FAILED);
    expect(during.error).toBeDefined();
    expect(elapsed).toBeLessThanOrEqual(TIMEOUT_MILLIS + 1_000);
    // The event loop kept turning while the export waited: roughly one tick per 100 ms.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 100) - 5);

    await broker.start();
    const after = await exportUntilSuccess(exporter, 'after', 60_000);

    const records = await consumeRaw(topic, 2, { timeoutMillis: 30_000 });
    expect(records.map((r) => r.key?.toString())).toContain(after[0]!.spanContext().traceId);
  });

  it('an exporter created while the broker is down works once it is up', async () => {
    const topic = await createTopic();
    await broker.stop();
    const exporter = new KafkaSpanExporter(testConfig(topic, { exporter: { timeoutMillis: TIMEOUT_MILLIS } }));
    exporters.push(exporter);

    const during = await exportSpans(exporter, spans('while down'));
    expect(during.code).toBe(FAILED);
    expect(during.error?.message).toMatch(/within 3000 ms|connect/);

    await broker.start();
    const delivered = await exportUntilSuccess(exporter, 'once up', 60_000);

    // The export that FAILED while the broker was down must not have been delivered afterwards.
    const records = await consumeRaw(topic, 1, { timeoutMillis: 30_000 });
    expect(records.map((r) => r.key?.toString())).toEqual([delivered[0]!.spanContext().traceId]);
  });
});
