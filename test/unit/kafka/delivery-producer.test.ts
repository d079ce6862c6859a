// DeliveryProducer against a fake native producer: delivery reports by message, foreign reports, and the
// fatal state (which librdkafka reports as an `event.error` whose text is "Local: Fatal error").
import { EventEmitter } from 'node:events';

import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';

import { ProduceError } from '../../../src/errors/errors';
import { DeliveryProducer } from '../../../src/kafka/delivery-producer';
import type { NativeMetadata, NativeProducer, ProducerMessage } from '../../../src/kafka/delivery-producer';
import type { Logger } from '../../../src/logging/logger';

interface Produced {
  key: string | undefined;
  partition: number | null;
  opaque: unknown;
}

class FakeNative extends EventEmitter {
  readonly produced: Produced[] = [];
  throwOnProduce: Error | undefined;
  disconnected = false;
  disconnects = 0;
  /** Set: getMetadata answers only when this is called. */
  holdMetadata: (() => void) | undefined;
  holding = false;
  metadata: { err: LibrdKafkaError | null; metadata?: NativeMetadata } = { err: null };

  connect(_options: object, callback: (err: null) => void): void {
    setImmediate(() => callback(null));
  }

  setPollInBackground(): void {}

  produce(
    _topic: string,
    partition: number | null,
    _value: Buffer,
    key: string | undefined,
    _ts: null,
    opaque: unknown,
  ): void {
    if (this.throwOnProduce) throw this.throwOnProduce;
    this.produced.push({ key, partition, opaque });
  }

  getMetadata(
    _options: object,
    callback: (err: LibrdKafkaError | null, metadata: NativeMetadata | undefined) => void,
  ): void {
    const answer = (): void => callback(this.metadata.err, this.metadata.metadata);
    if (this.holding) this.holdMetadata = answer;
    else setImmediate(answer);
  }

  disconnect(_timeout: number, callback: () => void): void {
    this.disconnected = true;
    this.disconnects++;
    callback();
  }

  /** Emits the delivery report of produced message `i`. */
  report(i: number, err: { message: string; code: number } | null = null): void {
    this.emit('delivery-report', err, { opaque: this.produced[i]?.opaque });
  }
}

const logger: Logger & { errors: string[] } = {
  errors: [],
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error(m: string) {
    this.errors.push(m);
  },
};

const messages = (n: number): ProducerMessage[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`v${i}`), headers: { h: 'v' } }));

async function connected(): Promise<{ native: FakeNative; producer: DeliveryProducer }> {
  const native = new FakeNative();
  const producer = await DeliveryProducer.connect(
    {},
    logger,
    { timeoutMillis: 1_000, brokers: ['k:9092'] },
    (): NativeProducer => native,
  );
  return { native, producer };
}

const settled = (p: Promise<unknown>): Promise<{ ok: boolean; error?: unknown }> =>
  p.then(
    () => ({ ok: true }),
    (error: unknown) => ({ ok: false, error }),
  );

