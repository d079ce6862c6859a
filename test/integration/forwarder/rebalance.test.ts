// Two forwarders in one group under load: one joins, later the other leaves. Nothing is lost.
import { setTimeout as delay } from 'node:timers/promises';

import { createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { mergeLedgers, produceTraces, waitForAllSpans } from '../harness/traffic';
import type { SpanLedger } from '../harness/traffic';
import { forwarderConfig, startForwarder } from './helpers';

jest.setTimeout(180_000);

describe('forwarder: two members in one group', () => {
  it('loses nothing while a member joins and another leaves under load', async () => {
    const topic = await createTopic({ partitions: 4 });
    const service = uniqueName('rebalance');
    const config = forwarderConfig(topic, { forwarder: { batch: { maxRecords: 100 } } });
    const produced: SpanLedger[] = [];
    const a = await startForwarder(config);
    let b: Awaited<ReturnType<typeof startForwarder>> | undefined;

    for (let round = 0; round < 12; round++) {
      produced.push(await produceTraces(topic, service, 250));
      if (round === 3) b = await startForwarder(config);
      if (round === 8) await a.stop();
      await delay(200);
    }

    const account = await waitForAllSpans(mergeLedgers(...produced), service, { timeoutMillis: 120_000 });
    expect(account.missing).toBe(0);
    expect(b!.health().partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
  });
});
