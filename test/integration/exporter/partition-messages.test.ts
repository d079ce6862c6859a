// The exporter's default message shape (messagePer 'partition') against the real broker: each message holds
// the spans of the traces that hash to its partition, exactly where librdkafka would put a message keyed by
// any of those trace ids; a topic that grows is followed; and what it writes is read unchanged by Jaeger v2's
// own Kafka receiver and drained by our forwarder, every span id accounted for in Jaeger.
import { setTimeout as delay } from 'node:timers/promises';

import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { freeJaegerPorts, JaegerInstance } from '../../../scripts/stack/stack';
import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { crc32 } from '../../../src/kafka/partitioner';
import { decodeTraceRequest } from '../../../src/serializers/otlp/decode';
import { expectEachSpanOnce, forwarderConfig, startForwarder } from '../forwarder/helpers';
import { addPartitions, createTopic, readToEnd } from '../harness/kafka';
import type { ConsumedRecord } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { accountInJaeger, ledgerOf, makeTraces, mergeLedgers, waitForAllSpans } from '../harness/traffic';
import type { SpanLedger } from '../harness/traffic';
import { endpoints } from '../harness/stack';
import { SUCCESS, exportSpans, testConfig } from './helpers';

const exporters: KafkaSpanExporter[] = [];
afterAll(async () => {
  await Promise.all(exporters.map((e) => e.shutdown()));
});

function newExporter(...args: ConstructorParameters<typeof KafkaSpanExporter>): KafkaSpanExporter {
  const exporter = new KafkaSpanExporter(...args);
  exporters.push(exporter);
  return exporter;
}

/** The trace ids a record holds. */
function traceIdsOf(record: ConsumedRecord): Set<string> {
  const request = decodeTraceRequest(record.value!);
  return new Set(request.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.traceId))));
}

/** Exports one batch of `traces` traces and requires SUCCESS; returns its ledger. */
async function exportBatch(exporter: KafkaSpanExporter, service: string, traces: number): Promise<SpanLedger> {
  const batch = makeTraces(service, traces, 3);
  const spans: ReadableSpan[] = batch.flat();
  expect((await exportSpans(exporter, spans)).code).toBe(SUCCESS);
  return ledgerOf(batch);
}

/**
 * Exports batches until one was written as per-partition messages (unkeyed): an exporter's first exports go
 * per trace until it has read the topic's partitions. Returns every batch's ledger and the grouped records.
 */
async function exportUntilGrouped(
  exporter: KafkaSpanExporter,
  topic: string,
  service: string,
): Promise<{ ledger: SpanLedger; grouped: ConsumedRecord[] }> {
  const ledgers: SpanLedger[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const before = new Set((await readToEnd(topic)).map((r) => `${r.partition}/${r.offset}`));
    ledgers.push(await exportBatch(exporter, service, 40));
    const added = (await readToEnd(topic)).filter((r) => !before.has(`${r.partition}/${r.offset}`));
    if (added.length > 0 && added.every((r) => r.key === null))
      return { ledger: mergeLedgers(...ledgers), grouped: added };
    await delay(100);
  }
  throw new Error(`${topic}: no export was grouped by partition after 20 batches`);
}

function expectPlacedByTraceHash(records: ConsumedRecord[], partitions: number): void {
  for (const record of records) {
    expect(record.key).toBeNull();
    for (const traceId of traceIdsOf(record)) expect(crc32(traceId) % partitions).toBe(record.partition);
  }
}

describe("KafkaSpanExporter with messagePer 'partition' (the default)", () => {
  let jaeger: JaegerInstance | undefined;
  afterAll(async () => {
    await jaeger?.destroy();
  });

  it("writes one message per partition where librdkafka's key hash puts its traces; Jaeger's receiver and our forwarder read it all", async () => {
    const topic = await createTopic({ partitions: 4 });
    const service = uniqueName('okj-partition-msgs');
    jaeger = new JaegerInstance({
      name: uniqueName('jaeger-receiver'),
      ports: await freeJaegerPorts(),
      kafkaReceiver: { brokers: endpoints.kafkaBrokers, topic, groupId: uniqueName('jaeger-receiver') },
    });
    await jaeger.start();
    const exporter = newExporter(testConfig(topic));

    const { ledger: first, grouped } = await exportUntilGrouped(exporter, topic, service);
    // 40 traces over 4 partitions: one message per partition that got any, several traces in each.
    expect(grouped.length).toBeLessThanOrEqual(4);
    expect(new Set(grouped.map((r) => r.partition)).size).toBe(grouped.length);
    expect(Math.max(...grouped.map((r) => traceIdsOf(r).size))).toBeGreaterThan(1);
    expectPlacedByTraceHash(grouped, 4);
    const ledger = mergeLedgers(first, await exportBatch(exporter, service, 200));

    // Jaeger's own Kafka receiver (encoding otlp_proto) stores every span, once.
    await waitForAllSpans(ledger, service, { queryUrl: jaeger.queryUrl, timeoutMillis: 60_000 });
    const received = await accountInJaeger(ledger, service, jaeger.queryUrl);
    expect({ duplicates: received.duplicates, unexpected: received.unexpected }).toEqual({
      duplicates: 0,
      unexpected: 0,
    });

    // Our forwarder drains the same topic into the stack's Jaeger: every span id once.
    const config = forwarderConfig(topic);
    await startForwarder(config);
    await expectEachSpanOnce(ledger, service, config.forwarder!.groupId!, topic);
  });

  it('follows a topic whose partition count grows (re-read every topic.metadata.refresh.interval.ms)', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('okj-partition-grow');
    const config = testConfig(topic);
    const exporter = newExporter({
      ...config,
      kafka: { ...config.kafka, rdkafka: { 'topic.metadata.refresh.interval.ms': 1_000 } },
    });
    const { grouped } = await exportUntilGrouped(exporter, topic, service);
    expectPlacedByTraceHash(grouped, 2);

    await addPartitions(topic, 4);
    // Within a refresh interval or two the exporter sees 4 partitions: a record lands in partition 2 or 3.
    const deadline = Date.now() + 30_000;
    let records = await readToEnd(topic);
    while (!records.some((r) => r.partition >= 2)) {
      if (Date.now() > deadline) throw new Error('no record in the added partitions within 30 s');
      await exportBatch(exporter, service, 40);
      records = await readToEnd(topic);
    }
    // From now on, every message is placed by the hash over 4 partitions.
    const seen = new Set(records.map((r) => `${r.partition}/${r.offset}`));
    await exportBatch(exporter, service, 40);
    const after = (await readToEnd(topic)).filter((r) => !seen.has(`${r.partition}/${r.offset}`));
    expect(after.length).toBeGreaterThan(0);
    expectPlacedByTraceHash(after, 4);
  });
});
