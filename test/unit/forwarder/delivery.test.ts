import { createNoopMeter } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

import { RetriesExhaustedError, SerializationError, SinkError } from '../../../src/errors/errors';
import type { OtelKafkaJaegerError } from '../../../src/errors/errors';
import { deliverBatch } from '../../../src/forwarder/delivery';
import type { DeliveryContext } from '../../../src/forwarder/delivery';
import { ForwarderMetrics } from '../../../src/forwarder/forwarder-metrics';
import { fixedDelay } from '../../../src/retry/fixed-delay';
import { noRetry } from '../../../src/retry/no-retry';
import { OTLP_JSON_CONTENT_TYPE, OTLP_PROTO_CONTENT_TYPE } from '../../../src/serializers/otlp-serializers';
import type { SinkRecord } from '../../../src/sinks/sink';
import { makeSpans } from '../helpers/spans';

interface TestRecord {
  id: string;
  value: Buffer;
  contentType: string;
  spans?: number;
}

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function proto(id: string, spansPerTrace: number): TestRecord {
  const bytes = ProtobufTraceSerializer.serializeRequest(makeSpans({ spansPerTrace }));
  if (!bytes) throw new Error('no bytes');
  return { id, value: Buffer.from(bytes), contentType: OTLP_PROTO_CONTENT_TYPE };
}

/** A context whose sink records what it was sent and answers with `reply` (default: accept). */
function context(reply?: (records: readonly SinkRecord[]) => Promise<void>) {
  const sent: (readonly SinkRecord[])[] = [];
  const accepted: TestRecord[] = [];
  const undeliverable: { record: TestRecord; error: OtelKafkaJaegerError; attempts: number }[] = [];
  const ctx: DeliveryContext<TestRecord> = {
    sink: {
      name: 'stub',
      send: (records) => {
        sent.push(records);
        return reply ? reply(records) : Promise.resolve();
      },
      close: () => Promise.resolve(),
    },
    retry: noRetry(),
    signal: new AbortController().signal,
    metrics: new ForwarderMetrics(createNoopMeter(), () => []),
    logger: silent,
    isLive: () => true,
    block: () => () => undefined,
    stillFailing: () => undefined,
    accepted: (records) => accepted.push(...records),
    undeliverable: (record, error, attempts) => {
      undeliverable.push({ record, error, attempts });
      return Promise.resolve();
    },
  };
  return { ctx, sent, accepted, undeliverable };
}

