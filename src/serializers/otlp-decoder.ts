// Decodes (and re-encodes) OTLP ExportTraceServiceRequest bodies, protobuf or OTLP/JSON, into one plain typed
// model. Both formats go through the same tree walk (`toRequest` and below); a `FieldReader` hides how each
// format spells a field (protobufjs objects with Long/Uint8Array values, or JSON with hex ids, decimal
// strings and enum names), so the two cannot drift apart in what they accept.
import protobuf from 'protobufjs/light.js';
import type { Enum, Type } from 'protobufjs/light.js';

import { SerializationError } from '../errors/errors';

import { ExportTraceServiceRequest, ExportTraceServiceResponse, SpanKind, StatusCode } from './otlp-schema';

/**
 * An attribute value, the decoded form of an OTLP `AnyValue`.
 *
 * @remarks
 * `string_value` → string, `bool_value` → boolean, `int_value` → bigint (always, even when small),
 * `double_value` → number, `bytes_value` → Uint8Array, `array_value` → array, `kvlist_value` → plain object,
 * an empty `AnyValue` (or a `KeyValue` without value) → `null`. Integers are bigints so that an integer and
 * a double stay distinguishable: re-encoding a decoded request gives back the same value types.
 */
export type AttrValue =
  string | boolean | number | bigint | Uint8Array | null | AttrValue[] | { [key: string]: AttrValue };

/** Attributes by key. A key repeated on the wire keeps its last value. */
export type DecodedAttributes = Record<string, AttrValue>;

/** A decoded `ExportTraceServiceRequest`. */
export interface DecodedTraceRequest {
  /** Spans grouped by the resource that produced them. */
  resourceSpans: DecodedResourceSpans[];
}

/** A decoded `ResourceSpans`: the spans of one resource. */
export interface DecodedResourceSpans {
  /** The resource; empty attributes when the message had none. */
  resource: DecodedResource;
  /** Spans grouped by instrumentation scope. */
  scopeSpans: DecodedScopeSpans[];
  /** The schema URL of the resource, `''` when absent. */
  schemaUrl: string;
}

/** A decoded `Resource`. */
export interface DecodedResource {
  /** Resource attributes, e.g. `service.name`. */
  attributes: DecodedAttributes;
  /** Attributes the producer dropped. */
  droppedAttributesCount: number;
}

/** A decoded `ScopeSpans`: the spans of one instrumentation scope. */
export interface DecodedScopeSpans {
  /** The instrumentation scope; empty name and version when the message had none. */
  scope: DecodedScope;
  /** The spans. */
  spans: DecodedSpan[];
  /** The schema URL of the scope, `''` when absent. */
  schemaUrl: string;
}

/** A decoded `InstrumentationScope`. */
export interface DecodedScope {
  /** The scope (tracer) name, `''` when absent. */
  name: string;
  /** The scope version, `''` when absent. */
  version: string;
  /** Scope attributes. */
  attributes: DecodedAttributes;
  /** Attributes the producer dropped. */
  droppedAttributesCount: number;
}

/** A decoded `Span`. */
export interface DecodedSpan {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  /** 16 lowercase hex characters, or `''` for a root span. */
  parentSpanId: string;
  /** W3C `tracestate`, `''` when absent. */
  traceState: string;
  /** Bits 0-7: W3C trace flags; bit 8: has-is-remote; bit 9: is-remote (OTLP `SpanFlags`). */
  flags: number;
  /** The span name. */
  name: string;
  /**
   * OTLP `SpanKind`: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. Note this is the
   * `@opentelemetry/api` `SpanKind` plus one.
   */
  kind: number;
  /** Start time, nanoseconds since the Unix epoch. */
  startTimeUnixNano: bigint;
  /** End time, nanoseconds since the Unix epoch. */
  endTimeUnixNano: bigint;
  /** Span attributes. */
  attributes: DecodedAttributes;
  /** Attributes the producer dropped. */
  droppedAttributesCount: number;
  /** Span events, in order. */
  events: DecodedEvent[];
  /** Events the producer dropped. */
  droppedEventsCount: number;
  /** Links to other spans. */
  links: DecodedLink[];
  /** Links the producer dropped. */
  droppedLinksCount: number;
  /** The span status; code 0 and `''` when absent. */
  status: DecodedStatus;
}

/** A decoded `Span.Event`. */
export interface DecodedEvent {
  /** When it happened, nanoseconds since the Unix epoch. */
  timeUnixNano: bigint;
  /** The event name. */
  name: string;
  /** Event attributes. */
  attributes: DecodedAttributes;
  /** Attributes the producer dropped. */
  droppedAttributesCount: number;
}

/** A decoded `Span.Link`. */
export interface DecodedLink {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  /** W3C `tracestate` of the linked span, `''` when absent. */
  traceState: string;
  /** Link attributes. */
  attributes: DecodedAttributes;
  /** Attributes the producer dropped. */
  droppedAttributesCount: number;
  /** OTLP `SpanFlags` of the linked span context, as in {@link DecodedSpan.flags}. */
  flags: number;
}

/** A decoded `Status`. */
export interface DecodedStatus {
  /** OTLP `StatusCode`: 0 unset, 1 ok, 2 error. */
  code: number;
  /** The status message, `''` when absent. */
  message: string;
}

