// Our own protobufjs schema for the OTLP trace messages, written from opentelemetry-proto v1.x (common.proto,
// resource.proto, trace.proto, collector/trace/v1/trace_service.proto). Field names are the lowerCamelCase
// forms of the proto names; only the field numbers and types matter on the wire. otlp-transformer's
// generated code is internal to it, so we do not borrow it.
//
// The descriptor carries no edition, so protobufjs treats it as proto2. That changes nothing here: no
// field is a repeated scalar (the only place packing would differ), protobufjs decodes enums as plain
// int32 either way, and the encoder in otlp/model-encoder.ts decides field presence itself.
// Default import with the file extension: protobufjs is CommonJS without an `exports` map, so an ESM build
// can resolve only the full file name, and gets the API only as the default export (no named exports).
import protobuf from 'protobufjs/light.js';
import type { Enum, IField, INamespace, IType, Root, Type } from 'protobufjs/light.js';

const COMMON = 'opentelemetry.proto.common.v1';
const RESOURCE = 'opentelemetry.proto.resource.v1';
const TRACE = 'opentelemetry.proto.trace.v1';
const COLLECTOR = 'opentelemetry.proto.collector.trace.v1';

function field(id: number, type: string): IField {
  return { id, type };
}

function repeated(id: number, type: string): IField {
  return { id, type, rule: 'repeated' };
}

const common: Record<string, IType> = {
  AnyValue: {
    oneofs: {
      value: {
        oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'],
      },
    },
    fields: {
      stringValue: field(1, 'string'),
      boolValue: field(2, 'bool'),
      intValue: field(3, 'int64'),
      doubleValue: field(4, 'double'),
      arrayValue: field(5, `${COMMON}.ArrayValue`),
      kvlistValue: field(6, `${COMMON}.KeyValueList`),
      bytesValue: field(7, 'bytes'),
    },
  },
  ArrayValue: { fields: { values: repeated(1, `${COMMON}.AnyValue`) } },
  KeyValueList: { fields: { values: repeated(1, `${COMMON}.KeyValue`) } },
  KeyValue: { fields: { key: field(1, 'string'), value: field(2, `${COMMON}.AnyValue`) } },
  InstrumentationScope: {
    fields: {
      name: field(1, 'string'),
      version: field(2, 'string'),
      attributes: repeated(3, `${COMMON}.KeyValue`),
      droppedAttributesCount: field(4, 'uint32'),
    },
  },
};

const resource: Record<string, IType> = {
  Resource: {
    fields: {
      attributes: repeated(1, `${COMMON}.KeyValue`),
      droppedAttributesCount: field(2, 'uint32'),
    },
  },
};

const trace: Record<string, IType | INamespace> = {
  ResourceSpans: {
    fields: {
      resource: field(1, `${RESOURCE}.Resource`),
      scopeSpans: repeated(2, `${TRACE}.ScopeSpans`),
      schemaUrl: field(3, 'string'),
    },
  },
  ScopeSpans: {
    fields: {
      scope: field(1, `${COMMON}.InstrumentationScope`),
      spans: repeated(2, `${TRACE}.Span`),
      schemaUrl: field(3, 'string'),
    },
  },
  Span: {
    fields: {
      traceId: field(1, 'bytes'),
      spanId: field(2, 'bytes'),
      traceState: field(3, 'string'),
      parentSpanId: field(4, 'bytes'),
      flags: field(16, 'fixed32'),
      name: field(5, 'string'),
      kind: field(6, `${TRACE}.Span.SpanKind`),
      startTimeUnixNano: field(7, 'fixed64'),
      endTimeUnixNano: field(8, 'fixed64'),
      attributes: repeated(9, `${COMMON}.KeyValue`),
      droppedAttributesCount: field(10, 'uint32'),
      events: repeated(11, `${TRACE}.Span.Event`),
      droppedEventsCount: field(12, 'uint32'),
      links: repeated(13, `${TRACE}.Span.Link`),
      droppedLinksCount: field(14, 'uint32'),
      status: field(15, `${TRACE}.Status`),
    },
    nested: {
      SpanKind: {
        values: {
          SPAN_KIND_UNSPECIFIED: 0,
          SPAN_KIND_INTERNAL: 1,
          SPAN_KIND_SERVER: 2,
          SPAN_KIND_CLIENT: 3,
          SPAN_KIND_PRODUCER: 4,
          SPAN_KIND_CONSUMER: 5,
        },
      },
      Event: {
        fields: {
          timeUnixNano: field(1, 'fixed64'),
          name: field(2, 'string'),
          attributes: repeated(3, `${COMMON}.KeyValue`),
          droppedAttributesCount: field(4, 'uint32'),
        },
      },
      Link: {
        fields: {
          traceId: field(1, 'bytes'),
          spanId: field(2, 'bytes'),
          traceState: field(3, 'string'),
          attributes: repeated(4, `${COMMON}.KeyValue`),
          droppedAttributesCount: field(5, 'uint32'),
          flags: field(6, 'fixed32'),
        },
      },
    },
  },
  Status: {
    reserved: [[1, 1]],
    fields: {
      message: field(2, 'string'),
      code: field(3, `${TRACE}.Status.StatusCode`),
    },
    nested: {
      StatusCode: { values: { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 } },
    },
  },
};

