import { SerializationError } from '../../../../src/errors/errors';
import { countSpans } from '../../../../src/serializers/otlp/wire-walk';
import { decodeTraceRequest } from '../../../../src/serializers/otlp/decode';
import { encodeTraceRequest } from '../../../../src/serializers/otlp/model-encoder';
import type { AttrValue, DecodedSpan, DecodedTraceRequest } from '../../../../src/serializers/otlp/model';

import { prng, makeRichSpans, makeRandomTraces, encodeProto, spanCountOf, thrown } from './fixtures';

describe('encodeTraceRequest', () => {
  it('round-trips what it decoded from the SDK', () => {
    const request = decodeTraceRequest(encodeProto(makeRichSpans()));

    const bytes = encodeTraceRequest(request);

    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(decodeTraceRequest(bytes)).toEqual(request);
    expect(countSpans(bytes)).toBe(spanCountOf(request));
  });

  it('round-trips every value type and every field, including defaults that must stay explicit', () => {
    const request: DecodedTraceRequest = {
      resourceSpans: [
        {
          resource: { attributes: { 'service.name': 'svc' }, droppedAttributesCount: 3 },
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
          scopeSpans: [
            {
              scope: { name: 'lib', version: '9', attributes: { 'scope.attr': 1n }, droppedAttributesCount: 1 },
              schemaUrl: 'https://example.com/scope',
              spans: [
                {
                  traceId: '0af7651916cd43dd8448eb211c80319c',
                  spanId: 'b7ad6b7169203331',
                  parentSpanId: '00f067aa0ba902b7',
                  traceState: 'k=v',
                  flags: 0x301,
                  name: 'op',
                  kind: 5,
                  startTimeUnixNano: 2n ** 64n - 1n,
                  endTimeUnixNano: 1n,
                  attributes: {
                    empty: '',
                    false: false,
                    'zero.int': 0n,
                    'zero.double': 0,
                    'int.min': -(2n ** 63n),
                    'int.max': 2n ** 63n - 1n,
                    nan: NaN,
                    inf: Infinity,
                    bytes: Uint8Array.of(0, 1, 255),
                    'bytes.empty': new Uint8Array(0),
                    null: null,
                    array: ['a', 1n, 1.5, true, null, [[]], { k: 'v' }],
                    kvlist: { nested: { deeper: [Uint8Array.of(7)] }, empty: {} },
                    __proto__: 'still a key',
                  },
                  droppedAttributesCount: 4,
                  events: [
                    { timeUnixNano: 5n, name: 'e', attributes: { a: 'b' }, droppedAttributesCount: 6 },
                    { timeUnixNano: 0n, name: '', attributes: {}, droppedAttributesCount: 0 },
                  ],
                  droppedEventsCount: 7,
                  links: [
                    {
                      traceId: 'ffffffffffffffffffffffffffffffff',
                      spanId: 'ffffffffffffffff',
                      traceState: 'a=b',
                      attributes: { l: 2.5 },
                      droppedAttributesCount: 8,
                      flags: 0x101,
                    },
                  ],
                  droppedLinksCount: 9,
                  status: { code: 1, message: 'fine' },
                },
              ],
            },
          ],
        },
        {
          resource: { attributes: {}, droppedAttributesCount: 0 },
          schemaUrl: '',
          scopeSpans: [
            { scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', spans: [] },
          ],
        },
      ],
    };
    // Build the '__proto__' key the way the decoder does, as an own property.
    const attributes = request.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.attributes ?? {};
    Object.defineProperty(attributes, '__proto__', { value: 'still a key', enumerable: true, writable: true });

    const decoded = decodeTraceRequest(encodeTraceRequest(request));

    expect(decoded).toEqual(request);
    const decodedAttributes = decoded.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.attributes;
    expect(Object.keys(decodedAttributes ?? {})).toContain('__proto__');
    expect(decodedAttributes?.['zero.int']).toBe(0n);
    expect(decodedAttributes?.['zero.double']).toBe(0);
  });

  it.each([
    ['a short trace id', { traceId: 'abc' }, /spans\[0\]\.traceId: expected 32 hex characters/],
    ['a non-hex span id', { spanId: 'xyz0123456789abc' }, /spans\[0\]\.spanId: expected 16 hex characters/],
    ['a negative time', { startTimeUnixNano: -1n }, /startTimeUnixNano: not a uint64 bigint/],
    ['a fractional count', { droppedLinksCount: 1.5 }, /droppedLinksCount: not a uint32/],
    [
      'an int beyond int64',
      { attributes: { big: 2n ** 63n } },
      /attributes\["big"\]: 9223372036854775808 does not fit an int64/,
    ],
    [
      'an undefined value',
      { attributes: { u: undefined as unknown as AttrValue } },
      /attributes\["u"\]: cannot encode an attribute value of type undefined/,
    ],
  ])('throws SerializationError on %s', (_, overrides, message) => {
    const span: DecodedSpan = {
      ...(decodeTraceRequest(encodeProto(makeRandomTraces(prng(1), 1)[0] ?? [])).resourceSpans[0]?.scopeSpans[0]
        ?.spans[0] as DecodedSpan),
      ...overrides,
    };
    const request: DecodedTraceRequest = {
      resourceSpans: [
        {
          resource: { attributes: {}, droppedAttributesCount: 0 },
          schemaUrl: '',
          scopeSpans: [
            {
              scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 },
              schemaUrl: '',
              spans: [span],
            },
          ],
        },
      ],
    };

    const err = thrown(() => encodeTraceRequest(request));

    expect(err).toBeInstanceOf(SerializationError);
    expect((err as Error).message).toMatch(/^cannot encode ExportTraceServiceRequest: resourceSpans\[0\]/);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses attribute values nested deeper than the decoder accepts', () => {
    let value: AttrValue = 'leaf';
    for (let i = 0; i < 33; i++) value = [value];
    const request = decodeTraceRequest(encodeProto(makeRichSpans()));
    const span = request.resourceSpans[0]?.scopeSpans[0]?.spans[0] as DecodedSpan;
    span.attributes.deep = value;

    expect(() => encodeTraceRequest(request)).toThrow(/nested deeper than 32 levels/);
  });
});