/** The partial-success part of an OTLP `ExportTraceServiceResponse`. */
export interface DecodedPartialSuccess {
  /** Spans the receiver rejected; 0 when it accepted everything. */
  rejectedSpans: number;
  /** Why, when the receiver said; `''` otherwise. */
  errorMessage: string;
}

const PROTO_PREFIX = 'not an OTLP ExportTraceServiceRequest: ';
const JSON_PREFIX = 'not an OTLP/JSON ExportTraceServiceRequest: ';

/**
 * Deepest nesting of array/kvlist attribute values accepted. It keeps what we encode well inside the
 * 100-message recursion limit protobufjs applies when decoding, and bounds recursion on hostile JSON.
 */
const MAX_VALUE_DEPTH = 32;

const UINT32_MAX = 0xffff_ffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A validation failure. The field path is collected while the error unwinds (see `rethrowIn`), so the hot
 * path builds no path strings; `guarded` turns it into a SerializationError with the format's prefix.
 */
class Invalid extends Error {
  readonly path: string[];

  constructor(
    readonly detail: string,
    key?: string,
  ) {
    super(detail);
    this.path = key === undefined ? [] : [key];
  }

  /** The detail, after the path of the field it concerns. */
  fullMessage(): string {
    return this.path.length === 0 ? this.detail : `${this.path.join('.')}: ${this.detail}`;
  }
}

