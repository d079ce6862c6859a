// The exporter's OTLP protobuf encoder: `ReadableSpan`s straight to the bytes of an
// `ExportTraceServiceRequest`, in one pass over the spans, into a reused buffer. A session (one export)
// encodes each resource and instrumentation scope once and copies those bytes into every message of the
// export. The output is byte for byte what @opentelemetry/otlp-transformer's ProtobufTraceSerializer writes
// for the same spans (same field order, same fields left out when empty): a property test holds it to that.
//
// Field numbers are those of opentelemetry-proto v1 (trace.proto, common.proto, resource.proto).
import type { Attributes, AttributeValue, Link, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

import { ProtoWriter } from './proto-writer';

// Wire types.
const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;
const FIXED32 = 5;

/** A tag byte for field numbers below 16. */
function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

// SpanFlags: bits 0-7 the W3C trace flags, bit 8 "is-remote is known", bit 9 "is remote".
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;

/**
 * Bytes reserved for the length of a nested message, by what it usually holds; a wrong guess costs a move
 * of the message's body, never a wrong encoding.
 */
const RESERVE_SMALL = 1; // key-values, values, status, events, links
const RESERVE_SPAN = 2; // a span: 128 B to 16 KiB
const RESERVE_LARGE = 3; // scope spans, resource spans: up to 2 MiB

type ResourceLike = ReadableSpan['resource'];
type ScopeLike = ReadableSpan['instrumentationScope'] & {
  readonly attributes?: Attributes;
  readonly droppedAttributesCount?: number;
};

/**
 * Encodes the spans of one export as `ExportTraceServiceRequest`s. Resources and scopes are encoded on
 * first use and reused for every later request of the session; do not keep a session beyond one export
 * (a resource's attributes can still change while its async attributes settle).
 */
export class OtlpProtoEncodingSession {
  readonly #writer: ProtoWriter;
  readonly #resources = new Map<ResourceLike, Buffer>();
  readonly #scopes = new Map<ScopeLike, Buffer>();

  constructor(writer: ProtoWriter = sharedWriter()) {
    this.#writer = writer;
  }

  /** One request holding `spans`, grouped by resource, then by scope, in first-seen order. */
  encode(spans: readonly ReadableSpan[]): Buffer {
    return Buffer.from(this.encodeInPlace(spans));
  }

  /**
   * {@link OtlpProtoEncodingSession.encode} without the copy: the bytes are a view of the encoder's reused
   * buffer, valid only until the next encoding of any session. For a caller that hands them on at once to
   * something that copies them (librdkafka's produce does).
   */
  encodeInPlace(spans: readonly ReadableSpan[]): Buffer {
    const w = this.#writer;
    w.reset();
    for (const [resource, scopes] of groupByResourceAndScope(spans)) {
      // ExportTraceServiceRequest.resource_spans = 1
      w.byte(tag(1, LENGTH));
      const resourceSpans = w.begin(RESERVE_LARGE);
      // ResourceSpans.resource = 1
      w.raw(this.#resourceField(resource));
      for (const [scope, scopeSpans] of scopes) {
        // ResourceSpans.scope_spans = 2
        w.byte(tag(2, LENGTH));
        const scopeSpansAt = w.begin(RESERVE_LARGE);
        // ScopeSpans.scope = 1
        w.raw(this.#scopeField(scope));
        for (const span of scopeSpans) {
          // ScopeSpans.spans = 2
          w.byte(tag(2, LENGTH));
          writeSpan(w, span);
        }
        // ScopeSpans.schema_url = 3
        if (scope.schemaUrl) {
          w.byte(tag(3, LENGTH));
          w.string(scope.schemaUrl);
        }
        w.end(scopeSpansAt, RESERVE_LARGE);
      }
      // ResourceSpans.schema_url = 3
      if (resource.schemaUrl) {
        w.byte(tag(3, LENGTH));
        w.string(resource.schemaUrl);
      }
      w.end(resourceSpans, RESERVE_LARGE);
    }
    return w.view();
  }

  #resourceField(resource: ResourceLike): Buffer {
    let bytes = this.#resources.get(resource);
    if (!bytes) {
      const w = new ProtoWriter(256);
      w.byte(tag(1, LENGTH));
      const at = w.begin(RESERVE_SMALL);
      // Resource.attributes = 1
      if (resource.attributes) writeAttributes(w, resource.attributes, tag(1, LENGTH));
      // Resource.dropped_attributes_count = 2: the SDK's Resource does not count them.
      w.byte(tag(2, VARINT));
      w.byte(0);
      w.end(at, RESERVE_SMALL);
      bytes = w.copy();
      this.#resources.set(resource, bytes);
    }
    return bytes;
  }

  #scopeField(scope: ScopeLike): Buffer {
    let bytes = this.#scopes.get(scope);
    if (!bytes) {
      const w = new ProtoWriter(128);
      w.byte(tag(1, LENGTH));
      const at = w.begin(RESERVE_SMALL);
      // InstrumentationScope.name = 1, always written
      w.byte(tag(1, LENGTH));
      w.string(scope.name);
      // InstrumentationScope.version = 2
      if (scope.version) {
        w.byte(tag(2, LENGTH));
        w.string(scope.version);
      }
      // InstrumentationScope.attributes = 3
      if (scope.attributes) writeAttributes(w, scope.attributes, tag(3, LENGTH));
      // InstrumentationScope.dropped_attributes_count = 4: written as a 64-bit varint like every other count,
      // as otlp-transformer does, so that a value outside uint32 (negative, >= 2^32) gives its bytes too.
      if (scope.droppedAttributesCount) {
        w.byte(tag(4, VARINT));
        w.int64(scope.droppedAttributesCount);
      }
      w.end(at, RESERVE_SMALL);
      bytes = w.copy();
      this.#scopes.set(scope, bytes);
    }
    return bytes;
  }
}

let writer: ProtoWriter | undefined;

/** One writer for every session of the process: sessions run synchronously, one `encode` at a time. */
function sharedWriter(): ProtoWriter {
  writer ??= new ProtoWriter();
  return writer;
}

/** Encodes one request without a session (nothing reused between calls). */
export function encodeTraceRequest(spans: readonly ReadableSpan[]): Buffer {
  return new OtlpProtoEncodingSession().encode(spans);
}

function groupByResourceAndScope(spans: readonly ReadableSpan[]): Map<ResourceLike, Map<ScopeLike, ReadableSpan[]>> {
  const resources = new Map<ResourceLike, Map<ScopeLike, ReadableSpan[]>>();
  let lastResource: ResourceLike | undefined;
  let lastScope: ScopeLike | undefined;
  let lastGroup: ReadableSpan[] = [];
  for (const span of spans) {
    const resource = span.resource;
    const scope = span.instrumentationScope;
    // Most batches hold one resource and a few scopes, in runs: skip the lookups while the run lasts.
    if (resource === lastResource && scope === lastScope) {
      lastGroup.push(span);
      continue;
    }
    let scopes = resources.get(resource);
    if (!scopes) {
      scopes = new Map();
      resources.set(resource, scopes);
    }
    let group = scopes.get(scope);
    if (group) group.push(span);
    else scopes.set(scope, (group = [span]));
    lastResource = resource;
    lastScope = scope;
    lastGroup = group;
  }
  return resources;
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (isRemote ? FLAGS_IS_REMOTE : 0);
}

/** trace_id = 1, span_id = 2 and trace_state = 3: the same three fields open a Span and a Span.Link. */
function writeContext(w: ProtoWriter, ctx: SpanContext): void {
  w.byte(tag(1, LENGTH));
  w.hexBytes(ctx.traceId);
  w.byte(tag(2, LENGTH));
  w.hexBytes(ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) {
    w.byte(tag(3, LENGTH));
    w.string(traceState);
  }
}

function writeSpan(w: ProtoWriter, span: ReadableSpan): void {
  const at = w.begin(RESERVE_SPAN);
  const ctx: SpanContext = span.spanContext();
  writeContext(w, ctx);
  // Span.parent_span_id = 4
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.byte(tag(4, LENGTH));
    w.hexBytes(parent.spanId);
  }
  // Span.name = 5
  w.byte(tag(5, LENGTH));
  w.string(span.name);
  // Span.kind = 6: the API's SpanKind is OTLP's minus one (OTLP 0 is "unspecified").
  const kind = (span.kind as number | null | undefined) == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    w.byte(tag(6, VARINT));
    w.int64(kind);
  }
  // Span.start_time_unix_nano = 7, end_time_unix_nano = 8
  w.byte(tag(7, FIXED64));
  w.time(span.startTime);
  w.byte(tag(8, FIXED64));
  w.time(span.endTime);
  // Span.attributes = 9
  if (span.attributes) writeAttributes(w, span.attributes, tag(9, LENGTH));
  // Span.dropped_attributes_count = 10
  w.byte(tag(10, VARINT));
  w.int64(span.droppedAttributesCount);
  // Span.events = 11
  for (const event of span.events) {
    w.byte(tag(11, LENGTH));
    writeEvent(w, event);
  }
  // Span.dropped_events_count = 12
  w.byte(tag(12, VARINT));
  w.int64(span.droppedEventsCount);
  // Span.links = 13
  for (const link of span.links) {
    w.byte(tag(13, LENGTH));
    writeLink(w, link);
  }
  // Span.dropped_links_count = 14
  w.uint32((14 << 3) | VARINT);
  w.int64(span.droppedLinksCount);
  // Span.status = 15
  w.uint32((15 << 3) | LENGTH);
  const status = w.begin(RESERVE_SMALL);
  // Status.message = 2, code = 3 (always written)
  if (span.status.message) {
    w.byte(tag(2, LENGTH));
    w.string(span.status.message);
  }
  w.byte(tag(3, VARINT));
  w.int64(span.status.code);
  w.end(status, RESERVE_SMALL);
  // Span.flags = 16 (fixed32)
  w.uint32((16 << 3) | FIXED32);
  w.fixed32(spanFlags(ctx.traceFlags, parent?.isRemote));
  w.end(at, RESERVE_SPAN);
}

