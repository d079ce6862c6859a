import { consumeRaw, createTopic, produceRaw } from '../harness/kafka';
import { sharedKafka } from '../harness/stack';

describe('the real Kafka broker', () => {
  it('round-trips a record with key, value and headers through @confluentinc/kafka-javascript', async () => {
    const topic = await createTopic({ partitions: 3 });
    await produceRaw(topic, [{ key: 'trace-1', value: Buffer.from('payload'), headers: { 'content-type': 'x' } }]);

    const [record, ...rest] = await consumeRaw(topic, 1);

    expect(rest).toHaveLength(0);
    expect(record?.key?.toString()).toBe('trace-1');
    expect(record?.value?.toString()).toBe('payload');
    expect(record?.headers['content-type']?.toString()).toBe('x');
  });

  it('keeps acknowledged records across a kill -9 and restart of the broker', async () => {
    const topic = await createTopic({ partitions: 1 });
    await produceRaw(topic, [{ key: 'k', value: 'before the crash' }]);
    const broker = sharedKafka();

    await broker.kill();
    expect(await broker.isReady()).toBe(false);
    await broker.start();

    const [record] = await consumeRaw(topic, 1);
    expect(record?.value?.toString()).toBe('before the crash');
  });
});