/** Adds `segment` in front of the path of an `Invalid` passing through, and rethrows whatever it is. */
function rethrowIn(err: unknown, segment: string): never {
  if (err instanceof Invalid) err.path.unshift(segment);
  throw err;
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------------
// Hex and bytes

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += HEX[byte];
  return out;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Checks a hex id of `bytes` bytes (or `''` when `optional`) and returns it in lowercase. */
function checkHexId(value: unknown, bytes: number, optional: boolean, key: string): string {
  if (typeof value !== 'string') throw new Invalid(`expected a hex string, got ${typeof value}`, key);
  if (value === '' && optional) return '';
  if (value.length !== bytes * 2 || !HEX_RE.test(value)) {
    // Quoted as JSON: the value is the producer's, and a raw newline in it would forge a log line.
    throw new Invalid(`expected ${bytes * 2} hex characters, got ${JSON.stringify(value.slice(0, 80))}`, key);
  }
  return value.toLowerCase();
}

function setOwn(record: DecodedAttributes, key: string, value: AttrValue): void {
  // Plain assignment of '__proto__' would replace the object's prototype instead of adding a key.
  if (key === '__proto__') {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    record[key] = value;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Format-independent tree walk

const ANY_VALUE_CASES = [
  'stringValue',
  'boolValue',
  'intValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
] as const;
type AnyValueCase = (typeof ANY_VALUE_CASES)[number];

/** How one format spells each kind of field. Every method reads `o[key]`, validates it, or throws `Invalid`. */
interface FieldReader {
  string(o: Obj, key: string): string;
  bool(o: Obj, key: string): boolean;
  uint32(o: Obj, key: string): number;
  int64(o: Obj, key: string): bigint;
  fixed64(o: Obj, key: string): bigint;
  double(o: Obj, key: string): number;
  bytes(o: Obj, key: string): Uint8Array;
  enumValue(o: Obj, key: string, type: Enum): number;
  id(o: Obj, key: string, bytes: number, optional: boolean): string;
  message(o: Obj, key: string): Obj | undefined;
  messages(o: Obj, key: string): Obj[];
  anyValueCase(o: Obj): AnyValueCase | undefined;
}

/** Converts each message of `o[key]` with `fn`, naming the failing element in errors. */
function mapMessages<T>(r: FieldReader, o: Obj, key: string, fn: (item: Obj) => T): T[] {
  const list = r.messages(o, key);
  const out = new Array<T>(list.length);
  for (let i = 0; i < list.length; i++) {
    try {
      out[i] = fn(list[i] as Obj);
    } catch (err) {
      rethrowIn(err, `${key}[${i}]`);
    }
  }
  return out;
}

/** Converts the sub-message `o[key]` with `fn` (or returns `absent`), naming it in errors. */
function withMessage<T>(r: FieldReader, o: Obj, key: string, absent: T, fn: (message: Obj) => T): T {
  const message = r.message(o, key);
  if (message === undefined) return absent;
  try {
    return fn(message);
  } catch (err) {
    return rethrowIn(err, key);
  }
}

function toRequest(r: FieldReader, o: Obj): DecodedTraceRequest {
  return { resourceSpans: mapMessages(r, o, 'resourceSpans', (rs) => toResourceSpans(r, rs)) };
}

function toResourceSpans(r: FieldReader, o: Obj): DecodedResourceSpans {
  return {
    resource: withMessage(r, o, 'resource', { attributes: {}, droppedAttributesCount: 0 }, (resource) => ({
      attributes: toAttributes(r, resource, 'attributes', 0),
      droppedAttributesCount: r.uint32(resource, 'droppedAttributesCount'),
    })),
    scopeSpans: mapMessages(r, o, 'scopeSpans', (ss) => toScopeSpans(r, ss)),
    schemaUrl: r.string(o, 'schemaUrl'),
  };
}

function toScopeSpans(r: FieldReader, o: Obj): DecodedScopeSpans {
  const emptyScope = { name: '', version: '', attributes: {}, droppedAttributesCount: 0 };
  return {
    scope: withMessage(r, o, 'scope', emptyScope, (scope) => ({
      name: r.string(scope, 'name'),
      version: r.string(scope, 'version'),
      attributes: toAttributes(r, scope, 'attributes', 0),
      droppedAttributesCount: r.uint32(scope, 'droppedAttributesCount'),
    })),
    spans: mapMessages(r, o, 'spans', (span) => toSpan(r, span)),
    schemaUrl: r.string(o, 'schemaUrl'),
  };
}

function toSpan(r: FieldReader, o: Obj): DecodedSpan {
  return {
    traceId: r.id(o, 'traceId', 16, false),
    spanId: r.id(o, 'spanId', 8, false),
    parentSpanId: r.id(o, 'parentSpanId', 8, true),
    traceState: r.string(o, 'traceState'),
    flags: r.uint32(o, 'flags'),
    name: r.string(o, 'name'),
    kind: r.enumValue(o, 'kind', SpanKind),
    startTimeUnixNano: r.fixed64(o, 'startTimeUnixNano'),
    endTimeUnixNano: r.fixed64(o, 'endTimeUnixNano'),
    attributes: toAttributes(r, o, 'attributes', 0),
    droppedAttributesCount: r.uint32(o, 'droppedAttributesCount'),
    events: mapMessages(r, o, 'events', (event) => ({
      timeUnixNano: r.fixed64(event, 'timeUnixNano'),
      name: r.string(event, 'name'),
      attributes: toAttributes(r, event, 'attributes', 0),
      droppedAttributesCount: r.uint32(event, 'droppedAttributesCount'),
    })),
    droppedEventsCount: r.uint32(o, 'droppedEventsCount'),
    links: mapMessages(r, o, 'links', (link) => ({
      traceId: r.id(link, 'traceId', 16, false),
      spanId: r.id(link, 'spanId', 8, false),
      traceState: r.string(link, 'traceState'),
      attributes: toAttributes(r, link, 'attributes', 0),
      droppedAttributesCount: r.uint32(link, 'droppedAttributesCount'),
      flags: r.uint32(link, 'flags'),
    })),
    droppedLinksCount: r.uint32(o, 'droppedLinksCount'),
    status: withMessage(r, o, 'status', { code: 0, message: '' }, (status) => ({
      code: r.enumValue(status, 'code', StatusCode),
      message: r.string(status, 'message'),
    })),
  };
}

/** Reads the `KeyValue` list in `o[listKey]` (`attributes`, or `values` of a kvlist). */
function toAttributes(r: FieldReader, o: Obj, listKey: string, depth: number): DecodedAttributes {
  const out: DecodedAttributes = {};
  const list = r.messages(o, listKey);
  for (let i = 0; i < list.length; i++) {
    try {
      const kv = list[i] as Obj;
      setOwn(
        out,
        r.string(kv, 'key'),
        withMessage(r, kv, 'value', null, (value) => toAnyValue(r, value, depth)),
      );
    } catch (err) {
      rethrowIn(err, `${listKey}[${i}]`);
    }
  }
  return out;
}

function toAnyValue(r: FieldReader, o: Obj, depth: number): AttrValue {
  const kind = r.anyValueCase(o);
  switch (kind) {
    case undefined:
      return null;
    case 'stringValue':
      return r.string(o, kind);
    case 'boolValue':
      return r.bool(o, kind);
    case 'intValue':
      return r.int64(o, kind);
    case 'doubleValue':
      return r.double(o, kind);
    case 'bytesValue':
      return r.bytes(o, kind);
    case 'arrayValue':
    case 'kvlistValue':
      if (depth >= MAX_VALUE_DEPTH) throw new Invalid(`values nested deeper than ${MAX_VALUE_DEPTH} levels`);
      return withMessage<AttrValue>(r, o, kind, kind === 'arrayValue' ? [] : {}, (inner) =>
        kind === 'kvlistValue'
          ? toAttributes(r, inner, 'values', depth + 1)
          : mapMessages(r, inner, 'values', (v) => toAnyValue(r, v, depth + 1)),
      );
  }
}

// ---------------------------------------------------------------------------------------------------------
// protobufjs objects

function own(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** A protobufjs 64-bit value: a `Long` (when protobufjs found the `long` package, as it does on Node) or a number. */
function longToBigInt(value: unknown, signed: boolean, key: string): bigint {
  if (value === undefined || value === null) return 0n;
  // Without `long` protobufjs hands out lossy numbers; they are still the best value available.
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  if (isObj(value) && typeof value.low === 'number' && typeof value.high === 'number') {
    const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
    return signed ? BigInt.asIntN(64, bits) : bits;
  }
  throw new Invalid('expected a 64-bit integer', key);
}

function expectType<T>(value: unknown, check: (v: unknown) => v is T, fallback: T, what: string, key: string): T {
  if (value === undefined || value === null) return fallback;
  if (check(value)) return value;
  throw new Invalid(`expected ${what}`, key);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const EMPTY_BYTES = new Uint8Array(0);

const protoReader: FieldReader = {
  string: (o, key) => expectType(own(o, key), isString, '', 'a string', key),
  bool: (o, key) => expectType(own(o, key), isBoolean, false, 'a boolean', key),
  uint32: (o, key) => expectType(own(o, key), isNumber, 0, 'a number', key),
  double: (o, key) => expectType(own(o, key), isNumber, 0, 'a number', key),
  enumValue: (o, key) => expectType(own(o, key), isNumber, 0, 'a number', key),
  int64: (o, key) => longToBigInt(own(o, key), true, key),
  fixed64: (o, key) => longToBigInt(own(o, key), false, key),
  // Copied: protobufjs hands out views into the input buffer, which the caller may reuse.
  bytes: (o, key) => new Uint8Array(expectType(own(o, key), isBytes, EMPTY_BYTES, 'bytes', key)),
  id(o, key, bytes, optional) {
    const value = expectType(own(o, key), isBytes, EMPTY_BYTES, 'bytes', key);
    if (value.length === bytes || (optional && value.length === 0)) return bytesToHex(value);
    throw new Invalid(`expected ${bytes} bytes, got ${value.length}`, key);
  },
  message(o, key) {
    const value = own(o, key);
    if (value === undefined || value === null) return undefined;
    if (isObj(value)) return value;
    throw new Invalid('expected a message', key);
  },
  messages(o, key) {
    const value = own(o, key);
    if (value === undefined) return [];
    if (Array.isArray(value) && value.every(isObj)) return value;
    throw new Invalid('expected a list of messages', key);
  },
  anyValueCase(o) {
    // protobufjs's virtual oneof property names the member set last, which is the one that counts.
    const kind: unknown = o.value;
    return ANY_VALUE_CASES.find((c) => c === kind);
  },
};

// ---------------------------------------------------------------------------------------------------------
// OTLP/JSON (proto3 JSON mapping with OTLP's exceptions: hex ids, integer enums, lowerCamelCase keys)

const snakeNames = new Map<string, string>();

/** Proto3 JSON parsers accept the original snake_case field names too. */
function snake(key: string): string {
  let name = snakeNames.get(key);
  if (name === undefined) {
    name = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeNames.set(key, name);
  }
  return name;
}

/** `o[key]` (or its snake_case form); `null` counts as absent, as in proto3 JSON. */
function jsonGet(o: Obj, key: string): unknown {
  let value = Object.hasOwn(o, key) ? o[key] : undefined;
  if (value === undefined || value === null) {
    const alias = snake(key);
    value = alias !== key && Object.hasOwn(o, alias) ? o[alias] : undefined;
  }
  return value === null ? undefined : value;
}

function jsonInteger(value: unknown, min: bigint, max: bigint, key: string): bigint {
  let result: bigint | undefined;
  if (value === undefined) return 0n;
  if (typeof value === 'number' && Number.isInteger(value)) result = BigInt(value);
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) result = BigInt(value);
  if (result === undefined) throw new Invalid(`expected an integer, got ${JSON.stringify(value)}`, key);
  if (result < min || result > max) throw new Invalid(`${result} is out of range [${min}, ${max}]`, key);
  return result;
}

const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

const jsonReader: FieldReader = {
  string: (o, key) => expectType(jsonGet(o, key), isString, '', 'a string', key),
  bool: (o, key) => expectType(jsonGet(o, key), isBoolean, false, 'a boolean', key),
  uint32: (o, key) => Number(jsonInteger(jsonGet(o, key), 0n, BigInt(UINT32_MAX), key)),
  int64: (o, key) => jsonInteger(jsonGet(o, key), INT64_MIN, INT64_MAX, key),
  fixed64: (o, key) => jsonInteger(jsonGet(o, key), 0n, UINT64_MAX, key),
  double(o, key) {
    const value = jsonGet(o, key);
    if (value === undefined) return 0;
    if (typeof value === 'number') return value;
    if (value === 'NaN') return NaN;
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
    throw new Invalid(`expected a number, got ${JSON.stringify(value)}`, key);
  },
  bytes(o, key) {
    const value = jsonGet(o, key);
    if (value === undefined) return new Uint8Array(0);
    if (typeof value !== 'string' || !BASE64_RE.test(value) || value.replace(/=+$/, '').length % 4 === 1) {
      throw new Invalid('expected base64', key);
    }
    return new Uint8Array(Buffer.from(value, 'base64'));
  },
  enumValue(o, key, type) {
    const value = jsonGet(o, key);
    if (value === undefined) return 0;
    if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) return value;
    if (typeof value === 'string' && Object.hasOwn(type.values, value)) return type.values[value] as number;
    throw new Invalid(`expected a ${type.name} number or name, got ${JSON.stringify(value)}`, key);
  },
  id: (o, key, bytes, optional) => checkHexId(jsonGet(o, key) ?? '', bytes, optional, key),
  message(o, key) {
    const value = jsonGet(o, key);
    if (value === undefined || isObj(value)) return value;
    throw new Invalid('expected an object', key);
  },
  messages(o, key) {
    const value = jsonGet(o, key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new Invalid('expected an array', key);
    value.forEach((item, i) => {
      if (!isObj(item)) throw new Invalid('expected an object', `${key}[${i}]`);
    });
    return value as Obj[];
  },
  anyValueCase(o) {
    const present = ANY_VALUE_CASES.filter((c) => jsonGet(o, c) !== undefined);
    if (present.length > 1) throw new Invalid(`more than one value set (${present.join(', ')})`);
    return present[0];
  },
};

// ---------------------------------------------------------------------------------------------------------
// Wire walk (countSpans, and the structural check in front of the full protobuf decode)

const MAX_GROUP_DEPTH = 100;

class WireCursor {
  pos = 0;

  constructor(readonly buf: Uint8Array) {}

  varint(end: number): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new Invalid(`truncated varint at offset ${start}`);
      const byte = this.buf[this.pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new Invalid(`varint longer than 10 bytes at offset ${start}`);
  }

  /** Reads a tag; returns the field number times 8 plus the wire type, as on the wire. */
  tag(end: number): number {
    const start = this.pos;
    const tag = this.varint(end);
    if (tag > UINT32_MAX || tag >>> 3 === 0)
      throw new Invalid(`invalid field number ${Math.floor(tag / 8)} at offset ${start}`);
    return tag;
  }

  /** Reads the length of a length-delimited field and returns where its content ends. */
  delimited(end: number, tagStart: number): number {
    const length = this.varint(end);
    if (length > end - this.pos) {
      throw new Invalid(`truncated: field at offset ${tagStart} needs ${length} bytes, ${end - this.pos} left`);
    }
    return this.pos + length;
  }

  skip(tag: number, end: number, tagStart: number, depth = 0): void {
    const wireType = tag & 7;
    switch (wireType) {
      case 0:
        this.varint(end);
        return;
      case 1:
      case 5: {
        const size = wireType === 1 ? 8 : 4;
        if (size > end - this.pos) throw new Invalid(`truncated: field at offset ${tagStart} needs ${size} bytes`);
        this.pos += size;
        return;
      }
      case 2:
        this.pos = this.delimited(end, tagStart);
        return;
      case 3: {
        if (depth >= MAX_GROUP_DEPTH) throw new Invalid(`groups nested too deep at offset ${tagStart}`);
        for (;;) {
          const innerStart = this.pos;
          if (innerStart >= end) throw new Invalid(`unterminated group at offset ${tagStart}`);
          const inner = this.tag(end);
          if ((inner & 7) === 4) {
            if (inner >>> 3 !== tag >>> 3) throw new Invalid(`mismatched end group at offset ${innerStart}`);
            return;
          }
          this.skip(inner, end, innerStart, depth + 1);
        }
      }
      default:
        throw new Invalid(`invalid wire type ${wireType} at offset ${tagStart}`);
    }
  }
}

/** Walks request → resource_spans (1) → scope_spans (2) → spans (2), counting spans and checking framing. */
function walkRequest(buf: Uint8Array): number {
  const c = new WireCursor(buf);
  let spans = 0;
  const end = buf.length;
  while (c.pos < end) {
    const tagStart = c.pos;
    const tag = c.tag(end);
    if (tag >>> 3 !== 1) {
      c.skip(tag, end, tagStart);
      continue;
    }
    const rsEnd = enter(c, tag, end, tagStart, 'resource_spans');
    while (c.pos < rsEnd) {
      const rsTagStart = c.pos;
      const rsTag = c.tag(rsEnd);
      if (rsTag >>> 3 !== 2) {
        c.skip(rsTag, rsEnd, rsTagStart);
        continue;
      }
      const ssEnd = enter(c, rsTag, rsEnd, rsTagStart, 'scope_spans');
      while (c.pos < ssEnd) {
        const ssTagStart = c.pos;
        const ssTag = c.tag(ssEnd);
        if (ssTag >>> 3 === 2) {
          c.pos = enter(c, ssTag, ssEnd, ssTagStart, 'spans');
          spans++;
        } else {
          c.skip(ssTag, ssEnd, ssTagStart);
        }
      }
    }
  }
  return spans;
}

/** Checks that a message field is length-delimited and returns where its content ends. */
function enter(c: WireCursor, tag: number, end: number, tagStart: number, name: string): number {
  const wireType = tag & 7;
  if (wireType > 5) throw new Invalid(`invalid wire type ${wireType} at offset ${tagStart}`);
  if (wireType !== 2) throw new Invalid(`${name} at offset ${tagStart} has wire type ${wireType}, expected 2`);
  return c.delimited(end, tagStart);
}

/** A known field as the object-counting walk reads it. */
interface WireField {
  /** The proto field name, for messages. */
  readonly name: string;
  readonly wireType: number;
  /** The field's message type, when it is a message field. */
  readonly message?: WireMessage;
}
type WireMessage = ReadonlyMap<number, WireField>;

/** The wire shape of `type` and the messages below it, derived from the schema protobufjs decodes with. */
function wireMessage(type: Type, seen = new Map<Type, Map<number, WireField>>()): WireMessage {
  const known = seen.get(type);
  if (known !== undefined) return known;
  const fields = new Map<number, WireField>();
  seen.set(type, fields);
  for (const f of type.fieldsArray) {
    const resolved = f.resolve().resolvedType;
    const name = snake(f.name);
    if (resolved instanceof protobuf.Type)
      fields.set(f.id, { name, wireType: 2, message: wireMessage(resolved, seen) });
    // An enum is a varint; the trace schema has no packed repeated scalars.
    else fields.set(f.id, { name, wireType: resolved === null ? (BASIC_WIRE_TYPES[f.type] ?? 2) : 0 });
  }
  return fields;
}

const BASIC_WIRE_TYPES: Readonly<Record<string, number | undefined>> = protobuf.types.basic;
let requestWire: WireMessage | undefined;

/** protoc's (and protobufjs's) default recursion limit. */
const MAX_MESSAGE_DEPTH = 100;

/**
 * Checks the framing of a whole request down to attribute values and counts the messages in it (every
 * resource spans, scope spans, span, event, link, attribute, ..., at any depth), without allocating.
 *
 * @remarks
 * protobufjs decodes a known field whatever its wire type (reading a varint field as a length, say), so it
 * would build objects from bytes this walk read differently; a known field of the wrong wire type is rejected
 * here, which keeps the count exactly the number of messages protobufjs creates.
 */
function countMessages(buf: Uint8Array): number {
  requestWire ??= wireMessage(ExportTraceServiceRequest);
  return walkMessage(new WireCursor(buf), buf.length, requestWire, 0);
}

function walkMessage(c: WireCursor, end: number, schema: WireMessage, depth: number): number {
  let messages = 0;
  while (c.pos < end) {
    const tagStart = c.pos;
    const tag = c.tag(end);
    const field = schema.get(tag >>> 3);
    const wireType = tag & 7;
    if (field === undefined || wireType > 5) {
      c.skip(tag, end, tagStart);
      continue;
    }
    if (wireType !== field.wireType) {
      throw new Invalid(`${field.name} at offset ${tagStart} has wire type ${wireType}, expected ${field.wireType}`);
    }
    if (field.message === undefined) {
      c.skip(tag, end, tagStart);
      continue;
    }
    if (depth >= MAX_MESSAGE_DEPTH) throw new Invalid(`messages nested deeper than ${MAX_MESSAGE_DEPTH} levels`);
    const fieldEnd = c.delimited(end, tagStart);
    messages += 1 + walkMessage(c, fieldEnd, field.message, depth + 1);
  }
  return messages;
}

/**
 * The JSON objects in a parsed JSON value: in OTLP/JSON every message is an object and every object a
 * message. Iterative, so that no nesting depth can overflow the stack.
 */
function countJsonObjects(root: unknown): number {
  let objects = 0;
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) pending.push(item);
      continue;
    }
    objects++;
    for (const key in value) {
      const item = (value as Obj)[key];
      if (typeof item === 'object' && item !== null) pending.push(item);
    }
  }
  return objects;
}

// ---------------------------------------------------------------------------------------------------------
// Encoding (the model back to protobuf); defaults become `undefined`, which protobufjs leaves out.

/** The form protobufjs's writer takes for 64-bit fields without needing the `long` package. */
function longBits(value: bigint): { low: number; high: number } {
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & 0xffff_ffffn), high: Number(bits >> 32n) };
}

