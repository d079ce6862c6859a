// otlpGrpcSink against the real Jaeger v2 OTLP/gRPC receiver: what it sends is stored span for span (names,
// attributes, parents), and what Jaeger refuses or cannot be reached is classified as the forwarder needs it.
import { randomUUID } from 'node:crypto';

import { status } from '@grpc/grpc-js';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { freePort } from '../../../scripts/stack/stack';
import { SinkError } from '../../../src/errors/errors';
import { otlpGrpcSink } from '../../../src/sinks/otlp-grpc-sink';
import type { OtlpGrpcSinkOptions } from '../../../src/sinks/otlp-grpc-sink-options';
import type { Sink, SinkRecord } from '../../../src/sinks/sink';
import { waitForTrace } from '../harness/jaeger';
import { endpoints } from '../harness/stack';
import { makeTraces, traceRecords } from '../harness/traffic';

const sinks: Sink[] = [];
afterAll(async () => {
  await Promise.all(sinks.map((s) => s.close()));
});

function newSink(options: OtlpGrpcSinkOptions = {}): Sink {
  const sink = otlpGrpcSink({ url: endpoints.jaegerOtlpGrpcUrl, ...options });
  sinks.push(sink);
  return sink;
}

const signal = new AbortController().signal;
const service = (): string => `okj-grpc-sink-${randomUUID().slice(0, 8)}`;

/** The records KafkaSpanExporter would write for `traces`, as the forwarder hands them to a sink. */
function protoRecords(traces: ReadableSpan[][]): SinkRecord[] {
  return traceRecords(traces).map((r) => ({
    value: Buffer.from(r.value ?? ''),
    contentType: String(r.headers?.['content-type']),
  }));
}

function jsonRecord(spans: ReadableSpan[]): SinkRecord {
  const bytes = JsonTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('JsonTraceSerializer returned nothing');
  return { value: Buffer.from(bytes), contentType: 'application/json' };
}

/** Waits until Jaeger holds every span of every trace, and checks names, parents, attributes and service. */
async function expectStored(traces: ReadableSpan[][], serviceName: string): Promise<void> {
  for (const spans of traces) {
    const traceId = spans[0]?.spanContext().traceId ?? '';
    const stored = await waitForTrace(traceId, { spanCount: spans.length });
    expect(stored).toHaveLength(spans.length);
    for (const span of spans) {
      const got = stored.find((s) => s.spanId === span.spanContext().spanId);
      expect(got?.name).toBe(span.name);
      expect(got?.parentSpanId ?? '').toBe(span.parentSpanContext?.spanId ?? '');
      expect(got?.serviceName).toBe(serviceName);
      expect(got?.attributes?.find((a) => a.key === 'attr.3')?.value).toEqual({ stringValue: `${'v'.repeat(19)}3` });
    }
  }
}

async function rejection(promise: Promise<unknown>): Promise<SinkError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SinkError);
  return err as SinkError;
}

describe('otlpGrpcSink against the real Jaeger', () => {
  it('stores every span of several protobuf records sent as one concatenated Export call', async () => {
    const name = service();
    const traces = makeTraces(name, 4, 5);

    await expect(newSink().send(protoRecords(traces), { signal })).resolves.toEqual({});

    await expectStored(traces, name);
  });

  it('stores gzip-compressed calls, and JSON records converted to protobuf', async () => {
    const name = service();
    const traces = makeTraces(name, 3, 3);
    const [first, ...rest] = traces;
    if (!first) throw new Error('no trace');

    await newSink({ compression: 'gzip' }).send([jsonRecord(first), ...protoRecords(rest)], { signal });

    await expectStored(traces, name);
  });

  it('rejects random bytes as permanent with Jaeger’s reason (INTERNAL: it cannot unmarshal the request)', async () => {
    const garbage: SinkRecord = { value: Buffer.from('garbage!!'), contentType: 'application/x-protobuf' };

    const err = await rejection(newSink().send([garbage], { signal }));

    expect(err.retriable).toBe(false);
    expect(err.grpcCode).toBe(status.INTERNAL);
    expect(err.message).toMatch(/^gRPC INTERNAL \(13\) from http:\/\/.*: grpc: error unmarshalling request: /);
  });

  // Why INTERNAL is not all permanent: Jaeger (pdata's gogo-style unmarshalling) does not check UTF-8, so a
  // span name that is not UTF-8 is accepted, over gRPC and HTTP alike; what it cannot unmarshal it refuses,
  // INTERNAL over gRPC and 400 over HTTP, and both sinks treat that as permanent.
  it('sends a span name that is not UTF-8, as Jaeger accepts it', async () => {
    const traces = makeTraces(service(), 1, 1);
    const [record] = protoRecords(traces);
    const spans = traces[0] ?? [];
    const name = Buffer.from(spans[0]?.name ?? '');
    const at = record?.value.indexOf(name) ?? -1;
    if (!record || at < 0) throw new Error('span name not found in the record');
    // Same length, so the framing stays valid: 0xff never occurs in UTF-8.
    record.value[at] = 0xff;

    await expect(newSink().send([record], { signal })).resolves.toEqual({});
  });

  it('rejects a stopped endpoint (nothing listening) as retriable UNAVAILABLE', async () => {
    const port = await freePort();

    const err = await rejection(
      newSink({ url: `http://127.0.0.1:${port}` }).send(protoRecords(makeTraces(service(), 1, 1)), { signal }),
    );

    expect(err.retriable).toBe(true);
    expect(err.grpcCode).toBe(status.UNAVAILABLE);
    expect(err.message).toContain('ECONNREFUSED');
  });
});
