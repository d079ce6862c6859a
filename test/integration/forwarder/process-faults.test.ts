// The forwarder as its own process: killed with -9 mid-backlog and restarted (nothing lost; duplicates only
// from the records after the committed offsets, within the bound the config sets), and SIGTERM (drains and commits
// within the stop timeout; everything below the committed offsets is in Jaeger).
import { setTimeout as delay } from 'node:timers/promises';

import { consumeRaw, committedOffsets, createTopic, endOffsets } from '../harness/kafka';
import type { ConsumedRecord } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { getTrace } from '../harness/jaeger';
import { accountInJaeger, produceTraces, spanCount, waitForAllSpans } from '../harness/traffic';
import type { JaegerAccount, SpanLedger } from '../harness/traffic';
import { spawnForwarder } from './child';
import { forwarderConfig } from './helpers';

jest.setTimeout(180_000);

const SPANS_PER_TRACE = 5;

/** Spans of `traceId` Jaeger had in `account`. */
function account(jaeger: JaegerAccount, traceId: string): number {
  return jaeger.found.get(traceId)?.size ?? 0;
}

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
    const topic = await createTopic({ partitions: 3 });
    const service = uniqueName('crash');
    const traces = 4_000;
    const expected = await produceTraces(topic, service, traces);
    const records = await consumeRaw(topic, traces, { timeoutMillis: 60_000 });
    const maxRecords = 50;
    const maxInFlightRequests = 1;
    const commitIntervalMillis = 200;
    // Each sink request takes at least this long: the child can accept at most
    // maxInFlightRequests × maxRecords records per MIN_REQUEST_MILLIS, whatever the machine's speed.
    const MIN_REQUEST_MILLIS = 100;
    const config = forwarderConfig(topic, {
      forwarder: { batch: { maxRecords }, maxInFlightRequests, commitIntervalMillis },
    });
    // The dead member holds its partitions until its session times out: keep that short for the test.
    config.kafka!.rdkafka = { 'session.timeout.ms': 6_000, 'heartbeat.interval.ms': 1_000 };
    const groupId = config.forwarder!.groupId!;

    const first = spawnForwarder(config, { minRequestMillis: MIN_REQUEST_MILLIS });
    await first.waitFor('started');
    // Kill when the record halfway into partition 0 is in Jaeger: a point in time unrelated to the commit
    // timer, with half the backlog still ahead.
    const p0 = records.filter((r) => r.partition === 0).sort((x, y) => Number(x.offset) - Number(y.offset));
    const marker = p0[Math.floor(p0.length / 2)]!.key!.toString();
    const deadline = Date.now() + 60_000;
    while ((await getTrace(marker)).length === 0) {
      if (Date.now() > deadline) throw new Error('the marker trace did not reach Jaeger within 60 s');
      await delay(10);
    }
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    // The dead process commits nothing more: this is the group's state at the kill.
    const [committed, end] = await Promise.all([committedOffsets(groupId, topic), endOffsets(topic)]);
    const atKill = await accountInJaeger(expected, service);
    const isUncommitted = (r: ConsumedRecord): boolean =>
      Number(r.offset) >= Math.max(0, committed.get(r.partition) ?? 0);
    const uncommitted = records.filter(isUncommitted);
    // Uncommitted records already in Jaeger: what a restart (from the committed offsets) sends a second time.
    const storedUncommitted = uncommitted.filter((r) => account(atKill, r.key!.toString()) > 0);
    const spansOf = (rs: ConsumedRecord[]): number => rs.reduce((n, r) => n + expected.get(r.key!.toString())!.size, 0);

    // The kill struck mid-backlog: offsets were committed, records were uncommitted, the end was not reached.
    expect([...committed.values()].some((o) => o > 0)).toBe(true);
    expect(uncommitted.length).toBeGreaterThan(0);
    expect(uncommitted.length).toBe(
      [...end].reduce((n, [p, high]) => n + high - Math.max(0, committed.get(p) ?? 0), 0),
    );
    expect(spanCount(atKill.found)).toBeLessThan(spanCount(expected));

    // README: duplicates come only from what was accepted but not yet committed (at most commitIntervalMillis
    // worth) plus the requests in flight. Accepted records reach the commit position at the next commit, one
    // interval later plus the commit's own round trip (allowed another interval); each request slot
    // completes at most one request per MIN_REQUEST_MILLIS.
    const requestsPerSlot = Math.floor((2 * commitIntervalMillis) / MIN_REQUEST_MILLIS) + 1;
    const inFlightRecords = maxInFlightRequests * maxRecords;
    const windowBound = maxInFlightRequests * requestsPerSlot * maxRecords + inFlightRecords;
    expect(storedUncommitted.length).toBeLessThanOrEqual(windowBound);

    const second = spawnForwarder(config);
    await second.waitFor('started');
    const result = await waitForAllSpans(expected, service, { timeoutMillis: 120_000 });
    second.process.kill('SIGTERM');
    await second.exited;

    expect(result.missing).toBe(0);
    expect(result.unexpected).toBe(0);
    // Only uncommitted records can come twice; and every uncommitted record Jaeger had at the kill does
    // (the restart begins exactly at the committed offsets). Requests in flight at the kill may still have
    // landed after Jaeger was read.
    expect(result.duplicates).toBeLessThanOrEqual(spansOf(uncommitted));
    expect(result.duplicates).toBeGreaterThanOrEqual(spansOf(storedUncommitted));
    expect(result.duplicates).toBeLessThanOrEqual(spansOf(storedUncommitted) + inFlightRecords * SPANS_PER_TRACE);
    expect(result.duplicates).toBeLessThanOrEqual(windowBound * SPANS_PER_TRACE);
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
