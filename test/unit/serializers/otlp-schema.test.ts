import { context, createTraceState, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Type } from 'protobufjs/light.js';

import {
  AnyValue,
  ArrayValue,
  ExportTracePartialSuccess,
  ExportTraceServiceRequest,
  ExportTraceServiceResponse,
  InstrumentationScope,
  KeyValue,
  KeyValueList,
  Resource,
  ResourceSpans,
  ScopeSpans,
  Span,
  SpanEvent,
  SpanKind as SpanKindEnum,
  SpanLink,
  Status,
  StatusCode,
} from '../../../src/serializers/otlp-schema';

function fieldsOf(type: Type): Record<string, string> {
  return Object.fromEntries(type.fieldsArray.map((f) => [f.name, `${f.id} ${f.repeated ? 'repeated ' : ''}${f.type}`]));
}

describe('OTLP schema', () => {
  // Field numbers and types as in opentelemetry-proto v1.x; a typo here would corrupt every record.
  it.each<[string, Type, Record<string, string>]>([
    [
      'AnyValue',
      AnyValue,
      {
        stringValue: '1 string',
        boolValue: '2 bool',
        intValue: '3 int64',
        doubleValue: '4 double',
        arrayValue: '5 opentelemetry.proto.common.v1.ArrayValue',
        kvlistValue: '6 opentelemetry.proto.common.v1.KeyValueList',
        bytesValue: '7 bytes',
      },
    ],
    ['ArrayValue', ArrayValue, { values: '1 repeated opentelemetry.proto.common.v1.AnyValue' }],
    ['KeyValueList', KeyValueList, { values: '1 repeated opentelemetry.proto.common.v1.KeyValue' }],
    ['KeyValue', KeyValue, { key: '1 string', value: '2 opentelemetry.proto.common.v1.AnyValue' }],
    [
      'InstrumentationScope',
      InstrumentationScope,
      {
        name: '1 string',
        version: '2 string',
        attributes: '3 repeated opentelemetry.proto.common.v1.KeyValue',
        droppedAttributesCount: '4 uint32',
      },
    ],
    [
      'Resource',
      Resource,
      { attributes: '1 repeated opentelemetry.proto.common.v1.KeyValue', droppedAttributesCount: '2 uint32' },
    ],
    [
      'ResourceSpans',
      ResourceSpans,
      {
        resource: '1 opentelemetry.proto.resource.v1.Resource',
        scopeSpans: '2 repeated opentelemetry.proto.trace.v1.ScopeSpans',
        schemaUrl: '3 string',
      },
    ],
    [
      'ScopeSpans',
      ScopeSpans,
      {
        scope: '1 opentelemetry.proto.common.v1.InstrumentationScope',
        spans: '2 repeated opentelemetry.proto.trace.v1.Span',
        schemaUrl: '3 string',
      },
    ],
    [
      'Span',
      Span,
      {
        traceId: '1 bytes',
        spanId: '2 bytes',
        traceState: '3 string',
        parentSpanId: '4 bytes',
        flags: '16 fixed32',
        name: '5 string',
        kind: '6 opentelemetry.proto.trace.v1.Span.SpanKind',
        startTimeUnixNano: '7 fixed64',
        endTimeUnixNano: '8 fixed64',
        attributes: '9 repeated opentelemetry.proto.common.v1.KeyValue',
        droppedAttributesCount: '10 uint32',
        events: '11 repeated opentelemetry.proto.trace.v1.Span.Event',
        droppedEventsCount: '12 uint32',
        links: '13 repeated opentelemetry.proto.trace.v1.Span.Link',
        droppedLinksCount: '14 uint32',
        status: '15 opentelemetry.proto.trace.v1.Status',
      },
    ],
    [
      'Span.Event',
      SpanEvent,
      {
        timeUnixNano: '1 fixed64',
        name: '2 string',
        attributes: '3 repeated opentelemetry.proto.common.v1.KeyValue',
        droppedAttributesCount: '4 uint32',
      },
    ],
    [
      'Span.Link',
      SpanLink,
      {
        traceId: '1 bytes',
        spanId: '2 bytes',
        traceState: '3 string',
        attributes: '4 repeated opentelemetry.proto.common.v1.KeyValue',
        droppedAttributesCount: '5 uint32',
        flags: '6 fixed32',
      },
    ],
    ['Status', Status, { message: '2 string', code: '3 opentelemetry.proto.trace.v1.Status.StatusCode' }],
    [
      'ExportTraceServiceRequest',
      ExportTraceServiceRequest,
      { resourceSpans: '1 repeated opentelemetry.proto.trace.v1.ResourceSpans' },
    ],
    [
      'ExportTraceServiceResponse',
      ExportTraceServiceResponse,
      { partialSuccess: '1 opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess' },
    ],
    ['ExportTracePartialSuccess', ExportTracePartialSuccess, { rejectedSpans: '1 int64', errorMessage: '2 string' }],
  ])('%s has the fields of the OTLP proto', (_, type, fields) => {
    expect(fieldsOf(type)).toEqual(fields);
  });

  it('has the OTLP enum values', () => {
    expect(SpanKindEnum.values).toEqual({
      SPAN_KIND_UNSPECIFIED: 0,
      SPAN_KIND_INTERNAL: 1,
      SPAN_KIND_SERVER: 2,
      SPAN_KIND_CLIENT: 3,
      SPAN_KIND_PRODUCER: 4,
      SPAN_KIND_CONSUMER: 5,
    });
    expect(StatusCode.values).toEqual({ STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 });
  });

  it('re-encodes ProtobufTraceSerializer output byte for byte (every field the SDK writes is known)', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'schema', n: 1, d: 0.5, b: true, a: ['x', null] }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('schema-test', '0.0.1', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
    const parent = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: createTraceState('k=v'),
    });
    const span = tracer.startSpan(
      'op',
      { kind: SpanKind.CONSUMER, attributes: { i: -3 }, links: [{ context: trace.getSpanContext(parent)! }] },
      parent,
    );
    span.addEvent('e', { k: 'v' });
    span.setStatus({ code: 2, message: 'm' });
    span.end();
    const bytes = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans());
    if (!bytes) throw new Error('no bytes');

    const reEncoded = ExportTraceServiceRequest.encode(ExportTraceServiceRequest.decode(bytes)).finish();

    expect(Buffer.from(reEncoded).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
  });
});
