import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { SerializationError } from '../../../../src/errors/errors';
import { countSpans } from '../../../../src/serializers/otlp/wire-walk';
import { decodeTraceRequest } from '../../../../src/serializers/otlp/decode';
import type { DecodedTraceRequest } from '../../../../src/serializers/otlp/model';
import { ExportTraceServiceRequest } from '../../../../src/serializers/otlp-schema';

import {
  prng,
  REMOTE_PARENT,
  makeRichSpans,
  makeRandomTraces,
  encodeProto,
  encodeJson,
  concat,
  expectedFromSdk,
  flatten,
  spanCountOf,
  expectStructurallyValid,
  thrown,
} from './fixtures';

// ---------------------------------------------------------------------------------------------------------

describe('decodeTraceRequest', () => {
  const spans = makeRichSpans();
  const expected = spans.map(expectedFromSdk).sort((a, b) => a.span.spanId.localeCompare(b.span.spanId));

  it('decodes ProtobufTraceSerializer output into exactly the SDK spans', () => {
    const request = decodeTraceRequest(encodeProto(spans), 'application/x-protobuf');

    expect(flatten(request)).toEqual(expected);
    expect(request.resourceSpans).toHaveLength(2);
    expect(request.resourceSpans[0]?.scopeSpans).toHaveLength(2);
    // The properties most likely to go wrong, spelled out.
    const root = expected.find((f) => f.span.name === 'GET /checkout')?.span;
    expect(root).toMatchObject({
      parentSpanId: REMOTE_PARENT.spanId,
      traceState: 'vendor=abc,other=1',
      flags: 0x301,
      kind: 2,
      status: { code: 2, message: 'out of stock' },
    });
    expect(root?.attributes).toMatchObject({ 'int.negative': -7n, 'int.large': 2n ** 53n + 2n, double: 3.25 });
    expect(root?.attributes['arr.sparse']).toEqual(['x', null, null, 'y']);
  });

  it('decodes JsonTraceSerializer output into the same model', () => {
    const request = decodeTraceRequest(encodeJson(spans), 'application/json');

    expect(flatten(request)).toEqual(expected);
    expect(request).toEqual(decodeTraceRequest(encodeProto(spans)));
  });

  it('decodes protobuf when no content type is given', () => {
    expect(flatten(decodeTraceRequest(encodeProto(spans)))).toEqual(expected);
  });

  it('treats 0 bytes as a valid empty request, in both formats', () => {
    expect(decodeTraceRequest(new Uint8Array(0))).toEqual({ resourceSpans: [] });
    expect(decodeTraceRequest(new Uint8Array(0), 'application/json')).toEqual({ resourceSpans: [] });
  });

  it('decodes the concatenation of two requests as one request holding both', () => {
    const [a, b] = makeRandomTraces(prng(7), 2) as [ReadableSpan[], ReadableSpan[]];
    const requestA = decodeTraceRequest(encodeProto(a));
    const requestB = decodeTraceRequest(encodeProto(b));

    const merged = decodeTraceRequest(concat(encodeProto(a), encodeProto(b)));

    expect(merged.resourceSpans).toEqual([...requestA.resourceSpans, ...requestB.resourceSpans]);
    expect(spanCountOf(merged)).toBe(a.length + b.length);
  });

  it('accepts the OTLP/JSON variants: uppercase hex, enum names, string numbers, snake_case keys, bytes', () => {
    const json = {
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }] },
          scopeSpans: [
            {
              scope: { name: 'lib', attributes: [{ key: 's', value: { boolValue: true } }] },
              spans: [
                {
                  traceId: '0AF7651916CD43DD8448EB211C80319C',
                  spanId: 'B7AD6B7169203331',
                  parentSpanId: '',
                  name: 'op',
                  kind: 'SPAN_KIND_CLIENT',
                  startTimeUnixNano: '1700000000000000001',
                  endTimeUnixNano: 1700000000,
                  droppedAttributesCount: '2',
                  attributes: [
                    { key: 'bytes', value: { bytesValue: 'AQL/' } },
                    { key: 'int', value: { intValue: '-9223372036854775808' } },
                    { key: 'nan', value: { doubleValue: 'NaN' } },
                    { key: 'inf', value: { doubleValue: '-Infinity' } },
                    { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { doubleValue: 1 } }] } } },
                    { key: 'nothing' },
                    { key: 'null', value: null },
                  ],
                  status: { code: 'STATUS_CODE_ERROR', message: 'm' },
                  unknownField: { ignored: true },
                },
              ],
            },
          ],
        },
      ],
    };

    const request = decodeTraceRequest(Buffer.from(JSON.stringify(json)), 'application/json; charset=utf-8');

    const span = request.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    expect(request.resourceSpans[0]?.resource.attributes).toEqual({ 'service.name': 'svc' });
    expect(request.resourceSpans[0]?.scopeSpans[0]?.scope).toEqual({
      name: 'lib',
      version: '',
      attributes: { s: true },
      droppedAttributesCount: 0,
    });
    expect(span).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      parentSpanId: '',
      kind: 3,
      startTimeUnixNano: 1700000000000000001n,
      endTimeUnixNano: 1700000000n,
      droppedAttributesCount: 2,
      status: { code: 2, message: 'm' },
    });
    expect(span?.attributes).toEqual({
      bytes: new Uint8Array([1, 2, 255]),
      int: -(2n ** 63n),
      nan: NaN,
      inf: -Infinity,
      map: { k: 1 },
      nothing: null,
      null: null,
    });
  });

  it('keeps a "__proto__" attribute key as a key', () => {
    const json = `{"resourceSpans":[{"resource":{"attributes":[{"key":"__proto__","value":{"stringValue":"x"}}]}}]}`;

    const attributes = decodeTraceRequest(Buffer.from(json), 'application/json').resourceSpans[0]?.resource.attributes;

    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(Object.keys(attributes ?? {})).toEqual(['__proto__']);
  });

  describe('rejects what is not an ExportTraceServiceRequest with a SerializationError', () => {
    const validSpan = {
      traceId: Buffer.alloc(16, 1),
      spanId: Buffer.alloc(8, 2),
      name: 'ok',
    };
    const encodeRaw = (span: Record<string, unknown>): Uint8Array =>
      ExportTraceServiceRequest.encode({ resourceSpans: [{ scopeSpans: [{ spans: [validSpan, span] }] }] }).finish();

    it.each([
      [
        'a trace id of 3 bytes',
        { ...validSpan, traceId: Buffer.alloc(3, 1) },
        /spans\[1\]\.traceId: expected 16 bytes, got 3/,
      ],
      ['a missing span id', { traceId: validSpan.traceId }, /spans\[1\]\.spanId: expected 8 bytes, got 0/],
      ['a parent span id of 4 bytes', { ...validSpan, parentSpanId: Buffer.alloc(4, 1) }, /parentSpanId: expected 8/],
      [
        'a link without trace id',
        { ...validSpan, links: [{ spanId: validSpan.spanId }] },
        /spans\[1\]\.links\[0\]\.traceId: expected 16 bytes, got 0/,
      ],
    ])('protobuf with %s', (_, span, message) => {
      const err = thrown(() => decodeTraceRequest(encodeRaw(span)));

      expect(err).toBeInstanceOf(SerializationError);
      expect((err as SerializationError).code).toBe('SERIALIZATION_FAILED');
      expect((err as Error).message).toMatch(
        /^not an OTLP ExportTraceServiceRequest: resourceSpans\[0\]\.scopeSpans\[0\]/,
      );
      expect((err as Error).message).toMatch(message);
    });

    it.each([
      ['an invalid wire type', [0x10, 0x96, 0x01, 0x17], /invalid wire type 7 at offset 3/],
      ['a truncated length', [0x0a, 0x05, 0x00], /truncated: field at offset 0 needs 5 bytes, 1 left/],
      ['a truncated varint', [0x10, 0xff], /truncated varint at offset 1/],
      ['field number 0', [0x00, 0x00], /invalid field number 0 at offset 0/],
      ['resource_spans as a varint', [0x08, 0x01], /resource_spans at offset 0 has wire type 0, expected 2/],
      ['an unterminated group', [0x13, 0x08, 0x01], /unterminated group at offset 0/],
      ['a stray end group', [0x14], /invalid wire type 4 at offset 0/],
      ['a garbled span', [0x0a, 0x04, 0x12, 0x02, 0x12, 0x07], /not an OTLP ExportTraceServiceRequest: .+/],
    ])('protobuf with %s', (_, bytes, message) => {
      const err = thrown(() => decodeTraceRequest(Uint8Array.from(bytes)));

      expect(err).toBeInstanceOf(SerializationError);
      expect((err as Error).message).toMatch(message);
    });

    it('OTLP/JSON without a JSON content type, with a hint', () => {
      expect(() => decodeTraceRequest(encodeJson(spans))).toThrow(/starts with '\{': JSON without content-type\?/);
    });

    it('truncated protobuf', () => {
      const bytes = encodeProto(spans);

      // Not half: the two resource spans are equally long, and a cut between them is a valid request.
      for (const cut of [1, 2, 10, Math.floor(bytes.length / 3), bytes.length - 1]) {
        expect(() => decodeTraceRequest(bytes.subarray(0, cut))).toThrow(SerializationError);
      }
    });

    it.each([
      ['invalid JSON', '{"resourceSpans":[', /^not an OTLP\/JSON ExportTraceServiceRequest: invalid JSON: /],
      ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), /invalid UTF-8/],
      ['a JSON array', '[]', /expected a JSON object/],
      ['resourceSpans not an array', '{"resourceSpans":{}}', /resourceSpans: expected an array/],
      ['a short trace id', spanJson({ traceId: 'abc' }), /spans\[0\]\.traceId: expected 32 hex characters, got "abc"/],
      ['a non-hex span id', spanJson({ spanId: 'zz'.repeat(8) }), /spans\[0\]\.spanId: expected 16 hex characters/],
      ['a base64 trace id', spanJson({ traceId: 'CvdlGRbNQ92ESOshHIAxnA==' }), /traceId: expected 32 hex/],
      ['a fractional time', spanJson({ startTimeUnixNano: 1.5 }), /startTimeUnixNano: expected an integer, got 1.5/],
      ['a negative time', spanJson({ endTimeUnixNano: '-1' }), /endTimeUnixNano: -1 is out of range/],
      ['an unknown kind name', spanJson({ kind: 'SPAN_KIND_MAGIC' }), /kind: expected a SpanKind number or name/],
      ['a name that is a number', spanJson({ name: 5 }), /spans\[0\]\.name: expected a string/],
      [
        'two values in one AnyValue',
        spanJson({ attributes: [{ key: 'k', value: { stringValue: 'a', intValue: 1 } }] }),
        /attributes\[0\]\.value: more than one value set \(stringValue, intValue\)/,
      ],
      [
        'invalid base64',
        spanJson({ attributes: [{ key: 'k', value: { bytesValue: '!!' } }] }),
        /attributes\[0\]\.value\.bytesValue: expected base64/,
      ],
    ])('JSON with %s', (_, body, message) => {
      const err = thrown(() =>
        decodeTraceRequest(typeof body === 'string' ? Buffer.from(body) : body, 'application/json'),
      );

      expect(err).toBeInstanceOf(SerializationError);
      expect((err as Error).message).toMatch(message);
    });

    it('JSON values nested too deep', () => {
      let value: unknown = { stringValue: 'leaf' };
      for (let i = 0; i < 40; i++) value = { arrayValue: { values: [value] } };

      expect(() => decodeTraceRequest(spanJson({ attributes: [{ key: 'deep', value }] }), 'application/json')).toThrow(
        /nested deeper than 32 levels/,
      );
    });
  });

  it('on a few hundred random and mutated inputs, either throws SerializationError or returns a valid request', () => {
    const rand = prng(20240601);
    const real = encodeProto(spans);
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      inputs.push(Uint8Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
    }
    for (let i = 0; i < 300; i++) {
      const copy = Uint8Array.from(real);
      for (let flips = 1 + Math.floor(rand() * 3); flips > 0; flips--) {
        copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
      }
      inputs.push(rand() < 0.5 ? copy : copy.subarray(0, Math.floor(rand() * copy.length)));
    }
    let accepted = 0;
    let rejected = 0;

    for (const input of inputs) {
      let request: DecodedTraceRequest | undefined;
      try {
        request = decodeTraceRequest(input);
      } catch (err) {
        expect(err).toBeInstanceOf(SerializationError);
        rejected++;
        continue;
      }
      accepted++;
      expectStructurallyValid(request);
      expect(countSpans(input)).toBe(spanCountOf(request));
    }

    expect(rejected).toBeGreaterThan(100);
    expect(accepted).toBeGreaterThan(0);
  });
});

function spanJson(overrides: Record<string, unknown>): Buffer {
  const span = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'op', ...overrides };
  return Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }));
}
