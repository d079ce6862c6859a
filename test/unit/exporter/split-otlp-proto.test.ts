import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { splitOtlpProtoRequest } from '../../../src/exporter/split-otlp-proto';
import { groupByTrace } from '../../../src/exporter/group-by-trace';
import { SerializationError } from '../../../src/errors/errors';
import { countSpans, decodeTraceRequest } from '../../../src/serializers/otlp-decoder';
import { makeSpans } from '../helpers/spans';

const encode = (spans: ReadableSpan[]): Uint8Array => ProtobufTraceSerializer.serializeRequest(spans)!;

describe('splitOtlpProtoRequest', () => {
  it('gives, per trace, a request that decodes exactly like that trace serialized on its own', () => {
    const spans = [
      ...makeSpans({ traces: 4, spansPerTrace: 3, serviceName: 'a', attributeBytes: 10 }),
      ...makeSpans({ traces: 3, spansPerTrace: 2, serviceName: 'b', scope: 'other-scope' }),
    ];
    const { messages, oversize } = splitOtlpProtoRequest(encode(spans), 1_000_000, true);

    expect(oversize).toEqual([]);
    const byTrace = groupByTrace(spans);
    expect(messages.map((m) => m.key)).toEqual([...byTrace.keys()]);
    for (const m of messages) {
      const own = byTrace.get(m.key!)!;
      expect(m.spans).toBe(own.length);
      expect(countSpans(m.value)).toBe(own.length);
      expect(decodeTraceRequest(m.value)).toEqual(decodeTraceRequest(encode(own)));
    }
  });

  it('keeps one request for the whole batch when not splitting by trace', () => {
    const spans = makeSpans({ traces: 5, spansPerTrace: 2 });
    const bytes = encode(spans);
    const { messages } = splitOtlpProtoRequest(bytes, 1_000_000, false);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.key).toBeNull();
    expect(decodeTraceRequest(messages[0]!.value)).toEqual(decodeTraceRequest(bytes));
  });

  it('splits a trace above the limit into requests that each fit and together hold every span', () => {
    const spans = makeSpans({ traces: 1, spansPerTrace: 300, attributeBytes: 500 });
    const limit = 20_000;
    const { messages, oversize } = splitOtlpProtoRequest(encode(spans), limit, true);

    expect(oversize).toEqual([]);
    expect(messages.length).toBeGreaterThan(5);
    const ids: string[] = [];
    for (const m of messages) {
      expect(m.value.length).toBeLessThanOrEqual(limit);
      for (const rs of decodeTraceRequest(m.value).resourceSpans) {
        expect(rs.resource.attributes['service.name']).toBe('unit');
        for (const ss of rs.scopeSpans) {
          expect(ss.scope.name).toBe('unit-tests');
          ids.push(...ss.spans.map((s) => s.spanId));
        }
      }
    }
    expect(ids.sort()).toEqual(spans.map((s) => s.spanContext().spanId).sort());
  });

  it('reports a span that alone exceeds the limit, with its ids, and still delivers the others', () => {
    const small = makeSpans({ traces: 2, spansPerTrace: 2 });
    const [huge] = makeSpans({ attributeBytes: 30_000 });
    const { messages, oversize } = splitOtlpProtoRequest(encode([...small, huge!]), 10_000, true);

    expect(oversize).toHaveLength(1);
    expect(oversize[0]).toMatchObject({
      traceId: huge!.spanContext().traceId,
      spanId: huge!.spanContext().spanId,
      name: huge!.name,
    });
    expect(oversize[0]!.sizeBytes).toBeGreaterThan(30_000);
    expect(messages.reduce((n, m) => n + m.spans, 0)).toBe(small.length);
  });

  it('rejects malformed input with a SerializationError', () => {
    const bytes = encode(makeSpans({ traces: 2 }));
    expect(() => splitOtlpProtoRequest(bytes.subarray(0, bytes.length - 3), 1_000_000, true)).toThrow(
      SerializationError,
    );
  });
});
