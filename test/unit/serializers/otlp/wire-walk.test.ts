import { SerializationError } from '../../../../src/errors/errors';
import { encodeTraceRequest } from '../../../../src/serializers/otlp/model-encoder';
import type { DecodedSpan, DecodedTraceRequest } from '../../../../src/serializers/otlp/model';
import { quickCountSpans } from '../../../../src/serializers/otlp/quick-walk';
import { countSpans, strictCountSpans } from '../../../../src/serializers/otlp/wire-walk';

import { concat, encodeProto, makeRandomTraces, makeRichSpans, prng, spanCountOf } from './fixtures';
import { decodeTraceRequest } from '../../../../src/serializers/otlp/decode';

function span(i: number, nameLength: number): DecodedSpan {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: (i + 1).toString(16).padStart(16, '0'),
    parentSpanId: i === 0 ? '' : '0000000000000001',
    traceState: '',
    flags: 1,
    name: 'x'.repeat(nameLength),
    kind: 2,
    startTimeUnixNano: 1_700_000_000_000_000_000n + BigInt(i),
    endTimeUnixNano: 1_700_000_000_500_000_000n,
    attributes: { 'http.method': 'GET', 'http.status_code': 200n, ratio: 0.5 },
    droppedAttributesCount: 0,
    events: [{ timeUnixNano: 1n, name: 'e', attributes: {}, droppedAttributesCount: 0 }],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
  };
}

function request(rand: () => number): Uint8Array {
  const model: DecodedTraceRequest = {
    resourceSpans: Array.from({ length: 1 + Math.floor(rand() * 2) }, (_, r) => ({
      resource: { attributes: { 'service.name': `svc-${r}` }, droppedAttributesCount: 0 },
      scopeSpans: Array.from({ length: 1 + Math.floor(rand() * 2) }, () => ({
        scope: { name: 'scope', version: '1', attributes: {}, droppedAttributesCount: 0 },
        // Names up to 300 characters: spans whose length takes one varint byte and ones that take two.
        spans: Array.from({ length: Math.floor(rand() * 4) }, (_, i) => span(i, Math.floor(rand() * 300))),
        schemaUrl: '',
      })),
      schemaUrl: r === 0 ? '' : 'https://opentelemetry.io/schemas/1.24.0',
    })),
  };
  return encodeTraceRequest(model);
}

function outcome(fn: (bytes: Uint8Array) => number, bytes: Uint8Array): number | string {
  try {
    return fn(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError);
    return (error as Error).message;
  }
}

function mutate(bytes: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(rand() * n);
  switch (pick(4)) {
    case 0: {
      const out = Uint8Array.from(bytes);
      for (let n = 1 + pick(3); n > 0 && out.length > 0; n--) out[pick(out.length)] = pick(256);
      return out;
    }
    case 1:
      return bytes.subarray(0, pick(bytes.length));
    case 2: {
      const at = pick(bytes.length + 1);
      const noise = Uint8Array.from({ length: 1 + pick(12) }, () => (rand() < 0.5 ? 0x80 | pick(128) : pick(256)));
      return Uint8Array.from([...bytes.subarray(0, at), ...noise, ...bytes.subarray(at)]);
    }
    default: {
      // A byte with the continuation bit set where a tag or length was: varints that run long or cross ends.
      const out = Uint8Array.from(bytes);
      const at = pick(out.length);
      if (out.length > 0) out[at] = (out[at] ?? 0) | 0x80;
      return out;
    }
  }
}

