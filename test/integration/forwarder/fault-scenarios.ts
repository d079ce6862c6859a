// The single-broker fault scenarios of the forwarder, each one run with span-id accounting in Jaeger: Jaeger
// down under load and killed mid-request, the broker killed mid-backlog, the forwarder process killed
// mid-backlog, group members joining, leaving and dying. The integration tests run each once and `npm run
// chaos` repeats them (CHAOS.md); every scenario asserts what it proves and returns its {@link ScenarioResult}.
import { setTimeout as delay } from 'node:timers/promises';

import { freeJaegerPorts, JaegerInstance } from '../../../scripts/stack/stack';
import type { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import { otlpHttpSink } from '../../../src/sinks/otlp-http-sink';
import type { Sink, SinkRecord, SinkResult, SinkSendOptions } from '../../../src/sinks/sink';
import { consumeRaw, committedOffsets, createTopic, endOffsets } from '../harness/kafka';
import type { ConsumedRecord } from '../harness/kafka';
import { getTrace } from '../harness/jaeger';
import { uniqueName } from '../harness/names';
import { scenarioResult } from '../harness/scenario';
import type { ScenarioResult } from '../harness/scenario';
import { endpoints, sharedKafka } from '../harness/stack';
import {
  accountInJaeger,
  makeTraces,
  mergeLedgers,
  produceTraces,
  spanCount,
  traceRecords,
  waitForAllSpans,
} from '../harness/traffic';
import type { JaegerAccount, SpanLedger } from '../harness/traffic';
import { spawnForwarder } from './child';
import { CountingSink, forwarderConfig, startForwarder, waitForCommitsAtEnd } from './helpers';

const broker = sharedKafka();

const OUTAGE_MILLIS = 30_000;
const MAX_BUFFERED_BYTES = 1024 * 1024;
/**
 * The batch settings that make the premise (the load fills the buffer) hold: a batch is due only once more than
 * the bound is buffered (`maxBytes` one past it, `maxRecords` out of reach) or after 10 s. So the outage's first
 * request, whose failure pauses the partitions it holds, goes out only after the buffer filled up, unless
 * producing the first 1 MiB of the load took over 10 s (it takes well under one here). (With the defaults, the
 * first small request failed at once and paused every partition it touched before the buffer filled: peaks from
 * 0.1 to 1 MB, a premise that held or not by chance.) The load's last partial batch waits out the linger once
 * Jaeger is back, which adds up to 10 s to this scenario's recovery time.
 */
const BATCH = { maxBytes: MAX_BUFFERED_BYTES + 1, maxRecords: 100_000, lingerMillis: 10_000 };

async function badgerJaeger(): Promise<JaegerInstance> {
  const jaeger = new JaegerInstance({
    name: uniqueName('jaeger-outage'),
    storage: 'badger',
    ports: await freeJaegerPorts(),
  });
  await jaeger.start();
  return jaeger;
}

/** Polls (bounded) until `condition` holds. */
export async function poll(what: string, condition: () => boolean, timeoutMillis = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await delay(50);
  }
}

/** Records in the dead-letter topic; 0 when it does not exist (never created). Any other error fails. */
async function dlqRecordCount(topic: string): Promise<number> {
  try {
    return [...(await endOffsets(topic)).values()].reduce((a, b) => a + b, 0);
  } catch (err) {
    if ((err as { type?: string }).type === 'ERR_UNKNOWN_TOPIC_OR_PART') return 0;
    throw err;
  }
}

/** The largest record value `produceTraces` writes for this service (op names grow with the index in a chunk). */
function largestRecordBytes(service: string): number {
  return Math.max(...traceRecords(makeTraces(service, 500)).map((r) => (r.value as Buffer).length));
}

/**
 * The real OTLP/HTTP sink that lets the first `passFirst` requests through and holds every later one (in
 * flight) until {@link open}: the forwarder is then mid-delivery for as long as the test wants.
 */
class HoldAfterSink implements Sink {
  readonly name = 'hold-after-otlp-http';
  readonly #inner = otlpHttpSink({ url: endpoints.jaegerOtlpHttpUrl, timeoutMillis: 5_000 });
  readonly #passFirst: number;
  #opened = false;
  #release: () => void = () => undefined;
  readonly #gate = new Promise<void>((resolve) => (this.#release = resolve));
  started = 0;
  held = 0;
  accepted = 0;
  acceptedRecords = 0;

