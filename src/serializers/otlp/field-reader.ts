// The format-independent tree walk of a decoded request. A `FieldReader` hides how each format spells a field
// (protobufjs objects with Long/Uint8Array values, or JSON with hex ids, decimal strings and enum names), so the
// two formats cannot drift apart in what they accept.
import type { Enum } from 'protobufjs/light.js';

import { rethrowIn, Invalid } from './invalid';
import { SpanKind, StatusCode } from '../otlp-schema';
import type {
  AttrValue,
  DecodedAttributes,
  DecodedResourceSpans,
  DecodedScopeSpans,
  DecodedSpan,
  DecodedTraceRequest,
} from './model';
import { MAX_VALUE_DEPTH, setOwn } from './values';
import type { Obj } from './values';

export const ANY_VALUE_CASES = [
  'stringValue',
  'boolValue',
  'intValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
] as const;
export type AnyValueCase = (typeof ANY_VALUE_CASES)[number];

/** How one format spells each kind of field. Every method reads `o[key]`, validates it, or throws `Invalid`. */
export interface FieldReader {
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
export function withMessage<T>(r: FieldReader, o: Obj, key: string, absent: T, fn: (message: Obj) => T): T {
  const message = r.message(o, key);
  if (message === undefined) return absent;
  try {
    return fn(message);
  } catch (err) {
    return rethrowIn(err, key);
  }
}

export function toRequest(r: FieldReader, o: Obj): DecodedTraceRequest {
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
