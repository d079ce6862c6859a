// Forwarders in one group under load: one joins, later the other leaves; a join revokes partitions while
// requests are in flight (commit on revoke, late results discarded); a member dies and the survivor takes
// its partitions over. Nothing is lost.
import { setTimeout as delay } from 'node:timers/promises';

import { otlpHttpSink } from '../../../src/sinks/otlp-http-sink';
import type { Sink, SinkRecord, SinkResult, SinkSendOptions } from '../../../src/sinks/sink';
import { committedOffsets, consumeRaw, createTopic, endOffsets } from '../harness/kafka';
import type { ConsumedRecord } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { produceTraces, waitForAllSpans } from '../harness/traffic';
import { GatedSink, forwarderConfig, startForwarder, waitForCommitsAtEnd } from './helpers';
import { endpoints } from '../harness/stack';
import {
  FAST_GROUP,
  SPANS_PER_TRACE,
  memberDiesMidBacklog,
  memberJoinsAndLeaves,
  owned,
  poll,
  waitForIdle,
} from './fault-scenarios';

jest.setTimeout(180_000);

describe('forwarder: two members in one group', () => {
  it('loses nothing while a member joins and another leaves under load', async () => {
    const r = await memberJoinsAndLeaves();
    expect(r.lost).toBe(0);
  });

  it('releases the buffer held by records whose partition was revoked while their request was in flight', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('revoked-in-flight');
    const produced = await produceTraces(topic, service, 40);
    const gate = new GatedSink(endpoints.jaegerOtlpHttpUrl);
    const config = forwarderConfig(topic, { forwarder: { batch: { maxRecords: 1_000, lingerMillis: 50 } } });
    const a = await startForwarder({ ...config, forwarder: { ...config.forwarder, sink: gate } });
    await poll(
      'a request in flight with both partitions',
      () => gate.waiting > 0 && a.health().partitions.length === 2,
    );

    const b = await startForwarder(config);
    await poll('a partition moved to b', () => a.health().partitions.length === 1);
    gate.open();

    const account = await waitForAllSpans(produced, service, { timeoutMillis: 60_000 });
    expect(account.missing).toBe(0);
    await waitForIdle(a);
    await waitForIdle(b);
  });

  it('commits on revoke what it accepted, before the new owner starts, and discards results that arrive later', async () => {
    const topic = await createTopic({ partitions: 4 });
    const service = uniqueName('revoke-commit');
    const traces = 3_000;
    const produced = await produceTraces(topic, service, traces);
    const where = locate(await consumeRaw(topic, traces, { timeoutMillis: 60_000 }));
    const maxInFlightRequests = 4;
    // Only a revoke or a stop commits: no timer commit can hide a missing commit on revoke.
    const config = forwarderConfig(topic, {
      forwarder: { batch: { maxRecords: 50 }, maxInFlightRequests, commitIntervalMillis: 600_000 },
    });
    config.kafka!.rdkafka = FAST_GROUP;
    const groupId = config.forwarder!.groupId!;
    const history = watchCommits(groupId, topic);

    // `a` delivers 20 requests (1,000 records), and more until every partition's first record is accepted
    // (so that whichever partitions are revoked, `a` had accepted some of them: the native intake may read
    // one partition's records ahead of another's), then its next requests hang in flight.
    const sinkA: HoldingSink = new HoldingSink(20, () =>
      [0, 1, 2, 3].some((p) => (positions(sinkA.accepted, where).get(p) ?? 0) === 0),
    );
    const a = await startForwarder({ ...config, forwarder: { ...config.forwarder, sink: sinkA } });
    await poll('a with every request slot held', () => sinkA.waiting === maxInFlightRequests && sinkA.sending === 0);
    const acceptedBeforeRevoke = positions(sinkA.accepted, where);

    // `b` joins with a sink that holds every request: it can fetch, but accept and commit nothing.
    const sinkB = new HoldingSink(0);
    const b = await startForwarder({ ...config, forwarder: { ...config.forwarder, sink: sinkB } });
    await poll('two partitions moved from a to b', () => owned(a).length === 2 && owned(b).length === 2);
    const kept = owned(a);
    const revoked = [0, 1, 2, 3].filter((p) => !kept.includes(p));
    // Premise: records of revoked partitions were in flight at the revoke, and `a` had accepted some.
    const heldRevoked = sinkA.held.filter((v) => revoked.includes(where.get(key(v))!.partition));
    expect(heldRevoked.length).toBeGreaterThan(0);
    expect(revoked.some((p) => (acceptedBeforeRevoke.get(p) ?? 0) > 0)).toBe(true);

    // Committed on revoke: exactly what `a` had accepted of each revoked partition.
    const atRevoke = await committedOffsets(groupId, topic);
    for (const p of revoked) expect([p, at(atRevoke, p)]).toEqual([p, at(acceptedBeforeRevoke, p)]);

    // `a`'s held requests now complete: Jaeger gets their spans, but `a` no longer owns the revoked
    // partitions and must not commit them, neither now nor when it stops.
    sinkA.release();
    await poll('a idle', () => a.health().inFlightRequests === 0 && sinkA.sending === 0);
    await a.stop();
    const afterStop = await committedOffsets(groupId, topic);
    for (const p of revoked) expect([p, at(afterStop, p)]).toEqual([p, at(atRevoke, p)]);
    // On stop, `a` committed everything it had accepted of the partitions it kept.
    const acceptedAtStop = positions(sinkA.accepted, where);
    for (const p of kept) expect([p, at(afterStop, p)]).toEqual([p, at(acceptedAtStop, p)]);

    sinkB.release();
    const account = await waitForAllSpans(produced, service, { timeoutMillis: 60_000 });
    await b.stop();
    await waitForCommitsAtEnd(groupId, topic);
    await history.stop();
    expect(account.missing).toBe(0);
    expect(account.unexpected).toBe(0);
    // Each new owner began exactly at the committed offset: for the revoked partitions the one committed on
    // revoke (so it was committed before `b` started fetching), for the rest the one committed on stop (where
    // that is not the end already).
    const firstOfB = firstOffsets(sinkB.sent, where);
    const end = await endOffsets(topic);
    const startOf = (committed: number, p: number): number | undefined =>
      committed < end.get(p)! ? Math.max(0, committed) : undefined;
    for (const p of revoked) expect([p, firstOfB.get(p)]).toEqual([p, startOf(at(atRevoke, p), p)]);
    for (const p of kept) expect([p, firstOfB.get(p)]).toEqual([p, startOf(at(afterStop, p), p)]);
    // The only copies: records of revoked partitions `a` delivered after the revoke, which `b` sent again.
    expect(account.duplicates).toBe(heldRevoked.length * SPANS_PER_TRACE);
    expect(history.backwards()).toEqual([]);
  });

  it('a surviving member takes over the partitions of a member that died mid-backlog', async () => {
    const r = await memberDiesMidBacklog();
    expect(r.lost).toBe(0);
  });
});

