import { SerializationError } from '../../../../src/errors/errors';
import { encodeTraceRequest } from '../../../../src/serializers/otlp/model-encoder';
import type { DecodedSpan, DecodedTraceRequest } from '../../../../src/serializers/otlp/model';
import { quickCountSpans } from '../../../../src/serializers/otlp/quick-walk';
import { countSpans, strictCountSpans } from '../../../../src/serializers/otlp/wire-walk';

/** A small seeded PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
