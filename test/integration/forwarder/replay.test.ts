// Replay of a time range (or an offset range) into an empty Jaeger delivers exactly the traces produced in
// that range, and moves no group's offsets; under a sink that fails for a while and with poison records in
// the range, it still completes and dead-letters each poison record once.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

import { KafkaConsumer } from '@confluentinc/kafka-javascript';

import { freeJaegerPorts, JaegerInstance } from '../../../scripts/stack/stack';
import { DEAD_LETTER_HEADERS } from '../../../src/forwarder/dead-letter';
import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import type { ReplayProgress } from '../../../src/forwarder/replay';
import { committedOffsets, consumeRaw, createTopic, endOffsets, produceRaw } from '../harness/kafka';
import type { RawRecord } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import { accountInJaeger, ledgerOf, makeTraces, produceTraces, spanCount, traceRecords } from '../harness/traffic';
import { forwarderConfig, invalidTraceIdRequest } from './helpers';

/**
 * A real HTTP server in front of the real Jaeger: the requests whose 1-based number is in `failing` get a
 * 503, every other one is forwarded as it came and answered with Jaeger's status and body.
 */
async function failingFront(upstream: string, failing: Set<number>) {
  const statuses: number[] = [];
  const server = createServer((req, res) => {
    const n = statuses.length + 1;
    statuses.push(0);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failing.has(n)) {
        statuses[n - 1] = 503;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable (test)');
        return;
      }
      fetch(upstream, {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' },
        body: Buffer.concat(chunks),
        signal: AbortSignal.timeout(10_000),
      }).then(
        async (up) => {
          const body = Buffer.from(await up.arrayBuffer());
          statuses[n - 1] = up.status;
          res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/x-protobuf' });
          res.end(body);
        },
        () => {
          statuses[n - 1] = 502;
          res.writeHead(502).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    statuses,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Commits `offsets` for `groupId` as a group with no member would (no join, no assignment). */
async function commitGroupOffsets(groupId: string, topic: string, offsets: Map<number, number>): Promise<void> {
  const consumer = new KafkaConsumer(
    { 'bootstrap.servers': endpoints.kafkaBrokers.join(','), 'group.id': groupId, 'enable.auto.commit': false },
    {},
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(new Error(err.message)) : resolve())),
  );
  try {
    consumer.commitSync([...offsets].map(([partition, offset]) => ({ topic, partition, offset })));
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

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

  it('completes under a sink failing with 503 mid-backlog and poison records in the range: good spans once, each poison record dead-lettered once', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('replay-faults');
    const spread = (records: RawRecord[]): RawRecord[] => records.map((r, i) => ({ ...r, partition: i % 2 }));
    const beforeService = uniqueName('replay-faults-before');
    await produceRaw(topic, spread(traceRecords(makeTraces(beforeService, 6, 2))));
    await delay(5); // record timestamps have millisecond resolution
    const from = Date.now();

    const good = makeTraces(service, 40, 3);
    const victim = traceRecords(makeTraces(uniqueName('victim'), 1, 3))[0]!.value as Buffer;
    const noSpan = Buffer.from(victim);
    noSpan[0] = 0x1a; // resource_spans (field 1) becomes field 3: a request holding no span
    const poison: RawRecord[] = [
      // Opens with a field longer than the record: broken framing whatever the random tail.
      { key: 'pill-random', value: Buffer.concat([Buffer.from([0x0a, 0xff, 0xff, 0x03]), randomBytes(200)]) },
      { key: 'pill-no-span', value: noSpan },
      { key: 'pill-400', value: invalidTraceIdRequest() },
    ].map((p) => ({ ...p, headers: { 'content-type': 'application/x-protobuf', origin: String(p.key) } }));
    // Pills between good records, on both partitions.
    const inRange: RawRecord[] = [];
    spread(traceRecords(good)).forEach((r, i) => {
      inRange.push(r);
      const pill = poison[[5, 17, 30].indexOf(i)];
      if (pill) inRange.push({ ...pill, partition: i % 2 });
    });
    const pillPartition = new Map(
      inRange.filter((r) => String(r.key).startsWith('pill-')).map((r) => [String(r.key), r.partition]),
    );
    const pillValues = new Map(poison.map((p) => [String(p.key), Buffer.from(p.value as Buffer)]));
    await produceRaw(topic, inRange);
    await delay(5);
    const to = Date.now();
    const afterService = uniqueName('replay-faults-after');
    await produceRaw(topic, [
      ...spread(traceRecords(makeTraces(afterService, 6, 2))),
      { key: 'pill-after-range', value: randomBytes(64), partition: 0 },
    ]);

    const groupId = uniqueName('okj-live');
    // A live group's position: the replay must leave it where it is.
    const live = new Map([
      [0, 2],
      [1, 3],
    ]);
    await commitGroupOffsets(groupId, topic, live);
    // 503 for the first three requests (nothing sent yet), then again for two in the middle of the range.
    const front = await failingFront(jaeger.otlpHttpUrl, new Set([1, 2, 3, 7, 8]));
    const forwarder = new KafkaToJaegerForwarder(
      forwarderConfig(topic, { groupId, sinkUrl: front.url, forwarder: { batch: { maxRecords: 8 } } }),
    );
    try {
      const result = await forwarder.replay({ from, to });

      const expected = ledgerOf(good);
      expect({
        records: result.records,
        spans: result.spans,
        undeliverable: result.undeliverable,
        partitionsDone: result.partitionsDone,
        ranged: result.ranges.reduce((n, r) => n + r.toOffset - r.fromOffset, 0),
      }).toEqual({
        records: good.length,
        spans: spanCount(expected),
        undeliverable: poison.length,
        partitionsDone: 2,
        ranged: inRange.length,
      });
      // The failures really happened, mid-backlog, and were retried; Jaeger refused the bad request.
      expect(front.statuses.filter((s) => s === 503)).toHaveLength(5);
      expect(front.statuses.length).toBeGreaterThan(8);
      expect(front.statuses).toContain(400);

      // replay() returned after the sink accepted everything it sent: these counts are final.
      const account = await accountInJaeger(expected, service, jaeger.queryUrl);
      expect({ missing: account.missing, duplicates: account.duplicates, unexpected: account.unexpected }).toEqual({
        missing: 0,
        duplicates: 0,
        unexpected: 0,
      });
      for (const other of [beforeService, afterService]) {
        expect((await accountInJaeger(new Map(), other, jaeger.queryUrl)).found.size).toBe(0);
      }

      const dlqEnd = await endOffsets(forwarder.deadLetterTopic);
      expect([...dlqEnd.values()].reduce((a, b) => a + b, 0)).toBe(poison.length);
      const dead = await consumeRaw(forwarder.deadLetterTopic, poison.length);
      const h = DEAD_LETTER_HEADERS;
      const reasons = Object.fromEntries(
        dead.map((d) => [
          d.key?.toString() ?? '',
          {
            value: d.value?.equals(pillValues.get(d.key!.toString())!),
            origin: d.headers.origin?.toString(),
            sourceTopic: d.headers[h.sourceTopic]?.toString(),
            sourcePartition: Number(d.headers[h.sourcePartition]?.toString()),
            code: d.headers[h.errorCode]?.toString(),
            message: d.headers[h.errorMessage]?.toString(),
            attempts: Number(d.headers[h.attempts]?.toString()),
          },
        ]),
      );
      const common = (key: string) => ({
        value: true,
        origin: key,
        sourceTopic: topic,
        sourcePartition: pillPartition.get(key),
      });
      expect(reasons).toEqual({
        'pill-random': {
          ...common('pill-random'),
          code: 'SERIALIZATION_FAILED',
          message: expect.stringMatching(/ExportTraceServiceRequest/) as string,
          attempts: 0,
        },
        'pill-no-span': {
          ...common('pill-no-span'),
          code: 'SERIALIZATION_FAILED',
          message: expect.stringMatching(/holds no span/) as string,
          attempts: 0,
        },
        'pill-400': {
          ...common('pill-400'),
          code: 'SINK_FAILED',
          message: expect.stringMatching(/400/) as string,
          attempts: expect.any(Number) as number,
        },
      });
      expect(reasons['pill-400']!.attempts).toBeGreaterThanOrEqual(1);

      expect(await committedOffsets(groupId, topic)).toEqual(live);
    } finally {
      await forwarder.stop();
      await front.close();
    }
  });
});