  constructor(passFirst: number) {
    this.#passFirst = passFirst;
  }

  open(): void {
    this.#opened = true;
    this.#release();
  }

  async send(records: readonly SinkRecord[], options: SinkSendOptions): Promise<SinkResult | void> {
    if (++this.started > this.#passFirst && !this.#opened) {
      this.held++;
      await this.#gate;
      this.held--;
    }
    const result = await this.#inner.send(records, options);
    this.accepted++;
    this.acceptedRecords += records.length;
    return result;
  }

  close(): Promise<void> {
    this.open();
    return this.#inner.close();
  }
}

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await delay(50);
  }
}

const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + Math.max(0, b), 0);

export const SPANS_PER_TRACE = 5;

/** Spans of `traceId` Jaeger had in `account`. */
function account(jaeger: JaegerAccount, traceId: string): number {
  return jaeger.found.get(traceId)?.size ?? 0;
}

// Rebalances within seconds: a member notices one at its next heartbeat, and a dead member's partitions
// move when its session times out (6 s: the broker's group.min.session.timeout.ms).
export const FAST_GROUP = { 'session.timeout.ms': 6_000, 'heartbeat.interval.ms': 500 };

/** The partitions a member owns now. */
export const owned = (f: KafkaToJaegerForwarder): number[] =>
  f
    .health()
    .partitions.filter((p) => p.assigned)
    .map((p) => p.partition);

/** Polls (bounded) until the forwarder buffers nothing and has no request in flight. */
export async function waitForIdle(forwarder: KafkaToJaegerForwarder): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { bufferedBytes, inFlightRequests } = forwarder.health();
    if (bufferedBytes === 0 && inFlightRequests === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`forwarder not idle: ${bufferedBytes} bytes buffered, ${inFlightRequests} requests in flight`);
    }
    await delay(100);
  }
}

/**
 * Jaeger (its own, on Badger storage, which keeps data across restarts) stopped for 30 s while spans keep
 * coming: the forwarder pauses, backs off (a bounded number of sink attempts, not a spin), keeps memory
 * bounded, and once Jaeger is back delivers everything, with nothing dead-lettered. Recovery: from Jaeger's
 * restart to every span in it.
 */
