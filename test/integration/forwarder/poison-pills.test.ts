// Records that can never be delivered (random bytes, truncated protobuf, a record Jaeger rejects with 400,
// invalid JSON) between good ones: every good span arrives, every bad record is in the dead-letter topic
// with its original key, value and headers plus provenance, and the partition keeps flowing.
import { randomBytes } from 'node:crypto';

import { DEAD_LETTER_HEADERS } from '../../../src/forwarder/dead-letter';
import { consumeRaw, createTopic, endOffsets, produceRaw } from '../harness/kafka';
import type { RawRecord } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { ledgerOf, makeTraces, mergeLedgers, traceRecords, waitForAllSpans } from '../harness/traffic';
import { forwarderConfig, startForwarder, waitForCommitsAtEnd, invalidTraceIdRequest } from './helpers';

describe('forwarder: poison pills', () => {
  it('dead-letters only the bad records, with provenance, and keeps every good span flowing', async () => {
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('poison');
    const good = makeTraces(service, 60);
    const goodRecords = traceRecords(good);
    const truncated = goodRecords[0]!.value as Buffer;
    const bad: RawRecord[] = [
      {
        key: 'pill-random',
        // Garbage that opens with a field longer than the record, so it is broken whatever the random tail.
        value: Buffer.concat([Buffer.from([0x0a, 0xff, 0xff, 0x03]), randomBytes(296)]),
        headers: { 'content-type': 'application/x-protobuf', origin: 'a' },
      },
      { key: 'pill-truncated', value: truncated.subarray(0, truncated.length - 7), headers: { origin: 'b' } },
      { key: 'pill-400', value: invalidTraceIdRequest(), headers: { 'content-type': 'application/x-protobuf' } },
      { key: 'pill-json', value: Buffer.from('{"resourceSpans": ['), headers: { 'content-type': 'application/json' } },
    ];
    // Interleave: the pills sit between good records on both partitions.
    const records: RawRecord[] = [];
    goodRecords.forEach((r, i) => {
      records.push(r);
      if (i % 15 === 7) {
        const pill = bad[Math.floor(i / 15)]!;
        pill.partition = i % 2;
        records.push(pill);
      }
    });
    // The client rewrites the messages it is given (headers, partition); keep what we expect apart.
    const sentHeaders = new Map(bad.map((b) => [b.key as string, { ...b.headers }]));
    await produceRaw(topic, records);

    const config = forwarderConfig(topic, { forwarder: { batch: { maxRecords: 16 } } });
    const forwarder = await startForwarder(config);

    await waitForAllSpans(mergeLedgers(ledgerOf(good)), service, { timeoutMillis: 60_000 });
    const dead = await consumeRaw(forwarder.deadLetterTopic, bad.length, { timeoutMillis: 60_000 });

    expect(dead.map((d) => d.key?.toString()).sort()).toEqual(bad.map((b) => b.key).sort());
    const h = DEAD_LETTER_HEADERS;
    for (const d of dead) {
      const original = bad.find((b) => b.key === d.key?.toString())!;
      expect(d.value?.equals(original.value as Buffer)).toBe(true);
      for (const [k, v] of Object.entries(sentHeaders.get(original.key as string) ?? {}))
        expect(d.headers[k]?.toString()).toBe(String(v));
      expect(d.headers[h.sourceTopic]?.toString()).toBe(topic);
      expect(Number(d.headers[h.sourcePartition]?.toString())).toBe(original.partition);
      expect(Number(d.headers[h.sourceOffset]?.toString())).toBeGreaterThanOrEqual(0);
      expect(d.headers[h.sourceTimestamp]?.toString()).toMatch(/^\d+$/);
      const key = d.key?.toString();
      if (key === 'pill-random' || key === 'pill-truncated' || key === 'pill-json') {
        // Broken protobuf framing (it could swallow its neighbours in a request) and unreadable OTLP/JSON are
        // caught before sending.
        expect(d.headers[h.errorCode]?.toString()).toBe('SERIALIZATION_FAILED');
        expect(d.headers[h.errorMessage]?.toString()).toMatch(/ExportTraceServiceRequest/);
        expect(Number(d.headers[h.attempts]?.toString())).toBe(0);
      } else {
        // Well-formed bytes Jaeger refuses: found by the sink's 400 and bisecting.
        expect(d.headers[h.errorCode]?.toString()).toBe('SINK_FAILED');
        expect(d.headers[h.errorMessage]?.toString()).toMatch(/400/);
        expect(Number(d.headers[h.attempts]?.toString())).toBeGreaterThanOrEqual(1);
      }
    }
    // Nothing else went to the dead-letter topic, and both partitions were committed to the end.
    const dlqEnd = await endOffsets(forwarder.deadLetterTopic);
    expect([...dlqEnd.values()].reduce((a, b) => a + b, 0)).toBe(bad.length);
    await waitForCommitsAtEnd(config.forwarder!.groupId!, topic);
  });
});
