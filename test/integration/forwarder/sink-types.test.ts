// The forwarder through each built-in sink, into the real Jaeger: good spans arrive, a record Jaeger can
// never accept goes to the dead-letter topic, and an unreachable sink pauses the partitions.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

import { freePort } from '../../../scripts/stack/stack';
import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { consumeRaw, createTopic, produceRaw } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import { ledgerOf, makeTraces, traceRecords, waitForAllSpans } from '../harness/traffic';
import { forwarderConfig, startForwarder } from './helpers';

type SinkConfig = NonNullable<NonNullable<OtelKafkaJaegerConfig['forwarder']>['sink']>;

const sinks: [string, (url?: string) => SinkConfig, (port: number) => string][] = [
  [
    'otlp-grpc',
    (url) => ({ type: 'otlp-grpc', url: url ?? endpoints.jaegerOtlpGrpcUrl }),
    (p) => `http://127.0.0.1:${p}`,
  ],
  [
    'jaeger-thrift-http',
    (url) => ({ type: 'jaeger-thrift-http', url: url ?? endpoints.jaegerThriftHttpUrl }),
    (p) => `http://127.0.0.1:${p}/api/traces`,
  ],
];

describe.each(sinks)('forwarder with the %s sink', (_name, sinkAt, deadUrl) => {
  it('delivers every good span and dead-letters the record Jaeger rejects', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName(`sink-${_name}`);
    const good = makeTraces(service, 40);
    const records = traceRecords(good);
    records.splice(17, 0, { key: 'pill', value: randomBytes(256) });
    await produceRaw(topic, records);
    const base = forwarderConfig(topic);
    const forwarder = await startForwarder({ ...base, forwarder: { ...base.forwarder, sink: sinkAt() } });

    const account = await waitForAllSpans(ledgerOf(good), service, { timeoutMillis: 60_000 });
    expect(account.missing).toBe(0);
    const [dead] = await consumeRaw(forwarder.deadLetterTopic, 1, { timeoutMillis: 30_000 });
    expect(dead?.key?.toString()).toBe('pill');
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