function writeEvent(w: ProtoWriter, event: TimedEvent): void {
  const at = w.begin(RESERVE_SMALL);
  // Event.time_unix_nano = 1, name = 2
  w.byte(tag(1, FIXED64));
  w.time(event.time);
  w.byte(tag(2, LENGTH));
  w.string(event.name);
  // Event.attributes = 3
  if (event.attributes) writeAttributes(w, event.attributes, tag(3, LENGTH));
  // Event.dropped_attributes_count = 4
  w.byte(tag(4, VARINT));
  w.int64(event.droppedAttributesCount || 0);
  w.end(at, RESERVE_SMALL);
}

function writeLink(w: ProtoWriter, link: Link): void {
  const at = w.begin(RESERVE_SMALL);
  const ctx = link.context;
  writeContext(w, ctx);
  // Link.attributes = 4
  if (link.attributes) writeAttributes(w, link.attributes, tag(4, LENGTH));
  // Link.dropped_attributes_count = 5
  w.byte(tag(5, VARINT));
  w.int64(link.droppedAttributesCount || 0);
  // Link.flags = 6 (fixed32)
  w.byte(tag(6, FIXED32));
  w.fixed32(spanFlags(ctx.traceFlags, ctx.isRemote));
  w.end(at, RESERVE_SMALL);
}

