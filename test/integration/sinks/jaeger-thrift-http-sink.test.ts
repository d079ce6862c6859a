// jaegerThriftHttpSink against the real Jaeger v2's `thrift_http` receiver (jaeger receiver, `/api/traces`):
// what it sends is stored with names, services, typed attributes, parents, events, status and kind intact,
// and reads back like the same spans sent as OTLP, apart from what the Jaeger model cannot carry.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { SinkError } from '../../../src/errors/errors';
import { jaegerThriftHttpSink } from '../../../src/sinks/jaeger-thrift-http-sink';
import type { Sink, SinkRecord } from '../../../src/sinks/sink';
import { getTrace, postOtlpProto, waitForTrace } from '../harness/jaeger';
import type { StoredSpan } from '../harness/jaeger';
import { encodeOtlpProto, makeTrace, traceIdOf } from '../harness/otlp';
import { endpoints } from '../harness/stack';

const sinks: Sink[] = [];
afterAll(async () => {
  await Promise.all(sinks.map((s) => s.close()));
});

function newSink(): Sink {
  const sink = jaegerThriftHttpSink({ url: endpoints.jaegerThriftHttpUrl });
  sinks.push(sink);
  return sink;
}

const signal = new AbortController().signal;

function protoRecord(spans: ReadableSpan[]): SinkRecord {
  return { value: Buffer.from(encodeOtlpProto(spans)), contentType: 'application/x-protobuf' };
}

function jsonRecord(spans: ReadableSpan[]): SinkRecord {
  const bytes = JsonTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('JsonTraceSerializer returned nothing');
  return { value: Buffer.from(bytes), contentType: 'application/json' };
}

/** What the query API returns beyond the harness's StoredSpan fields. */
type FullSpan = Omit<StoredSpan, 'events'> & {
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  events?: { name: string; timeUnixNano?: string; attributes?: StoredSpan['attributes'] }[];
  links?: { traceId: string; spanId: string; attributes?: StoredSpan['attributes'] }[];
};

const LINKED_TRACE = randomBytes(16).toString('hex');
const LINKED_SPAN = randomBytes(8).toString('hex');

/**
 * A server root with typed attributes, a client child with an event, a link and an error, an internal child.
 * Times are explicit (nanoseconds into the current second) to keep children inside their parent: SDK clock
 * times are not monotonic at sub-millisecond scale, and a child sticking out of its parent makes Jaeger's
 * query add a clock-skew warning attribute.
 */
function richTrace(serviceName: string): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'okj.resource': 'r1' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('okj-thrift-tests', '1.2.3');
  const second = Math.floor(Date.now() / 1000);
  const time = (nanos: number): [number, number] => [second, nanos];
  const root = tracer.startSpan('GET /cart', {
    kind: SpanKind.SERVER,
    startTime: time(100_000_789),
    attributes: { 'http.request.method': 'GET', ok: true, count: 42, ratio: 1.5, list: ['a', 'b'] },
  });
  const ctx = trace.setSpan(context.active(), root);
  const child = tracer.startSpan(
    'SELECT cart',
    {
      kind: SpanKind.CLIENT,
      startTime: time(200_000_123),
      links: [{ context: { traceId: LINKED_TRACE, spanId: LINKED_SPAN, traceFlags: 1 } }],
    },
    ctx,
  );
  child.addEvent('retry', { attempt: 2, reason: 'deadlock' }, time(250_000_999));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
  child.end(time(300_000_456));
  const internal = tracer.startSpan('compute', { startTime: time(310_000_001) }, ctx);
  internal.setStatus({ code: SpanStatusCode.OK });
  internal.end(time(320_000_002));
  root.end(time(900_000_999));
  return exporter.getFinishedSpans();
}

function byName(stored: FullSpan[], name: string): FullSpan {
  const span = stored.find((s) => s.name === name);
  if (!span) throw new Error(`no stored span ${name}: ${stored.map((s) => s.name).join(', ')}`);
  return span;
}

function attribute(span: StoredSpan, key: string): Record<string, unknown> | undefined {
  return span.attributes?.find((a) => a.key === key)?.value;
}

/** Microseconds, as Thrift carries them, of an SDK time in nanoseconds: the stored nanoseconds. */
function truncatedToMicros(hr: [number, number]): string {
  return (BigInt(hr[0]) * 1_000_000_000n + (BigInt(hr[1]) / 1000n) * 1000n).toString();
}

