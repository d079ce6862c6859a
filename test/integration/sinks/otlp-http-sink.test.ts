// otlpHttpSink against the real Jaeger v2: what it sends is stored span for span, and what Jaeger refuses is
// classified as the forwarder needs it.
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { SinkError } from '../../../src/errors/errors';
import { decodeTraceRequest } from '../../../src/serializers/otlp/decode';
import { encodeTraceRequest } from '../../../src/serializers/otlp/model-encoder';
import { otlpHttpSink } from '../../../src/sinks/otlp-http-sink';
import type { OtlpHttpSinkOptions } from '../../../src/sinks/otlp-http-sink-options';
import type { Sink, SinkRecord } from '../../../src/sinks/sink';
import { getTrace, waitForTrace } from '../harness/jaeger';
import { encodeOtlpProto, makeTrace, traceIdOf } from '../harness/otlp';
import { endpoints } from '../harness/stack';

const sinks: Sink[] = [];
afterAll(async () => {
  await Promise.all(sinks.map((s) => s.close()));
});

function newSink(options: OtlpHttpSinkOptions = {}): Sink {
  const sink = otlpHttpSink({ url: endpoints.jaegerOtlpHttpUrl, ...options });
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

/** Waits until Jaeger holds every span of every trace, and checks it holds exactly those span ids. */
async function expectStored(traces: ReadableSpan[][]): Promise<void> {
  for (const spans of traces) {
    const stored = await waitForTrace(traceIdOf(spans), { spanCount: spans.length });
    expect(new Set(stored.map((s) => s.spanId))).toEqual(new Set(spans.map((s) => s.spanContext().spanId)));
  }
}

describe('otlpHttpSink against the real Jaeger', () => {
  it('stores every span of three protobuf records sent as one concatenated request', async () => {
    const traces = [3, 1, 5].map((spanCount) => makeTrace({ serviceName: 'okj-sink-it', spanCount }));

    await expect(newSink().send(traces.map(protoRecord), { signal })).resolves.toEqual({});

    await expectStored(traces);
  });

  it('stores gzipped requests', async () => {
    const traces = [makeTrace({ spanCount: 4 }), makeTrace({ spanCount: 2 })];

    await newSink({ compression: 'gzip' }).send(traces.map(protoRecord), { signal });

    await expectStored(traces);
  });

  it('stores merged JSON records sent as OTLP/JSON', async () => {
    const traces = [makeTrace({ spanCount: 2 }), makeTrace({ spanCount: 3 })];

    await newSink({ encoding: 'json' }).send(traces.map(jsonRecord), { signal });

    await expectStored(traces);
  });

  it('stores protobuf records converted to OTLP/JSON, 64-bit integers intact', async () => {
    const spans = makeTrace({ spanCount: 2 });
    const request = decodeTraceRequest(encodeOtlpProto(spans));
    const first = request.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    if (!first) throw new Error('no span');
    first.attributes['okj.big'] = 9_007_199_254_740_993n;
    const record: SinkRecord = {
      value: Buffer.from(encodeTraceRequest(request)),
      contentType: 'application/x-protobuf',
    };

    await newSink({ encoding: 'json', compression: 'gzip' }).send([record], { signal });

    const stored = await waitForTrace(traceIdOf(spans), { spanCount: 2 });
    const big = stored.find((s) => s.spanId === first.spanId)?.attributes?.find((a) => a.key === 'okj.big');
    expect(big?.value).toEqual({ intValue: '9007199254740993' });
  });

  it('rejects a JSON record nested too deep to stringify as permanent, naming it; the others alone are stored', async () => {
    const traces = [makeTrace({ spanCount: 2 }), makeTrace({ spanCount: 3 })];
    const [first, second] = traces.map(jsonRecord);
    if (!first || !second) throw new Error('no records');
    // The record: parsed fine, but JSON.stringify overflows the stack on it.
    const nested: SinkRecord = {
      value: Buffer.from(`{"resourceSpans":${'['.repeat(10_000)}${']'.repeat(10_000)}}`),
      contentType: 'application/json',
    };
    const sink = newSink({ encoding: 'json' });

    const err: unknown = await sink.send([first, nested, second], { signal }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(false);
    expect((err as SinkError).message).toBe('record 2 of 3 cannot be sent: Maximum call stack size exceeded');
    // Nothing was sent: neither trace is in Jaeger until the good records go alone, as bisection sends them.
    for (const spans of traces) expect(await getTrace(traceIdOf(spans))).toEqual([]);
    await expect(sink.send([first, second], { signal })).resolves.toEqual({});
    await expectStored(traces);
  });

  it('rejects a wrong path (Jaeger answers 404) as retriable, saying the URL is likely wrong', async () => {
    const url = endpoints.jaegerOtlpHttpUrl.replace(/\/v1\/traces$/, '/v1/trace');

    const err: unknown = await newSink({ url })
      .send([protoRecord(makeTrace())], { signal })
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(true);
    expect((err as SinkError).httpStatus).toBe(404);
    expect((err as SinkError).message).toMatch(
      /^HTTP 404 from POST http:\/\/.*\/v1\/trace: .*is the URL right\? \(the OTLP\/HTTP traces path is \/v1\/traces\)/,
    );
  });

  it('rejects garbage bytes as permanent with HTTP 400 and Jaeger’s reason', async () => {
    const garbage: SinkRecord = { value: Buffer.from('garbage!!'), contentType: 'application/x-protobuf' };

    const err: unknown = await newSink()
      .send([garbage], { signal })
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(false);
    expect((err as SinkError).httpStatus).toBe(400);
    expect((err as SinkError).message).toMatch(/^HTTP 400 from POST .*: proto: /);
  });
});
