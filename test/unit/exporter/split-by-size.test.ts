import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { MessageTooLargeError } from '../../../src/errors/errors';
import { encodeWithinLimit, oversizeError } from '../../../src/exporter/split-by-size';
import { makeSpans } from '../helpers/spans';

const encode = (spans: ReadableSpan[]): Uint8Array =>
  ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array();
const ids = (spans: ReadableSpan[]): string[] => spans.map((s) => s.spanContext().spanId).sort();

describe('encodeWithinLimit', () => {
  it('encodes spans that fit as one chunk, unsplit', () => {
    const spans = makeSpans({ spansPerTrace: 5 });
    const { chunks, oversize } = encodeWithinLimit(spans, encode, 1_000_000);
    expect(oversize).toEqual([]);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.bytes).toEqual(encode(spans));
  });

  it('splits a trace larger than the limit into chunks that each fit, losing no span', () => {
    const spans = makeSpans({ spansPerTrace: 200, attributeBytes: 1_000 });
    const limit = 20_000;
    expect(encode(spans).length).toBeGreaterThan(limit * 5);

    const { chunks, oversize } = encodeWithinLimit(spans, encode, limit);

    expect(oversize).toEqual([]);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) {
      expect(c.bytes.length).toBeLessThanOrEqual(limit);
      expect(c.bytes).toEqual(encode(c.spans));
    }
    expect(ids(chunks.flatMap((c) => c.spans))).toEqual(ids(spans));
  });

  it('splits by resource first, so each chunk holds one resource', () => {
    const a = makeSpans({ spansPerTrace: 20, attributeBytes: 500, serviceName: 'a' });
    const b = makeSpans({ spansPerTrace: 20, attributeBytes: 500, serviceName: 'b' });
    const { chunks } = encodeWithinLimit([...a, ...b], encode, 12_000);
    for (const c of chunks) expect(new Set(c.spans.map((s) => s.resource)).size).toBe(1);
    expect(ids(chunks.flatMap((c) => c.spans))).toEqual(ids([...a, ...b]));
  });

  it('splits by instrumentation scope before splitting spans', () => {
    const a = makeSpans({ spansPerTrace: 3, attributeBytes: 100, scope: 'scope-a' });
    const b = makeSpans({ spansPerTrace: 3, attributeBytes: 100, scope: 'scope-b' });
    // Same resource object is not shared between providers, so force one resource for all spans.
    const resource = a[0]!.resource;
    const spans = [...a, ...b].map((s): ReadableSpan => ({ ...s, resource, spanContext: () => s.spanContext() }));
    const whole = encode(spans).length;
    const { chunks } = encodeWithinLimit(spans, encode, whole - 1);
    expect(chunks).toHaveLength(2);
    for (const c of chunks) expect(new Set(c.spans.map((s) => s.instrumentationScope.name)).size).toBe(1);
  });

  it("hands each chunk to onChunk before encoding the next, so an encoder's reused buffer can be copied in time", () => {
    const spans = makeSpans({ spansPerTrace: 200, attributeBytes: 1_000 });
    const limit = 20_000;
    // An encoder writing every encoding into the same buffer, as the exporter's in-place session does.
    const shared = new Uint8Array(encode(spans).length);
    const inPlace = (group: ReadableSpan[]): Uint8Array => {
      const bytes = encode(group);
      shared.set(bytes);
      return shared.subarray(0, bytes.length);
    };
    const heard: { spans: ReadableSpan[]; bytes: Uint8Array }[] = [];

    const { chunks } = encodeWithinLimit(spans, inPlace, limit, (c) =>
      heard.push({ spans: c.spans, bytes: c.bytes.slice() }),
    );

    expect(heard.length).toBeGreaterThan(5);
    expect(heard.map((c) => c.spans)).toEqual(chunks.map((c) => c.spans));
    for (const c of heard) expect(c.bytes).toEqual(encode(c.spans));
    expect(ids(heard.flatMap((c) => c.spans))).toEqual(ids(spans));
  });

  it('reports a single span above the limit as oversize and still encodes the others', () => {
    const small = makeSpans({ spansPerTrace: 3 });
    const [huge] = makeSpans({ spansPerTrace: 1, attributeBytes: 50_000 });
    const { chunks, oversize } = encodeWithinLimit([...small, huge!], encode, 10_000);

    expect(oversize.map((o) => o.span)).toEqual([huge]);
    expect(oversize[0]!.sizeBytes).toBeGreaterThan(50_000);
    expect(ids(chunks.flatMap((c) => c.spans))).toEqual(ids(small));
  });
});

describe('oversizeError', () => {
  it('names the limit, the size and the largest span', () => {
    const [span] = makeSpans({ attributeBytes: 10 });
    const err = oversizeError([{ span: span!, sizeBytes: 2_000_000 }], 1_000_000);
    expect(err).toBeInstanceOf(MessageTooLargeError);
    expect(err.code).toBe('MESSAGE_TOO_LARGE');
    expect(err.sizeBytes).toBe(2_000_000);
    expect(err.maxBytes).toBe(1_000_000);
    expect(err.message).toContain(span!.spanContext().spanId);
    expect(err.message).toContain('1000000');
  });
});