function encUint32(value: number, key: string): number | undefined {
  if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX) throw new Invalid(`not a uint32: ${value}`, key);
  return value === 0 ? undefined : value;
}

function encInt32(value: number, key: string): number | undefined {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw new Invalid(`not an int32: ${value}`, key);
  }
  return value === 0 ? undefined : value;
}

function encFixed64(value: bigint, key: string): { low: number; high: number } | undefined {
  if (typeof value !== 'bigint' || value < 0n || value > UINT64_MAX) {
    throw new Invalid(`not a uint64 bigint: ${String(value)}`, key);
  }
  return value === 0n ? undefined : longBits(value);
}

function encString(value: string, key: string): string | undefined {
  if (typeof value !== 'string') throw new Invalid('not a string', key);
  return value === '' ? undefined : value;
}

function encId(value: string, bytes: number, optional: boolean, key: string): Uint8Array | undefined {
  const hex = checkHexId(value, bytes, optional, key);
  return hex === '' ? undefined : hexToBytes(hex);
}

/** Maps `list` with `fn`, naming the failing element `key[i]` in errors. */
function encList<T>(list: readonly T[], key: string, fn: (item: T) => Obj): Obj[] {
  if (!Array.isArray(list)) throw new Invalid('not an array', key);
  const out = new Array<Obj>(list.length);
  for (let i = 0; i < list.length; i++) {
    try {
      out[i] = fn(list[i] as T);
    } catch (err) {
      rethrowIn(err, `${key}[${i}]`);
    }
  }
  return out;
}

