// Splits one encoded OTLP ExportTraceServiceRequest into one request per trace, on the wire: the batch is
// serialized once (resource and scope encoded once, one encoder call), then span bytes are regrouped by
// trace id under copies of their resource and scope bytes. Nothing is decoded beyond the field headers and
// the trace ids. Protobuf allows a message's fields in any order, so putting a container's other fields
// before its repeated children keeps every request equivalent to the original.
import { SerializationError } from '../errors/errors';

const LEN = 2;
const REQUEST_RESOURCE_SPANS = 1;
const RESOURCE_SPANS_SCOPE_SPANS = 2;
const SCOPE_SPANS_SPANS = 2;
const SPAN_TRACE_ID = 1;
const SPAN_SPAN_ID = 2;
const SPAN_NAME = 5;

/** One message produced from a split: its key (trace id in hex, or null), bytes and span count. */
export interface SplitMessage {
  key: string | null;
  value: Uint8Array;
  spans: number;
}

/** A span that alone does not fit in a message. */
export interface OversizeSpanBytes {
  traceId: string;
  spanId: string;
  name: string;
  sizeBytes: number;
}

export interface WireSplit {
  messages: SplitMessage[];
  oversize: OversizeSpanBytes[];
}

interface Slice {
  start: number;
  end: number;
}

interface SpanRef {
  resource: number;
  scope: number;
  slice: Slice;
}

interface Container {
  /** Fields other than the repeated children, as complete tag+length+value slices. */
  others: Slice[];
  othersBytes: number;
}

/**
 * Regroups the spans of `request` (an encoded ExportTraceServiceRequest) into requests of at most `maxBytes`:
 * one per trace (keyed by its hex trace id) when `byTrace`, else as few as possible (key null).
 */
export function splitOtlpProtoRequest(request: Uint8Array, maxBytes: number, byTrace: boolean): WireSplit {
  const resources: Container[] = [];
  const scopes: Container[][] = [];
  const groups = new Map<string, SpanRef[]>();
  const order: string[] = [];

  forEachField(request, 0, request.length, (field, wire, start, valueStart, end) => {
    if (field !== REQUEST_RESOURCE_SPANS || wire !== LEN) return;
    const r = resources.length;
    const resource: Container = { others: [], othersBytes: 0 };
    const resourceScopes: Container[] = [];
    resources.push(resource);
    scopes.push(resourceScopes);
    forEachField(request, valueStart, end, (f, w, s, vs, e) => {
      if (f !== RESOURCE_SPANS_SCOPE_SPANS || w !== LEN) return addOther(resource, s, e);
      const sc = resourceScopes.length;
      const scope: Container = { others: [], othersBytes: 0 };
      resourceScopes.push(scope);
      forEachField(request, vs, e, (f2, w2, s2, vs2, e2) => {
        if (f2 !== SCOPE_SPANS_SPANS || w2 !== LEN) return addOther(scope, s2, e2);
        const key = byTrace ? hex(bytesField(request, vs2, e2, SPAN_TRACE_ID)) : '';
        let group = groups.get(key);
        if (!group) {
          groups.set(key, (group = []));
          order.push(key);
        }
        group.push({ resource: r, scope: sc, slice: { start: s2, end: e2 } });
      });
    });
    void start;
  });

  const out: WireSplit = { messages: [], oversize: [] };
  for (const key of order) {
    for (const chunk of pack(groups.get(key)!, resources, scopes, maxBytes, request, out.oversize)) {
      out.messages.push({
        key: byTrace ? key : null,
        value: build(chunk, resources, scopes, request),
        spans: chunk.length,
      });
    }
  }
  return out;
}

function addOther(c: Container, start: number, end: number): void {
  c.others.push({ start, end });
  c.othersBytes += end - start;
}

/** Upper bound of a nested field's framing: a one-byte tag and a length varint of at most 5 bytes. */
const FRAME = 6;

