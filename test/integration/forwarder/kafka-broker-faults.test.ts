// The broker killed with -9 and restarted while the forwarder runs, in the middle of a backlog (requests in
// flight, records fetched and not sent, accepted and not committed): it reconnects by itself, forwards what
// was produced before and after, and commits to the end. Restarts the shared broker, so it leaves it running.
import { setTimeout as delay } from 'node:timers/promises';

import { OtelKafkaJaegerError } from '../../../src/errors/errors';
import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import { otlpHttpSink } from '../../../src/sinks/otlp-http-sink';
import type { Sink, SinkRecord, SinkResult, SinkSendOptions } from '../../../src/sinks/sink';
import { committedOffsets, createTopic, endOffsets } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints, sharedKafka } from '../harness/stack';
import { mergeLedgers, produceTraces, waitForAllSpans } from '../harness/traffic';
import { forwarderConfig, startForwarder, waitForCommitsAtEnd } from './helpers';

jest.setTimeout(180_000);

const broker = sharedKafka();

afterAll(async () => {
  await broker.start();
});

/**
 * The real OTLP/HTTP sink that lets the first `passFirst` requests through and holds every later one (in
 * flight) until {@link open}: the forwarder is then mid-delivery for as long as the test wants.
 */
class HoldAfterSink implements Sink {
  readonly name = 'hold-after-otlp-http';
  readonly #inner = otlpHttpSink({ url: endpoints.jaegerOtlpHttpUrl, timeoutMillis: 5_000 });
  readonly #passFirst: number;
  #opened = false;
  #release: () => void = () => undefined;
  readonly #gate = new Promise<void>((resolve) => (this.#release = resolve));
  started = 0;
  held = 0;
  accepted = 0;
  acceptedRecords = 0;

  constructor(passFirst: number) {
    this.#passFirst = passFirst;
  }

  open(): void {
    this.#opened = true;
    this.#release();
  }

  async send(records: readonly SinkRecord[], options: SinkSendOptions): Promise<SinkResult | void> {
    if (++this.started > this.#passFirst && !this.#opened) {
      this.held++;
      await this.#gate;
      this.held--;
    }
    const result = await this.#inner.send(records, options);
    this.accepted++;
    this.acceptedRecords += records.length;
    return result;
  }

  close(): Promise<void> {
    this.open();
    return this.#inner.close();
  }
}

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await delay(50);
  }
}

const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + Math.max(0, b), 0);

describe('forwarder: broker killed with -9', () => {
  it('killed mid-backlog (requests in flight, records uncommitted): loses nothing, commits to the end, duplicates bounded by what was uncommitted', async () => {
    const topic = await createTopic({ partitions: 3 });
    const service = uniqueName('broker-kill');
    const before = await produceTraces(topic, service, 3_000);
    const sink = new HoldAfterSink(5);
    const config = forwarderConfig(topic, { sink, forwarder: { batch: { maxRecords: 100 } } });
    const groupId = config.forwarder!.groupId!;
    const forwarder = await startForwarder(config);

    // Mid-backlog: the first requests accepted and committed, later ones held in flight, most records not sent.
    await until('requests held in flight', () => sink.accepted >= 5 && sink.held >= 1, 60_000);
    await until(
      'the accepted records committed',
      async () => sum(await committedOffsets(groupId, topic)) >= sink.acceptedRecords,
      20_000,
    );
    const [committedAtKill, endAtKill] = await Promise.all([committedOffsets(groupId, topic), endOffsets(topic)]);
    const uncommittedAtKill = sum(endAtKill) - sum(committedAtKill);
    await broker.kill();
    const heldAtKill = sink.held;
    expect(heldAtKill).toBeGreaterThan(0);
    expect(uncommittedAtKill).toBeGreaterThan(0);
    expect(uncommittedAtKill).toBeLessThan(3_000);

    // The held requests reach Jaeger while the broker is down: accepted, and their commits must wait for it.
    sink.open();
    await until('a request accepted with the broker down', () => sink.accepted > 5, 20_000);
    await broker.start();
    const after = await produceTraces(topic, service, 1_000);

    const account = await waitForAllSpans(mergeLedgers(before, after), service, { timeoutMillis: 120_000 });
    await waitForCommitsAtEnd(groupId, topic, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\nforwarder health: ${JSON.stringify(forwarder.health())}`);
    });
    process.stderr.write(
      `broker-kill: uncommitted at the kill ${uncommittedAtKill} records (${heldAtKill} requests held), ` +
        `duplicates ${account.duplicates} spans\n`,
    );
    expect(account.missing).toBe(0);
    expect(account.unexpected).toBe(0);
    // Only records not committed at the kill may be sent twice (5 spans a record).
    expect(account.duplicates).toBeLessThanOrEqual(uncommittedAtKill * 5);
    expect(forwarder.health().state).toBe('running');
  });

  it('start() with the broker down rejects with KAFKA_UNAVAILABLE; called again once it is up, it forwards', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('broker-down-at-start');
    const expected = await produceTraces(topic, service, 50);
    const config = forwarderConfig(topic);
    await broker.stop();
    const forwarder = new KafkaToJaegerForwarder(config);
    try {
      const failure = await forwarder.start().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(OtelKafkaJaegerError);
      expect((failure as OtelKafkaJaegerError).code).toBe('KAFKA_UNAVAILABLE');
      expect((failure as OtelKafkaJaegerError).retriable).toBe(true);
      expect((failure as Error).message).toContain(config.forwarder!.groupId!);
      expect(forwarder.health().state).toBe('created');

      await broker.start();
      await forwarder.start();
      const account = await waitForAllSpans(expected, service, { timeoutMillis: 60_000 });
      expect(account.missing).toBe(0);
    } finally {
      await broker.start();
      await forwarder.stop();
    }
  });
});
