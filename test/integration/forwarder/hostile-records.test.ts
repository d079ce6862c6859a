// Records a hostile or broken producer writes, through the real forwarder into the real Jaeger: a record whose
// spans a flipped bit hid, JSON that is no trace export, JSON repeating a key, JSON nested too deep for the
// JSON body builder, a span larger than the Thrift sink's request limit. None may stall its partition, none
// may be committed with its spans gone: each is dead-lettered with the reason, every good span arrives once,
// and the commits reach the end of the topic.
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { DEAD_LETTER_HEADERS } from '../../../src/forwarder/dead-letter';
import { consumeRaw, createTopic, endOffsets, produceRaw } from '../harness/kafka';
import type { ConsumedRecord, RawRecord } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import { accountInJaeger, ledgerOf, makeTraces, traceRecords, waitForAllSpans } from '../harness/traffic';
import { forwarderConfig, startForwarder, waitForCommitsAtEnd } from './helpers';

const h = DEAD_LETTER_HEADERS;

function jsonRecords(traces: ReadableSpan[][], contentType: string | undefined): RawRecord[] {
  const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
  return traces.map((spans) => ({
    key: spans[0]!.spanContext().traceId,
    value: Buffer.from(JsonTraceSerializer.serializeRequest(spans)!),
    headers: { ...headers },
  }));
}

/**
 * Produces good and bad records interleaved over two partitions, runs a forwarder with `sink` until every good
 * span is in Jaeger and every bad record in the dead-letter topic, and checks: nothing else dead-lettered, no
 * span stored twice, commits at the end offsets. Returns the dead letters by key.
 */
async function forward(
  service: string,
  good: { traces: ReadableSpan[][]; records: RawRecord[] },
  bad: RawRecord[],
  sink: NonNullable<OtelKafkaJaegerConfig['forwarder']>['sink'],
): Promise<Map<string, ConsumedRecord>> {
  const topic = await createTopic({ partitions: 2 });
  const records: RawRecord[] = [];
  good.records.forEach((r, i) => {
    r.partition = i % 2;
    records.push(r);
    const pill = bad[i];
    if (pill) {
      pill.partition = (i + 1) % 2;
      records.push(pill);
    }
  });
  expect(good.records.length).toBeGreaterThanOrEqual(bad.length);
  const badKeys = bad.map((b) => String(b.key));
  const badValues = new Map(bad.map((b) => [String(b.key), Buffer.from(b.value as Buffer)]));
  await produceRaw(topic, records);

  const config = forwarderConfig(topic, { forwarder: { sink, batch: { maxRecords: 8 } } });
  const forwarder = await startForwarder(config);
  const expected = ledgerOf(good.traces);
  await waitForAllSpans(expected, service, { timeoutMillis: 60_000 });
  const dead = await consumeRaw(forwarder.deadLetterTopic, bad.length, { timeoutMillis: 60_000 });
  expect(dead.map((d) => d.key?.toString()).sort()).toEqual([...badKeys].sort());
  for (const d of dead) expect(d.value?.equals(badValues.get(d.key!.toString())!)).toBe(true);

  await waitForCommitsAtEnd(config.forwarder!.groupId!, topic);
  const dlqEnd = await endOffsets(forwarder.deadLetterTopic);
  expect([...dlqEnd.values()].reduce((a, b) => a + b, 0)).toBe(bad.length);
  const account = await accountInJaeger(expected, service);
  expect({ missing: account.missing, duplicates: account.duplicates, unexpected: account.unexpected }).toEqual({
    missing: 0,
    duplicates: 0,
    unexpected: 0,
  });
  return new Map(dead.map((d) => [d.key!.toString(), d]));
}

function reason(d: ConsumedRecord | undefined): { code: string; message: string; attempts: number } {
  return {
    code: d?.headers[h.errorCode]?.toString() ?? '',
    message: d?.headers[h.errorMessage]?.toString() ?? '',
    attempts: Number(d?.headers[h.attempts]?.toString()),
  };
}