function encAttributes(attributes: DecodedAttributes, key: string, depth: number): Obj[] {
  if (!isObj(attributes)) throw new Invalid('not an attributes object', key);
  const out: Obj[] = [];
  for (const [name, value] of Object.entries(attributes)) {
    try {
      out.push({ key: name, value: encAnyValue(value, depth) });
    } catch (err) {
      rethrowIn(err, `${key}[${JSON.stringify(name)}]`);
    }
  }
  return out;
}

function encAnyValue(value: AttrValue, depth: number): Obj {
  if (value === null) return {};
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      return { doubleValue: value };
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) throw new Invalid(`${value} does not fit an int64`);
      return { intValue: longBits(value) };
    case 'object':
      if (value instanceof Uint8Array) return { bytesValue: value };
      if (depth >= MAX_VALUE_DEPTH) throw new Invalid(`values nested deeper than ${MAX_VALUE_DEPTH} levels`);
      if (Array.isArray(value))
        return { arrayValue: { values: encList(value, 'values', (v) => encAnyValue(v, depth + 1)) } };
      return { kvlistValue: { values: encAttributes(value, 'values', depth + 1) } };
    default:
      throw new Invalid(`cannot encode an attribute value of type ${typeof value}`);
  }
}

/** Encodes the sub-message `key` with `fn`, naming it in errors. */
function encMessage(key: string, fn: () => Obj | undefined): Obj | undefined {
  try {
    return fn();
  } catch (err) {
    return rethrowIn(err, key);
  }
}

