// The broker killed with -9 and restarted while the forwarder is mid-backlog (the scenario in
// fault-scenarios.ts, which `npm run chaos` repeats), and start() while the broker is down. Restarts the
// shared broker, so it leaves it running.
import { OtelKafkaJaegerError } from '../../../src/errors/errors';
import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import { createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { sharedKafka } from '../harness/stack';
import { produceTraces, waitForAllSpans } from '../harness/traffic';
import { forwarderConfig } from './helpers';
import { brokerKilledMidBacklog } from './fault-scenarios';

jest.setTimeout(180_000);

const broker = sharedKafka();

afterAll(async () => {
  await broker.start();
});

describe('forwarder: broker killed with -9', () => {
  it('killed mid-backlog (requests in flight, records uncommitted): loses nothing, commits to the end, duplicates bounded by what was uncommitted', async () => {
    const r = await brokerKilledMidBacklog();
    expect(r.lost).toBe(0);
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
