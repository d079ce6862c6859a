// The forwarder through each built-in sink, into the real Jaeger: good spans arrive once each, a record that
// passes every check before sending but can never be accepted goes through the sink, is bisected out and
// dead-lettered, and an unreachable sink pauses the partitions.
import { setTimeout as delay } from 'node:timers/promises';

import { freePort } from '../../../scripts/stack/stack';
import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { DEAD_LETTER_HEADERS } from '../../../src/forwarder/dead-letter';
import { consumeRaw, createTopic, produceRaw, topicRecordCount } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import { ledgerOf, makeTraces, traceRecords, waitForAllSpans } from '../harness/traffic';
import { expectEachSpanOnce, forwarderConfig, startForwarder, invalidTraceIdRequest } from './helpers';

type SinkConfig = NonNullable<NonNullable<OtelKafkaJaegerConfig['forwarder']>['sink']>;

const sinks: [string, (url?: string) => SinkConfig, (port: number) => string, RegExp][] = [
  [
    'otlp-grpc',
    (url) => ({ type: 'otlp-grpc', url: url ?? endpoints.jaegerOtlpGrpcUrl }),
    (p) => `http://127.0.0.1:${p}`,
    // Jaeger's gRPC server fails to unmarshal the request: grpc-go answers INTERNAL (not INVALID_ARGUMENT),
    // which OTLP does not list as retryable.
    /^gRPC INTERNAL \(13\) from .*invalid TraceID length/,
  ],
  [
    'jaeger-thrift-http',
    (url) => ({ type: 'jaeger-thrift-http', url: url ?? endpoints.jaegerThriftHttpUrl }),
    (p) => `http://127.0.0.1:${p}/api/traces`,
    // Jaeger's Thrift endpoint answers 400 only to a body it cannot read, which this sink never writes; the
    // sink's own decoder refuses the record. "1 of 1": bisected down to the record alone.
    /^record 1 of 1 cannot be sent: .*traceId: expected 16 bytes, got 5$/,
  ],
];

describe.each(sinks)('forwarder with the %s sink', (_name, sinkAt, deadUrl, refusal) => {
  it('delivers every good span once and dead-letters, through the sink, the record Jaeger rejects', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName(`sink-${_name}`);
    const good = makeTraces(service, 40);
    const records = traceRecords(good).map((r, i) => ({ ...r, partition: i % 2 }));
    // In the middle of partition 1's records, so that it shares a sink request with good ones.
    records.splice(17, 0, {
      key: 'pill',
      value: invalidTraceIdRequest(),
      headers: { 'content-type': 'application/x-protobuf' },
      partition: 1,
    });
    await produceRaw(topic, records);
    const base = forwarderConfig(topic);
    const forwarder = await startForwarder({ ...base, forwarder: { ...base.forwarder, sink: sinkAt() } });

    const expected = ledgerOf(good);
    const account = await waitForAllSpans(expected, service, { timeoutMillis: 60_000 });
    expect(account.missing).toBe(0);
    await expectEachSpanOnce(expected, service, base.forwarder!.groupId!, topic);
    const [dead] = await consumeRaw(forwarder.deadLetterTopic, 1, { timeoutMillis: 30_000 });
    expect(dead?.key?.toString()).toBe('pill');
    const h = DEAD_LETTER_HEADERS;
    // Refused by the sink (not by the framing check, which says SERIALIZATION_FAILED with 0 attempts).
    expect(dead?.headers[h.errorCode]?.toString()).toBe('SINK_FAILED');
    expect(dead?.headers[h.errorMessage]?.toString()).toMatch(refusal);
    expect(Number(dead?.headers[h.attempts]?.toString())).toBeGreaterThanOrEqual(1);
    expect(Number(dead?.headers[h.sourcePartition]?.toString())).toBe(1);
    expect(await topicRecordCount(forwarder.deadLetterTopic)).toBe(1);
  });

  it('pauses the partitions while the sink is unreachable', async () => {
    const topic = await createTopic({ partitions: 2 });
    // Both partitions get records (10 keys could all hash to one partition).
    await produceRaw(
      topic,
      traceRecords(makeTraces(uniqueName('dead-sink'), 10)).map((r, i) => ({ ...r, partition: i % 2 })),
    );
    const base = forwarderConfig(topic);
    const forwarder = await startForwarder({
      ...base,
      forwarder: { ...base.forwarder, sink: sinkAt(deadUrl(await freePort())) },
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const parts = forwarder.health().partitions;
      if (parts.length === 2 && parts.every((p) => p.paused) && parts.some((p) => p.lastError)) break;
      if (Date.now() > deadline) throw new Error(`not paused: ${JSON.stringify(forwarder.health())}`);
      await delay(100);
    }
    // Nothing was accepted, so nothing past the first record may be committed.
    expect(forwarder.health().partitions.map((p) => p.committedOffset ?? 0)).toEqual([0, 0]);
  });
});
