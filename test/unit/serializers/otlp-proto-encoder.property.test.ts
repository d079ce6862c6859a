// Correctness proof of the exporter's OTLP protobuf encoder (issue 11, item 1): for randomly generated
// ReadableSpans it must write exactly the bytes that otlp-transformer's ProtobufTraceSerializer writes, and
// the two outputs must decode to the same request through an independent decoder (protobufjs with this
// package's own schema, which shares no code with either encoder). The spans are plain objects satisfying
// ReadableSpan (they reach values the SDK would sanitize away) plus spans ended by the real SDK.
//
// The seed changes every run; a failure names it. Replay with OKJ_SEED=<seed>.
import { context, createTraceState, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, HrTime, Link, SpanContext, SpanKind, TraceState } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { isDeepStrictEqual } from 'node:util';
import type { Message } from 'protobufjs/light.js';

import { encodeTraceRequest, OtlpProtoEncodingSession } from '../../../src/serializers/otlp-proto-encoder';
import { ExportTraceServiceRequest } from '../../../src/serializers/otlp-schema';
import { hasSessions, otlpProtoSerializer } from '../../../src/serializers/otlp-serializers';
import { Rng } from '../fuzz/generators';

// A fixed seed by default, so CI is repeatable; OKJ_SEED=<n> explores others.
const SEED = process.env.OKJ_SEED ? Number(process.env.OKJ_SEED) >>> 0 : 0x5eed_0011;
const MIN_SPANS = 10_000;

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'] & { attributes?: Attributes; droppedAttributesCount?: number };

// ---------------------------------------------------------------------------------------------------------
// Values

const BMP = ['é', 'ß', 'Ж', '中', '\u0080', '\u07ff', '\u0800', '\uffff', '\ufeff', '\u2028', '\u00a0'];
const ASTRAL = ['😀', '𝄞', '👩‍👩‍👧', '\u{10000}', '\u{10ffff}'];
const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'];

// Random ASCII text and random bytes, made once per run: a value is a slice at a random offset (one PRNG call
// per value, not one per character; generating would otherwise cost more than encoding and decoding).
const POOL_SIZE = 1 << 16;
let asciiPool = '';
let bytePool = Buffer.alloc(0);

function fillPools(rng: Rng): void {
  bytePool = Buffer.alloc(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i += 4) bytePool.writeUInt32LE(rng.uint32(), i);
  // Printable ASCII, with a control character (NUL included) now and then.
  asciiPool = Array.from(bytePool, (b) => String.fromCharCode(b < 13 ? b % 32 : 32 + (b % 95))).join('');
}

function ascii(rng: Rng, length: number): string {
  if (length > POOL_SIZE) return asciiPool.repeat(Math.ceil(length / POOL_SIZE)).slice(0, length);
  const at = rng.int(POOL_SIZE - length + 1);
  return asciiPool.slice(at, at + length);
}

function randomBytes(rng: Rng, length: number): Buffer {
  const at = rng.int(POOL_SIZE - length + 1);
  return Buffer.from(bytePool.subarray(at, at + length));
}

/** At least `units` UTF-16 units; long strings repeat a chunk (a cut astral pair makes lone surrogates too). */
function nonAscii(rng: Rng, units: number): string {
  let s = '';
  while (s.length < Math.min(units, 64)) {
    const r = rng.int(4);
    s += r === 0 ? ascii(rng, 1) : r === 1 ? rng.pick(ASTRAL) : rng.pick(BMP);
  }
  return s.repeat(Math.ceil(units / s.length));
}

/** Any UTF-16 code units, surrogates paired or not. */
function codeUnits(rng: Rng, units: number): string {
  let s = '';
  for (let i = 0; i < units; i++)
    s += String.fromCharCode(rng.chance(0.3) ? 0xd800 + rng.int(0x800) : rng.int(0x10000));
  return s;
}