export async function jaegerOutageUnderLoad(): Promise<ScenarioResult> {
  const jaeger = await badgerJaeger();
  try {
    const topic = await createTopic({ partitions: 4 });
    const service = uniqueName('outage');
    const sink = new CountingSink(jaeger.otlpHttpUrl);
    const config = forwarderConfig(topic, {
      sink,
      forwarder: {
        maxBufferedBytes: MAX_BUFFERED_BYTES,
        batch: BATCH,
      },
    });
    const forwarder = await startForwarder(config);
    const before = await produceTraces(topic, service, 500);
    await waitForAllSpans(before, service, { queryUrl: jaeger.queryUrl, timeoutMillis: 60_000 });

    await jaeger.stop();
    const outageStart = Date.now();
    const attemptsAtStart = sink.attempts;
    // Load during the outage: more than the forwarder may buffer.
    const during = await produceTraces(topic, service, 3_000);
    await poll('every partition paused', () => forwarder.health().partitions.every((p) => p.paused), 20_000);
    let maxBuffered = 0;
    while (Date.now() - outageStart < OUTAGE_MILLIS) {
      maxBuffered = Math.max(maxBuffered, forwarder.health().bufferedBytes);
      await delay(20);
    }
    const outageAttempts = sink.attempts - attemptsAtStart;
    const health = forwarder.health();
    const endDuringOutage = await endOffsets(topic);
    for (const p of health.partitions) {
      expect(p.paused).toBe(true);
      expect(p.pauseReasons.length).toBeGreaterThan(0);
      // Paused partitions fetch nothing, yet their end offset and lag are current (asked of the broker).
      expect(p.highWatermark).toBe(endDuringOutage.get(p.partition));
      expect(p.lag).toBeGreaterThan(0);
    }
    // The partitions whose requests failed say why; the others were paused because the buffer was full.
    const failing = health.partitions.filter((p) => p.pauseReasons.includes('sink-failing'));
    expect(failing.length).toBeGreaterThan(0);
    for (const p of failing) expect(p.lastError?.message).toMatch(/ECONNREFUSED|connect|refused/i);

    await jaeger.start();
    const restartedAt = Date.now();
    const all = mergeLedgers(before, during);
    const account = await waitForAllSpans(all, service, { queryUrl: jaeger.queryUrl, timeoutMillis: 90_000 }).catch(
      (err: Error) => {
        throw new Error(`${err.message}\nforwarder health: ${JSON.stringify(forwarder.health(), null, 1)}`);
      },
    );

    const recoverMillis = Date.now() - restartedAt;
    expect(account.missing).toBe(0);
    expect(spanCount(all)).toBe(17_500);
    // Backoff, not a spin: 100 ms doubling to 2 s, at most 2 requests in flight, over 30 s.
    expect(outageAttempts).toBeGreaterThan(2);
    expect(outageAttempts).toBeLessThan(80);
    // Memory bounded. Records are only added from the consumer's batches, and the record that takes the buffer
    // past maxBufferedBytes pauses every partition: the rest of its batch and whatever the client still hands over
    // for a paused partition are dropped (read again after the resume). The buffer exceeds its bound by at most
    // the largest record.
    // During the outage nothing is released, so the buffer only grows and sampling it catches its peak.
    const bound = MAX_BUFFERED_BYTES + largestRecordBytes(service);
    process.stderr.write(
      `jaeger-outage: peak buffer ${maxBuffered} B, maxBufferedBytes ${MAX_BUFFERED_BYTES} B, bound ${bound} B\n`,
    );
    // The load did fill the buffer past maxBufferedBytes (the premise), and it stayed under the bound.
    expect(maxBuffered).toBeGreaterThan(MAX_BUFFERED_BYTES);
    expect(maxBuffered).toBeLessThanOrEqual(bound);
    expect(health.partitions.some((p) => p.pauseReasons.includes('buffer-full'))).toBe(true);

    // Recovered: every partition committed up to its end offset, nothing dead-lettered, nothing left buffered.
    await waitForCommitsAtEnd(config.forwarder!.groupId!, topic, 30_000);
    expect(await dlqRecordCount(forwarder.deadLetterTopic)).toBe(0);
    await poll(
      'partitions resumed and the buffer empty',
      () => {
        const h = forwarder.health();
        return h.partitions.every((p) => !p.paused) && h.bufferedBytes === 0;
      },
      10_000,
    );
    return scenarioResult(all, await accountInJaeger(all, service, jaeger.queryUrl), recoverMillis);
  } finally {
    await jaeger.destroy();
  }
}

/** Jaeger killed with -9 in the middle of requests, restarted 2 s later: nothing lost. Recovery as above. */
export async function jaegerKilledMidRequests(): Promise<ScenarioResult> {
  const jaeger = await badgerJaeger();
  try {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('kill9');
    const sink = new CountingSink(jaeger.otlpHttpUrl);
    const expected = await produceTraces(topic, service, 4_000);
    await startForwarder(forwarderConfig(topic, { sink, forwarder: { batch: { maxRecords: 100 } } }));

    // Kill while requests are flowing: after the first successes, before the backlog is through.
    await poll('the first accepted requests', () => sink.successes >= 3, 60_000);
    await jaeger.kill();
    const killedAfter = sink.successes;
    await delay(2_000);
    await jaeger.start();
    const restartedAt = Date.now();

    const account = await waitForAllSpans(expected, service, { queryUrl: jaeger.queryUrl, timeoutMillis: 120_000 });
    const recoverMillis = Date.now() - restartedAt;
    expect(account.missing).toBe(0);
    expect(sink.failures).toBeGreaterThan(0);
    expect(killedAfter).toBeLessThan(40); // the kill happened mid-backlog (40 requests of 100 traces)
    return scenarioResult(expected, account, recoverMillis);
  } finally {
    await jaeger.destroy();
  }
}

