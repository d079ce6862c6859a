// jaegerThriftHttpSink: the conversion of real SDK spans (encoded by the OTel serializers) to Jaeger's Thrift
// model, and the HTTP exchange against a stub collector on 127.0.0.1.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Link } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IdGenerator, ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { ConfigError, SinkError } from '../../../src/errors/errors';
import { decodeTraceRequest } from '../../../src/serializers/otlp/decode';
import type { DecodedTraceRequest } from '../../../src/serializers/otlp/model';
import { jaegerThriftHttpSink, toJaegerBatches } from '../../../src/sinks/jaeger-thrift-http-sink';
import type { JaegerThriftHttpSinkOptions } from '../../../src/sinks/jaeger-thrift-http-sink-options';
import type { Sink, SinkRecord } from '../../../src/sinks/sink';
import { JaegerSpanRefType, JaegerTagType, encodeJaegerBatch } from '../../../src/sinks/thrift-binary';
import type { JaegerBatch, JaegerSpan, JaegerTag } from '../../../src/sinks/thrift-binary';
import { VERSION } from '../../../src/version';
import { makeSpans } from '../helpers/spans';
import { emptyEventsRecord, emptyJsonObjectsRecord, emptyResourceSpansRecord } from './hostile-records';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

// ---------------------------------------------------------------------------------------------------------
// Real SDK spans with known ids and times

/** Trace ids and span ids with the top bit set, so their i64 halves are negative. */
const TRACE_ID = 'fedcba98765432100123456789abcdef';
const TRACE_HIGH = -0x0123456789abcdf0n; // 0xfedcba9876543210 as a signed i64
const TRACE_LOW = 0x0123456789abcdefn;

function fixedIds(): IdGenerator {
  let next = 1;
  return {
    generateTraceId: () => TRACE_ID,
    generateSpanId: () => `ff${(next++).toString(16).padStart(14, '0')}`,
  };
}

/** The i64 of span id `ff0000000000000n`. */
const spanI64 = (n: number): bigint => BigInt.asIntN(64, 0xff00_0000_0000_0000n + BigInt(n));

const LINKED_TRACE = '00000000000000010000000000000002';
const LINKED_SPAN = '0000000000000003';

/** Start and end times as [seconds, nanoseconds]: 1 700 000 000.123456789 s to .987654321 s. */
const START: [number, number] = [1_700_000_000, 123_456_789];
const END: [number, number] = [1_700_000_000, 987_654_321];
const START_MICROS = 1_700_000_000_123_456n;
const DURATION_MICROS = 987_654n - 123_456n;

/**
 * A root server span with typed attributes and OK status, a client child with an event, a link and an ERROR
 * status, and an internal child with neither; all with fixed ids and times.
 */
function richSpans(serviceName = 'checkout'): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'host.name': 'h1', 'process.pid': 42 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    idGenerator: fixedIds(),
  });
  const tracer = provider.getTracer('checkout-lib', '2.0.1');
  const root = tracer.startSpan('GET /cart', {
    kind: SpanKind.SERVER,
    startTime: START,
    attributes: { 'http.method': 'GET', ok: true, count: 3, ratio: 0.25, tags: ['a', 'b'], nums: [1, 2] },
  });
  root.setStatus({ code: SpanStatusCode.OK });
  const ctx = trace.setSpan(context.active(), root);
  const link: Link = { context: { traceId: LINKED_TRACE, spanId: LINKED_SPAN, traceFlags: 1 } };
  const child = tracer.startSpan('SELECT cart', { kind: SpanKind.CLIENT, startTime: START, links: [link] }, ctx);
  child.addEvent('retry', { attempt: 2 }, [1_700_000_000, 500_000_999]);
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock' });
  child.end(END);
  tracer.startSpan('compute', { startTime: START }, ctx).end(END);
  root.end(END);
  return exporter.getFinishedSpans();
}

function protoRecord(spans: ReadableSpan[]): SinkRecord {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('no bytes');
  return { value: Buffer.from(bytes), contentType: PROTOBUF };
}