function text(rng: Rng): string {
  if (rng.chance(0.001)) {
    // Lengths whose UTF-8 needs a 3-byte varint, ASCII or not.
    const length = rng.pick([16_383, 16_384, 16_385, 40_000]);
    return rng.chance(0.5) ? ascii(rng, length) : ascii(rng, rng.int(100)) + nonAscii(rng, length);
  }
  switch (rng.int(13)) {
    case 0:
      return '';
    case 1:
      return ascii(rng, rng.between(47, 49)); // the ASCII copy loop's limit
    case 2:
      return ascii(rng, rng.between(120, 135)); // a 1- or 2-byte length
    case 3:
      return ascii(rng, rng.between(200, 3000));
    case 4:
      return nonAscii(rng, rng.between(1, 20));
    case 5:
      return rng.pick(ASTRAL) + ascii(rng, rng.int(5)) + rng.pick(ASTRAL);
    case 6: {
      // A lone surrogate at the start, middle or end, or a low-high pair in the wrong order.
      const lone = rng.chance(0.2) ? '\udc00\ud800' : rng.pick(LONE);
      const where = rng.int(3);
      const a = ascii(rng, rng.int(10));
      return where === 0 ? lone + a : where === 1 ? a + lone + a : a + lone;
    }
    case 7:
      // Non-ASCII right where the ASCII loop gives up, or just after its limit.
      return ascii(rng, rng.between(40, 60)) + rng.pick([...BMP, ...ASTRAL, ...LONE]) + ascii(rng, rng.int(5));
    case 8:
      return nonAscii(rng, rng.between(40, 200));
    case 9:
      return codeUnits(rng, rng.int(60));
    default:
      return ascii(rng, rng.int(47));
  }
}

function key(rng: Rng): string {
  return rng.chance(0.8) ? ascii(rng, rng.between(1, 30)) : text(rng);
}

const INTS = [
  0,
  -0,
  1,
  -1,
  127,
  128,
  16_383,
  16_384,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 32 + 1,
  -(2 ** 32),
  -(2 ** 32) + 1,
  -(2 ** 32) - 1,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  -(2 ** 53) + 1,
  2 ** 60,
  -(2 ** 60),
  2 ** 63 - 1024, // the largest double below 2^63
  -(2 ** 63) + 1024,
  -(2 ** 63),
  // Integral but outside int64: double_value.
  2 ** 63,
  -(2 ** 63) - 2048,
  2 ** 64,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
];

/** A NaN whose payload is not V8's canonical one, and a negative NaN. */
const ODD_NANS = [
  new Float64Array(new Uint32Array([1, 0x7ff00000]).buffer)[0]!,
  new Float64Array(new Uint32Array([0, 0xfff80000]).buffer)[0]!,
];
const DOUBLES = [
  NaN,
  Infinity,
  -Infinity,
  0.5,
  -0.5,
  0.1,
  1 / 3,
  Number.EPSILON,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  1e-300,
  2 ** 52 + 0.5,
  -(2 ** 52) - 0.5,
  ...ODD_NANS,
];

function integer(rng: Rng): number {
  if (rng.chance(0.5)) return rng.pick(INTS);
  const magnitude = Math.floor((rng.uint32() / 2 ** 32) * 2 ** rng.int(64));
  return rng.chance(0.5) ? -magnitude : magnitude;
}

function double(rng: Rng): number {
  if (rng.chance(0.4)) return rng.pick(DOUBLES);
  return (rng.uint32() / 2 ** 32 - 0.5) * 10 ** rng.between(-12, 20) + 0.25;
}

function bytes(rng: Rng): Uint8Array {
  switch (rng.int(5)) {
    case 0:
      return new Uint8Array(0);
    case 1: {
      // A view into the middle of a larger buffer.
      const whole = randomBytes(rng, rng.between(10, 100));
      return whole.subarray(rng.int(5), whole.length - rng.int(5));
    }
    case 2:
      return randomBytes(rng, rng.chance(0.02) ? 20_000 : rng.between(120, 300));
    case 3:
      return Uint8Array.from(randomBytes(rng, rng.between(1, 40)));
    default:
      return randomBytes(rng, rng.between(1, 40));
  }
}