describe('DeliveryProducer', () => {
  it('produces to the partition a message names, and lets librdkafka choose for the others', async () => {
    const { native, producer } = await connected();
    const sent = settled(
      producer.send('t', [{ key: null, partition: 3, value: Buffer.from('a'), headers: {} }, ...messages(1)]),
    );
    native.report(0);
    native.report(1);
    expect(await sent).toEqual({ ok: true });
    expect(native.produced.map((p) => p.partition)).toEqual([3, null]);
  });

  it('reads the topic layout: partition count and which partitions have a leader', async () => {
    const { native, producer } = await connected();
    native.metadata = {
      err: null,
      metadata: {
        topics: [
          { name: 'other', partitions: [{ id: 0, leader: 1 }] },
          {
            name: 't',
            partitions: [
              { id: 1, leader: -1 },
              { id: 0, leader: 1 },
              { id: 2, leader: 3 },
            ],
          },
        ],
      },
    };
    expect(await producer.topicLayout('t', 1000)).toEqual({ partitions: 3, hasLeader: [true, false, true] });
  });

  it('rejects a layout read for a topic without partitions, or when the request fails', async () => {
    const { native, producer } = await connected();
    native.metadata = { err: null, metadata: { topics: [{ name: 't', partitions: [] }] } };
    await expect(producer.topicLayout('t', 1000)).rejects.toThrow(/topic t has no partitions/);
    native.metadata = { err: null, metadata: { topics: [] } };
    await expect(producer.topicLayout('t', 1000)).rejects.toThrow(/topic t has no partitions/);
    native.metadata = { err: { message: 'Local: Broker transport failure', code: -195, errno: -195, origin: 'local' } };
    await expect(producer.topicLayout('t', 1000)).rejects.toThrow(/Broker transport failure/);
  });

  it('resolves once every message is acknowledged, telling which', async () => {
    const { native, producer } = await connected();
    const acked: number[] = [];
    const sent = settled(producer.send('t', messages(3), (i) => acked.push(i)));
    native.report(2);
    native.report(0);
    native.report(1);
    expect(await sent).toEqual({ ok: true });
    expect(acked).toEqual([2, 0, 1]);
  });

  it('rejects with the first failure after every report, having told the acknowledged ones', async () => {
    const { native, producer } = await connected();
    const acked: number[] = [];
    const sent = settled(producer.send('t', messages(3), (i) => acked.push(i)));
    native.report(0);
    native.report(1, { message: 'Local: Message timed out', code: -192 });
    native.report(2);
    const result = await sent;
    expect(result.ok).toBe(false);
    expect((result.error as { code: number }).code).toBe(-192);
    expect(acked).toEqual([0, 2]);
  });

  it('ignores delivery reports that are not its own', async () => {
    const { native, producer } = await connected();
    const sent = settled(producer.send('t', messages(1)));
    expect(() => native.emit('delivery-report', null, { opaque: { report: 'not ours' } })).not.toThrow();
    expect(() => native.emit('delivery-report', null, undefined)).not.toThrow();
    expect(() => native.emit('delivery-report', null, { opaque: 42 })).not.toThrow();
    native.report(0);
    expect(await sent).toEqual({ ok: true });
  });

  it('on a fatal error fails what is pending at once, and every later send', async () => {
    const { native, producer } = await connected();
    const acked: number[] = [];
    const sent = settled(producer.send('t', messages(3), (i) => acked.push(i)));
    native.report(0);
    // What the client emits for RD_KAFKA_RESP_ERR__FATAL: the text only, code -1.
    native.emit('event.error', Object.assign(new Error('fatal error'), { code: -1, origin: 'local' }));

    const result = await sent;
    expect(result.ok).toBe(false);
    expect(result.error).toBeInstanceOf(ProduceError);
    expect((result.error as ProduceError).kafkaName).toBe('ERR__FATAL');
    expect((result.error as ProduceError).message).toMatch(/fatal error.*new producer/);
    expect(acked).toEqual([0]);
    expect(producer.fatalError).toBe(result.error);
    expect(logger.errors.join('\n')).toMatch(/fatal/);

    // Late reports of the failed send change nothing.
    native.report(1);
    expect((await settled(producer.send('t', messages(1)))).error).toBe(producer.fatalError);
  });

  it('treats a produce refused with ERR__FATAL as fatal and stops producing the rest', async () => {
    const { native, producer } = await connected();
    native.throwOnProduce = Object.assign(new Error('Local: Fatal error'), { code: -150 });
    const produce = jest.spyOn(native, 'produce');
    const result = await settled(producer.send('t', messages(3)));
    expect(produce).toHaveBeenCalledTimes(1);
    expect(result.error).toBeInstanceOf(ProduceError);
    expect(producer.fatalError).toBeDefined();
  });

  it('counts a message the local queue refused as failed, and still waits for the others', async () => {
    const { native, producer } = await connected();
    let calls = 0;
    const produce = native.produce.bind(native);
    native.produce = (...args: Parameters<FakeNative['produce']>) => {
      if (calls++ === 1) throw Object.assign(new Error('Local: Queue full'), { code: -184 });
      produce(...args);
    };
    const sent = settled(producer.send('t', messages(3)));
    native.report(0);
    native.report(1);
    const result = await sent;
    expect((result.error as { code: number }).code).toBe(-184);
    expect(producer.fatalError).toBeUndefined();
  });
});

describe('DeliveryProducer.disconnect', () => {
  it('waits for a metadata request in progress, then refuses new ones', async () => {
    const { native, producer } = await connected();
    native.holding = true;
    native.metadata = { err: null, metadata: { topics: [{ name: 't', partitions: [{ id: 0, leader: 1 }] }] } };
    const layout = producer.topicLayout('t', 1_000);
    const disconnecting = producer.disconnect();
    await new Promise((r) => setImmediate(r));
    // The binding would free the client under the request: no disconnect before it answered.
    expect(native.disconnected).toBe(false);
    native.holdMetadata?.();
    await disconnecting;
    expect(native.disconnected).toBe(true);
    await expect(layout).resolves.toEqual({ partitions: 1, hasLeader: [true] });
    await expect(producer.topicLayout('t', 1_000)).rejects.toThrow(/closing/);
  });

  it('disconnects the client once however often it is called', async () => {
    const { native, producer } = await connected();
    await Promise.all([producer.disconnect(), producer.disconnect()]);
    await producer.disconnect();
    expect(native.disconnects).toBe(1);
  });
});