function encSpan(span: DecodedSpan): Obj {
  const { status } = span;
  return {
    traceId: encId(span.traceId, 16, false, 'traceId'),
    spanId: encId(span.spanId, 8, false, 'spanId'),
    traceState: encString(span.traceState, 'traceState'),
    parentSpanId: encId(span.parentSpanId, 8, true, 'parentSpanId'),
    flags: encUint32(span.flags, 'flags'),
    name: encString(span.name, 'name'),
    kind: encInt32(span.kind, 'kind'),
    startTimeUnixNano: encFixed64(span.startTimeUnixNano, 'startTimeUnixNano'),
    endTimeUnixNano: encFixed64(span.endTimeUnixNano, 'endTimeUnixNano'),
    attributes: encAttributes(span.attributes, 'attributes', 0),
    droppedAttributesCount: encUint32(span.droppedAttributesCount, 'droppedAttributesCount'),
    events: encList(span.events, 'events', (event) => ({
      timeUnixNano: encFixed64(event.timeUnixNano, 'timeUnixNano'),
      name: encString(event.name, 'name'),
      attributes: encAttributes(event.attributes, 'attributes', 0),
      droppedAttributesCount: encUint32(event.droppedAttributesCount, 'droppedAttributesCount'),
    })),
    droppedEventsCount: encUint32(span.droppedEventsCount, 'droppedEventsCount'),
    links: encList(span.links, 'links', (link) => ({
      traceId: encId(link.traceId, 16, false, 'traceId'),
      spanId: encId(link.spanId, 8, false, 'spanId'),
      traceState: encString(link.traceState, 'traceState'),
      attributes: encAttributes(link.attributes, 'attributes', 0),
      droppedAttributesCount: encUint32(link.droppedAttributesCount, 'droppedAttributesCount'),
      flags: encUint32(link.flags, 'flags'),
    })),
    droppedLinksCount: encUint32(span.droppedLinksCount, 'droppedLinksCount'),
    status: encMessage('status', () =>
      status.code === 0 && status.message === ''
        ? undefined
        : { message: encString(status.message, 'message'), code: encInt32(status.code, 'code') },
    ),
  };
}