/** Repeated `KeyValue` under the tag byte `fieldTag`, in the object's own-key order. */
function writeAttributes(w: ProtoWriter, attributes: Attributes, fieldTag: number): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    w.byte(fieldTag);
    writeKeyValue(w, key, attributes[key]);
  }
}

function writeKeyValue(w: ProtoWriter, key: string, value: unknown): void {
  if (typeof value === 'string' && key.length + value.length <= ASCII_PAIR_MAX && writeAsciiPair(w, key, value)) return;
  const at = w.begin(RESERVE_SMALL);
  // KeyValue.key = 1, value = 2
  w.byte(tag(1, LENGTH));
  w.string(key);
  w.byte(tag(2, LENGTH));
  const valueAt = w.begin(RESERVE_SMALL);
  writeAnyValue(w, value);
  w.end(valueAt, RESERVE_SMALL);
  w.end(at, RESERVE_SMALL);
}

/** The longest key plus string value whose `KeyValue` still has a one-byte length when both are ASCII. */
const ASCII_PAIR_MAX = 120;

/**
 * The common attribute, a short ASCII key with a short ASCII string value, with every length known up front
 * (no reserve, no move). Returns false, having written nothing, when either string is not ASCII.
 */
function writeAsciiPair(w: ProtoWriter, key: string, value: string): boolean {
  const kl = key.length;
  const vl = value.length;
  // Body: key (1 + 1 + kl) and value (1 + 1 + string_value (1 + 1 + vl)): below 128 bytes, one length byte.
  w.ensure(kl + vl + 7);
  const buf = w.buf;
  let p = w.pos;
  buf[p++] = kl + vl + 6;
  buf[p++] = tag(1, LENGTH);
  buf[p++] = kl;
  for (let i = 0; i < kl; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return false;
    buf[p++] = c;
  }
  buf[p++] = tag(2, LENGTH);
  buf[p++] = vl + 2;
  buf[p++] = tag(1, LENGTH);
  buf[p++] = vl;
  for (let i = 0; i < vl; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) return false;
    buf[p++] = c;
  }
  w.pos = p;
  return true;
}