/** Anything an attribute, or a value inside one, can hold, and some values it should not. */
function value(rng: Rng, depth = 0): unknown {
  const r = rng.int(depth > 2 ? 10 : 14);
  switch (r) {
    case 0:
    case 1:
    case 2:
      return text(rng);
    case 3:
      return rng.chance(0.5);
    case 4:
    case 5:
      return integer(rng);
    case 6:
      return double(rng);
    case 7:
      return bytes(rng);
    case 8:
      return rng.chance(0.5) ? null : undefined;
    case 9:
      // No OTLP type: an empty AnyValue.
      return rng.pick<unknown>([BigInt(7), () => 1, Symbol('s')]);
    case 10:
    case 11: {
      // An array, homogeneous as OTel's attribute arrays or mixed, maybe empty, with nulls, maybe nested.
      const length = rng.pick([0, 1, rng.between(2, 6)]);
      const homogeneous = rng.chance(0.5);
      const first = value(rng, depth + 1);
      const items: unknown[] = [];
      for (let i = 0; i < length; i++) {
        if (homogeneous && rng.chance(0.8)) items.push(typeof first === 'string' ? text(rng) : first);
        else items.push(value(rng, depth + 1));
      }
      return items;
    }
    case 12:
      return attributes(rng, depth + 1, 4); // a kvlist
    default:
      return rng.pick<unknown>([new Date(0), Int16Array.of(1, -2), new Map([['a', 1]])]);
  }
}

function attributes(rng: Rng, depth = 0, max = 8): Attributes {
  const count = rng.chance(0.3) ? 0 : rng.between(1, max);
  const out: Record<string, unknown> = rng.chance(0.02)
    ? (Object.create({ inherited: 'not an own key' }) as Record<string, unknown>)
    : {};
  for (let i = 0; i < count; i++) out[key(rng)] = value(rng, depth);
  // An own key named __proto__ (an assignment would set the prototype instead).
  if (rng.chance(0.01)) Object.defineProperty(out, '__proto__', { value: 'own', enumerable: true });
  return out as Attributes;
}

function maybeAttributes(rng: Rng): Attributes | undefined {
  return rng.chance(0.2) ? undefined : attributes(rng);
}

function count(rng: Rng): number {
  return rng.pick([0, 0, 0, 1, 127, 128, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, rng.int(1000)]);
}

function hrTime(rng: Rng): HrTime {
  switch (rng.int(9)) {
    case 0:
      return [0, 0];
    case 1:
      return [rng.int(2 ** 32), 999_999_999];
    case 2:
      // Seconds at or beyond 2^32, up to the last nanosecond a uint64 holds.
      return rng.chance(0.1) ? [18_446_744_073, 709_551_615] : [2 ** 32 + rng.int(14_151_776_777), rng.int(1e9)];
    case 3:
      return rng.pick<HrTime>([
        [65_535, 999_999_999],
        [65_536, 0],
        [2 ** 32 - 1, 999_999_999],
        [2 ** 32, 0],
        [4, 294_967_295],
        [4, 294_967_296],
      ]);
    case 4:
      return [rng.int(2 ** 32), rng.int(1e9)];
    default:
      return [1_700_000_000 + rng.int(100_000_000), rng.int(1e9)];
  }
}

function traceState(rng: Rng): TraceState | undefined {
  switch (rng.int(5)) {
    case 0:
      return createTraceState('vendor=abc,other@tenant=x-1');
    case 1:
      return createTraceState(); // serializes to ''
    case 2:
      // Whatever an implementation's serialize() returns, non-ASCII included.
      return {
        serialize: (
          (s: string) => () =>
            s
        )(text(rng)),
      } as unknown as TraceState;
    default:
      return undefined;
  }
}

function hexId(rng: Rng, bytes: number): string {
  const hex = randomBytes(rng, bytes).toString('hex');
  return rng.chance(0.05) ? hex.toUpperCase() : hex;
}

function spanContext(rng: Rng): SpanContext {
  const ctx: SpanContext = {
    traceId: hexId(rng, 16),
    spanId: hexId(rng, 8),
    traceFlags: rng.pick([0, 1, 255, rng.int(256), 0x1ff]),
  };
  const isRemote = rng.pick([true, false, undefined]);
  if (isRemote !== undefined || rng.chance(0.5)) ctx.isRemote = isRemote;
  const state = traceState(rng);
  if (state) ctx.traceState = state;
  return ctx;
}

