// Inputs of the record fuzz test: what a hostile or broken producer can put in a Kafka record. Every generator
// is driven by one seeded PRNG, so a seed reproduces a run exactly.
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Attributes, Link, SpanContext } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/** Record headers as the Kafka client hands them over (values are Buffers). */
export type Headers = Record<string, Buffer>;

export interface FuzzRecord {
  readonly value: Buffer;
  readonly headers: Headers;
  /**
   * A request the OTel SDK's own serializer wrote, with a content type that names its encoding (or none, or an
   * empty one): dead-lettering it is a false dead letter.
   */
  readonly mustDeliver: boolean;
}

export interface FuzzCase {
  readonly generator: string;
  readonly index: number;
  /** One record, or a batch (mixed-batches) of records that the forwarder reads as one content type. */
  readonly records: FuzzRecord[];
}

// ---------------------------------------------------------------------------------------------------------
// PRNG

// Globals such as `Math` are slow to reach from inside Jest's VM context (an interceptor per lookup): read
// once, the generator runs ~25x faster there.
const { floor, imul } = Math;

/** mulberry32: small, fast, and the same sequence on every platform for a seed. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  uint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return floor((this.uint32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.uint32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.uint32() & 0xff;
    return out;
  }

  hex(bytes: number): string {
    return this.bytes(bytes).toString('hex');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Content types

export const CT = {
  proto: 'application/x-protobuf',
  protoAlt: 'application/protobuf',
  json: 'application/json',
  jsonCharset: 'application/json; charset=utf-8',
} as const;

/** A header value no producer should send: NUL, an ANSI escape, invalid UTF-8. */
export const GARBAGE_CONTENT_TYPE = Buffer.from([
  0x61, 0x70, 0x70, 0x00, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x2f, 0xff, 0xfe, 0x0d, 0x0a, 0x78,
]);

export type HeaderChoice = 'missing' | 'empty' | keyof typeof CT | 'garbage';

export function headersFor(choice: HeaderChoice): Headers {
  if (choice === 'missing') return {};
  if (choice === 'empty') return { 'content-type': Buffer.alloc(0) };
  if (choice === 'garbage') return { 'content-type': GARBAGE_CONTENT_TYPE };
  return { 'content-type': Buffer.from(CT[choice]) };
}

/** Header choices that name `encoding` (or say nothing): a valid record under them must be delivered. */
function namesEncoding(choice: HeaderChoice, encoding: 'proto' | 'json'): boolean {
  if (choice === 'missing' || choice === 'empty') return true;
  if (encoding === 'proto') return choice === 'proto' || choice === 'protoAlt';
  return choice === 'json' || choice === 'jsonCharset';
}

function record(value: Buffer, choice: HeaderChoice, valid?: 'proto' | 'json'): FuzzRecord {
  return { value, headers: headersFor(choice), mustDeliver: valid !== undefined && namesEncoding(choice, valid) };
}

// ---------------------------------------------------------------------------------------------------------
// Valid requests, from random ReadableSpans through the OTel SDK's own serializers

function randomText(rng: Rng, max: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 -_./:é漢😀';
  const chars = [...alphabet];
  let out = '';
  const n = rng.int(max + 1);
  for (let i = 0; i < n; i++) out += rng.pick(chars);
  return out;
}

function randomAttributeValue(rng: Rng, depth: number): unknown {
  switch (rng.int(depth > 0 ? 8 : 6)) {
    case 0:
      return randomText(rng, 16);
    case 1:
      return rng.between(-1_000_000, 1_000_000);
    case 2:
      return rng.uint32() / 7;
    case 3:
      return rng.chance(0.5);
    case 4:
      return [randomText(rng, 4), randomText(rng, 4)];
    case 5:
      return new Uint8Array(rng.bytes(rng.int(6)));
    case 6:
      return [randomAttributeValue(rng, depth - 1), randomAttributeValue(rng, depth - 1)];
    default:
      return { [`k${rng.int(9)}`]: randomAttributeValue(rng, depth - 1) };
  }
}

