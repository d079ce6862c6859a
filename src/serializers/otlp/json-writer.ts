// OTLP/JSON writer for the decoded model: proto3 JSON mapping with OTLP's rules (hex ids, enums as integers,
// 64-bit integers as decimal strings). Fields holding their default value are left out, as protojson does.
// otlp-transformer's JsonTraceSerializer writes only from SDK ReadableSpans, not from a decoded request.
// protobufjs's toObject is no shortcut either: it writes ids as base64, where OTLP/JSON wants hex.
import type { AttrValue, DecodedAttributes, DecodedResourceSpans, DecodedSpan } from './model';

/** A JSON value as `JSON.stringify` writes it. */
export type Json = string | number | boolean | Json[] | { [key: string]: Json };

/** One `ResourceSpans` of the decoded model as an OTLP/JSON object, ready for `JSON.stringify`. */
export function jsonResourceSpans(rs: DecodedResourceSpans): Json {
  const resource: Record<string, Json> = { attributes: jsonAttributes(rs.resource.attributes) };
  putCount(resource, 'droppedAttributesCount', rs.resource.droppedAttributesCount);
  const out: Record<string, Json> = {
    resource,
    scopeSpans: rs.scopeSpans.map((ss) => {
      const scope: Record<string, Json> = { attributes: jsonAttributes(ss.scope.attributes) };
      putString(scope, 'name', ss.scope.name);
      putString(scope, 'version', ss.scope.version);
      putCount(scope, 'droppedAttributesCount', ss.scope.droppedAttributesCount);
      const scopeSpans: Record<string, Json> = { scope, spans: ss.spans.map(jsonSpan) };
      putString(scopeSpans, 'schemaUrl', ss.schemaUrl);
      return scopeSpans;
    }),
  };
  putString(out, 'schemaUrl', rs.schemaUrl);
  return out;
}

function jsonSpan(span: DecodedSpan): Json {
  const out: Record<string, Json> = { traceId: span.traceId, spanId: span.spanId };
  putString(out, 'parentSpanId', span.parentSpanId);
  putString(out, 'traceState', span.traceState);
  putCount(out, 'flags', span.flags);
  out.name = span.name;
  putCount(out, 'kind', span.kind);
  out.startTimeUnixNano = span.startTimeUnixNano.toString();
  out.endTimeUnixNano = span.endTimeUnixNano.toString();
  out.attributes = jsonAttributes(span.attributes);
  putCount(out, 'droppedAttributesCount', span.droppedAttributesCount);
  out.events = span.events.map((event) => {
    const e: Record<string, Json> = {
      timeUnixNano: event.timeUnixNano.toString(),
      name: event.name,
      attributes: jsonAttributes(event.attributes),
    };
    putCount(e, 'droppedAttributesCount', event.droppedAttributesCount);
    return e;
  });
  putCount(out, 'droppedEventsCount', span.droppedEventsCount);
  out.links = span.links.map((link) => {
    const l: Record<string, Json> = { traceId: link.traceId, spanId: link.spanId };
    putString(l, 'traceState', link.traceState);
    l.attributes = jsonAttributes(link.attributes);
    putCount(l, 'droppedAttributesCount', link.droppedAttributesCount);
    putCount(l, 'flags', link.flags);
    return l;
  });
  putCount(out, 'droppedLinksCount', span.droppedLinksCount);
  if (span.status.code !== 0 || span.status.message !== '') {
    const status: Record<string, Json> = {};
    putString(status, 'message', span.status.message);
    putCount(status, 'code', span.status.code);
    out.status = status;
  }
  return out;
}

function putString(o: Record<string, Json>, key: string, value: string): void {
  if (value !== '') o[key] = value;
}

function putCount(o: Record<string, Json>, key: string, value: number): void {
  if (value !== 0) o[key] = value;
}

function jsonAttributes(attributes: DecodedAttributes): Json[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: jsonAnyValue(value) }));
}

function jsonAnyValue(value: AttrValue): { [key: string]: Json } {
  if (value === null) return {};
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'bigint':
      return { intValue: value.toString() };
    case 'number':
      // JSON has no NaN or infinities; proto3 JSON spells them as strings.
      return { doubleValue: Number.isFinite(value) ? value : String(value) };
    default:
      if (value instanceof Uint8Array) return { bytesValue: Buffer.from(value).toString('base64') };
      if (Array.isArray(value)) return { arrayValue: { values: value.map(jsonAnyValue) } };
      return { kvlistValue: { values: jsonAttributes(value) } };
  }
}