const MIN_INT64 = -(2 ** 63);
const MAX_INT64_EXCLUSIVE = 2 ** 63;

/**
 * The body of an `AnyValue`. Integral numbers in the int64 range are `int_value`, other numbers
 * `double_value`; a value of no OTLP type (null, undefined, a function) leaves the body empty.
 */
function writeAnyValue(w: ProtoWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      // AnyValue.string_value = 1
      w.byte(tag(1, LENGTH));
      w.string(value);
      return;
    case 'boolean':
      // AnyValue.bool_value = 2
      w.byte(tag(2, VARINT));
      w.byte(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64_EXCLUSIVE) {
        // AnyValue.int_value = 3
        w.byte(tag(3, VARINT));
        w.int64(value);
      } else {
        // AnyValue.double_value = 4
        w.byte(tag(4, FIXED64));
        w.double(value);
      }
      return;
    case 'object':
      if (value === null) return;
      if (value instanceof Uint8Array) {
        // AnyValue.bytes_value = 7
        w.byte(tag(7, LENGTH));
        w.bytes(value);
      } else if (Array.isArray(value)) {
        // AnyValue.array_value = 5, ArrayValue.values = 1
        w.byte(tag(5, LENGTH));
        const at = w.begin(RESERVE_SMALL);
        for (const item of value as AttributeValue[]) {
          w.byte(tag(1, LENGTH));
          const itemAt = w.begin(RESERVE_SMALL);
          writeAnyValue(w, item);
          w.end(itemAt, RESERVE_SMALL);
        }
        w.end(at, RESERVE_SMALL);
      } else {
        // AnyValue.kvlist_value = 6, KeyValueList.values = 1
        w.byte(tag(6, LENGTH));
        const at = w.begin(RESERVE_SMALL);
        const entries = value as Record<string, unknown>;
        for (const key in entries) {
          if (!Object.prototype.hasOwnProperty.call(entries, key)) continue;
          w.byte(tag(1, LENGTH));
          writeKeyValue(w, key, entries[key]);
        }
        w.end(at, RESERVE_SMALL);
      }
      return;
    default:
      return;
  }
}