describe('forwarder: hostile records', () => {
  it('dead-letters records holding no span or repeating a JSON key; sniffs records with an empty content-type', async () => {
    const service = uniqueName('hostile');
    const protoTraces = makeTraces(service, 12, 3);
    const emptyHeaderProto = makeTraces(service, 3, 2);
    const emptyHeaderJson = makeTraces(service, 3, 2);
    const good = {
      traces: [...protoTraces, ...emptyHeaderProto, ...emptyHeaderJson],
      records: [
        ...traceRecords(protoTraces),
        // An empty content-type header says nothing: the value is read by its first byte.
        ...traceRecords(emptyHeaderProto).map((r) => ({ ...r, headers: { 'content-type': '' } })),
        ...jsonRecords(emptyHeaderJson, ''),
      ],
    };
    const victim = traceRecords(makeTraces(uniqueName('victim'), 1, 3))[0]!.value as Buffer;
    const flipped = Buffer.from(victim);
    flipped[0] = 0x1a; // resource_spans (field 1) becomes field 3: an unknown field a receiver skips with a 200
    const jsonRs = JSON.stringify(
      (
        JSON.parse(
          Buffer.from(jsonRecords(makeTraces(uniqueName('dup'), 1, 2), undefined)[0]!.value as Buffer).toString(),
        ) as {
          resourceSpans: unknown[];
        }
      ).resourceSpans[0],
    );
    const bad: RawRecord[] = [
      { key: 'pill-bit-flip', value: flipped, headers: { 'content-type': 'application/x-protobuf' } },
      { key: 'pill-not-otlp', value: Buffer.from('{"not":"protobuf"}') },
      {
        key: 'pill-duplicate-key',
        value: Buffer.from(`{"resourceSpans":[${jsonRs}],"resourceSpans":[${jsonRs}]}`),
        headers: { 'content-type': 'application/json' },
      },
      {
        key: 'pill-snake-and-camel',
        value: Buffer.from(`{"resourceSpans":[${jsonRs}],"resource_spans":[${jsonRs}]}`),
        headers: { 'content-type': 'application/json' },
      },
    ];
    const dead = await forward(service, good, bad, {
      type: 'otlp-http',
      url: endpoints.jaegerOtlpHttpUrl,
      timeoutMillis: 5_000,
    });
    for (const key of ['pill-bit-flip', 'pill-not-otlp']) {
      expect(reason(dead.get(key))).toEqual({
        code: 'SERIALIZATION_FAILED',
        message: expect.stringMatching(/holds no span/) as string,
        attempts: 0,
      });
    }
    for (const key of ['pill-duplicate-key', 'pill-snake-and-camel']) {
      expect(reason(dead.get(key))).toEqual({
        code: 'SERIALIZATION_FAILED',
        message: expect.stringMatching(/appears twice in one object/) as string,
        attempts: 0,
      });
    }
  });

  it('OTLP/HTTP with JSON encoding: a record nested too deep for the body builder is dead-lettered, not retried forever', async () => {
    const service = uniqueName('hostile-json');
    const protoTraces = makeTraces(service, 6, 3);
    const jsonTraces = makeTraces(service, 4, 3);
    const good = {
      traces: [...protoTraces, ...jsonTraces],
      records: [...traceRecords(protoTraces), ...jsonRecords(jsonTraces, 'application/json')],
    };
    const deep = `{"resourceSpans":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const bad: RawRecord[] = [
      { key: 'pill-deep', value: Buffer.from(deep), headers: { 'content-type': 'application/json' } },
    ];
    const dead = await forward(service, good, bad, {
      type: 'otlp-http',
      url: endpoints.jaegerOtlpHttpUrl,
      timeoutMillis: 5_000,
      encoding: 'json',
    });
    expect(reason(dead.get('pill-deep')).code).toBe('SERIALIZATION_FAILED');
  });

  it('Jaeger Thrift: a span larger than maxRequestBytes is dead-lettered before any request, its batch sent once', async () => {
    const service = uniqueName('hostile-thrift');
    const traces = makeTraces(service, 10, 3);
    const good = { traces, records: traceRecords(traces) };
    const [huge] = makeTraces(uniqueName('huge'), 1, 1);
    (huge![0]!.attributes as Record<string, string>)['big'] = 'x'.repeat(40_000);
    const bad: RawRecord[] = [{ ...traceRecords([huge!])[0]!, key: 'pill-huge-span' }];
    const dead = await forward(service, good, bad, {
      type: 'jaeger-thrift-http',
      url: endpoints.jaegerThriftHttpUrl,
      timeoutMillis: 5_000,
      maxRequestBytes: 16_384,
    });
    const r = reason(dead.get('pill-huge-span'));
    expect(r.code).toBe('SINK_FAILED');
    expect(r.message).toMatch(/maxRequestBytes/);
    expect(r.attempts).toBeGreaterThanOrEqual(1);
  });
});