const collector: Record<string, IType> = {
  ExportTraceServiceRequest: { fields: { resourceSpans: repeated(1, `${TRACE}.ResourceSpans`) } },
  ExportTraceServiceResponse: { fields: { partialSuccess: field(1, `${COLLECTOR}.ExportTracePartialSuccess`) } },
  ExportTracePartialSuccess: {
    fields: {
      rejectedSpans: field(1, 'int64'),
      errorMessage: field(2, 'string'),
    },
  },
};

/** The protobufjs root holding every OTLP trace message type of this package. */
export const otlpRoot: Root = protobuf.Root.fromJSON({
  nested: {
    opentelemetry: {
      nested: {
        proto: {
          nested: {
            common: { nested: { v1: { nested: common } } },
            resource: { nested: { v1: { nested: resource } } },
            trace: { nested: { v1: { nested: trace } } },
            collector: { nested: { trace: { nested: { v1: { nested: collector } } } } },
          },
        },
      },
    },
  },
});

/** `opentelemetry.proto.common.v1.AnyValue`: an attribute value (a oneof of seven kinds, or empty). */
export const AnyValue: Type = otlpRoot.lookupType(`${COMMON}.AnyValue`);
/** `opentelemetry.proto.common.v1.ArrayValue`: a list of {@link AnyValue}. */
export const ArrayValue: Type = otlpRoot.lookupType(`${COMMON}.ArrayValue`);
/** `opentelemetry.proto.common.v1.KeyValueList`: a list of {@link KeyValue}, the map form of an attribute value. */
export const KeyValueList: Type = otlpRoot.lookupType(`${COMMON}.KeyValueList`);
/** `opentelemetry.proto.common.v1.KeyValue`: one attribute. */
export const KeyValue: Type = otlpRoot.lookupType(`${COMMON}.KeyValue`);
/** `opentelemetry.proto.common.v1.InstrumentationScope`: the library that produced the spans. */
export const InstrumentationScope: Type = otlpRoot.lookupType(`${COMMON}.InstrumentationScope`);
/** `opentelemetry.proto.resource.v1.Resource`: the entity that produced the spans. */
export const Resource: Type = otlpRoot.lookupType(`${RESOURCE}.Resource`);
/** `opentelemetry.proto.trace.v1.ResourceSpans`: the spans of one resource. */
export const ResourceSpans: Type = otlpRoot.lookupType(`${TRACE}.ResourceSpans`);
/** `opentelemetry.proto.trace.v1.ScopeSpans`: the spans of one instrumentation scope. */
export const ScopeSpans: Type = otlpRoot.lookupType(`${TRACE}.ScopeSpans`);
/** `opentelemetry.proto.trace.v1.Span`. */
export const Span: Type = otlpRoot.lookupType(`${TRACE}.Span`);
/** `opentelemetry.proto.trace.v1.Span.Event`. */
export const SpanEvent: Type = otlpRoot.lookupType(`${TRACE}.Span.Event`);
/** `opentelemetry.proto.trace.v1.Span.Link`. */
export const SpanLink: Type = otlpRoot.lookupType(`${TRACE}.Span.Link`);
/** `opentelemetry.proto.trace.v1.Span.SpanKind`: names to numbers, `SPAN_KIND_UNSPECIFIED` = 0 ... `SPAN_KIND_CONSUMER` = 5. */
export const SpanKind: Enum = otlpRoot.lookupEnum(`${TRACE}.Span.SpanKind`);
/** `opentelemetry.proto.trace.v1.Status`. */
export const Status: Type = otlpRoot.lookupType(`${TRACE}.Status`);
/** `opentelemetry.proto.trace.v1.Status.StatusCode`: `STATUS_CODE_UNSET` = 0, `_OK` = 1, `_ERROR` = 2. */
export const StatusCode: Enum = otlpRoot.lookupEnum(`${TRACE}.Status.StatusCode`);
/** `opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`: the body of an OTLP trace export. */
export const ExportTraceServiceRequest: Type = otlpRoot.lookupType(`${COLLECTOR}.ExportTraceServiceRequest`);
/** `opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse`: the reply to an OTLP trace export. */
export const ExportTraceServiceResponse: Type = otlpRoot.lookupType(`${COLLECTOR}.ExportTraceServiceResponse`);
/** `opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess`: how many spans the receiver rejected, and why. */
export const ExportTracePartialSuccess: Type = otlpRoot.lookupType(`${COLLECTOR}.ExportTracePartialSuccess`);