describe('countSpans', () => {
  it('counts well-formed requests on the fast path', () => {
    const rand = prng(7);
    for (let i = 0; i < 200; i++) {
      const bytes = request(rand);
      const quick = quickCountSpans(bytes);

      expect(quick).toBeGreaterThanOrEqual(0);
      expect(quick).toBe(strictCountSpans(bytes));
      expect(countSpans(Buffer.from(bytes))).toBe(quick);
    }
  });

  it('answers every mutated request as the WireCursor walk does, to the error message', () => {
    const rand = prng(11);
    let quickAnswers = 0;
    for (let i = 0; i < 5_000; i++) {
      const bytes = mutate(request(rand), rand);
      const quick = quickCountSpans(bytes);
      const strict = outcome(strictCountSpans, bytes);

      if (quick >= 0) {
        quickAnswers++;
        expect(quick).toBe(strict);
      }
      expect(outcome(countSpans, bytes)).toBe(strict);
    }
    // The mutations leave many requests well framed: the fast path is exercised, not only the fallback.
    expect(quickAnswers).toBeGreaterThan(250);
  });

  it('leaves groups, long varints and field number 0 to the WireCursor walk', () => {
    const group = Uint8Array.of(0x5b, 0x08, 0x01, 0x5c);
    const longTag = Uint8Array.of(0xf8, 0x80, 0x80, 0x80, 0x00, 0x00);
    const fieldZero = Uint8Array.of(0x00, 0x00);

    expect(quickCountSpans(group)).toBe(-1);
    expect(countSpans(group)).toBe(0);
    expect(quickCountSpans(longTag)).toBe(-1);
    expect(countSpans(longTag)).toBe(0);
    expect(quickCountSpans(fieldZero)).toBe(-1);
    expect(() => countSpans(fieldZero)).toThrow(
      'not an OTLP ExportTraceServiceRequest: invalid field number 0 at offset 0',
    );
  });
});

describe('countSpans on SDK requests', () => {
  it('agrees with a full decode on many random traces and their concatenations', () => {
    const rand = prng(42);
    const traces = makeRandomTraces(rand, 200);
    const encoded = traces.map((spans) => (spans.length === 0 ? new Uint8Array(0) : encodeProto(spans)));

    encoded.forEach((bytes, i) => {
      expect(countSpans(bytes)).toBe(traces[i]?.length);
      expect(countSpans(bytes)).toBe(spanCountOf(decodeTraceRequest(bytes)));
    });
    for (let i = 0; i < 50; i++) {
      const picks = Array.from({ length: 2 + Math.floor(rand() * 3) }, () => Math.floor(rand() * encoded.length));
      const bytes = concat(...picks.map((p) => encoded[p] as Uint8Array));
      const total = picks.reduce((n, p) => n + (traces[p]?.length ?? 0), 0);

      expect(countSpans(bytes)).toBe(total);
      expect(spanCountOf(decodeTraceRequest(bytes))).toBe(total);
    }
  });

  it('counts 0 in an empty request', () => {
    expect(countSpans(new Uint8Array(0))).toBe(0);
  });

  it('skips unknown fields of every wire type', () => {
    const spans = makeRandomTraces(prng(3), 1)[0] ?? [];
    // Unknown top-level fields: 15 varint, 14 fixed64, 13 fixed32, 12 bytes, 11 group holding a varint.
    const unknown = Uint8Array.of(0x78, 0x96, 0x01, 0x71, 1, 2, 3, 4, 5, 6, 7, 8, 0x6d, 1, 2, 3, 4, 0x62, 0x01, 0xff);
    const group = Uint8Array.of(0x5b, 0x08, 0x01, 0x5c);

    const bytes = concat(unknown, encodeProto(spans), group);

    expect(countSpans(bytes)).toBe(spans.length);
    expect(spanCountOf(decodeTraceRequest(bytes))).toBe(spans.length);
  });

  it('throws SerializationError on malformed framing', () => {
    const bytes = encodeProto(makeRichSpans());

    expect(() => countSpans(bytes.subarray(0, bytes.length - 1))).toThrow(SerializationError);
    expect(() => countSpans(Uint8Array.of(0x10, 0x96, 0x01, 0x0f))).toThrow(
      'not an OTLP ExportTraceServiceRequest: invalid wire type 7 at offset 3',
    );
    expect(() => countSpans(Uint8Array.of(0x0a, 0x02, 0x12, 0x05))).toThrow(/needs 5 bytes, 0 left/);
  });
});
