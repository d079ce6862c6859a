// Jaeger goes away while spans keep coming: the forwarder pauses, backs off (a bounded number of sink
// attempts, not a spin), keeps memory bounded, and once Jaeger is back delivers everything, with nothing
// dead-lettered. Each test runs its own Jaeger on Badger storage, which keeps data across restarts.
import { setTimeout as delay } from 'node:timers/promises';

import { freeJaegerPorts, JaegerInstance } from '../../../scripts/stack/stack';
import { committedOffsets, createTopic, endOffsets } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { mergeLedgers, produceTraces, spanCount, waitForAllSpans } from '../harness/traffic';
import { CountingSink, forwarderConfig, startForwarder } from './helpers';

jest.setTimeout(240_000);

const OUTAGE_MILLIS = 30_000;
const MAX_BUFFERED_BYTES = 1024 * 1024;

async function badgerJaeger(): Promise<JaegerInstance> {
  const jaeger = new JaegerInstance({
    name: uniqueName('jaeger-outage'),
    storage: 'badger',
    ports: await freeJaegerPorts(),
  });
  await jaeger.start();
  return jaeger;
}

async function poll<T>(what: string, probe: () => T | undefined, timeoutMillis: number): Promise<T> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await delay(50);
  }
}

async function dlqRecordCount(topic: string): Promise<number> {
  try {
    return [...(await endOffsets(topic)).values()].reduce((a, b) => a + b, 0);
  } catch {
    return 0; // the dead-letter topic was never created: nothing was dead-lettered
  }
}

describe('forwarder: Jaeger outage', () => {
  let jaeger: JaegerInstance;

  beforeEach(async () => {
    jaeger = await badgerJaeger();
  });

  afterEach(async () => {
    await jaeger.destroy();
  });

  it(`pauses for a ${OUTAGE_MILLIS / 1000} s outage under load, stays bounded, and then delivers everything`, async () => {
    const topic = await createTopic({ partitions: 4 });
    const service = uniqueName('outage');
    const sink = new CountingSink(jaeger.otlpHttpUrl);
    const config = forwarderConfig(topic, {
      sink,
      forwarder: { maxBufferedBytes: MAX_BUFFERED_BYTES, batch: { maxRecords: 200 } },
    });
    const forwarder = await startForwarder(config);
    const before = await produceTraces(topic, service, 500);
    await waitForAllSpans(before, service, { queryUrl: jaeger.queryUrl, timeoutMillis: 60_000 });

    await jaeger.stop();
    const outageStart = Date.now();
    const attemptsAtStart = sink.attempts;
    // Load during the outage: more than the forwarder may buffer.
    const during = await produceTraces(topic, service, 3_000);
    await poll(
      'every partition paused',
      () => (forwarder.health().partitions.every((p) => p.paused) ? true : undefined),
      20_000,
    );
    let maxBuffered = 0;
    while (Date.now() - outageStart < OUTAGE_MILLIS) {
      maxBuffered = Math.max(maxBuffered, forwarder.health().bufferedBytes);
      await delay(100);
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
    const all = mergeLedgers(before, during);
    const account = await waitForAllSpans(all, service, { queryUrl: jaeger.queryUrl, timeoutMillis: 90_000 }).catch(
      (err: Error) => {
        throw new Error(`${err.message}\nforwarder health: ${JSON.stringify(forwarder.health(), null, 1)}`);
      },
    );

    expect(account.missing).toBe(0);
    expect(spanCount(all)).toBe(17_500);
    // Backoff, not a spin: 100 ms doubling to 2 s, at most 2 requests in flight, over 30 s.
    expect(outageAttempts).toBeGreaterThan(2);
    expect(outageAttempts).toBeLessThan(80);
    // Memory bounded: the buffer may exceed its bound by at most one fetch batch.
    expect(maxBuffered).toBeLessThan(MAX_BUFFERED_BYTES * 3);
    expect(await dlqRecordCount(forwarder.deadLetterTopic)).toBe(0);
    await poll(
      'partitions resumed',
      () => (forwarder.health().partitions.every((p) => !p.paused) ? true : undefined),
      10_000,
    );
    const [committed, end] = await Promise.all([
      committedOffsets(config.forwarder!.groupId!, topic),
      endOffsets(topic),
    ]);
    for (const [p, high] of end) expect(committed.get(p) ?? -1).toBeLessThanOrEqual(high);
  });

  it('loses nothing when Jaeger is killed with -9 in the middle of requests', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('kill9');
    const sink = new CountingSink(jaeger.otlpHttpUrl);
    const expected = await produceTraces(topic, service, 4_000);
    await startForwarder(forwarderConfig(topic, { sink, forwarder: { batch: { maxRecords: 100 } } }));

    // Kill while requests are flowing: after the first successes, before the backlog is through.
    await poll('the first accepted requests', () => (sink.successes >= 3 ? true : undefined), 60_000);
    await jaeger.kill();
    const killedAfter = sink.successes;
    await delay(2_000);
    await jaeger.start();

    const account = await waitForAllSpans(expected, service, { queryUrl: jaeger.queryUrl, timeoutMillis: 120_000 });
    expect(account.missing).toBe(0);
    expect(sink.failures).toBeGreaterThan(0);
    expect(killedAfter).toBeLessThan(40); // the kill happened mid-backlog (40 requests of 100 traces)
  });
});