function randomAttributes(rng: Rng, max: number): Attributes {
  const out: Record<string, unknown> = {};
  const n = rng.int(max + 1);
  for (let i = 0; i < n; i++) out[`attr.${i}.${randomText(rng, 4)}`] = randomAttributeValue(rng, 2);
  // Nested maps and byte arrays are valid OTLP AnyValues that the API's Attributes type does not spell.
  return out as Attributes;
}

function hrTime(rng: Rng): [number, number] {
  return [1_700_000_000 + rng.int(10_000_000), rng.int(1_000_000_000)];
}

/** `count` spans of one new trace (fresh random ids), one resource and scope; attributes up to `maxAttributes`. */
export function randomSpans(rng: Rng, count: number, maxAttributes = 3): ReadableSpan[] {
  const traceId = rng.hex(16);
  const resource = resourceFromAttributes({
    'service.name': `svc-${rng.int(5)}`,
    ...(rng.chance(0.3) ? { 'host.name': randomText(rng, 10) } : {}),
  });
  const instrumentationScope = { name: `scope-${rng.int(3)}`, version: rng.chance(0.5) ? '1.0.0' : undefined };
  const spans: ReadableSpan[] = [];
  let parent: SpanContext | undefined;
  for (let i = 0; i < count; i++) {
    const ctx: SpanContext = { traceId, spanId: rng.hex(8), traceFlags: 1 };
    const start = hrTime(rng);
    const events: TimedEvent[] = [];
    for (let e = rng.int(3); e > 0; e--) {
      events.push({ name: randomText(rng, 8), time: hrTime(rng), attributes: randomAttributes(rng, 2) });
    }
    const links: Link[] = rng.chance(0.3)
      ? [{ context: { traceId: rng.hex(16), spanId: rng.hex(8), traceFlags: 1 }, attributes: randomAttributes(rng, 1) }]
      : [];
    spans.push({
      name: randomText(rng, 24) || 'span',
      kind: rng.int(5),
      spanContext: () => ctx,
      parentSpanContext: parent,
      startTime: start,
      endTime: [start[0] + rng.int(3), start[1]],
      status: rng.chance(0.2) ? { code: 2, message: randomText(rng, 12) } : { code: rng.int(2) },
      attributes: randomAttributes(rng, maxAttributes),
      links,
      events,
      duration: [0, 1],
      ended: true,
      resource,
      instrumentationScope,
      droppedAttributesCount: rng.int(2),
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    });
    if (rng.chance(0.5)) parent = ctx;
  }
  return spans;
}

export function protoRequest(spans: ReadableSpan[]): Buffer {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('ProtobufTraceSerializer returned nothing');
  return Buffer.from(bytes);
}

export function jsonRequest(spans: ReadableSpan[]): Buffer {
  const bytes = JsonTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('JsonTraceSerializer returned nothing');
  return Buffer.from(bytes);
}

function validProto(rng: Rng, maxSpans = 3, maxAttributes = 3): Buffer {
  return protoRequest(randomSpans(rng, rng.between(1, maxSpans), maxAttributes));
}

function validJson(rng: Rng, maxSpans = 3, maxAttributes = 3): Buffer {
  return jsonRequest(randomSpans(rng, rng.between(1, maxSpans), maxAttributes));
}

// ---------------------------------------------------------------------------------------------------------
// Hand-built protobuf

export function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

function tag(field: number, wire: number): Buffer {
  return varint(field * 8 + wire);
}

/** A length-delimited field holding `parts`. */
function ld(field: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([tag(field, 2), varint(body.length), body]);
}

function fixed64(field: number, value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return Buffer.concat([tag(field, 1), b]);
}

/** A span with fresh ids and `extra` raw bytes inside it. */
function pbSpan(rng: Rng, ...extra: Buffer[]): Buffer {
  return ld(
    2,
    ld(1, rng.bytes(16)),
    ld(2, rng.bytes(8)),
    ld(5, Buffer.from('fuzz')),
    fixed64(7, 1_700_000_000_000_000_000n),
    fixed64(8, 1_700_000_001_000_000_000n),
    ...extra,
  );
}

