// Partitions added to a live topic (admin CreatePartitions) are picked up by a running forwarder within its
// topic metadata refresh (10 s): every span produced to a new partition arrives once, and the new
// partitions' commits reach their ends.
import { addPartitions, committedOffsets, createTopic, endOffsets, produceRaw } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { ledgerOf, makeTraces, mergeLedgers, traceRecords, waitForAllSpans } from '../harness/traffic';
import { expectEachSpanOnce, forwarderConfig, startForwarder } from './helpers';

describe('forwarder: partitions added to a live topic', () => {
  it('consumes the new partitions within the metadata refresh: every span arrives, commits reach the ends', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('grown');
    const config = forwarderConfig(topic);
    const groupId = config.forwarder!.groupId!;
    const forwarder = await startForwarder(config);
    const before = makeTraces(service, 10);
    await produceRaw(
      topic,
      traceRecords(before).map((r, i) => ({ ...r, partition: i % 2 })),
    );
    // Running and assigned the two partitions before the topic grows.
    await waitForAllSpans(ledgerOf(before), service, { timeoutMillis: 30_000 });

    await addPartitions(topic, 4);
    const grown = Date.now();
    const after = makeTraces(service, 20);
    await produceRaw(
      topic,
      traceRecords(after).map((r, i) => ({ ...r, partition: 2 + (i % 2) })),
    );
    expect([...(await endOffsets(topic))].sort()).toEqual([
      [0, 5],
      [1, 5],
      [2, 10],
      [3, 10],
    ]);

    const account = await waitForAllSpans(ledgerOf(after), service, { timeoutMillis: 30_000 });
    expect(account.missing).toBe(0);
    // The metadata refresh (10 s) plus a rebalance; librdkafka's default refresh would take up to 5 minutes.
    expect(Date.now() - grown).toBeLessThan(20_000);
    await expectEachSpanOnce(mergeLedgers(ledgerOf(before), ledgerOf(after)), service, groupId, topic);
    const committed = await committedOffsets(groupId, topic);
    expect([committed.get(2), committed.get(3)]).toEqual([10, 10]);
    expect(forwarder.health().partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
  });
});