describe('jaegerThriftHttpSink against the real Jaeger', () => {
  it('stores every span with its name, service, typed attributes, parent, events, status and kind', async () => {
    const spans = richTrace('okj-thrift-it');
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));

    await expect(newSink().send([protoRecord(spans)], { signal })).resolves.toEqual({});

    const stored: FullSpan[] = await waitForTrace(traceIdOf(spans), { spanCount: 3 });
    expect(new Set(stored.map((s) => s.spanId))).toEqual(new Set(byId.keys()));
    for (const s of stored) {
      const sent = byId.get(s.spanId);
      expect(s.serviceName).toBe('okj-thrift-it');
      expect(s.name).toBe(sent?.name);
      expect(s.parentSpanId ?? '').toBe(sent?.parentSpanContext?.spanId ?? '');
      expect(s.startTimeUnixNano).toBe(truncatedToMicros(sent?.startTime ?? [0, 0]));
      expect(s.endTimeUnixNano).toBe(truncatedToMicros(sent?.endTime ?? [0, 0]));
    }

    const root = byName(stored, 'GET /cart');
    expect(root.kind).toBe(2);
    expect(root.parentSpanId ?? '').toBe('');
    expect(root.status?.code ?? 0).toBe(0);
    expect(attribute(root, 'http.request.method')).toEqual({ stringValue: 'GET' });
    expect(attribute(root, 'ok')).toEqual({ boolValue: true });
    expect(attribute(root, 'count')).toEqual({ intValue: '42' });
    expect(attribute(root, 'ratio')).toEqual({ doubleValue: 1.5 });
    expect(attribute(root, 'list')).toEqual({ stringValue: '["a","b"]' });

    const client = byName(stored, 'SELECT cart');
    expect(client.kind).toBe(3);
    expect(client.parentSpanId).toBe(root.spanId);
    expect(client.status).toEqual({ code: 2, message: 'deadlock detected' });
    // The receiver turns the error / otel.status_* / span.kind tags back into fields: none is left over.
    expect(client.attributes?.map((a) => a.key).sort()).toEqual(['otel.scope.name', 'otel.scope.version']);
    expect(client.events).toHaveLength(1);
    expect(client.events?.[0]?.name).toBe('retry');
    const sentEvent = byId.get(client.spanId)?.events[0];
    expect(client.events?.[0]?.timeUnixNano).toBe(truncatedToMicros(sentEvent?.time ?? [0, 0]));
    expect(client.events?.[0]?.attributes).toEqual(
      expect.arrayContaining([
        { key: 'attempt', value: { intValue: '2' } },
        { key: 'reason', value: { stringValue: 'deadlock' } },
      ]),
    );
    expect(client.links?.map((l) => [l.traceId, l.spanId])).toEqual([[LINKED_TRACE, LINKED_SPAN]]);

    const internal = byName(stored, 'compute');
    expect(internal.kind).toBe(1);
    expect(internal.parentSpanId).toBe(root.spanId);
    expect(internal.status?.code).toBe(1);
  });

  it('reads back like the same spans sent as OTLP, but for the scope, which stays in otel.scope.* attributes', async () => {
    const viaOtlp = richTrace('okj-thrift-vs-otlp');
    const viaThrift = richTrace('okj-thrift-vs-otlp');
    expect(await postOtlpProto(encodeOtlpProto(viaOtlp))).toBe(200);
    await newSink().send([protoRecord(viaThrift)], { signal });

    const [fromOtlp, fromThrift] = await Promise.all([
      waitForTrace(traceIdOf(viaOtlp), { spanCount: 3 }),
      waitForTrace(traceIdOf(viaThrift), { spanCount: 3 }),
    ]);

    // Ids and times differ between the two traces; ids are compared as structure (parent's name).
    const shape = (stored: FullSpan[]) =>
      stored
        .map((s) => ({
          name: s.name,
          parent: stored.find((p) => p.spanId === s.parentSpanId)?.name,
          kind: s.kind,
          serviceName: s.serviceName,
          status: s.status,
          attributes: [...(s.attributes ?? [])]
            .filter((a) => !a.key.startsWith('otel.scope.'))
            .sort((a, b) => a.key.localeCompare(b.key)),
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            attributes: [...(e.attributes ?? [])].sort((a, b) => a.key.localeCompare(b.key)),
          })),
          links: (s.links ?? []).map((l) => [l.traceId, l.spanId]),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    const otlpShape = shape(fromOtlp);
    // OTLP keeps arrays as arrays; the Jaeger model has no array type, so Thrift carries them as JSON.
    for (const s of otlpShape) {
      for (const a of s.attributes) {
        if ('arrayValue' in a.value) a.value = { stringValue: '["a","b"]' };
      }
    }
    expect(shape(fromThrift)).toEqual(otlpShape);
    for (const s of fromThrift) {
      expect(attribute(s, 'otel.scope.name')).toEqual({ stringValue: 'okj-thrift-tests' });
      expect(attribute(s, 'otel.scope.version')).toEqual({ stringValue: '1.2.3' });
    }
  });

  it('stores the spans of several services and of JSON records sent in one send()', async () => {
    const traces = [
      makeTrace({ serviceName: 'okj-thrift-a', spanCount: 3 }),
      makeTrace({ serviceName: 'okj-thrift-b' }),
    ];
    const json = makeTrace({ serviceName: 'okj-thrift-a', spanCount: 2 });

    await newSink().send([protoRecord(traces[0] ?? []), protoRecord(traces[1] ?? []), jsonRecord(json)], { signal });

    for (const spans of [...traces, json]) {
      const stored = await waitForTrace(traceIdOf(spans), { spanCount: spans.length });
      expect(new Set(stored.map((s) => s.spanId))).toEqual(new Set(spans.map((s) => s.spanContext().spanId)));
      const service = spans[0]?.resource.attributes['service.name'];
      for (const s of stored) expect(s.serviceName).toBe(service);
    }
  });

  it('rejects a batch holding a record of random bytes as permanent, before any POST', async () => {
    const good = makeTrace({ serviceName: 'okj-thrift-garbage', spanCount: 2 });
    const garbage: SinkRecord = { value: randomBytes(64), contentType: 'application/x-protobuf' };

    const err: unknown = await newSink()
      .send([protoRecord(good), garbage], { signal })
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(false);
    expect((err as SinkError).httpStatus).toBeUndefined();
    expect((err as SinkError).message).toMatch(/^record 2 of 2 cannot be sent: /);
    // Nothing was sent: send() awaits every POST and Jaeger stores before it answers, so a good span POSTed
    // before the rejection would be queryable now; and the same send to a server that counts requests gets
    // none.
    expect(await getTrace(traceIdOf(good))).toEqual([]);
    let posts = 0;
    const counter = createServer((req, res) => {
      posts++;
      req.resume();
      req.on('end', () => res.writeHead(202).end());
    });
    await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = counter.address() as AddressInfo;
      const counted = jaegerThriftHttpSink({ url: `http://127.0.0.1:${port}/api/traces` });
      sinks.push(counted);
      await expect(counted.send([protoRecord(good), garbage], { signal })).rejects.toThrow(/^record 2 of 2 /);
      expect(posts).toBe(0);
    } finally {
      counter.closeAllConnections();
      await new Promise((resolve) => counter.close(resolve));
    }
  });

  it('rejects a send holding a span larger than maxRequestBytes as permanent before any POST; the rest alone is stored', async () => {
    const service = 'okj-thrift-oversize';
    const small = [
      makeTrace({ serviceName: service, spanCount: 2 }),
      makeTrace({ serviceName: service, spanCount: 3 }),
    ];
    const big = makeTrace({ serviceName: service, name: `big-${'x'.repeat(4_000)}` });
    const [first, second] = small.map(protoRecord);
    if (!first || !second) throw new Error('no records');
    // Room for a few ordinary spans per request, not for the big one.
    const sink = jaegerThriftHttpSink({ url: endpoints.jaegerThriftHttpUrl, maxRequestBytes: 2_000 });
    sinks.push(sink);

    const err: unknown = await sink.send([first, protoRecord(big), second], { signal }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(false);
    expect((err as SinkError).message).toMatch(
      /^record 2 of 3 holds a span of \d+ bytes in Thrift, a request of \d+ bytes with its process: more than maxRequestBytes \(2000\)/,
    );
    // No part of the send was POSTed, so nothing accepted is sent again when the good records are retried.
    for (const spans of [...small, big]) expect(await getTrace(traceIdOf(spans))).toEqual([]);
    await expect(sink.send([first, second], { signal })).resolves.toEqual({});
    for (const spans of small) {
      const stored = await waitForTrace(traceIdOf(spans), { spanCount: spans.length });
      expect(stored).toHaveLength(spans.length);
    }
  });

  // The sink classifies these answers (unit tests); this is what Jaeger really sends.
  it('documents Jaeger’s answers to bodies it cannot take: 400, or 500 when too large', async () => {
    const post = async (contentType: string, body: Buffer) => {
      const res = await fetch(endpoints.jaegerThriftHttpUrl, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      return { status: res.status, text: (await res.text()).trim() };
    };

    // Not Thrift: the deserializer fails on the first field header ('g' is no Thrift type).
    expect(await post('application/x-thrift', Buffer.from('garbage'))).toEqual({
      status: 400,
      text: 'Unable to process request body: Unknown data type 103',
    });
    // A Thrift struct missing required fields (an empty Batch: just the stop byte).
    const empty = await post('application/x-thrift', Buffer.from([0]));
    expect(empty.status).toBe(400);
    expect(empty.text).toMatch(/^Unable to process request body: .*required field/i);
    // Over the receiver's max_request_body_size (20 MiB): a 500, which retrying cannot fix; the reason for
    // the sink's maxRequestBytes (8 MiB by default).
    expect(await post('application/x-thrift', Buffer.alloc(21 * 1024 * 1024))).toEqual({
      status: 500,
      text: 'Unable to process request body: http: request body too large',
    });
    // The wrong content type.
    expect(await post('application/x-protobuf', Buffer.from([0]))).toEqual({
      status: 400,
      text: 'Unsupported content type: application/x-protobuf',
    });
  });
});