/** A request with one resource and one scope holding `spans` (already wrapped as field 2 of ScopeSpans). */
function pbRequest(...spans: Buffer[]): Buffer {
  const resource = ld(1, ld(1, ld(1, Buffer.from('service.name')), ld(2, ld(1, Buffer.from('fuzz')))));
  return ld(1, resource, ld(2, ld(1, ld(1, Buffer.from('scope'))), ...spans));
}

/** Offsets of every length-delimited field's length varint in a valid request, found by walking its framing. */
function lengthOffsets(bytes: Buffer): { at: number; size: number; length: number }[] {
  const out: { at: number; size: number; length: number }[] = [];
  const readVarint = (pos: number): [number, number] => {
    let v = 0;
    let shift = 0;
    let p = pos;
    for (;;) {
      const b = bytes[p++]!;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return [v, p];
    }
  };
  // Messages of OTLP nest; strings and bytes are treated as messages only when their content walks cleanly.
  const walk = (start: number, end: number, depth: number): boolean => {
    let p = start;
    const found: typeof out = [];
    while (p < end) {
      const [t, afterTag] = readVarint(p);
      const wire = t & 7;
      if (t >>> 3 === 0) return false;
      if (wire === 0) p = readVarint(afterTag)[1];
      else if (wire === 1) p = afterTag + 8;
      else if (wire === 5) p = afterTag + 4;
      else if (wire === 2) {
        const [length, body] = readVarint(afterTag);
        if (body + length > end) return false;
        found.push({ at: afterTag, size: body - afterTag, length });
        if (depth < 12) walk(body, body + length, depth + 1);
        p = body + length;
      } else return false;
      if (p > end) return false;
    }
    out.push(...found);
    return true;
  };
  walk(0, bytes.length, 0);
  return out;
}

function replaceAt(bytes: Buffer, at: number, size: number, replacement: Buffer): Buffer {
  return Buffer.concat([bytes.subarray(0, at), replacement, bytes.subarray(at + size)]);
}

// ---------------------------------------------------------------------------------------------------------
// Generators

type Generator = (rng: Rng) => FuzzRecord[][];

const one = (r: FuzzRecord): FuzzRecord[] => [r];

const randomBytes: Generator = (rng) => {
  const out: FuzzRecord[][] = [];
  for (let i = 0; i < 2_000; i++) {
    const roll = rng.int(100);
    const length = roll < 70 ? rng.between(1, 32) : roll < 95 ? rng.between(33, 512) : rng.between(513, 4_096);
    const value = rng.bytes(length);
    if (rng.chance(0.1)) value[0] = 0x7b;
    if (rng.chance(0.2)) value[0] = 0x0a;
    out.push(one(record(value, rng.pick(['proto', 'proto', 'missing', 'missing', 'json', 'empty'] as const))));
  }
  return out;
};

const truncatedProto: Generator = (rng) => {
  const out: FuzzRecord[][] = [];
  for (let b = 0; b < 8; b++) {
    const full = validProto(rng, 3, 2);
    const choice = b % 2 === 0 ? 'proto' : 'missing';
    for (let n = 1; n <= full.length; n++) {
      out.push(one(record(Buffer.from(full.subarray(0, n)), choice, n === full.length ? 'proto' : undefined)));
    }
  }
  return out;
};

const truncatedJson: Generator = (rng) => {
  const out: FuzzRecord[][] = [];
  for (let b = 0; b < 3; b++) {
    const full = validJson(rng, 1, 1);
    const choice = b % 2 === 0 ? 'json' : 'missing';
    for (let n = 1; n <= full.length; n++) {
      out.push(one(record(Buffer.from(full.subarray(0, n)), choice, n === full.length ? 'json' : undefined)));
    }
  }
  return out;
};

function flipBit(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[bit >>> 3]! ^= 1 << (bit & 7);
  return copy;
}

