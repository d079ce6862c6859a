// The decoded model back to a protobuf `ExportTraceServiceRequest`, written by protobufjs: each field is checked
// here, and defaults become `undefined`, which protobufjs leaves out.
import type { AttrValue, DecodedAttributes, DecodedSpan, DecodedTraceRequest } from './model';
import { guarded, Invalid, rethrowIn } from './invalid';
import { ExportTraceServiceRequest } from '../otlp-schema';
import { checkHexId, hexToBytes, INT64_MAX, INT64_MIN, isObj, MAX_VALUE_DEPTH, UINT32_MAX, UINT64_MAX } from './values';
import type { Obj } from './values';

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
