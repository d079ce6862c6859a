// The forwarder's failure self-metrics through a real forwarder and a real MeterProvider: partitions.paused,
// retries and sink.errors across a short sink outage (a real HTTP server answering 503 in front of Jaeger),
// and rejected_spans from an OTLP partial success.
import { setTimeout as delay } from 'node:timers/promises';

import * as protobuf from 'protobufjs';

import { createTopic, produceRaw } from '../harness/kafka';
import { testMeter } from '../harness/metrics';
import type { TestMeter } from '../harness/metrics';
import { uniqueName } from '../harness/names';
import { encodeOtlpProto, makeTrace } from '../harness/otlp';
import { endpoints } from '../harness/stack';
import { ledgerOf, makeTraces, spanCount, traceRecords, waitForAllSpans } from '../harness/traffic';
import { expectEachSpanOnce, forwarderConfig, OtlpHttpFront, startForwarder } from './helpers';

const M = 'otel_kafka_jaeger.forwarder';

/** Polls the instrument until `ok` holds for its value, or fails with the last value. */
async function waitForValue(metrics: TestMeter, name: string, ok: (v: number) => boolean): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await metrics.value(name);
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${name} stayed at ${v}`);
    await delay(50);
  }
}

/** An ExportTraceServiceResponse carrying a partial success (opentelemetry-proto `trace_service.proto`). */
function partialSuccess(rejectedSpans: number, errorMessage: string): Uint8Array {
  const partial = protobuf.Writer.create();
  partial.uint32((1 << 3) | 0).int64(rejectedSpans);
  partial.uint32((2 << 3) | 2).string(errorMessage);
  const response = protobuf.Writer.create();
  response.uint32((1 << 3) | 2).bytes(partial.finish());
  return response.finish();
}

describe('forwarder: self-metrics', () => {
  it('partitions.paused goes 2 → 0 across a sink outage; retries and sink.errors count every 503', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('metrics-outage');
    const front = await OtlpHttpFront.start();
    front.mode = { status: 503 };
    const metrics = testMeter();
    const config = { ...forwarderConfig(topic, { sinkUrl: front.url }), meterProvider: metrics.meterProvider };
    await startForwarder(config);
    const traces = makeTraces(service, 10);
    await produceRaw(
      topic,
      traceRecords(traces).map((r, i) => ({ ...r, partition: i % 2 })),
    );

    await waitForValue(metrics, `${M}.partitions.paused`, (v) => v === 2);
    // A few retries into the outage, with nothing delivered yet.
    await waitForValue(metrics, `${M}.retries`, (v) => v >= 3);
    expect(await metrics.value(`${M}.spans`)).toBe(0);
    front.mode = { forward: true };

    await waitForValue(metrics, `${M}.partitions.paused`, (v) => v === 0);
    await expectEachSpanOnce(ledgerOf(traces), service, config.forwarder!.groupId!, topic);
    const outage = front.answered.filter((s) => s === 503).length;
    expect(outage).toBeGreaterThanOrEqual(3);
    // Every 503 was one failed sink request, retriable, and retried (maxAttempts is unlimited).
    const errors = await metrics.points(`${M}.sink.errors`);
    expect(errors.map((p) => p.attributes)).toEqual([{ 'error.class': 'retriable', 'error.type': '503' }]);
    expect(errors[0]?.value).toBe(outage);
    const retries = await metrics.points(`${M}.retries`);
    expect(retries.map((p) => p.attributes)).toEqual([{ target: 'sink' }]);
    expect(retries[0]?.value).toBe(outage);
    expect(await metrics.value(`${M}.spans`)).toBe(spanCount(ledgerOf(traces)));
    expect(await metrics.value(`${M}.rejected_spans`)).toBe(0);
  });

  it('rejected_spans counts the spans of an OTLP partial success; the records are still committed', async () => {
    // Jaeger v2's OTLP receiver never answers a partial success: a valid request gets a response whose
    // partial_success is empty (field 1, length 0: 0 spans rejected, no message).
    const probe = await fetch(endpoints.jaegerOtlpHttpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: encodeOtlpProto(makeTrace({ serviceName: uniqueName('probe') })),
    });
    expect(probe.status).toBe(200);
    expect(Buffer.from(await probe.arrayBuffer()).toString('hex')).toBe('0a00');

    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('metrics-partial');
    const front = await OtlpHttpFront.start();
    // Forwarded to Jaeger (which stores every span), answered as a receiver that rejected 3 of them.
    front.mode = { forward: true, body: partialSuccess(3, 'okj test: 3 spans rejected') };
    const metrics = testMeter();
    const config = { ...forwarderConfig(topic, { sinkUrl: front.url }), meterProvider: metrics.meterProvider };
    await startForwarder(config);
    const traces = makeTraces(service, 10);
    await produceRaw(
      topic,
      traceRecords(traces).map((r, i) => ({ ...r, partition: i % 2 })),
    );

    await waitForAllSpans(ledgerOf(traces), service, { timeoutMillis: 30_000 });
    await expectEachSpanOnce(ledgerOf(traces), service, config.forwarder!.groupId!, topic);
    const requests = front.answered.filter((s) => s === 200).length;
    expect(requests).toBeGreaterThanOrEqual(1);
    expect(front.answered.length).toBe(requests);
    expect(await metrics.value(`${M}.rejected_spans`)).toBe(3 * requests);
    // Accepted all the same: counted as delivered, not as errors.
    expect(await metrics.value(`${M}.spans`)).toBe(spanCount(ledgerOf(traces)));
    expect(await metrics.value(`${M}.sink.errors`)).toBe(0);
  });
});
