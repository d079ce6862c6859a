// The framing walk of protobuf requests: `countSpans` on the forwarder's hot path, and the structural check in
// front of the full decode. The WireCursor is not protobufjs's Reader: the Reader bounds reads by the buffer,
// not by the enclosing message, reads 10-byte varints without checking bytes 6 to 10, truncates tags and
// lengths to 32 bits and throws `index out of range`; hostile records need the offset-naming errors below.
// Well-formed records are first counted on the Reader, which is faster (quick-walk.ts).
import protobuf from 'protobufjs/light.js';
import type { Type } from 'protobufjs/light.js';

import { guarded, Invalid, PROTO_PREFIX } from './invalid';
import { quickCountSpans } from './quick-walk';
import { ExportTraceServiceRequest } from '../otlp-schema';
import { snake, UINT32_MAX } from './values';

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
export function countMessages(buf: Uint8Array): number {
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
  const spans = quickCountSpans(bytes);
  return spans >= 0 ? spans : strictCountSpans(bytes);
}

/** {@link countSpans} on the WireCursor alone: what decides whenever `quickCountSpans` gives up. */
export function strictCountSpans(bytes: Uint8Array): number {
  return guarded(PROTO_PREFIX, () => walkRequest(bytes));
}