describe('deliverBatch', () => {
  it('sends well-formed protobuf records in one request and counts their spans', async () => {
    const records = [proto('a', 3), proto('b', 2)];
    const { ctx, sent, accepted, undeliverable } = context();
    await deliverBatch(records, ctx);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.map((r) => r.value)).toEqual(records.map((r) => r.value));
    expect(accepted.map((r) => [r.id, r.spans])).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
    expect(undeliverable).toEqual([]);
  });

  it('never sends a record whose framing is broken, so it cannot swallow the records after it', async () => {
    const good1 = proto('good-1', 2);
    const good2 = proto('good-2', 4);
    // A record cut short: its last field declares more bytes than it has. Concatenated, it would take the
    // next record's bytes as its own.
    const truncated: TestRecord = { ...proto('truncated', 3), id: 'truncated' };
    truncated.value = truncated.value.subarray(0, truncated.value.length - 5);
    const random: TestRecord = {
      id: 'random',
      value: Buffer.from([0x0a, 0xff, 0x7f, 1, 2]),
      contentType: OTLP_PROTO_CONTENT_TYPE,
    };
    const { ctx, sent, accepted, undeliverable } = context();

    await deliverBatch([good1, truncated, random, good2], ctx);

    expect(sent).toHaveLength(1);
    expect(sent[0]!.map((r) => r.value)).toEqual([good1.value, good2.value]);
    expect(accepted.map((r) => r.id)).toEqual(['good-1', 'good-2']);
    expect(undeliverable.map((u) => u.record.id).sort()).toEqual(['random', 'truncated']);
    for (const u of undeliverable) {
      expect(u.error).toBeInstanceOf(SerializationError);
      expect(u.error.retriable).toBe(false);
      expect(u.attempts).toBe(0);
    }
  });

  it('keeps every record after a broken one: other content types and records already counted', async () => {
    const broken: TestRecord = {
      id: 'broken',
      value: Buffer.from([0x0a, 0x7f, 1]),
      contentType: OTLP_PROTO_CONTENT_TYPE,
    };
    const json: TestRecord = {
      id: 'json',
      value: Buffer.from(`{"resourceSpans":[${jsonResourceSpans()}]}`),
      contentType: OTLP_JSON_CONTENT_TYPE,
    };
    const counted: TestRecord = { ...proto('counted', 2), spans: 2 };
    const fresh = proto('fresh', 1);
    const { ctx, sent, accepted, undeliverable } = context();

    await deliverBatch([broken, json, counted, fresh], ctx);

    expect(undeliverable.map((u) => u.record.id)).toEqual(['broken']);
    expect(sent).toHaveLength(1);
    expect(accepted.map((r) => r.id)).toEqual(['json', 'counted', 'fresh']);
  });

  it('dead-letters invalid OTLP/JSON before sending it', async () => {
    const json: TestRecord = {
      id: 'json',
      value: Buffer.from('{"resourceSpans": ['),
      contentType: OTLP_JSON_CONTENT_TYPE,
    };
    const { ctx, sent, undeliverable } = context();
    await deliverBatch([json], ctx);
    expect(sent).toHaveLength(0);
    expect(undeliverable.map((u) => [u.record.id, u.attempts, u.error.code])).toEqual([
      ['json', 0, 'SERIALIZATION_FAILED'],
    ]);
  });

  it('leaves records of other content types to the sink', async () => {
    const json: TestRecord = {
      id: 'json',
      value: Buffer.from('{"resourceSpans": ['),
      contentType: 'text/plain',
    };
    const { ctx, sent, undeliverable } = context((records) =>
      Promise.reject(new SinkError(`HTTP 400 for ${records.length}`, { retriable: false, httpStatus: 400 })),
    );
    await deliverBatch([json], ctx);
    expect(sent).toHaveLength(1);
    expect(undeliverable.map((u) => [u.record.id, u.attempts])).toEqual([['json', 1]]);
  });

  it('bisects a permanent sink failure down to the record the sink rejects', async () => {
    const records = [proto('r0', 1), proto('r1', 1), proto('bad', 1), proto('r3', 1), proto('r4', 1)];
    const bad = records[2]!.value;
    const { ctx, accepted, undeliverable } = context((batch) =>
      batch.some((r) => r.value === bad)
        ? Promise.reject(new SinkError('HTTP 400', { retriable: false, httpStatus: 400 }))
        : Promise.resolve(),
    );
    await deliverBatch(records, ctx);
    expect(accepted.map((r) => r.id).sort()).toEqual(['r0', 'r1', 'r3', 'r4']);
    expect(undeliverable.map((u) => u.record.id)).toEqual(['bad']);
  });

  it('hands over a batch whose retries ran out with the real attempt count and every error', async () => {
    const failures = [1, 2, 3].map((n) => new SinkError(`HTTP 503 #${n}`, { retriable: true, httpStatus: 503 }));
    let calls = 0;
    const { ctx, sent, undeliverable } = context(() => Promise.reject(failures[calls++]!));
    const blocked: number[] = [];
    const block = (records: TestRecord[]): (() => void) => {
      blocked.push(records.length);
      return () => blocked.push(-1);
    };
    await deliverBatch([proto('a', 1), proto('b', 1)], { ...ctx, retry: fixedDelay(0, { maxAttempts: 3 }), block });
    expect(sent).toHaveLength(3);
    expect(blocked).toEqual([2, -1]);
    expect(undeliverable.map((u) => [u.record.id, u.attempts])).toEqual([
      ['a', 3],
      ['b', 3],
    ]);
    const error = undeliverable[0]!.error as RetriesExhaustedError;
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error.attempts).toBe(3);
    expect(error.errors).toEqual(failures);
    expect(error.cause).toBe(failures[2]);
    expect(error.message).toBe('sink stub still failing after 3 attempts: HTTP 503 #3');
  });
});

