import { context, createTraceState, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import type { Attributes, AttributeValue, HrTime, Link } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { SerializationError } from '../../../../src/errors/errors';
import { countSpans } from '../../../../src/serializers/otlp/wire-walk';
import { decodeExportTraceServiceResponse } from '../../../../src/serializers/otlp/export-response';
import { decodeTraceRequest } from '../../../../src/serializers/otlp/decode';
import { encodeTraceRequest } from '../../../../src/serializers/otlp/model-encoder';
import type {
  AttrValue,
  DecodedAttributes,
  DecodedSpan,
  DecodedTraceRequest,
} from '../../../../src/serializers/otlp/model';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '../../../../src/serializers/otlp-schema';

// ---------------------------------------------------------------------------------------------------------
// Fixtures: real SDK spans, and what the decoder must make of them

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

const ALL_TYPES: Attributes = {
  str: 'value',
  'str.empty': '',
  'str.unicode': 'grüße, 世界 🌍',
  int: 42,
  'int.negative': -7,
  'int.zero': 0,
  'int.large': 2 ** 53 + 2,
  double: 3.25,
  'double.negative': -0.5,
  'bool.true': true,
  'bool.false': false,
  'arr.str': ['a', 'b', ''],
  'arr.int': [1, -2, 3],
  'arr.double': [1.5, 2.25],
  'arr.bool': [true, false],
  'arr.sparse': ['x', null, undefined, 'y'],
  'arr.empty': [],
};

const REMOTE_PARENT = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: createTraceState('vendor=abc,other=1'),
};

/** Spans of two resources and two scopes each, with every attribute type, events, links, kinds and statuses. */
function makeRichSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  for (const service of ['checkout', 'payments']) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.instance.num': 7, 'host.load': 0.75 }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const server = provider.getTracer('okj-server', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
    const client = provider.getTracer('okj-client');
    const parent = trace.setSpanContext(context.active(), REMOTE_PARENT);
    const root = server.startSpan(
      `GET /${service}`,
      {
        kind: SpanKind.SERVER,
        attributes: ALL_TYPES,
        links: [{ context: REMOTE_PARENT, attributes: { why: 'retry' } }],
      },
      parent,
    );
    root.addEvent('cache.miss', { key: 'cart:1', 'retry.count': 2, ratio: 0.25, hit: false, tags: ['a', 'b'] });
    root.addEvent('no-attributes');
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'out of stock' });
    const ctx = trace.setSpan(context.active(), root);
    for (const kind of [SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]) {
      const links: Link[] = [{ context: root.spanContext(), attributes: { 'link.n': kind } }];
      const child = client.startSpan(`kind-${kind}`, { kind, links }, ctx);
      child.setStatus({ code: SpanStatusCode.OK });
      child.end();
    }
    root.end();
  }
  return exporter.getFinishedSpans();
}

/** Random traces: 0-19 spans each, spread over a few services and scopes, some with events. */
function makeRandomTraces(rand: () => number, count: number): ReadableSpan[][] {
  const exporter = new InMemorySpanExporter();
  const providers = ['a', 'b', 'c'].map(
    (service) =>
      new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      }),
  );
  const traces: ReadableSpan[][] = [];
  for (let t = 0; t < count; t++) {
    const spanCount = Math.floor(rand() * 20);
    for (let i = 0; i < spanCount; i++) {
      const provider = providers[Math.floor(rand() * providers.length)] as BasicTracerProvider;
      const tracer = provider.getTracer(`scope-${Math.floor(rand() * 3)}`);
      const span = tracer.startSpan(`op-${i}`, {
        attributes: { i, r: rand(), s: 'x'.repeat(Math.floor(rand() * 50)) },
      });
      if (rand() < 0.3) span.addEvent('e', { n: i });
      span.end();
    }
    traces.push(exporter.getFinishedSpans());
    exporter.reset();
  }
  return traces;
}

function encodeProto(spans: ReadableSpan[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('ProtobufTraceSerializer returned nothing');
  return bytes;
}

function encodeJson(spans: ReadableSpan[]): Uint8Array {
  const bytes = JsonTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('JsonTraceSerializer returned nothing');
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function nanos(time: HrTime): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

/** The SDK value as the decoder models it: integers as bigint, doubles as number, null for absent. */
function expectedValue(value: AttributeValue | null | undefined): AttrValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return (value as (AttributeValue | null | undefined)[]).map(expectedValue);
  return value;
}

function expectedAttributes(attributes: Attributes | undefined): DecodedAttributes {
  return Object.fromEntries(Object.entries(attributes ?? {}).map(([k, v]) => [k, expectedValue(v)]));
}

function expectedFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);
}