function encRequest(request: DecodedTraceRequest): Obj {
  return {
    resourceSpans: encList(request.resourceSpans, 'resourceSpans', (rs) => ({
      resource: encMessage('resource', () => ({
        attributes: encAttributes(rs.resource.attributes, 'attributes', 0),
        droppedAttributesCount: encUint32(rs.resource.droppedAttributesCount, 'droppedAttributesCount'),
      })),
      scopeSpans: encList(rs.scopeSpans, 'scopeSpans', (ss) => ({
        scope: encMessage('scope', () => ({
          name: encString(ss.scope.name, 'name'),
          version: encString(ss.scope.version, 'version'),
          attributes: encAttributes(ss.scope.attributes, 'attributes', 0),
          droppedAttributesCount: encUint32(ss.scope.droppedAttributesCount, 'droppedAttributesCount'),
        })),
        spans: encList(ss.spans, 'spans', encSpan),
        schemaUrl: encString(ss.schemaUrl, 'schemaUrl'),
      })),
      schemaUrl: encString(rs.schemaUrl, 'schemaUrl'),
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Entry points

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.toLowerCase().includes('json');
}

function parseJson(bytes: Uint8Array, prefix: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new SerializationError(`${prefix}invalid UTF-8`, err);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SerializationError(`${prefix}invalid JSON: ${describe(err)}`, err);
  }
}

/** Runs `fn`, turning anything it throws into a SerializationError whose message starts with `prefix`. */
function guarded<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SerializationError) throw err;
    if (err instanceof Invalid) throw new SerializationError(prefix + err.fullMessage());
    throw new SerializationError(prefix + describe(err), err);
  }
}

/** Options of {@link decodeTraceRequest}. */
export interface DecodeOptions {
  /**
   * Most messages (resource spans, scope spans, spans, events, links, attributes and attribute values, at
   * any depth) the request may hold; a larger one is refused before the decoded model is built, since that
   * model takes some 100-300 bytes of heap per message whatever the bytes on the wire (2 for an empty one).
   * @defaultValue no limit
   */
  readonly maxObjects?: number;
}

