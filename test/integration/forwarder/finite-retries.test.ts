// A finite retry.maxAttempts in the live forwarder: a sink that fails retriably for good (a real HTTP server
// answering 503) turns a batch undeliverable after exactly maxAttempts attempts; its records go to the
// dead-letter topic with RETRIES_EXHAUSTED, and the partitions flow again once the sink is back.
import { setTimeout as delay } from 'node:timers/promises';

import { DEAD_LETTER_HEADERS } from '../../../src/forwarder/dead-letter';
import { consumeRaw, createTopic, produceRaw, topicRecordCount } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { accountInJaeger, ledgerOf, makeTraces, spanCount, traceRecords } from '../harness/traffic';
import { expectEachSpanOnce, forwarderConfig, OtlpHttpFront, startForwarder, waitForCommitsAtEnd } from './helpers';

describe('forwarder: finite retry.maxAttempts', () => {
  it('dead-letters a batch the sink keeps refusing with 503 after 3 attempts, then flows once the sink is back', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('finite-retries');
    const front = await OtlpHttpFront.start();
    front.mode = { status: 503 };
    const base = forwarderConfig(topic, { sinkUrl: front.url });
    const config = { ...base, retry: { ...base.retry, maxAttempts: 3 } };
    const groupId = config.forwarder!.groupId!;
    const forwarder = await startForwarder(config);

    const refused = makeTraces(service, 10);
    const refusedRecords = traceRecords(refused).map((r, i) => ({ ...r, partition: i % 2 }));
    await produceRaw(topic, refusedRecords);

    // Read once all are written: a reader subscribed before the topic exists may not see it for minutes.
    const deadline = Date.now() + 30_000;
    while ((await topicRecordCount(forwarder.deadLetterTopic)) < refusedRecords.length) {
      if (Date.now() > deadline) throw new Error(`dead letters: ${JSON.stringify(forwarder.health())}`);
      await delay(100);
    }
    const dead = await consumeRaw(forwarder.deadLetterTopic, refusedRecords.length, { timeoutMillis: 30_000 });
    const h = DEAD_LETTER_HEADERS;
    expect(dead.map((d) => d.key?.toString()).sort()).toEqual(refusedRecords.map((r) => r.key).sort());
    for (const d of dead) {
      const original = refusedRecords.find((r) => r.key === d.key?.toString())!;
      expect(d.value?.equals(original.value as Buffer)).toBe(true);
      expect(Number(d.headers[h.sourcePartition]?.toString())).toBe(original.partition);
      expect(d.headers[h.errorCode]?.toString()).toBe('RETRIES_EXHAUSTED');
      expect(d.headers[h.errorMessage]?.toString()).toMatch(/after 3 attempts: HTTP 503/);
      expect(Number(d.headers[h.attempts]?.toString())).toBe(3);
    }
    // Every refused batch was tried exactly 3 times, never more, and nothing reached Jaeger.
    expect(front.answered.every((s) => s === 503)).toBe(true);
    expect(front.answered.length % 3).toBe(0);
    await waitForCommitsAtEnd(groupId, topic);
    const absent = await accountInJaeger(ledgerOf(refused), service);
    expect(absent.missing).toBe(spanCount(ledgerOf(refused)));

    // The sink is back: a second batch on both partitions is delivered and committed; no more dead letters.
    front.mode = { forward: true };
    const accepted = makeTraces(service, 10);
    await produceRaw(
      topic,
      traceRecords(accepted).map((r, i) => ({ ...r, partition: i % 2 })),
    );
    await expectEachSpanOnce(ledgerOf(accepted), service, groupId, topic);
    expect(await topicRecordCount(forwarder.deadLetterTopic)).toBe(refusedRecords.length);
    expect(forwarder.health().partitions.every((p) => !p.paused)).toBe(true);
  });
});