/** One SDK span as the decoder must return it, with its resource and scope. */
function expectedFromSdk(span: ReadableSpan): Flat {
  const ctx = span.spanContext();
  const decoded: DecodedSpan = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    traceState: ctx.traceState?.serialize() ?? '',
    flags: expectedFlags(ctx.traceFlags, span.parentSpanContext?.isRemote),
    name: span.name,
    kind: span.kind + 1,
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    attributes: expectedAttributes(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((event) => ({
      timeUnixNano: nanos(event.time),
      name: event.name,
      attributes: expectedAttributes(event.attributes),
      droppedAttributesCount: event.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      traceState: link.context.traceState?.serialize() ?? '',
      attributes: expectedAttributes(link.attributes),
      droppedAttributesCount: link.droppedAttributesCount ?? 0,
      flags: expectedFlags(link.context.traceFlags, link.context.isRemote),
    })),
    droppedLinksCount: span.droppedLinksCount,
    status: { code: span.status.code, message: span.status.message ?? '' },
  };
  return {
    resource: expectedAttributes(span.resource.attributes),
    scope: {
      name: span.instrumentationScope.name,
      version: span.instrumentationScope.version ?? '',
      schemaUrl: span.instrumentationScope.schemaUrl ?? '',
    },
    span: decoded,
  };
}

interface Flat {
  resource: DecodedAttributes;
  scope: { name: string; version: string; schemaUrl: string };
  span: DecodedSpan;
}

function flatten(request: DecodedTraceRequest): Flat[] {
  return request.resourceSpans
    .flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) =>
        ss.spans.map((span) => ({
          resource: rs.resource.attributes,
          scope: { name: ss.scope.name, version: ss.scope.version, schemaUrl: ss.schemaUrl },
          span,
        })),
      ),
    )
    .sort((a, b) => a.span.spanId.localeCompare(b.span.spanId));
}

function spanCountOf(request: DecodedTraceRequest): number {
  return request.resourceSpans.reduce((n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0);
}

function expectStructurallyValid(request: DecodedTraceRequest): void {
  for (const { span } of flatten(request)) {
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.parentSpanId).toMatch(/^(?:[0-9a-f]{16})?$/);
    expect(typeof span.startTimeUnixNano).toBe('bigint');
    expect(typeof span.endTimeUnixNano).toBe('bigint');
    for (const link of span.links) {
      expect(link.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(link.spanId).toMatch(/^[0-9a-f]{16}$/);
    }
  }
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

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

describe('countSpans', () => {
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

describe('decodeExportTraceServiceResponse', () => {
  it('reads an empty body as full success', () => {
    expect(decodeExportTraceServiceResponse(new Uint8Array(0))).toEqual({ rejectedSpans: 0, errorMessage: '' });
  });

  it('reads a protobuf partial success', () => {
    // partial_success (1) { rejected_spans (1) = 3, error_message (2) = "bad" }, written by hand.
    const handmade = Uint8Array.of(0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64);
    const viaSchema = ExportTraceServiceResponse.encode({
      partialSuccess: { rejectedSpans: 12, errorMessage: 'too old' },
    }).finish();

    expect(decodeExportTraceServiceResponse(handmade)).toEqual({ rejectedSpans: 3, errorMessage: 'bad' });
    expect(decodeExportTraceServiceResponse(viaSchema, 'application/x-protobuf')).toEqual({
      rejectedSpans: 12,
      errorMessage: 'too old',
    });
    expect(decodeExportTraceServiceResponse(Uint8Array.of(0x0a, 0x00))).toEqual({ rejectedSpans: 0, errorMessage: '' });
  });

  it('reads an OTLP/JSON partial success', () => {
    const body = Buffer.from('{"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad"}}');

    expect(decodeExportTraceServiceResponse(body, 'application/json')).toEqual({
      rejectedSpans: 3,
      errorMessage: 'bad',
    });
    expect(decodeExportTraceServiceResponse(Buffer.from('{}'), 'application/json')).toEqual({
      rejectedSpans: 0,
      errorMessage: '',
    });
  });

  it('throws SerializationError on garbage', () => {
    expect(() => decodeExportTraceServiceResponse(Uint8Array.of(0x0a, 0x09, 0x08))).toThrow(SerializationError);
    expect(() => decodeExportTraceServiceResponse(Uint8Array.of(0xff))).toThrow(
      /^not an OTLP ExportTraceServiceResponse: /,
    );
    expect(() => decodeExportTraceServiceResponse(Buffer.from('nope'), 'application/json')).toThrow(
      /^not an OTLP\/JSON ExportTraceServiceResponse: invalid JSON/,
    );
  });
});