const bitFlips: Generator = (rng) => {
  const out: FuzzRecord[][] = [];
  for (let b = 0; b < 4; b++) {
    const base = validProto(rng, 2, 2);
    const choice = b % 2 === 0 ? 'proto' : 'missing';
    // Every bit of the head, where the first tags and lengths are (0x0a → 0x1a among them).
    for (let bit = 0; bit < Math.min(32, base.length) * 8; bit++) out.push(one(record(flipBit(base, bit), choice)));
    for (let k = 0; k < 60; k++) out.push(one(record(flipBit(base, rng.int(base.length * 8)), choice)));
  }
  for (let k = 0; k < 200; k++) {
    const base = validJson(rng, 1, 1);
    out.push(one(record(flipBit(base, rng.int(base.length * 8)), rng.pick(['json', 'missing'] as const))));
  }
  return out;
};

function mutate(rng: Rng, bytes: Buffer, donor: Buffer): Buffer {
  const b = Buffer.from(bytes);
  const at = rng.int(b.length);
  switch (rng.int(7)) {
    case 0:
      b[at] = rng.uint32() & 0xff;
      return b;
    case 1:
      return Buffer.concat([b.subarray(0, at), rng.bytes(rng.between(1, 4)), b.subarray(at)]);
    case 2:
      return Buffer.concat([b.subarray(0, at), b.subarray(at + rng.between(1, 8))]);
    case 3: {
      const len = rng.between(1, 32);
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    }
    case 4: {
      const other = rng.int(b.length);
      const t = b[at]!;
      b[at] = b[other]!;
      b[other] = t;
      return b;
    }
    case 5:
      b.fill(0xff, at, Math.min(b.length, at + rng.between(1, 8)));
      return b;
    default: {
      const from = rng.int(donor.length);
      return Buffer.concat([b.subarray(0, at), donor.subarray(from, from + rng.between(1, 40)), b.subarray(at)]);
    }
  }
}

const byteMutations: Generator = (rng) => {
  const out: FuzzRecord[][] = [];
  const protoBases = Array.from({ length: 10 }, () => validProto(rng, 3, 3));
  const jsonBases = Array.from({ length: 4 }, () => validJson(rng, 2, 2));
  for (let i = 0; i < 1_500; i++) {
    const json = rng.chance(0.2);
    const bases = json ? jsonBases : protoBases;
    let value = rng.pick(bases);
    for (let k = rng.between(1, 3); k > 0; k--) value = mutate(rng, value, rng.pick(bases));
    if (value.length === 0) value = Buffer.from([0]);
    out.push(
      one(record(value, json ? rng.pick(['json', 'missing'] as const) : rng.pick(['proto', 'missing'] as const))),
    );
  }
  return out;
};

const inflatedVarints: Generator = (rng) => {
  const out: FuzzRecord[][] = [];
  for (let b = 0; b < 6; b++) {
    const base = validProto(rng, 2, 2);
    const offsets = lengthOffsets(base);
    for (let k = 0; k < 50; k++) {
      const { at, size, length } = rng.pick(offsets);
      const replacement = rng.pick([
        // Longer than what follows: would swallow the next record when concatenated.
        () => varint(length + rng.between(1, 3)),
        () => varint(length + 1_000),
        () => varint(2 ** 31 - 1),
        () => varint(2 ** 32 + length),
        () => varint(2n ** 63n),
        () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        // Over-long encodings of the same length (valid protobuf) and of a larger one.
        () => Buffer.concat([varint(length).subarray(0, -1), Buffer.from([varint(length).at(-1)! | 0x80, 0x00])]),
        () =>
          Buffer.from([
            ...Array<number>(10)
              .fill(0x80)
              .map((x, i) => (i === 0 ? 0x80 | (length & 0x7f) : x)),
            0x00,
          ]),
      ])();
      out.push(one(record(replaceAt(base, at, size, replacement), rng.pick(['proto', 'missing'] as const))));
    }
  }
  return out;
};

