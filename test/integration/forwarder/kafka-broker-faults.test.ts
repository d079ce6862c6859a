// The broker killed with -9 and restarted while the forwarder runs: it reconnects by itself and forwards
// what was produced before and after. Restarts the shared broker, so it leaves it running.
import { OtelKafkaJaegerError } from '../../../src/errors/errors';
import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import { createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { sharedKafka } from '../harness/stack';
import { mergeLedgers, produceTraces, waitForAllSpans } from '../harness/traffic';
import { forwarderConfig, startForwarder } from './helpers';

jest.setTimeout(180_000);

const broker = sharedKafka();

afterAll(async () => {
  await broker.start();
});

describe('forwarder: broker killed with -9', () => {
  it('reconnects by itself and forwards everything from before and after the crash', async () => {
    const topic = await createTopic({ partitions: 3 });
    const service = uniqueName('broker-kill');
    const forwarder = await startForwarder(forwarderConfig(topic));
    const before = await produceTraces(topic, service, 1_000);
    await waitForAllSpans(before, service, { timeoutMillis: 60_000 });

    await broker.kill();
    await broker.start();
    const after = await produceTraces(topic, service, 1_000);

    const account = await waitForAllSpans(mergeLedgers(before, after), service, { timeoutMillis: 120_000 });
    expect(account.missing).toBe(0);
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