/**
 * The real OTLP/HTTP sink that lets the first `admit` requests through and holds the rest in flight until
 * {@link release}; remembers the values it was sent, holds, and had accepted.
 */
class HoldingSink implements Sink {
  readonly name = 'holding-otlp-http';
  readonly #inner: Sink = otlpHttpSink({ url: endpoints.jaegerOtlpHttpUrl, timeoutMillis: 5_000 });
  readonly sent: Buffer[] = [];
  readonly held: Buffer[] = [];
  readonly accepted: Buffer[] = [];
  #admit: number;
  readonly #needsMore: () => boolean;
  #gate: Promise<void>;
  #open: () => void = () => undefined;
  waiting = 0;
  sending = 0;

  /** Admits `admit` requests, and more while `needsMore()` says so; holds the rest until released. */
  constructor(admit: number, needsMore: () => boolean = () => false) {
    this.#admit = admit;
    this.#needsMore = needsMore;
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#admit = Infinity;
    this.#open();
  }

  async send(records: readonly SinkRecord[], options: SinkSendOptions): Promise<SinkResult | void> {
    const values = records.map((r) => r.value);
    this.sent.push(...values);
    if (this.#admit <= 0 && !this.#needsMore()) {
      this.held.push(...values);
      this.waiting++;
      await this.#gate;
      this.waiting--;
    }
    this.#admit--;
    this.sending++;
    try {
      const result = await this.#inner.send(records, options);
      this.accepted.push(...values);
      return result;
    } finally {
      this.sending--;
    }
  }

  close(): Promise<void> {
    this.release();
    return this.#inner.close();
  }
}

const watchers = new Set<() => Promise<void>>();
afterEach(async () => {
  await Promise.allSettled([...watchers].map((stop) => stop()));
});

/**
 * Commits of a group, polled (every 50 ms, and once more when stopped) until stopped; reports any partition
 * whose committed offset went back.
 */
function watchCommits(groupId: string, topic: string): { stop(): Promise<void>; backwards(): string[] } {
  let running = true;
  const last = new Map<number, number>();
  const backwards: string[] = [];
  const check = async (): Promise<void> => {
    for (const [p, offset] of await committedOffsets(groupId, topic)) {
      if (offset < (last.get(p) ?? -1)) backwards.push(`partition ${p}: ${last.get(p)} -> ${offset}`);
      last.set(p, Math.max(offset, last.get(p) ?? -1));
    }
  };
  const done = (async () => {
    while (running) {
      await check();
      await delay(50);
    }
  })();
  const stop = async (): Promise<void> => {
    running = false;
    watchers.delete(stop);
    await done;
    await check();
  };
  watchers.add(stop);
  return { stop, backwards: () => backwards };
}

/** A partition's commit position in `offsets`, -1 for none. */
const at = (offsets: Map<number, number>, partition: number): number => offsets.get(partition) ?? -1;

const key = (value: Buffer): string => value.toString('base64');

/** Where each record value sits in the topic. */
function locate(records: ConsumedRecord[]): Map<string, { partition: number; offset: number }> {
  return new Map(records.map((r) => [key(r.value!), { partition: r.partition, offset: Number(r.offset) }]));
}

/**
 * Per partition, the commit position the accepted values give a member that started at offset 0: the first
 * offset not accepted (the partition has no gaps: one producer, no transactions).
 */
function positions(accepted: Buffer[], where: Map<string, { partition: number; offset: number }>): Map<number, number> {
  const done = new Map<number, Set<number>>();
  for (const v of accepted) {
    const { partition, offset } = where.get(key(v))!;
    done.set(partition, (done.get(partition) ?? new Set()).add(offset));
  }
  const out = new Map<number, number>();
  for (const [p, offsets] of done) {
    let next = 0;
    while (offsets.has(next)) next++;
    if (next > 0) out.set(p, next);
  }
  return out;
}

/** Per partition, the lowest offset among the values. */
function firstOffsets(
  values: Buffer[],
  where: Map<string, { partition: number; offset: number }>,
): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of values) {
    const { partition, offset } = where.get(key(v))!;
    out.set(partition, Math.min(offset, out.get(partition) ?? Infinity));
  }
  return out;
}