const groups: Generator = (rng) => {
  const out: FuzzRecord[][] = [];
  const group = (field: number, ...inner: Buffer[]): Buffer => Buffer.concat([tag(field, 3), ...inner, tag(field, 4)]);
  const shapes: (() => Buffer)[] = [
    // An unknown field as a well-formed group: skippable, the request stays valid.
    () => Buffer.concat([group(100, tag(1, 0), varint(5)), pbRequest(pbSpan(rng))]),
    () => Buffer.concat([pbRequest(pbSpan(rng)), group(2000, ld(1, rng.bytes(4)))]),
    () => pbRequest(pbSpan(rng, group(99, tag(1, 0), varint(1)))),
    // A known field number with the group wire type.
    () => Buffer.concat([group(1, pbSpan(rng)), pbRequest(pbSpan(rng))]),
    () => pbRequest(pbSpan(rng, group(1, tag(1, 0), varint(1)))),
    // Unbalanced groups.
    () => Buffer.concat([tag(7, 3), pbRequest(pbSpan(rng))]),
    () => Buffer.concat([pbRequest(pbSpan(rng)), tag(7, 4)]),
    () => Buffer.concat([tag(7, 3), tag(8, 4), pbRequest(pbSpan(rng))]),
    () => pbRequest(pbSpan(rng, tag(50, 3))),
    // Nested groups, deep.
    () => {
      const depth = rng.pick([10, 100, 1_000, 10_000]);
      const open = Buffer.concat(Array.from({ length: depth }, () => tag(100, 3)));
      const close = Buffer.concat(Array.from({ length: depth }, () => tag(100, 4)));
      return Buffer.concat([open, close, pbRequest(pbSpan(rng))]);
    },
    // Wire types 6 and 7 do not exist.
    () => Buffer.concat([pbRequest(pbSpan(rng)), tag(9, rng.pick([6, 7])), rng.bytes(4)]),
  ];
  for (let i = 0; i < 220; i++) {
    out.push(one(record(rng.pick(shapes)(), rng.pick(['proto', 'missing'] as const))));
  }
  return out;
};

const giantRepeated: Generator = (rng) => {
  const repeat = (unit: Buffer, times: number): Buffer => Buffer.concat(Array<Buffer>(times).fill(unit));
  const emptySpans = (n: number): Buffer => {
    const spans: Buffer[] = [];
    for (let i = 0; i < n; i++) spans.push(pbSpan(rng));
    return pbRequest(...spans);
  };
  const values: [Buffer, HeaderChoice][] = [
    // Empty ResourceSpans, many: 0 spans in any amount of bytes.
    [repeat(Buffer.from([0x0a, 0x00]), 1_000), 'proto'],
    [repeat(Buffer.from([0x0a, 0x00]), 64 * 1_024), 'missing'],
    [repeat(Buffer.from([0x0a, 0x00]), 512 * 1_024), 'proto'],
    // One span with 50,000 empty attributes, one with 100,000 empty events.
    [pbRequest(pbSpan(rng, repeat(Buffer.from([0x4a, 0x00]), 50_000))), 'proto'],
    [pbRequest(pbSpan(rng, repeat(Buffer.from([0x5a, 0x00]), 100_000))), 'proto'],
    // Many small spans: valid.
    [emptySpans(2_000), 'proto'],
    [emptySpans(20_000), 'missing'],
    // Many empty ScopeSpans in one ResourceSpans.
    [ld(1, repeat(Buffer.from([0x12, 0x00]), 200_000)), 'proto'],
    // JSON: many empty resourceSpans, many empty spans.
    [Buffer.from(`{"resourceSpans":[${Array<string>(100_000).fill('{}').join(',')}]}`), 'json'],
    [
      Buffer.from(`{"resourceSpans":[{"scopeSpans":[{"spans":[${Array<string>(50_000).fill('{}').join(',')}]}]}]}`),
      'json',
    ],
  ];
  return values.map(([value, choice]) => one(record(value, choice)));
};

/**
 * An `AnyValue` nested `depth` times through kvlist/array values. Every wrapper ends with the value it wraps,
 * so each is a prefix: built inside out as prefixes and joined once (nesting by copying is quadratic).
 */
