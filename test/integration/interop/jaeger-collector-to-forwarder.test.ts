// Interop: Jaeger v2 running as a collector (its kafka exporter, encoding otlp_proto) receives OTLP from a
// client and writes a topic; our forwarder drains that topic into a second Jaeger; every span is found.
import { freeJaegerPorts, JaegerInstance } from '../../../scripts/stack/stack';
import { expectEachSpanOnce, forwarderConfig, startForwarder } from '../forwarder/helpers';
import { postOtlpProto } from '../harness/jaeger';
import { createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { encodeOtlpProto } from '../harness/otlp';
import { ledgerOf, makeTraces, mergeLedgers, waitForAllSpans } from '../harness/traffic';
import { endpoints } from '../harness/stack';

describe('interop: Jaeger v2 collector → Kafka → our forwarder → Jaeger', () => {
  let collector: JaegerInstance;
  let topic: string;

  beforeAll(async () => {
    topic = await createTopic({ partitions: 3 });
    collector = new JaegerInstance({
      name: uniqueName('jaeger-collector'),
      ports: await freeJaegerPorts(),
      kafkaExporter: { brokers: endpoints.kafkaBrokers, topic },
    });
    await collector.start();
  });

  afterAll(async () => {
    await collector.destroy();
  });

  it("drains the topic Jaeger's kafka exporter wrote: every span arrives in the other Jaeger", async () => {
    const service = uniqueName('interop');
    const config = forwarderConfig(topic);
    await startForwarder(config);
    const ledgers = [];
    for (let i = 0; i < 10; i++) {
      const traces = makeTraces(service, 20);
      // One OTLP/HTTP request of 20 traces at a time, as an SDK's BatchSpanProcessor would send.
      expect(await postOtlpProto(encodeOtlpProto(traces.flat()), collector.otlpHttpUrl)).toBe(200);
      ledgers.push(ledgerOf(traces));
    }

    const expected = mergeLedgers(...ledgers);
    const account = await waitForAllSpans(expected, service, { timeoutMillis: 60_000 });
    expect(account.missing).toBe(0);
    expect(account.unexpected).toBe(0);
    // Every span already arrived, so the collector had written all of it: the end offsets are final.
    await expectEachSpanOnce(expected, service, config.forwarder!.groupId!, topic);
  });
});
