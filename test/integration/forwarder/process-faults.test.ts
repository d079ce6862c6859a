// The forwarder as its own process: killed with -9 mid-backlog and restarted (nothing lost; duplicates only
// from the records after the committed offsets, within the bound the config sets), and SIGTERM (drains and commits
// within the stop timeout; everything below the committed offsets is in Jaeger).
import { setTimeout as delay } from 'node:timers/promises';

import { consumeRaw, committedOffsets, createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { getTrace } from '../harness/jaeger';
import { accountInJaeger, produceTraces } from '../harness/traffic';
import type { SpanLedger } from '../harness/traffic';
import { spawnForwarder } from './child';
import { forwarderConfig } from './helpers';
import { forwarderKilledMidBacklog } from './fault-scenarios';

jest.setTimeout(180_000);

/** Resolves as soon as Jaeger has any one of the expected traces (a cheap poll: one GET per trace id). */
async function waitForFirstTrace(expected: SpanLedger): Promise<void> {
  const ids = [...expected.keys()];
  const deadline = Date.now() + 60_000;
  for (let i = 0; ; i++) {
    if ((await getTrace(ids[i % ids.length]!)).length > 0) return;
    if (Date.now() > deadline) throw new Error('no trace reached Jaeger within 60 s');
    if (i % ids.length === ids.length - 1) await delay(20);
  }
}

describe('forwarder process faults', () => {
  it('killed with -9 mid-backlog and restarted: nothing lost, duplicates only from the uncommitted window', async () => {
    const r = await forwarderKilledMidBacklog();
    expect(r.lost).toBe(0);
  });

  it('SIGTERM: drains, commits within the stop timeout, and every record below the commit is in Jaeger', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('sigterm');
    const expected = await produceTraces(topic, service, 4_000);
    const stopTimeoutMillis = 5_000;
    const config = forwarderConfig(topic, {
      forwarder: { batch: { maxRecords: 50 }, commitIntervalMillis: 60_000, stopTimeoutMillis },
    });
    const groupId = config.forwarder!.groupId!;
    const child = spawnForwarder(config);
    await child.waitFor('started');
    await waitForFirstTrace(expected);

    const t0 = Date.now();
    child.process.kill('SIGTERM');
    const exit = await child.exited;
    const stopMillis = Date.now() - t0;

    expect(exit.code).toBe(0);
    expect(stopMillis).toBeLessThan(stopTimeoutMillis + 5_000);
    // With a 60 s commit interval, only the stop itself can have committed.
    const committed = await committedOffsets(groupId, topic);
    const records = await consumeRaw(topic, 4_000, { timeoutMillis: 60_000 });
    const account = await accountInJaeger(expected, service);
    let below = 0;
    for (const r of records) {
      if (Number(r.offset) >= (committed.get(r.partition) ?? -1)) continue;
      below++;
      const traceId = r.key!.toString();
      const stored = account.found.get(traceId);
      expect(stored?.size).toBe(expected.get(traceId)!.size);
    }
    expect(below).toBeGreaterThan(0);
  });
});