function nestedAnyValue(rng: Rng, depth: number): Buffer {
  const leaf = ld(1, Buffer.from('leaf')); // string_value
  const key = ld(1, Buffer.from('k'));
  const prefixes: Buffer[] = [];
  let size = leaf.length;
  for (let d = 0; d < depth; d++) {
    let prefix: Buffer;
    if (rng.chance(0.5)) {
      // kvlist_value { values { key, value } }
      const valueHeader = Buffer.concat([tag(2, 2), varint(size)]);
      const kvLength = key.length + valueHeader.length + size;
      const kvHeader = Buffer.concat([tag(1, 2), varint(kvLength)]);
      prefix = Buffer.concat([tag(6, 2), varint(kvHeader.length + kvLength), kvHeader, key, valueHeader]);
    } else {
      // array_value { values }
      const valuesHeader = Buffer.concat([tag(1, 2), varint(size)]);
      prefix = Buffer.concat([tag(5, 2), varint(valuesHeader.length + size), valuesHeader]);
    }
    size += prefix.length;
    prefixes.push(prefix);
  }
  return Buffer.concat(prefixes.reverse().concat([leaf]));
}

function nestedJsonValue(depth: number): string {
  return `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth)}{"stringValue":"leaf"}${'}]}}'.repeat(depth)}`;
}

