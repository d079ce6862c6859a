// The fuzz test's oracle: an OTLP trace request decoder that shares nothing with src/serializers. Protobuf goes
// through protobufjs's own .proto parser and decoder, fed the upstream opentelemetry-proto definitions (no
// package in node_modules ships them any more: otlp-transformer 0.2xx writes protobuf by hand), after a wire
// check that refuses what Go's protobuf runtime (Jaeger, the Collector) refuses and protobufjs lets through: a
// known field with the wrong wire type, and ids of the wrong length (pdata's TraceID/SpanID). OTLP/JSON goes
// through a small parser that keeps repeated keys, read the way the Collector's pdata unmarshaller reads them:
// a repeated field named twice appends. Both return the spans' (trace id, span id) pairs, lowercase hex.
import protobuf from 'protobufjs';

/** Upstream opentelemetry-proto v1.5.0 (common, resource, trace, collector/trace), the fields we need. */
const OTLP_PROTO = `
syntax = "proto3";
package opentelemetry.proto;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message Resource {
  repeated KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}
message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}
message ScopeSpans {
  InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  enum SpanKind {
    SPAN_KIND_UNSPECIFIED = 0;
    SPAN_KIND_INTERNAL = 1;
    SPAN_KIND_SERVER = 2;
    SPAN_KIND_CLIENT = 3;
    SPAN_KIND_PRODUCER = 4;
    SPAN_KIND_CONSUMER = 5;
  }
  SpanKind kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  message Link {
    bytes trace_id = 1;
    bytes span_id = 2;
    string trace_state = 3;
    repeated KeyValue attributes = 4;
    uint32 dropped_attributes_count = 5;
    fixed32 flags = 6;
  }
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
}
message Status {
  string message = 2;
  enum StatusCode {
    STATUS_CODE_UNSET = 0;
    STATUS_CODE_OK = 1;
    STATUS_CODE_ERROR = 2;
  }
  StatusCode code = 3;
}
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

const root = protobuf.parse(OTLP_PROTO, { keepCase: true }).root;
const Request = root.lookupType('opentelemetry.proto.ExportTraceServiceRequest');
root.resolveAll();

/** Deeper than this is refused (Go's protobuf runtime stops at 10,000; our stack is smaller). */
const MAX_DEPTH = 1_000;

/** One span of a decoded request: `traceId/spanId` in lowercase hex. */
export type SpanKey = string;

/** Thrown for a body the reference cannot read; a receiver answers 400. */
export class ReferenceDecodeError extends Error {}

const WIRE_OF: Record<string, number> = {
  string: 2,
  bytes: 2,
  int64: 0,
  uint32: 0,
  bool: 0,
  double: 1,
  fixed64: 1,
  fixed32: 5,
};

function expectedWire(field: protobuf.Field): number {
  if (field.resolvedType instanceof protobuf.Type) return 2;
  if (field.resolvedType instanceof protobuf.Enum) return 0;
  const wire = WIRE_OF[field.type];
  if (wire === undefined) throw new Error(`reference: no wire type for ${field.type}`);
  return wire;
}

/**
 * Skips an unknown field. protobufjs's own skipType ends a group at any end-group tag; Go's runtime refuses
 * one whose field number does not match the group's, and an end-group with no group open.
 */
function skipUnknown(reader: protobuf.Reader, id: number, wire: number, depth: number): void {
  if (wire === 4) throw new ReferenceDecodeError(`end group ${id} without a start group`);
  if (wire !== 3) {
    reader.skipType(wire);
    return;
  }
  if (depth > MAX_DEPTH) throw new ReferenceDecodeError('exceeds maximum nesting depth');
  for (;;) {
    if (reader.pos >= reader.len) throw new ReferenceDecodeError(`group ${id} not ended`);
    const tag = reader.uint32();
    if ((tag & 7) === 4) {
      if (tag >>> 3 !== id) throw new ReferenceDecodeError(`mismatched end group ${tag >>> 3} for group ${id}`);
      return;
    }
    skipUnknown(reader, tag >>> 3, tag & 7, depth + 1);
  }
}

/** Walks `bytes` as a `type`, refusing what Go's runtime refuses; protobufjs decodes it afterwards. */
function checkWire(bytes: Uint8Array, type: protobuf.Type, depth: number): void {
  if (depth > MAX_DEPTH) throw new ReferenceDecodeError('exceeds maximum nesting depth');
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    if (id === 0) throw new ReferenceDecodeError(`illegal tag 0 at offset ${reader.pos}`);
    const field = type.fieldsById[id];
    if (field === undefined) {
      skipUnknown(reader, id, wire, depth);
      continue;
    }
    const want = expectedWire(field);
    const packed = field.repeated && want !== 2 && wire === 2;
    if (wire !== want && !packed)
      throw new ReferenceDecodeError(`field ${type.name}.${field.name}: wrong wire type ${wire}`);
    if (field.resolvedType instanceof protobuf.Type) {
      const length = reader.uint32();
      const end = reader.pos + length;
      if (end > reader.len) throw new ReferenceDecodeError(`field ${type.name}.${field.name}: length out of range`);
      checkWire(reader.buf.subarray(reader.pos, end), field.resolvedType, depth + 1);
      reader.pos = end;
    } else {
      reader.skipType(wire);
    }
  }
}

interface ProtoSpan {
  trace_id?: Uint8Array;
  span_id?: Uint8Array;
  parent_span_id?: Uint8Array;
  links?: { trace_id?: Uint8Array; span_id?: Uint8Array }[];
}
interface ProtoRequest {
  resource_spans?: { scope_spans?: { spans?: ProtoSpan[] }[] }[];
}

function checkId(bytes: Uint8Array | undefined, size: number, what: string): string {
  const b = bytes ?? new Uint8Array();
  if (b.length !== 0 && b.length !== size) throw new ReferenceDecodeError(`invalid length of ${what}: ${b.length}`);
  return Buffer.from(b).toString('hex');
}

/** The spans of a protobuf `ExportTraceServiceRequest`; throws {@link ReferenceDecodeError} when unreadable. */
export function decodeProtobufSpans(body: Uint8Array): SpanKey[] {
  let request: ProtoRequest;
  try {
    checkWire(body, Request, 0);
    request = Request.toObject(Request.decode(body), { defaults: false });
  } catch (err) {
    if (err instanceof ReferenceDecodeError) throw err;
    throw new ReferenceDecodeError(err instanceof Error ? err.message : String(err));
  }
  const out: SpanKey[] = [];
  for (const rs of request.resource_spans ?? []) {
    for (const ss of rs.scope_spans ?? []) {
      for (const span of ss.spans ?? []) {
        const traceId = checkId(span.trace_id, 16, 'trace id');
        const spanId = checkId(span.span_id, 8, 'span id');
        checkId(span.parent_span_id, 8, 'parent span id');
        for (const link of span.links ?? []) {
          checkId(link.trace_id, 16, 'link trace id');
          checkId(link.span_id, 8, 'link span id');
        }
        out.push(`${traceId}/${spanId}`);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// OTLP/JSON

/** A JSON object with its members in order, repeated keys kept. */
class JsonObject {
  constructor(readonly members: [string, JsonValue][]) {}
  /** Every value given for any of `names`, in order. */
  all(...names: string[]): JsonValue[] {
    return this.members.filter(([k]) => names.includes(k)).map(([, v]) => v);
  }
}
type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A strict RFC 8259 parser (no BOM, JSON whitespace only) that keeps repeated keys. */
function parseJson(text: string): JsonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new ReferenceDecodeError(`invalid JSON at ${i}: ${what}`);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = (): string => {
    const start = ++i;
    let out = '';
    let from = start;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        out += text.slice(from, i);
        const e = text[i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          fail('bad escape');
        }
        from = i;
        continue;
      }
      i++;
    }
    out += text.slice(from, i);
    i++;
    return out;
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail('too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const members: [string, JsonValue][] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return new JsonObject(members);
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        members.push([key, value(depth + 1)]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return new JsonObject(members);
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const items: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return items;
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return items;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!literal) return fail('unexpected character');
    i += literal[0].length;
    const word = literal[0];
    return word === 'true' ? true : word === 'false' ? false : word === 'null' ? null : Number(word);
  };
  const result = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return result;
}

/** Every element of every array named by `names` (null counts as absent), as pdata appends them. */
function repeated(obj: JsonObject, what: string, ...names: string[]): JsonObject[] {
  const out: JsonObject[] = [];
  for (const v of obj.all(...names)) {
    if (v === null) continue;
    if (!Array.isArray(v)) throw new ReferenceDecodeError(`${what}: expected an array`);
    for (const item of v) {
      if (!(item instanceof JsonObject)) throw new ReferenceDecodeError(`${what}: expected an object`);
      out.push(item);
    }
  }
  return out;
}

function hexId(obj: JsonObject, size: number, what: string, ...names: string[]): string {
  const values = obj.all(...names);
  const v = values.at(-1) ?? '';
  if (typeof v !== 'string') throw new ReferenceDecodeError(`${what}: expected a string`);
  if (v !== '' && !new RegExp(`^[0-9a-fA-F]{${size * 2}}$`).test(v)) {
    throw new ReferenceDecodeError(`${what}: invalid id`);
  }
  return v.toLowerCase();
}

function checkAttributes(obj: JsonObject | undefined, what: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new ReferenceDecodeError('too deep');
  if (obj === undefined) return;
  for (const kv of repeated(obj, what, 'attributes', 'values')) {
    for (const value of kv.all('value')) {
      if (value === null) continue;
      if (!(value instanceof JsonObject)) throw new ReferenceDecodeError(`${what}: value is not an object`);
      for (const nested of value.all('arrayValue', 'array_value')) {
        if (nested === null) continue;
        if (!(nested instanceof JsonObject)) throw new ReferenceDecodeError(`${what}: arrayValue is not an object`);
        for (const item of repeated(nested, what, 'values')) checkAnyValue(item, what, depth + 1);
      }
      for (const nested of value.all('kvlistValue', 'kvlist_value')) {
        if (nested === null) continue;
        if (!(nested instanceof JsonObject)) throw new ReferenceDecodeError(`${what}: kvlistValue is not an object`);
        checkAttributes(nested, what, depth + 1);
      }
    }
  }
}

function checkAnyValue(value: JsonObject, what: string, depth: number): void {
  checkAttributes(new JsonObject([['values', [new JsonObject([['value', value]])]]]), what, depth);
}

/**
 * The spans of an OTLP/JSON `ExportTraceServiceRequest` (UTF-8, an optional leading byte order mark ignored
 * as a UTF-8 decoder does); throws {@link ReferenceDecodeError} when unreadable.
 */
export function decodeJsonSpans(body: Uint8Array): SpanKey[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new ReferenceDecodeError('invalid UTF-8');
  }
  const top = parseJson(text);
  if (!(top instanceof JsonObject)) throw new ReferenceDecodeError('expected a JSON object');
  const out: SpanKey[] = [];
  for (const rs of repeated(top, 'resourceSpans', 'resourceSpans', 'resource_spans')) {
    for (const resource of rs.all('resource')) {
      if (resource !== null && !(resource instanceof JsonObject))
        throw new ReferenceDecodeError('resource: not an object');
      checkAttributes(resource ?? undefined, 'resource', 0);
    }
    for (const ss of repeated(rs, 'scopeSpans', 'scopeSpans', 'scope_spans')) {
      for (const span of repeated(ss, 'spans', 'spans')) {
        const traceId = hexId(span, 16, 'traceId', 'traceId', 'trace_id');
        const spanId = hexId(span, 8, 'spanId', 'spanId', 'span_id');
        hexId(span, 8, 'parentSpanId', 'parentSpanId', 'parent_span_id');
        const name = span.all('name').at(-1);
        if (name !== undefined && name !== null && typeof name !== 'string') {
          throw new ReferenceDecodeError('name: expected a string');
        }
        checkAttributes(span, 'span attributes', 0);
        out.push(`${traceId}/${spanId}`);
      }
    }
  }
  return out;
}

/** The spans of a body in `contentType` (`application/x-protobuf` or `application/json`). */
export function decodeSpans(body: Uint8Array, contentType: string): SpanKey[] {
  if (contentType === 'application/x-protobuf') return decodeProtobufSpans(body);
  if (contentType === 'application/json') return decodeJsonSpans(body);
  throw new ReferenceDecodeError(`unsupported content type ${JSON.stringify(contentType.slice(0, 40))}`);
}

/** The reference's verdict on one record: its spans, or why it cannot be read. */
export type Verdict = { ok: true; spans: SpanKey[] } | { ok: false; reason: string };

export function verdictOf(body: Uint8Array, contentType: string): Verdict {
  try {
    return { ok: true, spans: decodeSpans(body, contentType) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