function jsonRecord(spans: ReadableSpan[]): SinkRecord {
  const bytes = JsonTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('no bytes');
  return { value: Buffer.from(bytes), contentType: JSON_TYPE };
}

function decoded(records: SinkRecord[]): DecodedTraceRequest[] {
  return records.map((r) => decodeTraceRequest(r.value, r.contentType));
}

function onlyBatch(batches: JaegerBatch[]): JaegerBatch {
  expect(batches).toHaveLength(1);
  const [batch] = batches;
  if (!batch) throw new Error('no batch');
  return batch;
}

function spanNamed(batch: JaegerBatch, name: string): JaegerSpan {
  const span = batch.spans.find((s) => s.operationName === name);
  if (!span) throw new Error(`no span ${name}`);
  return span;
}

const str = (key: string, value: string): JaegerTag => ({ key, vType: JaegerTagType.STRING, vStr: value });

// ---------------------------------------------------------------------------------------------------------

describe('toJaegerBatches', () => {
  const batch = onlyBatch(toJaegerBatches(decoded([protoRecord(richSpans())])));
  const root = spanNamed(batch, 'GET /cart');
  const client = spanNamed(batch, 'SELECT cart');
  const internal = spanNamed(batch, 'compute');

  it('makes the process from the resource: service.name, the other attributes as typed tags', () => {
    expect(batch.process).toEqual({
      serviceName: 'checkout',
      tags: [str('host.name', 'h1'), { key: 'process.pid', vType: JaegerTagType.LONG, vLong: 42n }],
    });
  });

  it('splits the 128-bit trace id into signed i64 halves (high = first 8 bytes) and converts span ids', () => {
    for (const span of batch.spans) {
      expect(span.traceIdHigh).toBe(TRACE_HIGH);
      expect(span.traceIdLow).toBe(TRACE_LOW);
    }
    expect(root.spanId).toBe(spanI64(1));
    expect(root.spanId).toBeLessThan(0n);
    expect(client.spanId).toBe(spanI64(2));
    expect(internal.spanId).toBe(spanI64(3));
  });

  it('sets parentSpanId (0 for the root) and a CHILD_OF reference to the parent, first', () => {
    expect(root.parentSpanId).toBe(0n);
    expect(root.references).toBeUndefined();
    expect(internal.parentSpanId).toBe(root.spanId);
    expect(internal.references).toEqual([
      { refType: JaegerSpanRefType.CHILD_OF, traceIdLow: TRACE_LOW, traceIdHigh: TRACE_HIGH, spanId: root.spanId },
    ]);
  });

  it('turns links into FOLLOWS_FROM references with the linked trace id, after the parent', () => {
    expect(client.references).toEqual([
      { refType: JaegerSpanRefType.CHILD_OF, traceIdLow: TRACE_LOW, traceIdHigh: TRACE_HIGH, spanId: root.spanId },
      { refType: JaegerSpanRefType.FOLLOWS_FROM, traceIdLow: 2n, traceIdHigh: 1n, spanId: 3n },
    ]);
  });

  it('gives start time and duration in microseconds, truncating nanoseconds', () => {
    for (const span of batch.spans) {
      expect(span.startTime).toBe(START_MICROS);
      expect(span.duration).toBe(DURATION_MICROS);
    }
  });

  it('marks sampled spans with flag 1', () => {
    for (const span of batch.spans) expect(span.flags).toBe(1);
  });

  it('writes scope, typed attributes, span.kind and status as tags, in the translator’s order', () => {
    expect(root.tags).toEqual([
      str('otel.scope.name', 'checkout-lib'),
      str('otel.scope.version', '2.0.1'),
      str('http.method', 'GET'),
      { key: 'ok', vType: JaegerTagType.BOOL, vBool: true },
      { key: 'count', vType: JaegerTagType.LONG, vLong: 3n },
      { key: 'ratio', vType: JaegerTagType.DOUBLE, vDouble: 0.25 },
      str('tags', '["a","b"]'),
      str('nums', '[1,2]'),
      str('span.kind', 'server'),
      str('otel.status_code', 'OK'),
    ]);
  });

  it('adds otel.status_code ERROR, error=true and otel.status_description for an error status', () => {
    expect(client.tags?.slice(2)).toEqual([
      str('span.kind', 'client'),
      str('otel.status_code', 'ERROR'),
      { key: 'error', vType: JaegerTagType.BOOL, vBool: true },
      str('otel.status_description', 'deadlock'),
    ]);
  });

  it('tags an internal span as span.kind internal and an unset status not at all', () => {
    expect(internal.tags?.slice(2)).toEqual([str('span.kind', 'internal')]);
  });

  it('turns events into logs: timestamp in µs, an event field with the name, then the attributes', () => {
    expect(client.logs).toEqual([
      {
        timestamp: 1_700_000_000_500_000n,
        fields: [str('event', 'retry'), { key: 'attempt', vType: JaegerTagType.LONG, vLong: 2n }],
      },
    ]);
    expect(root.logs).toBeUndefined();
  });

  it('reads OTLP/JSON records into the same batches as protobuf ones', () => {
    const spans = richSpans();
    expect(toJaegerBatches(decoded([jsonRecord(spans)]))).toEqual(toJaegerBatches(decoded([protoRecord(spans)])));
  });
});