const deepNesting: Generator = (rng) => {
  const out: FuzzRecord[][] = [];
  for (const depth of [10, 50, 100, 500, 1_000, 2_000, 5_000, 20_000]) {
    const attribute = ld(9, ld(1, Buffer.from('deep')), ld(2, nestedAnyValue(rng, depth)));
    out.push(one(record(pbRequest(pbSpan(rng, attribute)), 'proto')));
    out.push(one(record(pbRequest(pbSpan(rng, attribute)), 'missing')));
    const traceId = rng.hex(16);
    const spanId = rng.hex(8);
    const json =
      `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${traceId}","spanId":"${spanId}","name":"deep",` +
      `"startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{"key":"deep","value":${nestedJsonValue(depth)}}]}]}]}]}`;
    out.push(one(record(Buffer.from(json), 'json')));
  }
  for (const depth of [1_000, 10_000, 100_000]) {
    for (const choice of ['json', 'missing'] as const) {
      const arrays = `{"resourceSpans":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      out.push(one(record(Buffer.from(arrays), choice)));
      const objects = `{"resourceSpans":[{"scopeSpans":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
      out.push(one(record(Buffer.from(objects), choice)));
    }
  }
  // Through the SDK serializer: nested maps and arrays as attribute values. Up to 30 levels they must be
  // delivered; deeper ones pass the decoder's documented 32-level limit and may be dead-lettered.
  for (let i = 0; i < 20; i++) {
    const spans = randomSpans(rng, 1, 0);
    let v: unknown = 'leaf';
    const depth = i < 12 ? rng.between(5, 30) : rng.between(33, 60);
    for (let d = depth; d > 0; d--) v = rng.chance(0.5) ? { k: v } : [v];
    const span = spans[0]!;
    const deep: ReadableSpan = { ...span, attributes: { deep: v } as unknown as Attributes };
    const json = i % 2 === 0;
    const valid = depth <= 30 ? (json ? 'json' : 'proto') : undefined;
    out.push(one(record(json ? jsonRequest([deep]) : protoRequest([deep]), json ? 'json' : 'proto', valid)));
  }
  return out;
};

/** The JSON text of a request's resourceSpans array. */
function resourceSpansArray(request: Buffer): string {
  const text = request.toString('utf8');
  const prefix = '{"resourceSpans":';
  if (!text.startsWith(prefix)) throw new Error('unexpected JsonTraceSerializer output');
  return text.slice(prefix.length, -1);
}

/** The JSON text of a request's (first) spans array. */
function spansArray(request: Buffer): string {
  const parsed = JSON.parse(request.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
  return JSON.stringify(parsed.resourceSpans[0]!.scopeSpans[0]!.spans);
}

const jsonVariants: Generator = (rng) => {
  // valid: 'any' — a request that must be delivered under any header naming JSON (or none); 'header' — only
  // under a JSON header, since without one a leading newline reads as protobuf (a documented decision).
  const texts: [Buffer, 'any' | 'header' | undefined][] = [];
  const add = (value: Buffer | string, valid?: 'any' | 'header'): void => {
    texts.push([Buffer.isBuffer(value) ? value : Buffer.from(value), valid]);
  };
  for (const t of [
    '{"not":"protobuf"}',
    '{}',
    '{"resourceSpans":[]}',
    '{"resourceSpans":null}',
    '{"resourceSpans":{}}',
    '{"resourceSpans":"x"}',
    '{"resourceSpans":[{}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[]}]}]}',
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{}]}]}]}',
    '{"resourceSpans":[null]}',
    '{"resourceSpans":[1,2,3]}',
    '[]',
    'null',
    '"resourceSpans"',
    '123',
    '{',
    '{"resourceSpans":[]}{"resourceSpans":[]}',
  ]) {
    add(t);
  }
  for (let i = 0; i < 4; i++) {
    const a = validJson(rng, 2, 1);
    const b = validJson(rng, 2, 1);
    const c = validJson(rng, 1, 1);
    const aText = a.toString('utf8');
    // Repeated keys: the Collector appends, JSON.parse keeps the last.
    add(`{"resourceSpans":${resourceSpansArray(a)},"resourceSpans":${resourceSpansArray(b)}}`);
    add(`{"resourceSpans":${resourceSpansArray(a)},"resource_spans":${resourceSpansArray(b)}}`);
    add(`{"resource_spans":${resourceSpansArray(a)},"resourceSpans":${resourceSpansArray(b)}}`);
    add(
      `{"resourceSpans":[{"scopeSpans":[{"scope":{"name":"s"},"spans":${spansArray(a)},"spans":${spansArray(b)}}]}]}`,
    );
    add(`{"resourceSpans":[{"scopeSpans":[{"spans":${spansArray(a)}}],"scopeSpans":[{"spans":${spansArray(c)}}]}]}`);
    // Prefixes: a byte order mark, JSON whitespace, a non-breaking space, a space before a byte order mark.
    add(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), a]));
    add(` \t\r${aText}`);
    add(`\n${aText}`, 'header');
    add(`\t${aText}\n`, 'any');
    add(Buffer.concat([Buffer.from([0xc2, 0xa0]), a]));
    add(Buffer.concat([Buffer.from(' '), Buffer.from([0xef, 0xbb, 0xbf]), a]));
    // Invalid UTF-8 in a string, an over-long encoding, a lone surrogate escape, trailing garbage.
    add(aText.replace('"name":"', '"name":"\u0001'));
    add(
      Buffer.concat([
        Buffer.from(aText.slice(0, aText.indexOf('"name":"') + 8)),
        Buffer.from([0xff, 0xfe]),
        Buffer.from(aText.slice(aText.indexOf('"name":"') + 8)),
      ]),
    );
    add(
      Buffer.concat([
        Buffer.from(aText.slice(0, aText.indexOf('"name":"') + 8)),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from(aText.slice(aText.indexOf('"name":"') + 8)),
      ]),
    );
    add(aText.replace('"name":"', '"name":"\\ud800'));
    add(`${aText}x`);
    add(`${aText}${aText}`);
    // The proto field names throughout.
    add(
      aText
        .replace(/"resourceSpans"/g, '"resource_spans"')
        .replace(/"scopeSpans"/g, '"scope_spans"')
        .replace(/"traceId"/g, '"trace_id"')
        .replace(/"spanId"/g, '"span_id"'),
    );
    add(a, 'any');
  }
  const out: FuzzRecord[][] = [];
  const choices: HeaderChoice[] = ['missing', 'empty', 'json', 'jsonCharset', 'garbage', 'proto'];
  for (const [value, valid] of texts) {
    for (const choice of choices) {
      const named = valid === 'any' || (valid === 'header' && (choice === 'json' || choice === 'jsonCharset'));
      out.push(one(record(value, choice, named ? 'json' : undefined)));
    }
  }
  return out;
};