describe('deliverBatch: records that hold no span, or that readers disagree on', () => {
  it('dead-letters a protobuf record whose resource_spans tag lost a bit (0 spans), and sends its neighbours', async () => {
    const good = proto('good', 3);
    const flipped = proto('flipped', 3);
    const value = Buffer.from(flipped.value);
    expect(value[0]).toBe(0x0a);
    value[0] = 0x1a; // field 3, length-delimited: an unknown field a receiver skips, answering 200
    const { ctx, accepted, undeliverable, sent } = context();
    await deliverBatch([good, { ...flipped, value }], ctx);
    expect(accepted.map((r) => r.id)).toEqual(['good']);
    expect(sent.flat().map((r) => r.value)).toEqual([good.value]);
    expect(undeliverable).toHaveLength(1);
    expect(undeliverable[0]!.record.id).toBe('flipped');
    expect(undeliverable[0]!.error).toBeInstanceOf(SerializationError);
    expect(undeliverable[0]!.error.message).toMatch(/holds no span/);
  });

  it.each([
    ['an object that is not a request', '{"not":"protobuf"}'],
    ['an empty object', '{}'],
    ['an empty list of resource spans', '{"resourceSpans":[]}'],
    ['resource spans without spans', '{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[]}]}]}'],
  ])('dead-letters OTLP/JSON with no span: %s', async (_what, json) => {
    const { ctx, accepted, undeliverable, sent } = context();
    await deliverBatch([{ id: 'j', value: Buffer.from(json), contentType: OTLP_JSON_CONTENT_TYPE }], ctx);
    expect(sent).toHaveLength(0);
    expect(accepted).toHaveLength(0);
    expect(undeliverable.map((u) => u.error.message)).toEqual([expect.stringMatching(/holds no span as OTLP\/JSON/)]);
  });

  it.each([
    ['resourceSpans twice', (rs: string) => `{"resourceSpans":[${rs}],"resourceSpans":[${rs}]}`],
    ['resourceSpans and resource_spans', (rs: string) => `{"resourceSpans":[${rs}],"resource_spans":[${rs}]}`],
    [
      'spans twice',
      (rs: string) => rs.replace('"spans":[', '"spans":[],"spans":[').replace(/^/, '{"resourceSpans":[') + ']}',
    ],
  ])('dead-letters OTLP/JSON that repeats a key (%s) instead of forwarding one of them', async (_what, build) => {
    const rs = jsonResourceSpans();
    const json = build(rs);
    expect(() => JSON.parse(json) as unknown).not.toThrow();
    const { ctx, accepted, undeliverable } = context();
    await deliverBatch([{ id: 'dup', value: Buffer.from(json), contentType: OTLP_JSON_CONTENT_TYPE }], ctx);
    expect(accepted).toHaveLength(0);
    expect(undeliverable.map((u) => u.error.message)).toEqual([expect.stringMatching(/appears twice in one object/)]);
  });

  it('sends OTLP/JSON with spans, and counts them', async () => {
    const record: TestRecord = {
      id: 'ok',
      value: Buffer.from(`{"resourceSpans":[${jsonResourceSpans()}]}`),
      contentType: OTLP_JSON_CONTENT_TYPE,
    };
    const { ctx, accepted, undeliverable } = context();
    await deliverBatch([record], ctx);
    expect(undeliverable).toHaveLength(0);
    expect(accepted.map((r) => r.spans)).toEqual([1]);
  });

  it('dead-letters JSON nested too deep for the JSON body builder before any request', async () => {
    const json = `{"resourceSpans":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const { ctx, undeliverable, sent } = context();
    await deliverBatch([{ id: 'deep', value: Buffer.from(json), contentType: OTLP_JSON_CONTENT_TYPE }], ctx);
    expect(sent).toHaveLength(0);
    expect(undeliverable).toHaveLength(1);
    expect(undeliverable[0]!.error).toBeInstanceOf(SerializationError);
  });
});

describe('deliverBatch: pacing', () => {
  it('yields to the event loop between large OTLP/JSON records it checks, before the first request', async () => {
    const value = Buffer.from(JsonTraceSerializer.serializeRequest(makeSpans({ traces: 50, spansPerTrace: 40 }))!);
    const records: TestRecord[] = Array.from({ length: 6 }, (_, i) => ({
      id: `j${i}`,
      value,
      contentType: OTLP_JSON_CONTENT_TYPE,
    }));
    let ticks = 0;
    let ticksAtFirstSend: number | undefined;
    let done = false;
    const tick = (): void => {
      ticks++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const { ctx, accepted } = context(() => {
      ticksAtFirstSend ??= ticks;
      return Promise.resolve();
    });
    try {
      await deliverBatch(records, ctx);
    } finally {
      done = true;
    }
    expect(accepted).toHaveLength(6);
    // Checking 6 × 2,000 JSON spans takes far longer than one 20 ms slice: other work ran in between.
    expect(ticksAtFirstSend).toBeGreaterThan(0);
  });
});

function jsonResourceSpans(): string {
  return JSON.stringify({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
    scopeSpans: [
      {
        scope: { name: 's' },
        spans: [
          {
            traceId: '0af7651916cd43dd8448eb211c80319c',
            spanId: 'b7ad6b7169203331',
            name: 'op',
            kind: 1,
            startTimeUnixNano: '1700000000000000000',
            endTimeUnixNano: '1700000000000001000',
          },
        ],
      },
    ],
  });
}

describe('deliverBatch: reasons quote record content safely', () => {
  it('quotes a producer-supplied value as JSON, so a newline in it cannot forge a log line', async () => {
    const json = JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'zz\nforged line', spanId: 'b7ad6b7169203331' }] }] }],
    });
    const { ctx, undeliverable } = context();
    await deliverBatch([{ id: 'nl', value: Buffer.from(json), contentType: OTLP_JSON_CONTENT_TYPE }], ctx);
    expect(undeliverable).toHaveLength(1);
    expect(undeliverable[0]!.error.message).toContain('"zz\\nforged line"');
    expect(undeliverable[0]!.error.message).not.toContain('\n');
  });
});
