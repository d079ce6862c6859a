// Fixtures of the OTLP codec tests: real SDK spans, and what the decoder must make of them.
import { context, createTraceState, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import type { Attributes, AttributeValue, HrTime, Link } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import type {
  AttrValue,
  DecodedAttributes,
  DecodedSpan,
  DecodedTraceRequest,
} from '../../../../src/serializers/otlp/model';

/** A small seeded PRNG (mulberry32), so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const ALL_TYPES: Attributes = {
  str: 'value',
  'str.empty': '',
  'str.unicode': 'grüße, 世界 🌍',
  int: 42,
  'int.negative': -7,
  'int.zero': 0,
  'int.large': 2 ** 53 + 2,
  double: 3.25,
  'double.negative': -0.5,
  'bool.true': true,
  'bool.false': false,
  'arr.str': ['a', 'b', ''],
  'arr.int': [1, -2, 3],
  'arr.double': [1.5, 2.25],
  'arr.bool': [true, false],
  'arr.sparse': ['x', null, undefined, 'y'],
  'arr.empty': [],
};

export const REMOTE_PARENT = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: createTraceState('vendor=abc,other=1'),
};

/** Spans of two resources and two scopes each, with every attribute type, events, links, kinds and statuses. */
export function makeRichSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  for (const service of ['checkout', 'payments']) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.instance.num': 7, 'host.load': 0.75 }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const server = provider.getTracer('okj-server', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
    const client = provider.getTracer('okj-client');
    const parent = trace.setSpanContext(context.active(), REMOTE_PARENT);
    const root = server.startSpan(
      `GET /${service}`,
      {
        kind: SpanKind.SERVER,
        attributes: ALL_TYPES,
        links: [{ context: REMOTE_PARENT, attributes: { why: 'retry' } }],
      },
      parent,
    );
    root.addEvent('cache.miss', { key: 'cart:1', 'retry.count': 2, ratio: 0.25, hit: false, tags: ['a', 'b'] });
    root.addEvent('no-attributes');
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'out of stock' });
    const ctx = trace.setSpan(context.active(), root);
    for (const kind of [SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]) {
      const links: Link[] = [{ context: root.spanContext(), attributes: { 'link.n': kind } }];
      const child = client.startSpan(`kind-${kind}`, { kind, links }, ctx);
      child.setStatus({ code: SpanStatusCode.OK });
      child.end();
    }
    root.end();
  }
  return exporter.getFinishedSpans();
}

/** Random traces: 0-19 spans each, spread over a few services and scopes, some with events. */
export function makeRandomTraces(rand: () => number, count: number): ReadableSpan[][] {
  const exporter = new InMemorySpanExporter();
  const providers = ['a', 'b', 'c'].map(
    (service) =>
      new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      }),
  );
  const traces: ReadableSpan[][] = [];
  for (let t = 0; t < count; t++) {
    const spanCount = Math.floor(rand() * 20);
    for (let i = 0; i < spanCount; i++) {
      const provider = providers[Math.floor(rand() * providers.length)] as BasicTracerProvider;
      const tracer = provider.getTracer(`scope-${Math.floor(rand() * 3)}`);
      const span = tracer.startSpan(`op-${i}`, {
        attributes: { i, r: rand(), s: 'x'.repeat(Math.floor(rand() * 50)) },
      });
      if (rand() < 0.3) span.addEvent('e', { n: i });
      span.end();
    }
    traces.push(exporter.getFinishedSpans());
    exporter.reset();
  }
  return traces;
}

export function encodeProto(spans: ReadableSpan[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('ProtobufTraceSerializer returned nothing');
  return bytes;
}

export function encodeJson(spans: ReadableSpan[]): Uint8Array {
  const bytes = JsonTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('JsonTraceSerializer returned nothing');
  return bytes;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function nanos(time: HrTime): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

/** The SDK value as the decoder models it: integers as bigint, doubles as number, null for absent. */
export function expectedValue(value: AttributeValue | null | undefined): AttrValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return (value as (AttributeValue | null | undefined)[]).map(expectedValue);
  return value;
}

export function expectedAttributes(attributes: Attributes | undefined): DecodedAttributes {
  return Object.fromEntries(Object.entries(attributes ?? {}).map(([k, v]) => [k, expectedValue(v)]));
}

export function expectedFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);
}

/** One SDK span as the decoder must return it, with its resource and scope. */
export function expectedFromSdk(span: ReadableSpan): Flat {
  const ctx = span.spanContext();
  const decoded: DecodedSpan = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    traceState: ctx.traceState?.serialize() ?? '',
    flags: expectedFlags(ctx.traceFlags, span.parentSpanContext?.isRemote),
    name: span.name,
    kind: span.kind + 1,
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    attributes: expectedAttributes(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((event) => ({
      timeUnixNano: nanos(event.time),
      name: event.name,
      attributes: expectedAttributes(event.attributes),
      droppedAttributesCount: event.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      traceState: link.context.traceState?.serialize() ?? '',
      attributes: expectedAttributes(link.attributes),
      droppedAttributesCount: link.droppedAttributesCount ?? 0,
      flags: expectedFlags(link.context.traceFlags, link.context.isRemote),
    })),
    droppedLinksCount: span.droppedLinksCount,
    status: { code: span.status.code, message: span.status.message ?? '' },
  };
  return {
    resource: expectedAttributes(span.resource.attributes),
    scope: {
      name: span.instrumentationScope.name,
      version: span.instrumentationScope.version ?? '',
      schemaUrl: span.instrumentationScope.schemaUrl ?? '',
    },
    span: decoded,
  };
}

export interface Flat {
  resource: DecodedAttributes;
  scope: { name: string; version: string; schemaUrl: string };
  span: DecodedSpan;
}

export function flatten(request: DecodedTraceRequest): Flat[] {
  return request.resourceSpans
    .flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) =>
        ss.spans.map((span) => ({
          resource: rs.resource.attributes,
          scope: { name: ss.scope.name, version: ss.scope.version, schemaUrl: ss.schemaUrl },
          span,
        })),
      ),
    )
    .sort((a, b) => a.span.spanId.localeCompare(b.span.spanId));
}

export function spanCountOf(request: DecodedTraceRequest): number {
  return request.resourceSpans.reduce((n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0);
}

export function expectStructurallyValid(request: DecodedTraceRequest): void {
  for (const { span } of flatten(request)) {
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.parentSpanId).toMatch(/^(?:[0-9a-f]{16})?$/);
    expect(typeof span.startTimeUnixNano).toBe('bigint');
    expect(typeof span.endTimeUnixNano).toBe('bigint');
    for (const link of span.links) {
      expect(link.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(link.spanId).toMatch(/^[0-9a-f]{16}$/);
    }
  }
}

export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