const contentTypes: Generator = (rng) => {
  const out: FuzzRecord[][] = [];
  const choices: HeaderChoice[] = ['missing', 'empty', 'proto', 'protoAlt', 'json', 'jsonCharset', 'garbage'];
  for (let i = 0; i < 40; i++) {
    const json = i % 2 === 1;
    const value = json ? validJson(rng) : validProto(rng);
    for (const choice of choices) out.push(one(record(value, choice, json ? 'json' : 'proto')));
  }
  return out;
};

/** Bad records for mixed batches, each paired with the encoding it claims. */
function badRecord(rng: Rng, json: boolean): FuzzRecord {
  if (json) {
    const a = validJson(rng, 1, 1);
    return record(
      rng.pick([
        () => Buffer.from('{"not":"protobuf"}'),
        () => Buffer.from('{"resourceSpans":[]}'),
        () => a.subarray(0, rng.between(1, a.length - 1)),
        () =>
          Buffer.from(
            `{"resourceSpans":${resourceSpansArray(a)},"resourceSpans":${resourceSpansArray(validJson(rng, 1, 1))}}`,
          ),
        () => Buffer.from(`{"resourceSpans":${'['.repeat(10_000)}${']'.repeat(10_000)}}`),
        () => flipBit(a, rng.int(a.length * 8)),
      ])(),
      'json',
    );
  }
  const p = validProto(rng, 2, 2);
  return record(
    rng.pick([
      () => p.subarray(0, rng.between(1, p.length - 1)),
      () => flipBit(p, 4), // 0x0a → 0x1a: the first ResourceSpans becomes an unknown field
      () => rng.bytes(rng.between(1, 64)),
      () => mutate(rng, p, p),
      () => Buffer.concat(Array<Buffer>(100).fill(Buffer.from([0x0a, 0x00]))),
      () => Buffer.concat([p, Buffer.from([0x0a, 0x7f])]),
    ])(),
    rng.pick(['proto', 'missing'] as const),
  );
}

const mixedBatches: Generator = (rng) => {
  const out: FuzzRecord[][] = [];
  for (let i = 0; i < 300; i++) {
    const json = rng.chance(0.3);
    const size = rng.between(2, 8);
    const batch: FuzzRecord[] = [];
    for (let k = 0; k < size; k++) {
      const value = json ? validJson(rng, 2, 2) : validProto(rng, 2, 2);
      batch.push(
        record(
          value,
          rng.pick(json ? (['json', 'missing'] as const) : (['proto', 'missing'] as const)),
          json ? 'json' : 'proto',
        ),
      );
    }
    // Most batches hold bad records among good ones; some are all good (concatenation must be exact).
    const bad = i % 10 === 0 ? 0 : rng.between(1, 2);
    for (let k = 0; k < bad; k++) batch.splice(rng.int(batch.length + 1), 0, badRecord(rng, json));
    out.push(batch);
  }
  return out;
};

export const GENERATORS: Record<string, Generator> = {
  'random-bytes': randomBytes,
  'truncated-proto': truncatedProto,
  'truncated-json': truncatedJson,
  'bit-flips': bitFlips,
  'byte-mutations': byteMutations,
  'inflated-varints': inflatedVarints,
  groups,
  'giant-repeated': giantRepeated,
  'deep-nesting': deepNesting,
  'json-variants': jsonVariants,
  'content-types': contentTypes,
  'mixed-batches': mixedBatches,
};

/** Every case of every generator, in a fixed order; each generator has its own PRNG stream from `seed`. */
export function generateCases(seed: number): FuzzCase[] {
  const cases: FuzzCase[] = [];
  let stream = 0;
  for (const [name, generate] of Object.entries(GENERATORS)) {
    const rng = new Rng(seed ^ Math.imul(++stream, 0x9e3779b1));
    generate(rng).forEach((records, index) => {
      // An empty value never reaches delivery (the forwarder completes it at intake).
      const nonEmpty = records.filter((r) => r.value.length > 0);
      if (nonEmpty.length > 0) cases.push({ generator: name, index, records: nonEmpty });
    });
  }
  return cases;
}