describe('toJaegerBatches on values the SDK does not make', () => {
  function convert(edit: (request: DecodedTraceRequest) => void): JaegerBatch {
    const [request] = decoded([protoRecord(makeSpans({ spansPerTrace: 2 }))]);
    if (!request) throw new Error('no request');
    edit(request);
    return onlyBatch(toJaegerBatches([request]));
  }
  const firstSpan = (request: DecodedTraceRequest) => {
    const span = request.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    if (!span) throw new Error('no span');
    return span;
  };

  it('writes bytes as BINARY, empty values as empty strings, and arrays and maps as JSON with sorted keys', () => {
    const batch = convert((r) => {
      firstSpan(r).attributes = {
        raw: new Uint8Array([0, 255]),
        none: null,
        big: 9_007_199_254_740_993n,
        min: -(2n ** 63n),
        kv: { z: 1n, a: [true, null, 2.5], m: { y: new Uint8Array([1]), x: 'q"' } },
        odd: [NaN, -Infinity],
      };
    });

    expect(batch.spans[0]?.tags?.slice(2, 8)).toEqual([
      { key: 'raw', vType: JaegerTagType.BINARY, vBinary: new Uint8Array([0, 255]) },
      str('none', ''),
      { key: 'big', vType: JaegerTagType.LONG, vLong: 9_007_199_254_740_993n },
      { key: 'min', vType: JaegerTagType.LONG, vLong: -(2n ** 63n) },
      str('kv', '{"a":[true,null,2.5],"m":{"x":"q\\"","y":"AQ=="},"z":1}'),
      str('odd', '["NaN","-Infinity"]'),
    ]);
  });

  it('adds w3c.tracestate last when the span has a trace state, and no span.kind for an unspecified kind', () => {
    const batch = convert((r) => {
      const span = firstSpan(r);
      span.traceState = 'vendor=a,other=b';
      span.kind = 0;
      span.attributes = {};
    });

    expect(batch.spans[0]?.tags?.slice(2)).toEqual([str('w3c.tracestate', 'vendor=a,other=b')]);
  });

  it('puts an OK or unset status message in otel.status_description, as the translator does', () => {
    const batch = convert((r) => {
      firstSpan(r).status = { code: 0, message: 'fine' };
      firstSpan(r).attributes = {};
    });

    expect(batch.spans[0]?.tags?.slice(2)).toEqual([
      str('span.kind', 'internal'),
      str('otel.status_description', 'fine'),
    ]);
  });

  it('keeps an event attribute named event instead of the name, and an unnamed event without one', () => {
    const batch = convert((r) => {
      firstSpan(r).events = [
        { timeUnixNano: 1_999n, name: 'ignored', attributes: { event: 'own' }, droppedAttributesCount: 0 },
        { timeUnixNano: 3_000n, name: '', attributes: {}, droppedAttributesCount: 0 },
      ];
    });

    expect(batch.spans[0]?.logs).toEqual([
      { timestamp: 1n, fields: [str('event', 'own')] },
      { timestamp: 3n, fields: [] },
    ]);
  });

  it('retypes the parent reference from a link to the parent carrying opentracing.ref_type', () => {
    const batch = convert((r) => {
      const child = r.resourceSpans[0]?.scopeSpans[0]?.spans.find((s) => s.parentSpanId !== '');
      if (!child) throw new Error('no child');
      child.links = [
        {
          traceId: child.traceId,
          spanId: child.parentSpanId,
          traceState: '',
          attributes: { 'opentracing.ref_type': 'follows_from' },
          droppedAttributesCount: 0,
          flags: 0,
        },
        {
          traceId: LINKED_TRACE,
          spanId: LINKED_SPAN,
          traceState: '',
          attributes: { 'opentracing.ref_type': 'child_of' },
          droppedAttributesCount: 0,
          flags: 0,
        },
      ];
    });

    const child = batch.spans.find((s) => s.parentSpanId !== 0n);
    expect(child?.references?.map((ref) => [ref.refType, ref.spanId])).toEqual([
      [JaegerSpanRefType.FOLLOWS_FROM, child?.parentSpanId],
      [JaegerSpanRefType.CHILD_OF, 3n],
    ]);
  });

  it('reads the sampled bit from OTLP flags when they are set, and assumes sampled when they are 0', () => {
    const batch = convert((r) => {
      const [a, b] = r.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
      if (!a || !b) throw new Error('no spans');
      a.flags = 0;
      b.flags = 0x100; // has-is-remote, not sampled
    });

    expect(batch.spans.map((s) => s.flags)).toEqual([1, 0]);
  });

  it('clamps a negative duration (end before start) to 0', () => {
    const batch = convert((r) => {
      firstSpan(r).endTimeUnixNano = firstSpan(r).startTimeUnixNano - 5_000n;
    });

    expect(batch.spans[0]?.duration).toBe(0n);
  });

  it('names a resource without service.name unknown_service, and leaves out an empty tag list', () => {
    const batch = convert((r) => {
      const rs = r.resourceSpans[0];
      if (rs) rs.resource.attributes = {};
    });

    expect(batch.process).toEqual({ serviceName: 'unknown_service' });
  });
});

