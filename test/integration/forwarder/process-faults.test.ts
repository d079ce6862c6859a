// The forwarder as its own process: killed with -9 mid-batch and restarted (nothing lost; duplicates only
// from the records after the committed offsets, the in-flight window), and SIGTERM (drains and commits
// within the stop timeout; everything below the committed offsets is in Jaeger).
import { setTimeout as delay } from 'node:timers/promises';

import { consumeRaw, committedOffsets, createTopic, endOffsets } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { getTrace } from '../harness/jaeger';
import { accountInJaeger, produceTraces, spanCount, waitForAllSpans } from '../harness/traffic';
import type { SpanLedger } from '../harness/traffic';
import { spawnForwarder } from './child';
import { forwarderConfig } from './helpers';

jest.setTimeout(180_000);

const SPANS_PER_TRACE = 5;

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
  it('killed with -9 mid-batch and restarted: nothing lost, duplicates only from the uncommitted window', async () => {
    const topic = await createTopic({ partitions: 3 });
    const service = uniqueName('crash');
    const expected = await produceTraces(topic, service, 6_000);
    const config = forwarderConfig(topic, {
      forwarder: { batch: { maxRecords: 50 }, maxInFlightRequests: 1, commitIntervalMillis: 200 },
    });
    // The dead member holds its partitions until its session times out: keep that short for the test.
    config.kafka!.rdkafka = { 'session.timeout.ms': 6_000, 'heartbeat.interval.ms': 1_000 };
    const groupId = config.forwarder!.groupId!;

    const first = spawnForwarder(config);
    await first.waitFor('started');
    // Kill once the first offsets are committed: progress made, most of the backlog still ahead.
    const deadline = Date.now() + 60_000;
    while ([...(await committedOffsets(groupId, topic)).values()].every((o) => o <= 0)) {
      if (Date.now() > deadline) throw new Error('the forwarder committed nothing within 60 s');
      await delay(20);
    }
    first.process.kill('SIGKILL');
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    const before = spanCount((await accountInJaeger(expected, service)).found);
    // What a restart must redo: everything after the committed offsets.
    const [committed, end] = await Promise.all([committedOffsets(groupId, topic), endOffsets(topic)]);
    const window = [...end].reduce((n, [p, high]) => n + high - Math.max(0, committed.get(p) ?? 0), 0);
    expect(before).toBeLessThan(spanCount(expected)); // killed mid-flow, not after the end

    const second = spawnForwarder(config);
    await second.waitFor('started');
    const account = await waitForAllSpans(expected, service, { timeoutMillis: 120_000 });
    second.process.kill('SIGTERM');
    await second.exited;

    expect(account.missing).toBe(0);
    expect(account.unexpected).toBe(0);
    expect(account.duplicates).toBeLessThanOrEqual(window * SPANS_PER_TRACE);
    expect(window).toBeLessThan(6_000); // some offsets were committed before the kill
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