function event(rng: Rng): TimedEvent {
  const e: { name: string; time: HrTime; attributes?: Attributes; droppedAttributesCount?: number } = {
    name: text(rng),
    time: hrTime(rng),
  };
  const attrs = maybeAttributes(rng);
  if (attrs || rng.chance(0.5)) e.attributes = attrs;
  if (rng.chance(0.5)) e.droppedAttributesCount = count(rng);
  return e;
}

function link(rng: Rng): Link {
  const l: { context: SpanContext; attributes?: Attributes; droppedAttributesCount?: number } = {
    context: spanContext(rng),
  };
  const attrs = maybeAttributes(rng);
  if (attrs || rng.chance(0.5)) l.attributes = attrs;
  if (rng.chance(0.5)) l.droppedAttributesCount = count(rng);
  return l;
}

function few<T>(rng: Rng, make: (rng: Rng) => T): T[] {
  const n = rng.chance(0.5) ? 0 : rng.between(1, 4);
  return Array.from({ length: n }, () => make(rng));
}

// ---------------------------------------------------------------------------------------------------------
// Resources, scopes, spans

function resources(rng: Rng): Resource[] {
  const plain = (attrs: Attributes | undefined, schemaUrl?: string): Resource =>
    ({ attributes: attrs, schemaUrl }) as unknown as Resource;
  return [
    resourceFromAttributes({ 'service.name': 'checkout', 'service.instance.id': hexId(rng, 8), ...attributes(rng) }),
    resourceFromAttributes({ 'service.name': text(rng) }, { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }),
    emptyResource(),
    plain(attributes(rng), text(rng)),
    plain({}),
    plain(undefined, 'https://example.com/schema'),
    plain({ 'service.name': 'big', blob: ascii(rng, 20_000) }),
  ];
}

function scopes(rng: Rng): Scope[] {
  const version = text(rng);
  return [
    { name: 'http' },
    { name: 'db', version: '1.2.3' },
    // Not the same object, but the same name, version and schema URL: still its own ScopeSpans.
    { name: 'db', version: '1.2.3' },
    { name: 'queue', version: '', schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' },
    { name: 'attrs', version: '2', attributes: attributes(rng), droppedAttributesCount: count(rng) },
    { name: 'dropped-only', droppedAttributesCount: 7 },
    { name: 'empty-attrs', attributes: {} },
    { name: '' },
    { name: text(rng), version, schemaUrl: text(rng) },
  ];
}

interface Pools {
  resources: Resource[];
  scopes: Scope[];
}

function span(rng: Rng, pools: Pools): ReadableSpan {
  const ctx = spanContext(rng);
  let parentSpanContext: SpanContext | undefined;
  if (rng.chance(0.6)) {
    parentSpanContext = { traceId: ctx.traceId, spanId: rng.chance(0.1) ? '' : hexId(rng, 8), traceFlags: 1 };
    const isRemote = rng.pick([true, false, undefined]);
    if (isRemote !== undefined) parentSpanContext.isRemote = isRemote;
  }
  const status: { code: SpanStatusCode; message?: string } = { code: rng.pick([0, 1, 2]) };
  if (rng.chance(0.4)) status.message = rng.chance(0.2) ? '' : text(rng);
  return {
    name: text(rng),
    kind: rng.pick<SpanKind | null | undefined>([undefined, null, 0, 1, 2, 3, 4]) as SpanKind,
    spanContext: () => ctx,
    parentSpanContext,
    startTime: hrTime(rng),
    endTime: hrTime(rng),
    status,
    attributes: (rng.chance(0.02) ? undefined : attributes(rng)) as Attributes,
    links: few(rng, link),
    events: few(rng, event),
    duration: [0, 0],
    ended: true,
    resource: rng.pick(pools.resources),
    instrumentationScope: rng.pick(pools.scopes),
    droppedAttributesCount: count(rng),
    droppedEventsCount: count(rng),
    droppedLinksCount: count(rng),
  };
}

/** Spans ended by the real SDK (its Span class, its attribute sanitizing, its limits and dropped counts). */
function sdkSpans(rng: Rng, traces: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'sdk', ...attributes(rng) }),
    spanLimits: { attributeCountLimit: 6, eventCountLimit: 3, linkCountLimit: 2, attributeValueLengthLimit: 100 },
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracers = [
    provider.getTracer('sdk-a'),
    provider.getTracer('sdk-b', '1.0.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }),
  ];
  for (let t = 0; t < traces; t++) {
    const remote = trace.wrapSpanContext({ ...spanContext(rng), isRemote: true });
    const parent = rng.chance(0.3) ? trace.setSpan(context.active(), remote) : context.active();
    const tracer = rng.pick(tracers);
    const root = tracer.startSpan(
      text(rng),
      {
        kind: rng.pick([0, 1, 2, 3, 4]),
        attributes: attributes(rng),
        links: few(rng, link),
        startTime: rng.pick<HrTime | number | Date>([hrTime(rng), 1_700_000_000_123.456, new Date(1_700_000_000_000)]),
      },
      parent,
    );
    const children = rng.int(6);
    for (let i = 0; i < children; i++) {
      const child = tracer.startSpan(text(rng), { attributes: attributes(rng) }, trace.setSpan(context.active(), root));
      for (const e of few(rng, event)) child.addEvent(e.name, e.attributes, e.time);
      if (rng.chance(0.2)) child.recordException(new Error(text(rng)));
      if (rng.chance(0.3)) child.setStatus({ code: SpanStatusCode.ERROR, message: text(rng) });
      child.setAttributes(attributes(rng));
      child.end();
    }
    root.setStatus({ code: rng.pick([SpanStatusCode.UNSET, SpanStatusCode.OK]) });
    root.end();
  }
  return exporter.getFinishedSpans();
}