/**
 * The broker killed with -9 while the forwarder is mid-backlog (requests in flight, records fetched and not
 * sent, accepted and not committed), restarted: it reconnects by itself, forwards what was produced before and
 * after, and commits to the end; duplicates bounded by what was uncommitted. Recovery: from the broker's
 * restart to commits at the end, forwarding the 1,000 traces produced after the restart included.
 */
export async function brokerKilledMidBacklog(): Promise<ScenarioResult> {
  try {
    const topic = await createTopic({ partitions: 3 });
    const service = uniqueName('broker-kill');
    const before = await produceTraces(topic, service, 3_000);
    const sink = new HoldAfterSink(5);
    const config = forwarderConfig(topic, { sink, forwarder: { batch: { maxRecords: 100 } } });
    const groupId = config.forwarder!.groupId!;
    const forwarder = await startForwarder(config);

    // Mid-backlog: the first requests accepted and committed, later ones held in flight, most records not sent.
    await until('requests held in flight', () => sink.accepted >= 5 && sink.held >= 1, 60_000);
    await until(
      'the accepted records committed',
      async () => sum(await committedOffsets(groupId, topic)) >= sink.acceptedRecords,
      20_000,
    );
    const [committedAtKill, endAtKill] = await Promise.all([committedOffsets(groupId, topic), endOffsets(topic)]);
    const uncommittedAtKill = sum(endAtKill) - sum(committedAtKill);
    await broker.kill();
    const heldAtKill = sink.held;
    expect(heldAtKill).toBeGreaterThan(0);
    expect(uncommittedAtKill).toBeGreaterThan(0);
    expect(uncommittedAtKill).toBeLessThan(3_000);

    // The held requests reach Jaeger while the broker is down: accepted, and their commits must wait for it.
    sink.open();
    await until('a request accepted with the broker down', () => sink.accepted > 5, 20_000);
    await broker.start();
    const restartedAt = Date.now();
    const after = await produceTraces(topic, service, 1_000);

    const account = await waitForAllSpans(mergeLedgers(before, after), service, { timeoutMillis: 120_000 });
    await waitForCommitsAtEnd(groupId, topic, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\nforwarder health: ${JSON.stringify(forwarder.health())}`);
    });
    const recoverMillis = Date.now() - restartedAt;
    process.stderr.write(
      `broker-kill: uncommitted at the kill ${uncommittedAtKill} records (${heldAtKill} requests held), ` +
        `duplicates ${account.duplicates} spans\n`,
    );
    expect(account.missing).toBe(0);
    expect(account.unexpected).toBe(0);
    // Only records not committed at the kill may be sent twice (5 spans a record).
    expect(account.duplicates).toBeLessThanOrEqual(uncommittedAtKill * 5);
    expect(forwarder.health().state).toBe('running');
    return scenarioResult(mergeLedgers(before, after), account, recoverMillis);
  } finally {
    await broker.start();
  }
}

/**
 * The forwarder as its own process killed with -9 mid-backlog and restarted: nothing lost; duplicates only from
 * the records after the committed offsets, within the bound the config sets. Recovery: from the restart to
 * every span in Jaeger (the rest of the backlog, at most 500 records a second, forwarded).
 */
export async function forwarderKilledMidBacklog(): Promise<ScenarioResult> {
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
  expect(uncommitted.length).toBe([...end].reduce((n, [p, high]) => n + high - Math.max(0, committed.get(p) ?? 0), 0));
  expect(spanCount(atKill.found)).toBeLessThan(spanCount(expected));

  // README: duplicates come only from what was accepted but not yet committed (at most commitIntervalMillis
  // worth) plus the requests in flight. Accepted records reach the commit position at the next commit, one
  // interval later plus the commit's own round trip (allowed another interval); each request slot
  // completes at most one request per MIN_REQUEST_MILLIS.
  const requestsPerSlot = Math.floor((2 * commitIntervalMillis) / MIN_REQUEST_MILLIS) + 1;
  const inFlightRecords = maxInFlightRequests * maxRecords;
  const windowBound = maxInFlightRequests * requestsPerSlot * maxRecords + inFlightRecords;
  expect(storedUncommitted.length).toBeLessThanOrEqual(windowBound);

  const restartedAt = Date.now();
  const second = spawnForwarder(config);
  await second.waitFor('started');
  const result = await waitForAllSpans(expected, service, { timeoutMillis: 120_000 });
  const recoverMillis = Date.now() - restartedAt;
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
  return scenarioResult(expected, result, recoverMillis);
}

/**
 * Two members of one group under load: one joins, later the other leaves; nothing lost. Recovery: from the
 * leave to the other member owning every partition.
 */
export async function memberJoinsAndLeaves(): Promise<ScenarioResult> {
  const topic = await createTopic({ partitions: 4 });
  const service = uniqueName('rebalance');
  const config = forwarderConfig(topic, { forwarder: { batch: { maxRecords: 100 } } });
  const produced: SpanLedger[] = [];
  const a = await startForwarder(config);
  let b: Awaited<ReturnType<typeof startForwarder>> | undefined;
  let takeoverMillis = 0;

  for (let round = 0; round < 12; round++) {
    produced.push(await produceTraces(topic, service, 250));
    if (round === 3) b = await startForwarder(config);
    if (round === 8) {
      // Before `a` leaves: once everything so far is stored, `a` holds nothing, although it lost partitions
      // to `b` with requests in flight (their records must not stay counted against its buffer bound).
      await waitForAllSpans(mergeLedgers(...produced), service, { timeoutMillis: 120_000 });
      await waitForIdle(a);
      await a.stop();
      const leftAt = Date.now();
      await poll('b owns every partition', () => owned(b!).length === 4, 30_000);
      takeoverMillis = Date.now() - leftAt;
    }
    await delay(200);
  }

  const all = mergeLedgers(...produced);
  const account = await waitForAllSpans(all, service, { timeoutMillis: 120_000 });
  expect(account.missing).toBe(0);
  expect(b!.health().partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
  await waitForIdle(b!);
  return scenarioResult(all, account, takeoverMillis);
}

/**
 * A member (its own process) killed with -9 mid-backlog: the survivor takes its partitions over when its
 * session times out, and nothing is lost. Recovery: from the kill to every span in Jaeger and commits at the end.
 */
export async function memberDiesMidBacklog(): Promise<ScenarioResult> {
  const topic = await createTopic({ partitions: 4 });
  const service = uniqueName('dead-member');
  const traces = 4_000;
  const produced = await produceTraces(topic, service, traces);
  const config = forwarderConfig(topic, {
    forwarder: { batch: { maxRecords: 50 }, maxInFlightRequests: 1, commitIntervalMillis: 200 },
  });
  config.kafka!.rdkafka = FAST_GROUP;
  const groupId = config.forwarder!.groupId!;

  // The member that dies: its own process, slowed to at most 500 records/s so it dies with a backlog.
  const doomed = spawnForwarder(config, { minRequestMillis: 100 });
  await doomed.waitFor('started');
  const survivor = await startForwarder(config);
  await poll('the partitions split between both members', () => owned(survivor).length === 2, 30_000);
  const mine = owned(survivor);
  const theirs = [0, 1, 2, 3].filter((p) => !mine.includes(p));

  doomed.process.kill('SIGKILL');
  expect((await doomed.exited).signal).toBe('SIGKILL');
  const killedAt = Date.now();
  const [committed, end] = await Promise.all([committedOffsets(groupId, topic), endOffsets(topic)]);
  const backlog = theirs.reduce((n, p) => n + end.get(p)! - Math.max(0, committed.get(p) ?? 0), 0);
  expect(backlog).toBeGreaterThan(0); // died with records of its partitions uncommitted

  await poll('the survivor owns every partition', () => owned(survivor).length === 4, 30_000);
  // The group learns of the death only when the session times out; the survivor takes over soon after.
  expect(Date.now() - killedAt).toBeLessThan(FAST_GROUP['session.timeout.ms'] + 10_000);
  const account = await waitForAllSpans(produced, service, { timeoutMillis: 60_000 });
  await waitForCommitsAtEnd(groupId, topic);
  const recoverMillis = Date.now() - killedAt;
  expect(account.missing).toBe(0);
  expect(account.unexpected).toBe(0);
  // Copies only of the dead member's uncommitted records.
  expect(account.duplicates).toBeLessThanOrEqual(backlog * SPANS_PER_TRACE);
  return scenarioResult(produced, account, recoverMillis);
}