describe('toJaegerBatches grouping', () => {
  it('puts all spans of one resource, across records, in one batch, in order', () => {
    const traces = [makeSpans({ spansPerTrace: 2 }), makeSpans({ spansPerTrace: 3 })];

    const batch = onlyBatch(toJaegerBatches(decoded(traces.map(protoRecord))));

    expect(batch.process.serviceName).toBe('unit');
    expect(batch.spans.map((s) => s.spanId)).toEqual(
      traces.flat().map((s) => BigInt.asIntN(64, BigInt(`0x${s.spanContext().spanId}`))),
    );
  });

  it('makes one batch per distinct process, in order of first appearance', () => {
    const records = [
      protoRecord(makeSpans({ serviceName: 'a' })),
      protoRecord(makeSpans({ serviceName: 'b' })),
      protoRecord(makeSpans({ serviceName: 'a' })),
    ];

    const batches = toJaegerBatches(decoded(records));

    expect(batches.map((b) => [b.process.serviceName, b.spans.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('makes no batch for resources without spans or empty records', () => {
    const empty: DecodedTraceRequest = {
      resourceSpans: [
        {
          resource: { attributes: { 'service.name': 'idle' }, droppedAttributesCount: 0 },
          scopeSpans: [
            { scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, spans: [], schemaUrl: '' },
          ],
          schemaUrl: '',
        },
      ],
    };

    expect(toJaegerBatches([empty, { resourceSpans: [] }])).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// A stub collector

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

interface Collector {
  url: string;
  received: Received[];
  handle(handler: Handler): void;
  requestArrived(n: number): Promise<void>;
}

const servers: Server[] = [];
const sinks: Sink[] = [];

afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** A collector answering 202 with an empty body (as Jaeger does), unless told otherwise. */
async function startCollector(): Promise<Collector> {
  let handler: Handler = (_req, res) => {
    res.writeHead(202);
    res.end();
  };
  const received: Received[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      for (const w of waiters.filter((w) => w.n <= received.length)) w.resolve();
      handler(req, res, received.length - 1);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/traces`,
    received,
    handle: (h) => {
      handler = h;
    },
    requestArrived: (n) =>
      received.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
  };
}

function newSink(options: JaegerThriftHttpSinkOptions): Sink {
  const sink = jaegerThriftHttpSink(options);
  sinks.push(sink);
  return sink;
}

function send(sink: Sink, records: SinkRecord[], signal = new AbortController().signal): ReturnType<Sink['send']> {
  return sink.send(records, { signal });
}

async function rejection(promise: Promise<unknown>): Promise<SinkError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SinkError);
    return err as SinkError;
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(result)}`);
}

describe('jaegerThriftHttpSink requests', () => {
  it('POSTs each batch as Thrift binary with content type application/x-thrift, and resolves on 202', async () => {
    const collector = await startCollector();
    const records = [protoRecord(richSpans()), jsonRecord(makeSpans({ serviceName: 'other' }))];

    await expect(send(newSink({ url: collector.url }), records)).resolves.toEqual({});

    const expected = toJaegerBatches(decoded(records));
    expect(expected).toHaveLength(2);
    expect(collector.received).toHaveLength(2);
    collector.received.forEach((got, i) => {
      expect(got.method).toBe('POST');
      expect(got.url).toBe('/api/traces');
      expect(got.headers['content-type']).toBe('application/x-thrift');
      expect(got.headers['user-agent']).toBe(`otel-kafka-jaeger/${VERSION}`);
      expect(got.body.equals(encodeJaegerBatch(expected[i] as JaegerBatch))).toBe(true);
    });
  });

  it('sends one request for many records of one service', async () => {
    const collector = await startCollector();
    const records = Array.from({ length: 5 }, () => protoRecord(makeSpans({ spansPerTrace: 3 })));

    await send(newSink({ url: collector.url }), records);

    expect(collector.received).toHaveLength(1);
  });

  it('splits a batch larger than maxRequestBytes into several requests, each as full as fits', async () => {
    const collector = await startCollector();
    const records = Array.from({ length: 4 }, () => protoRecord(makeSpans({ spansPerTrace: 2, attributeBytes: 300 })));
    const [whole] = toJaegerBatches(decoded(records));
    if (!whole) throw new Error('no batch');
    const twoSpans = encodeJaegerBatch({ ...whole, spans: whole.spans.slice(0, 2) }).length;
    const threeSpans = encodeJaegerBatch({ ...whole, spans: whole.spans.slice(0, 3) }).length;

    await send(newSink({ url: collector.url, maxRequestBytes: twoSpans }), records);
    await send(newSink({ url: collector.url, maxRequestBytes: threeSpans }), records);

    const bodies = collector.received.map((r) => r.body);
    const batchOf = (from: number, to: number): Buffer =>
      encodeJaegerBatch({ ...whole, spans: whole.spans.slice(from, to) });
    expect(bodies.slice(0, 4)).toEqual([batchOf(0, 2), batchOf(2, 4), batchOf(4, 6), batchOf(6, 8)]);
    expect(bodies.slice(4)).toEqual([batchOf(0, 3), batchOf(3, 6), batchOf(6, 8)]);
  });

  it('rejects a record holding a span larger than maxRequestBytes as permanent, before any request', async () => {
    const collector = await startCollector();
    const small = makeSpans({ spansPerTrace: 2 });
    const records = [protoRecord(small), protoRecord(makeSpans({ attributeBytes: 2_000 })), protoRecord(small)];
    const [whole] = toJaegerBatches(decoded(records));
    if (!whole) throw new Error('no batch');
    const bigSpan = encodeJaegerBatch({ ...whole, spans: whole.spans.slice(2, 3) }).length;

    const err = await rejection(send(newSink({ url: collector.url, maxRequestBytes: bigSpan - 1 }), records));

    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(
      new RegExp(
        `^record 2 of 3 holds a span of \\d+ bytes in Thrift, a request of ${bigSpan} bytes with its process: ` +
          `more than maxRequestBytes \\(${bigSpan - 1}\\)`,
      ),
    );
    // Nothing of the send was accepted, so a retry of any part of it stores nothing twice.
    expect(collector.received).toHaveLength(0);
  });

  it('writes the same bodies as encodeJaegerBatch of the converted batches, for every service', async () => {
    const collector = await startCollector();
    const records = [
      protoRecord(richSpans('a')),
      jsonRecord(makeSpans({ serviceName: 'b', spansPerTrace: 3 })),
      protoRecord(richSpans('a')),
    ];

    await send(newSink({ url: collector.url }), records);

    expect(collector.received.map((r) => r.body)).toEqual(toJaegerBatches(decoded(records)).map(encodeJaegerBatch));
  });

  it.each([
    ['1 MiB of empty resource spans', emptyResourceSpansRecord, 524_288],
    ['one span with 512k empty events', () => emptyEventsRecord(), 524_291],
    ['OTLP/JSON of 300,000 empty objects', () => emptyJsonObjectsRecord(300_000), 300_001],
  ] as const)('rejects %s as too large to decode, quickly and before any request', async (_what, make, count) => {
    const collector = await startCollector();
    const record = make();
    const started = performance.now();

    const err = await rejection(send(newSink({ url: collector.url }), [protoRecord(makeSpans()), record]));

    expect(performance.now() - started).toBeLessThan(1_000);
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(
      new RegExp(
        `^record 2 of 2 cannot be sent: too large to decode: ${count} messages .* more than the \\d+ one record may hold`,
      ),
    );
    expect(collector.received).toHaveLength(0);
  });

  it('sends the custom headers and accepts any 2xx', async () => {
    const collector = await startCollector();
    collector.handle((_req, res) => res.end('ok'));

    await expect(
      send(newSink({ url: collector.url, headers: { authorization: 'Bearer abcdefgh' } }), [protoRecord(makeSpans())]),
    ).resolves.toEqual({});

    expect(collector.received[0]?.headers.authorization).toBe('Bearer abcdefgh');
  });

  it('sends nothing for an empty batch or records without spans', async () => {
    const collector = await startCollector();
    const sink = newSink({ url: collector.url });

    await expect(send(sink, [])).resolves.toEqual({});
    await expect(send(sink, [{ value: Buffer.alloc(0), contentType: PROTOBUF }])).resolves.toEqual({});

    expect(collector.received).toHaveLength(0);
  });

  it('rejects a record that is not OTLP as permanent, naming it, before any request', async () => {
    const collector = await startCollector();
    const garbage: SinkRecord = { value: Buffer.from([0xff, 0xfe, 0x01, 0x02, 0x03]), contentType: PROTOBUF };

    const err = await rejection(send(newSink({ url: collector.url }), [protoRecord(makeSpans()), garbage]));

    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/^record 2 of 2 cannot be sent: not an OTLP ExportTraceServiceRequest/);
    expect(collector.received).toHaveLength(0);
  });

  it('rejects a record with an unknown content type as permanent', async () => {
    const collector = await startCollector();
    const record: SinkRecord = { value: protoRecord(makeSpans()).value, contentType: 'text/plain' };

    const err = await rejection(send(newSink({ url: collector.url }), [record]));

    expect(err.retriable).toBe(false);
    expect(err.message).toContain("record 1 of 1 has content type 'text/plain'");
    expect(collector.received).toHaveLength(0);
  });

  it('rejects when a later batch fails, after sending the earlier ones, and sends no further ones', async () => {
    const collector = await startCollector();
    collector.handle((_req, res, index) => {
      res.writeHead(index === 1 ? 400 : 202, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(index === 1 ? 'Unable to process request body: Unknown data type 103\n' : '');
    });
    const records = ['a', 'b', 'c'].map((serviceName) => protoRecord(makeSpans({ serviceName })));

    const err = await rejection(send(newSink({ url: collector.url }), records));

    expect(err.retriable).toBe(false);
    expect(err.httpStatus).toBe(400);
    expect(err.message).toMatch(
      /^HTTP 400 from POST http:\/\/127\.0\.0\.1:\d+\/api\/traces: Unable to process request body: Unknown data type 103$/,
    );
    expect(collector.received).toHaveLength(2);
  });
});

describe('jaegerThriftHttpSink response classification', () => {
  async function answer(status: number, headers: Record<string, string> = {}, body = ''): Promise<SinkError> {
    const collector = await startCollector();
    collector.handle((_req, res) => {
      res.writeHead(status, headers);
      res.end(body);
    });
    return rejection(send(newSink({ url: collector.url }), [protoRecord(makeSpans())]));
  }

  it.each([400, 413, 422])('rejects a %i as permanent', async (status) => {
    const err = await answer(status, { 'content-type': 'text/plain' }, 'nope');

    expect(err.retriable).toBe(false);
    expect(err.httpStatus).toBe(status);
  });

  it.each([404, 405, 415])('rejects a %i, about the endpoint and not the data, as retriable', async (status) => {
    const err = await answer(status, { 'content-type': 'text/plain' }, 'nope');

    expect(err.retriable).toBe(true);
    expect(err.httpStatus).toBe(status);
    expect(err.message).toMatch(
      new RegExp(
        `^HTTP ${status} from POST http://127\\.0\\.0\\.1:\\d+/api/traces: nope — the endpoint refused the ` +
          `request, not its data: is the URL right\\? \\(the Jaeger Thrift/HTTP path is /api/traces\\); retrying`,
      ),
    );
  });

  it("rejects a 404 as permanent with endpointErrors: 'permanent'", async () => {
    const collector = await startCollector();
    collector.handle((_req, res) => {
      res.writeHead(404);
      res.end();
    });

    const err = await rejection(
      send(newSink({ url: collector.url, endpointErrors: 'permanent' }), [protoRecord(makeSpans())]),
    );

    expect(err.retriable).toBe(false);
    expect(err.message).toContain('is the URL right?');
  });

  it.each([401, 403, 408, 500, 502, 503, 504])('rejects a %i as retriable', async (status) => {
    const err = await answer(status, { 'content-type': 'text/plain' }, 'Cannot submit Jaeger batch: later');

    expect(err.retriable).toBe(true);
    expect(err.httpStatus).toBe(status);
    expect(err.message).toMatch(/: Cannot submit Jaeger batch: later$/);
  });

  it('rejects a 429 as retriable with Retry-After', async () => {
    const err = await answer(429, { 'retry-after': '3' });

    expect(err.retriable).toBe(true);
    expect(err.retryAfterMillis).toBe(3_000);
  });

  it('does not follow a redirect, and retries it', async () => {
    const err = await answer(307, { location: 'http://elsewhere.example/api/traces?x=1' });

    expect(err.retriable).toBe(true);
    expect(err.message).toContain('redirects are not followed (Location: http://elsewhere.example/api/traces)');
  });

  it('keeps header values out of error messages', async () => {
    const collector = await startCollector();
    collector.handle((req, res) => {
      res.writeHead(500);
      res.end(`echo ${req.headers.authorization ?? ''}`);
    });

    const err = await rejection(
      send(newSink({ url: collector.url, headers: { authorization: 'Bearer s3cr3t-token' } }), [
        protoRecord(makeSpans()),
      ]),
    );

    expect(err.message).not.toContain('s3cr3t-token');
    expect(err.message).toContain('[redacted]');
  });
});

describe('jaegerThriftHttpSink connections', () => {
  it('rejects as retriable when the connection is refused', async () => {
    const collector = await startCollector();
    const url = collector.url;
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));

    const err = await rejection(send(newSink({ url }), [protoRecord(makeSpans())]));

    expect(err.retriable).toBe(true);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('times out a request the collector never answers, as retriable', async () => {
    const collector = await startCollector();
    collector.handle(() => undefined);

    const err = await rejection(send(newSink({ url: collector.url, timeoutMillis: 200 }), [protoRecord(makeSpans())]));

    expect(err.retriable).toBe(true);
    expect(err.message).toMatch(/timed out after 200 ms$/);
  });

  it("rejects with the signal's reason when the caller aborts, and sends nothing when already aborted", async () => {
    const collector = await startCollector();
    collector.handle(() => undefined);
    const sink = newSink({ url: collector.url, timeoutMillis: 60_000 });
    const controller = new AbortController();
    const reason = new Error('stopping');
    const sent = send(sink, [protoRecord(makeSpans())], controller.signal);
    await collector.requestArrived(1);

    controller.abort(reason);

    await expect(sent).rejects.toBe(reason);
    await expect(send(sink, [protoRecord(makeSpans())], controller.signal)).rejects.toBe(reason);
    expect(collector.received).toHaveLength(1);
  });

  it('close() makes later sends reject as retriable', async () => {
    const collector = await startCollector();
    const sink = newSink({ url: collector.url });

    await sink.close();

    const err = await rejection(send(sink, [protoRecord(makeSpans())]));
    expect(err.retriable).toBe(true);
    expect(err.message).toContain('jaeger-thrift-http sink for http://127.0.0.1');
    expect(collector.received).toHaveLength(0);
  });
});

describe('jaegerThriftHttpSink options', () => {
  it('has working defaults and the name jaeger-thrift-http', () => {
    const sink = jaegerThriftHttpSink();
    sinks.push(sink);
    expect(sink.name).toBe('jaeger-thrift-http');
  });

  it.each([
    [{ url: 'udp://127.0.0.1:6832' }, 'forwarder.sink.url'],
    [{ url: 'not a url' }, 'forwarder.sink.url'],
    [{ timeoutMillis: 0 }, 'forwarder.sink.timeoutMillis'],
    [{ timeoutMillis: '100' }, 'forwarder.sink.timeoutMillis'],
    [{ headers: ['x'] }, 'forwarder.sink.headers'],
    [{ headers: { 'x-count': 1 } }, 'forwarder.sink.headers.x-count'],
    [{ headers: { 'Content-Type': 'text/plain' } }, 'forwarder.sink.headers.Content-Type'],
    [{ maxRequestBytes: 0 }, 'forwarder.sink.maxRequestBytes'],
    [{ maxRequestBytes: 1.5 }, 'forwarder.sink.maxRequestBytes'],
    [{ maxRequestBytes: '1MiB' }, 'forwarder.sink.maxRequestBytes'],
    [{ endpointErrors: 'never' }, 'forwarder.sink.endpointErrors'],
  ])('rejects %o naming %s', (options, field) => {
    expect(() => jaegerThriftHttpSink(options as JaegerThriftHttpSinkOptions)).toThrow(
      expect.objectContaining({ field }) as Error,
    );
    expect(() => jaegerThriftHttpSink(options as JaegerThriftHttpSinkOptions)).toThrow(ConfigError);
  });

  it('names fields with the given prefix', () => {
    expect(() => jaegerThriftHttpSink({ timeoutMillis: -1 }, 'sinks[0]')).toThrow(
      expect.objectContaining({ field: 'sinks[0].timeoutMillis' }) as Error,
    );
  });
});
