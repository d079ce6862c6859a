// Replay of a time range (or an offset range) into an empty Jaeger delivers exactly the traces produced in
// that range, and moves no group's offsets.
import { setTimeout as delay } from 'node:timers/promises';

import { freeJaegerPorts, JaegerInstance } from '../../../scripts/stack/stack';
import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import type { ReplayProgress } from '../../../src/forwarder/replay';
import { committedOffsets, consumeRaw, createTopic, produceRaw } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { accountInJaeger, ledgerOf, makeTraces, produceTraces, spanCount, traceRecords } from '../harness/traffic';
import { forwarderConfig } from './helpers';

describe('forwarder.replay', () => {
  let jaeger: JaegerInstance;

  beforeAll(async () => {
    jaeger = new JaegerInstance({ name: uniqueName('jaeger-replay'), ports: await freeJaegerPorts() });
    await jaeger.start();
  });

  afterAll(async () => {
    await jaeger.destroy();
  });

  it('re-sends exactly the traces of a time range, with progress, without touching group offsets', async () => {
    const topic = await createTopic({ partitions: 3 });
    const service = uniqueName('replay');
    await produceTraces(topic, service, 300);
    // Record timestamps have millisecond resolution: keep the phases in distinct milliseconds.
    await delay(5);
    const from = Date.now();
    const inRange = await produceTraces(topic, service, 400);
    await delay(5);
    const to = Date.now();
    await produceTraces(topic, service, 300);

    const config = forwarderConfig(topic, { sinkUrl: jaeger.otlpHttpUrl });
    const forwarder = new KafkaToJaegerForwarder(config);
    const progress: ReplayProgress[] = [];
    try {
      const result = await forwarder.replay({ from: new Date(from), to, onProgress: (p) => progress.push(p) });

      expect(result.records).toBe(400);
      expect(result.spans).toBe(spanCount(inRange));
      expect(result.partitionsDone).toBe(3);
      expect(result.ranges.reduce((n, r) => n + r.toOffset - r.fromOffset, 0)).toBe(400);
      expect(progress.length).toBeGreaterThan(1);
      expect(progress.at(-1)?.partitionsDone).toBe(3);
      const account = await accountInJaeger(inRange, service, jaeger.queryUrl);
      expect(account.missing).toBe(0);
      expect(account.unexpected).toBe(0); // nothing from before or after the range
      expect(account.duplicates).toBe(0);
      const committed = await committedOffsets(config.forwarder!.groupId!, topic);
      expect([...committed.values()].every((o) => o < 0)).toBe(true);
    } finally {
      await forwarder.stop();
    }
  });

  it('re-sends an explicit offset range of one partition', async () => {
    const topic = await createTopic({ partitions: 1 });
    const service = uniqueName('replay-offsets');
    const traces = makeTraces(service, 10);
    await produceRaw(topic, traceRecords(traces));
    const records = await consumeRaw(topic, 10);
    const wanted = records.filter((r) => Number(r.offset) >= 3 && Number(r.offset) < 7).map((r) => r.key!.toString());
    const expected = ledgerOf(traces.filter((t) => wanted.includes(t[0]!.spanContext().traceId)));

    const forwarder = new KafkaToJaegerForwarder(forwarderConfig(topic, { sinkUrl: jaeger.otlpHttpUrl }));
    try {
      const result = await forwarder.replay({ from: { 0: 3 }, to: { 0: 7 } });
      expect(result.records).toBe(4);
      const account = await accountInJaeger(expected, service, jaeger.queryUrl);
      expect(account.missing).toBe(0);
      expect(account.unexpected).toBe(0);
    } finally {
      await forwarder.stop();
    }
  });
});
