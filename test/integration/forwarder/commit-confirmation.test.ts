// A commit counts only once Kafka holds it. The client library reports commitOffsets() done as soon as the
// commit is queued; with the broker frozen (connections open, nothing answered) the forwarder must not
// report — in health() or by skipping a later commit — an offset Kafka does not have, and once the broker
// answers again Kafka's committed offsets reach the end. Freezes the shared broker, and thaws it afterwards.
import { createTopic, endOffsets, committedOffsets } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { sharedKafka } from '../harness/stack';
import { ledgerOf, makeTraces, traceRecords, waitForAllSpans } from '../harness/traffic';
import { produceRaw } from '../harness/kafka';
import { GatedSink, forwarderConfig, startForwarder, waitForCommitsAtEnd } from './helpers';
import { endpoints } from '../harness/stack';

jest.setTimeout(120_000);

const broker = sharedKafka();

afterAll(() => {
  broker.freeze(false);
});

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMillis = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('forwarder: commits confirmed by Kafka', () => {
  it('does not count a commit Kafka has not stored, and commits to the end once the broker answers', async () => {
    const topic = await createTopic({ partitions: 1 });
    const service = uniqueName('commit-confirm');
    const traces = makeTraces(service, 40, 2);
    await produceRaw(topic, traceRecords(traces));
    const end = (await endOffsets(topic)).get(0)!;
    const sink = new GatedSink(endpoints.jaegerOtlpHttpUrl);
    const config = forwarderConfig(topic, { sink, forwarder: { commitIntervalMillis: 100 } });
    const forwarder = await startForwarder(config);

    // Everything fetched and held in flight at the sink; nothing accepted, so nothing committed yet.
    await until('every record in flight', () => forwarder.health().partitions[0]?.pendingRecords === end);
    broker.freeze(true);
    try {
      sink.open();
      await waitForAllSpans(ledgerOf(traces), service, { timeoutMillis: 30_000 });
      await until('the sink to settle', () => forwarder.health().partitions[0]?.pendingRecords === 0);
      // Twenty commit intervals with every record accepted: each one sends a commit that Kafka cannot store.
      const watchUntil = Date.now() + 2_000;
      while (Date.now() < watchUntil) {
        expect(forwarder.health().partitions[0]?.committedOffset ?? -1).toBeLessThan(end);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      broker.freeze(false);
    }
    await waitForCommitsAtEnd(config.forwarder!.groupId!, topic, 60_000);
    expect((await committedOffsets(config.forwarder!.groupId!, topic)).get(0)).toBe(end);
    await until('health to show the commit', () => forwarder.health().partitions[0]?.committedOffset === end);
  });
});