/** Packs spans into chunks whose built size stays within `maxBytes`; single spans that cannot fit are reported. */
function pack(
  spans: SpanRef[],
  resources: Container[],
  scopes: Container[][],
  maxBytes: number,
  request: Uint8Array,
  oversize: OversizeSpanBytes[],
): SpanRef[][] {
  const chunks: SpanRef[][] = [];
  let chunk: SpanRef[] = [];
  let size = 0;
  let lastResource = -1;
  let lastScope = -1;
  const cost = (ref: SpanRef, newResource: boolean, newScope: boolean): number =>
    ref.slice.end -
    ref.slice.start +
    (newResource ? FRAME + resources[ref.resource]!.othersBytes : 0) +
    (newScope ? FRAME + scopes[ref.resource]![ref.scope]!.othersBytes : 0);
  for (const ref of spans) {
    const alone = cost(ref, true, true);
    if (alone > maxBytes) {
      oversize.push(describeSpan(request, ref.slice, alone));
      continue;
    }
    const newResource = ref.resource !== lastResource;
    const newScope = newResource || ref.scope !== lastScope;
    const added = cost(ref, newResource, newScope);
    if (chunk.length > 0 && size + added > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      size = 0;
      lastResource = -1;
      lastScope = -1;
      size += alone;
    } else {
      size += added;
    }
    chunk.push(ref);
    lastResource = ref.resource;
    lastScope = ref.scope;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Builds one ExportTraceServiceRequest from spans (in order), under their resource and scope bytes. */
function build(spans: SpanRef[], resources: Container[], scopes: Container[][], request: Uint8Array): Uint8Array {
  // Lay out resource → scope → spans runs; spans of one trace are already in batch order.
  const plan: { resource: number; scopes: { scope: number; spans: Slice[] }[] }[] = [];
  for (const ref of spans) {
    let r = plan.at(-1);
    if (!r || r.resource !== ref.resource) plan.push((r = { resource: ref.resource, scopes: [] }));
    let s = r.scopes.at(-1);
    if (!s || s.scope !== ref.scope) r.scopes.push((s = { scope: ref.scope, spans: [] }));
    s.spans.push(ref.slice);
  }
  const sized = plan.map((r) => {
    const scopeBodies = r.scopes.map((s) => {
      const body = scopes[r.resource]![s.scope]!.othersBytes + s.spans.reduce((n, sl) => n + sl.end - sl.start, 0);
      return { s, body };
    });
    const body =
      resources[r.resource]!.othersBytes + scopeBodies.reduce((n, x) => n + 1 + varintSize(x.body) + x.body, 0);
    return { r, scopeBodies, body };
  });
  const total = sized.reduce((n, x) => n + 1 + varintSize(x.body) + x.body, 0);
  const out = new Uint8Array(total);
  let o = 0;
  const copy = (sl: Slice): void => {
    out.set(request.subarray(sl.start, sl.end), o);
    o += sl.end - sl.start;
  };
  for (const { r, scopeBodies, body } of sized) {
    out[o++] = (REQUEST_RESOURCE_SPANS << 3) | LEN;
    o = writeVarint(out, o, body);
    for (const sl of resources[r.resource]!.others) copy(sl);
    for (const { s, body: scopeBody } of scopeBodies) {
      out[o++] = (RESOURCE_SPANS_SCOPE_SPANS << 3) | LEN;
      o = writeVarint(out, o, scopeBody);
      for (const sl of scopes[r.resource]![s.scope]!.others) copy(sl);
      for (const sl of s.spans) copy(sl);
    }
  }
  return out;
}

function describeSpan(request: Uint8Array, slice: Slice, sizeBytes: number): OversizeSpanBytes {
  // The slice is the whole field (tag + length + value); step over the framing to the span's own fields.
  let o = slice.start + 1;
  while (o < slice.end && request[o]! & 0x80) o++;
  o++;
  const name = bytesField(request, o, slice.end, SPAN_NAME);
  return {
    traceId: hex(bytesField(request, o, slice.end, SPAN_TRACE_ID)),
    spanId: hex(bytesField(request, o, slice.end, SPAN_SPAN_ID)),
    name: Buffer.from(name).toString('utf8'),
    sizeBytes,
  };
}

/** The value of the first length-delimited field `wanted` in [start, end), or an empty array. */
function bytesField(buf: Uint8Array, start: number, end: number, wanted: number): Uint8Array {
  let found: Uint8Array | undefined;
  forEachField(buf, start, end, (field, wire, _s, valueStart, e) => {
    if (!found && field === wanted && wire === LEN) found = buf.subarray(valueStart, e);
  });
  return found ?? new Uint8Array(0);
}

/**
 * Calls `visit(field, wireType, fieldStart, valueStart, fieldEnd)` for each field in [start, end); for
 * length-delimited fields `valueStart` is past the length. Throws a SerializationError on malformed input.
 */
function forEachField(
  buf: Uint8Array,
  start: number,
  end: number,
  visit: (field: number, wire: number, fieldStart: number, valueStart: number, fieldEnd: number) => void,
): void {
  let o = start;
  while (o < end) {
    const fieldStart = o;
    let tag = 0;
    [tag, o] = readVarint(buf, o, end);
    const field = tag >>> 3;
    const wire = tag & 7;
    let valueStart = o;
    switch (wire) {
      case 0:
        [, o] = readVarint(buf, o, end);
        break;
      case 1:
        o += 8;
        break;
      case 5:
        o += 4;
        break;
      case LEN: {
        let len = 0;
        [len, valueStart] = readVarint(buf, o, end);
        o = valueStart + len;
        break;
      }
      default:
        throw new SerializationError(`otlp_proto split: unsupported wire type ${wire} at offset ${fieldStart}`);
    }
    if (o > end) throw new SerializationError(`otlp_proto split: field ${field} at offset ${fieldStart} is truncated`);
    visit(field, wire, fieldStart, valueStart, o);
  }
}

function readVarint(buf: Uint8Array, o: number, end: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (o >= end || shift > 49) throw new SerializationError(`otlp_proto split: bad varint at offset ${o}`);
    const b = buf[o++]!;
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, o];
    shift += 7;
  }
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, o: number, n: number): number {
  while (n >= 0x80) {
    out[o++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[o++] = n;
  return o;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}
