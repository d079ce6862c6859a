// Two forwarders in one group under load: one joins, later the other leaves. Nothing is lost.
import { setTimeout as delay } from 'node:timers/promises';

import type { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import { createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { mergeLedgers, produceTraces, waitForAllSpans } from '../harness/traffic';
import type { SpanLedger } from '../harness/traffic';
import { GatedSink, forwarderConfig, startForwarder } from './helpers';
import { endpoints } from '../harness/stack';

jest.setTimeout(180_000);

/** Polls (bounded) until the forwarder buffers nothing and has no request in flight. */
async function waitForIdle(forwarder: KafkaToJaegerForwarder): Promise<void> {
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
      if (round === 8) {
        // Before `a` leaves: once everything so far is stored, `a` holds nothing, although it lost partitions
        // to `b` with requests in flight (their records must not stay counted against its buffer bound).
        await waitForAllSpans(mergeLedgers(...produced), service, { timeoutMillis: 120_000 });
        await waitForIdle(a);
        await a.stop();
      }
      await delay(200);
    }

    const account = await waitForAllSpans(mergeLedgers(...produced), service, { timeoutMillis: 120_000 });
    expect(account.missing).toBe(0);
    expect(b!.health().partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
    await waitForIdle(b!);
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
});

/** Polls (bounded) until `condition` holds. */
async function poll(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}