/** Batches of 1 to 60 spans over a few shared resources and scopes, `minSpans` spans in all. */
function batches(rng: Rng, minSpans: number): ReadableSpan[][] {
  const out: ReadableSpan[][] = [];
  let total = 0;
  while (total < minSpans) {
    // Each batch draws its spans from a subset of the pools, so that spans share resources and scopes.
    const pools: Pools = {
      resources: rng.chance(0.1) ? resources(rng) : resources(rng).slice(0, rng.between(1, 3)),
      scopes: scopes(rng).filter(() => rng.chance(0.5)),
    };
    if (pools.scopes.length === 0) pools.scopes.push({ name: 'only' });
    const size = rng.pick([1, rng.between(2, 10), rng.between(10, 60)]);
    const batch = Array.from({ length: size }, () => span(rng, pools));
    out.push(batch);
    total += size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Checks

function reference(spans: ReadableSpan[]): Buffer {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('otlp-transformer returned nothing');
  return Buffer.from(bytes);
}

/**
 * The decoded message tree, compared as it is (Long objects for 64-bit integers, Buffers for bytes): a
 * `toObject` conversion would cost more than both encoders together and add nothing to the comparison.
 */
function decode(bytes: Uint8Array): Message {
  return ExportTraceServiceRequest.decode(bytes);
}

function decodedSpanCount(request: Message): number {
  let n = 0;
  for (const rs of (request as unknown as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }).resourceSpans) {
    for (const ss of rs.scopeSpans) n += ss.spans.length;
  }
  return n;
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** (a) the same bytes as otlp-transformer; (b) the same request once decoded, holding every span. */
function expectSameEncoding(fast: Buffer, spans: ReadableSpan[], what: string): void {
  const expected = reference(spans);
  if (!fast.equals(expected)) {
    const at = firstDifference(fast, expected);
    throw new Error(
      `${what}: ${fast.length} bytes vs otlp-transformer's ${expected.length}, first difference at byte ${at}: ` +
        `${fast.subarray(at, at + 16).toString('hex')} vs ${expected.subarray(at, at + 16).toString('hex')}`,
    );
  }
  const decodedFast = decode(fast);
  const decodedExpected = decode(expected);
  if (!isDeepStrictEqual(decodedFast, decodedExpected)) {
    expect(decodedFast).toEqual(decodedExpected); // for the diff
    throw new Error(`${what}: decoded requests differ`);
  }
  if (decodedSpanCount(decodedFast) !== spans.length) {
    throw new Error(`${what}: ${decodedSpanCount(decodedFast)} spans decoded of ${spans.length}`);
  }
}

/** Runs `body` with a PRNG of the run's seed; a failure says which seed reproduces it. */
function seeded(body: (rng: Rng) => void): () => void {
  return () => {
    try {
      const rng = new Rng(SEED);
      fillPools(rng);
      body(rng);
    } catch (err) {
      const e = err as Error;
      e.message = `[seed ${SEED}: replay with OKJ_SEED=${SEED}] ${e.message}`;
      throw e;
    }
  };
}

describe('the fast OTLP encoder against otlp-transformer', () => {
  it(
    `writes the same bytes for ${MIN_SPANS}+ random plain ReadableSpans, and they decode to the same request`,
    seeded((rng) => {
      const all = batches(rng, MIN_SPANS);
      let spans = 0;
      all.forEach((batch, i) => {
        expectSameEncoding(encodeTraceRequest(batch), batch, `batch ${i} of ${batch.length} spans`);
        spans += batch.length;
      });
      expect(spans).toBeGreaterThanOrEqual(MIN_SPANS);
    }),
  );

  it(
    'writes the same bytes for spans ended by the real SDK, alone and mixed with plain ones',
    seeded((rng) => {
      const real = sdkSpans(rng, 150);
      expect(real.length).toBeGreaterThan(300);
      for (let at = 0; at < real.length;) {
        const size = rng.between(1, 40);
        const batch = real.slice(at, at + size);
        if (rng.chance(0.3)) batch.push(...(batches(rng, 5)[0] ?? []));
        expectSameEncoding(encodeTraceRequest(batch), batch, `SDK batch at ${at}`);
        at += size;
      }
    }),
  );

  it(
    'writes the same bytes for requests whose lengths need 2, 3 and 4 bytes (up to > 2 MiB)',
    seeded((rng) => {
      const pools: Pools = { resources: resources(rng).slice(0, 2), scopes: scopes(rng).slice(0, 2) };
      for (const chars of [100, 20_000, 300_000, 700_000]) {
        const batch = Array.from({ length: 4 }, () => span(rng, pools));
        for (const s of batch) Object.assign(s, { attributes: { ...s.attributes, big: ascii(rng, chars) } });
        expectSameEncoding(encodeTraceRequest(batch), batch, `4 spans with ${chars}-char attributes`);
      }
      expectSameEncoding(encodeTraceRequest([]), [], 'no spans');
    }),
  );

  it(
    'writes the same bytes for values no SDK produces (out-of-range counts, odd times, ids, kinds and codes)',
    seeded((rng) => {
      // Compared as bytes only: a uint32 field holding a 6-byte varint is not decodable by protobufjs.
      const odd = (): number =>
        rng.pick([
          -1,
          -(2 ** 31),
          2 ** 32,
          2 ** 32 + 5,
          2 ** 40,
          2 ** 53 + 2,
          1.5,
          -0.5,
          NaN,
          undefined as unknown as number,
        ]);
      const oddTime = (): HrTime =>
        rng.pick<HrTime>([
          [1.5, 2],
          [1_700_000_000.25, 999_999_999.5],
          [-1, 0],
          [-(2 ** 33), 5],
          [5, 2e9],
          [5, -1],
          [2 ** 40, 5],
          [1e15, 999_999_999],
          [2 ** 53, 1],
        ]);
      const oddScopes: Scope[] = [
        { name: 'neg', droppedAttributesCount: -1 },
        { name: 'big', attributes: { a: 1 }, droppedAttributesCount: 2 ** 32 + 5 },
        { name: 'frac', droppedAttributesCount: 2.5 },
      ];
      const pools: Pools = { resources: resources(rng).slice(0, 2), scopes: [...oddScopes, ...scopes(rng)] };
      for (let i = 0; i < 300; i++) {
        const batch = Array.from({ length: rng.between(1, 5) }, () => {
          const base = span(rng, pools);
          const ctx = { ...base.spanContext(), traceFlags: rng.pick([-1, 2 ** 32 + 3, 1.5, 0x1234]) };
          if (rng.chance(0.3)) ctx.traceId = rng.pick(['', 'zz', 'G0-!', 'ABCDEFabcdef0189']);
          const oddEvent = { name: 'e', time: oddTime(), droppedAttributesCount: odd() };
          const oddLink = { context: ctx, droppedAttributesCount: odd() };
          return {
            ...base,
            spanContext: () => ctx,
            kind: rng.pick([-1, 5, 1.5, 2 ** 32]),
            status: { code: rng.pick([-1, 3, 2 ** 32 + 1, 0.5]), message: base.status.message },
            startTime: oddTime(),
            endTime: rng.chance(0.5) ? oddTime() : base.endTime,
            events: [...base.events, oddEvent],
            links: [...base.links, oddLink],
            droppedAttributesCount: odd(),
            droppedEventsCount: odd(),
            droppedLinksCount: odd(),
          };
        });
        const fast = encodeTraceRequest(batch);
        const expected = reference(batch);
        if (!fast.equals(expected)) {
          const at = firstDifference(fast, expected);
          throw new Error(`odd batch ${i}: first difference at byte ${at} of ${fast.length}/${expected.length}`);
        }
      }
    }),
  );

  it(
    'gives, for every sub-batch a session encodes, the bytes of a fresh encode (resources and scopes reused)',
    seeded((rng) => {
      for (let round = 0; round < 5; round++) {
        const batch = batches(rng, 150).flat();
        const session = new OtlpProtoEncodingSession();
        // Consecutive slices, as the size splitter cuts; then random subsets, as grouping by partition picks.
        const subs: ReadableSpan[][] = [];
        for (let at = 0; at < batch.length;) {
          const size = rng.between(1, 30);
          subs.push(batch.slice(at, at + size));
          at += size;
        }
        for (let i = 0; i < 5; i++) subs.push(batch.filter(() => rng.chance(0.3)));
        for (const [i, sub] of subs.entries()) {
          const encoded = session.encode(sub);
          expect(encoded.equals(encodeTraceRequest(sub))).toBe(true);
          expectSameEncoding(encoded, sub, `round ${round}, sub-batch ${i} of a session`);
        }
      }
    }),
  );

  it(
    'keeps interleaved sessions apart (they share one writer) and a returned buffer unchanged by later encodes',
    seeded((rng) => {
      const [a, b, c] = batches(rng, 300).filter((batch) => batch.length > 3);
      if (!a || !b || !c) throw new Error('the generator gave fewer than 3 batches of more than 3 spans');
      const first = new OtlpProtoEncodingSession();
      const second = new OtlpProtoEncodingSession();
      const outA = first.encode(a);
      const copyA = Buffer.from(outA);
      const outB = second.encode(b);
      const outC = first.encode(c);
      const outA2 = second.encode(a);
      expect(outA.equals(copyA)).toBe(true);
      expectSameEncoding(outA, a, 'first session, batch a');
      expectSameEncoding(outB, b, 'second session, batch b');
      expectSameEncoding(outC, c, 'first session, batch c');
      expectSameEncoding(outA2, a, 'second session, batch a');
    }),
  );

  it(
    "writes through otlpProtoSerializer() (default 'fast', and its sessions) what encoder 'otlp-transformer' writes",
    seeded((rng) => {
      const fast = otlpProtoSerializer();
      const oracle = otlpProtoSerializer({ encoder: 'otlp-transformer' });
      if (!hasSessions(fast)) throw new Error('otlpProtoSerializer() offers no sessions');
      const session = fast.session();
      for (const batch of batches(rng, 500)) {
        const expected = Buffer.from(oracle.serialize(batch));
        expect(Buffer.from(fast.serialize(batch)).equals(expected)).toBe(true);
        expect(Buffer.from(session(batch)).equals(expected)).toBe(true);
      }
    }),
  );
});