/**
 * Decodes a Kafka record value holding an OTLP `ExportTraceServiceRequest`.
 *
 * @param bytes - The record value; 0 bytes is a valid empty request.
 * @param contentType - The record's `content-type` header; one containing `json` selects OTLP/JSON,
 *   anything else (or none) protobuf.
 * @param options - A limit on the size of the decoded request.
 * @returns The request as plain objects (ids as lowercase hex, times as bigint nanoseconds).
 * @throws {@link SerializationError} when the bytes are not such a request: malformed or truncated
 *   protobuf, invalid JSON, ids of the wrong length, ... The message names the offset or field path. Also
 *   when the request holds more messages than `options.maxObjects`; the message names both numbers.
 *
 * @remarks
 * Unknown fields are ignored (newer OTLP versions add fields). Concatenated protobuf requests decode as one
 * request holding all their resource spans, as protobuf merges repeated fields.
 *
 * @example
 * ```ts
 * const request = decodeTraceRequest(record.value, headers['content-type']);
 * ```
 */
export function decodeTraceRequest(
  bytes: Uint8Array,
  contentType?: string,
  options: DecodeOptions = {},
): DecodedTraceRequest {
  if (bytes.length === 0) return { resourceSpans: [] };
  const { maxObjects } = options;
  if (isJson(contentType)) {
    const parsed = parseJson(bytes, JSON_PREFIX);
    if (maxObjects !== undefined) checkObjects(countJsonObjects(parsed), maxObjects);
    return guarded(JSON_PREFIX, () => {
      if (!isObj(parsed)) throw new Invalid('expected a JSON object');
      return toRequest(jsonReader, parsed);
    });
  }
  // A JSON value sent without its content-type header is a common misconfiguration: say so.
  const prefix = bytes[0] === 0x7b ? `${PROTO_PREFIX}(starts with '{': JSON without content-type?) ` : PROTO_PREFIX;
  const objects = guarded(prefix, () => countMessages(bytes));
  if (maxObjects !== undefined) checkObjects(objects, maxObjects);
  return guarded(prefix, () => {
    const message: unknown = ExportTraceServiceRequest.decode(bytes);
    if (!isObj(message)) throw new Invalid('decoder returned no message');
    return toRequest(protoReader, message);
  });
}

function checkObjects(objects: number, maxObjects: number): void {
  if (objects > maxObjects) {
    throw new SerializationError(
      `too large to decode: ${objects} messages (spans, events, links, attributes, ...), more than the ` +
        `${maxObjects} one record may hold`,
    );
  }
}

/**
 * Counts the spans of a protobuf `ExportTraceServiceRequest` without decoding it.
 *
 * @remarks
 * Walks only the framing of resource spans, scope spans and spans, skipping everything else by wire
 * type, so it is much cheaper than {@link decodeTraceRequest}. It checks framing (tags, wire types,
 * lengths) but not the content of the spans; a request it accepts may still fail a full decode.
 *
 * @throws {@link SerializationError} when the framing is malformed or truncated.
 *
 * @example
 * ```ts
 * spansForwarded.add(countSpans(record.value));
 * ```
 */
export function countSpans(bytes: Uint8Array): number {
  return guarded(PROTO_PREFIX, () => walkRequest(bytes));
}

/**
 * Encodes a request in the model of {@link decodeTraceRequest} as a protobuf `ExportTraceServiceRequest`.
 *
 * @remarks
 * Fields holding their default value are left out, as protobuf encoders do. `decodeTraceRequest` of the
 * result deep-equals `request`.
 *
 * @throws {@link SerializationError} when a field cannot be encoded (an id that is not hex of the right
 *   length, a time outside uint64, a count outside uint32, ...).
 *
 * @example
 * ```ts
 * const bytes = encodeTraceRequest({ resourceSpans: request.resourceSpans.slice(0, half) });
 * ```
 */
export function encodeTraceRequest(request: DecodedTraceRequest): Uint8Array {
  return guarded('cannot encode ExportTraceServiceRequest: ', () => {
    const out = ExportTraceServiceRequest.encode(encRequest(request)).finish();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  });
}

/**
 * Decodes the body of an OTLP/HTTP trace export response (its partial-success part).
 *
 * @param bytes - The response body; 0 bytes means full success.
 * @param contentType - The response's `content-type`; one containing `json` selects OTLP/JSON.
 * @throws {@link SerializationError} when the body is not an `ExportTraceServiceResponse`.
 *
 * @example
 * ```ts
 * const { rejectedSpans, errorMessage } = decodeExportTraceServiceResponse(body, res.headers['content-type']);
 * ```
 */
export function decodeExportTraceServiceResponse(bytes: Uint8Array, contentType?: string): DecodedPartialSuccess {
  if (bytes.length === 0) return { rejectedSpans: 0, errorMessage: '' };
  const json = isJson(contentType);
  const prefix = `not an OTLP${json ? '/JSON' : ''} ExportTraceServiceResponse: `;
  const parsed = json ? parseJson(bytes, prefix) : undefined;
  return guarded(prefix, () => {
    const r = json ? jsonReader : protoReader;
    const message: unknown = json ? parsed : ExportTraceServiceResponse.decode(bytes);
    if (!isObj(message)) throw new Invalid('expected an object');
    return withMessage(r, message, 'partialSuccess', { rejectedSpans: 0, errorMessage: '' }, (partial) => ({
      rejectedSpans: Number(r.int64(partial, 'rejectedSpans')),
      errorMessage: r.string(partial, 'errorMessage'),
    }));
  });
}
