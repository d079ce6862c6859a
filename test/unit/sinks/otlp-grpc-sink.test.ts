// otlpGrpcSink against a real local @grpc/grpc-js server on 127.0.0.1 implementing TraceService/Export with
// identity (de)serializers (what arrives, and each status a receiver answers), plus a raw HTTP/2 server for
// what only the wire shows (compression) and for transport faults a gRPC server never produces.
import { createServer as createHttp2Server, constants as http2 } from 'node:http2';
import type { Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

import { Metadata, Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { ServerOptions, ServerUnaryCall, ServiceDefinition, sendUnaryData } from '@grpc/grpc-js';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import protobuf from 'protobufjs/light';

import { ConfigError, SinkError } from '../../../src/errors/errors';
import { decodeTraceRequest } from '../../../src/serializers/otlp/decode';
import type { DecodedTraceRequest } from '../../../src/serializers/otlp/model';
import { ExportTraceServiceResponse } from '../../../src/serializers/otlp-schema';
import { otlpGrpcSink } from '../../../src/sinks/otlp-grpc-sink';
import type { OtlpGrpcSinkOptions } from '../../../src/sinks/otlp-grpc-sink-options';
import type { Sink, SinkRecord } from '../../../src/sinks/sink';
import { VERSION } from '../../../src/version';
import { makeSpans } from '../helpers/spans';
import { emptyJsonObjectsRecord } from './hostile-records';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const TOKEN = 'Bearer s3cr3t-token';

// ---------------------------------------------------------------------------------------------------------
// A stub OTLP/gRPC receiver

type ExportCall = ServerUnaryCall<Buffer, Buffer>;
type Handler = (call: ExportCall, callback: sendUnaryData<Buffer>) => void;

interface Receiver {
  port: number;
  url: string;
  received: ExportCall[];
  /** Replaces how calls are answered (default: OK with an empty response). */
  handle(handler: Handler): void;
  /** Resolves when the server has the `n`-th call (1-based). */
  callArrived(n: number): Promise<ExportCall>;
  stop(): void;
}

const identity = (bytes: Buffer): Buffer => bytes;
const TRACE_SERVICE: ServiceDefinition = {
  Export: {
    path: EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startReceiver(opts: { port?: number; serverOptions?: ServerOptions } = {}): Promise<Receiver> {
  let handler: Handler = (_call, callback) => callback(null, Buffer.alloc(0));
  const received: ExportCall[] = [];
  const waiters: { n: number; resolve: (c: ExportCall) => void }[] = [];
  const server = new Server(opts.serverOptions);
  server.addService(TRACE_SERVICE, {
    Export: (call: ExportCall, callback: sendUnaryData<Buffer>) => {
      received.push(call);
      for (const w of waiters.filter((w) => w.n === received.length)) w.resolve(call);
      handler(call, callback);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const stop = (): void => server.forceShutdown();
  cleanups.push(stop);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    received,
    handle: (h) => {
      handler = h;
    },
    callArrived: (n) => {
      const already = received[n - 1];
      if (already) return Promise.resolve(already);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    stop,
  };
}

/** A plain HTTP/2 server: sees the raw request, and answers as no gRPC server would. */
async function startRawServer(
  handler: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer) => void,
): Promise<string> {
  const server: Http2Server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    // Resetting a stream on purpose errors it on this side too.
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => handler(stream, headers, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const sessions = new Set<{ destroy(): void }>();
  server.on('session', (session) => sessions.add(session));
  cleanups.push(() => sessions.forEach((s) => s.destroy()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Answers a raw HTTP/2 stream as a gRPC server would: an empty response message, then status OK. */
function answerOk(stream: ServerHttp2Stream): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(Buffer.alloc(5));
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function newSink(options: OtlpGrpcSinkOptions): Sink {
  const sink = otlpGrpcSink(options);
  cleanups.push(() => sink.close());
  return sink;
}

function send(sink: Sink, records: SinkRecord[], signal = new AbortController().signal): ReturnType<Sink['send']> {
  return sink.send(records, { signal });
}

/** Resolves with what `promise` rejected with; fails the test when it resolves. */
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

// ---------------------------------------------------------------------------------------------------------
// Records made of real SDK spans

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

/** Three records of three traces (from different services) of `spansPerTrace` spans each. */
function threeTraces(spansPerTrace = 3): ReadableSpan[][] {
  return [0, 1, 2].map((i) => makeSpans({ spansPerTrace, serviceName: `svc-${i}` }));
}

const spanIds = (spans: ReadableSpan[]): string[] => spans.map((s) => s.spanContext().spanId).sort();
const decodedSpanIds = (request: DecodedTraceRequest): string[] =>
  request.resourceSpans
    .flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))
    .map((s) => s.spanId)
    .sort();

/** A `google.rpc.Status` whose details hold a `google.rpc.RetryInfo` of `seconds` + `nanos`. */
function statusWithRetryInfo(code: number, seconds: number, nanos: number): Buffer {
  const duration = protobuf.Writer.create().uint32(0x08).int64(seconds).uint32(0x10).int32(nanos).finish();
  const retryInfo = protobuf.Writer.create().uint32(0x0a).bytes(duration).finish();
  const debugInfo = protobuf.Writer.create().uint32(0x12).string('detail').finish();
  const any = (typeUrl: string, value: Uint8Array): Uint8Array =>
    protobuf.Writer.create().uint32(0x0a).string(typeUrl).uint32(0x12).bytes(value).finish();
  return Buffer.from(
    protobuf.Writer.create()
      .uint32(0x08)
      .int32(code)
      .uint32(0x12)
      .string('slow down')
      .uint32(0x1a)
      .bytes(any('type.googleapis.com/google.rpc.DebugInfo', debugInfo))
      .uint32(0x1a)
      .bytes(any('type.googleapis.com/google.rpc.RetryInfo', retryInfo))
      .finish(),
  );
}

// ---------------------------------------------------------------------------------------------------------

describe('otlpGrpcSink requests', () => {
  it('sends protobuf records as the concatenation of their values, one Export call holding every span', async () => {
    const receiver = await startReceiver();
    const traces = threeTraces();
    const records = traces.map(protoRecord);

    await expect(send(newSink({ url: receiver.url }), records)).resolves.toEqual({});

    expect(receiver.received).toHaveLength(1);
    const request = receiver.received[0]?.request ?? Buffer.alloc(0);
    expect(request.equals(Buffer.concat(records.map((r) => r.value)))).toBe(true);
    expect(decodedSpanIds(decodeTraceRequest(request))).toEqual(spanIds(traces.flat()));
    expect(String(receiver.received[0]?.metadata.get('user-agent')[0])).toMatch(
      new RegExp(`^otel-kafka-jaeger/${VERSION.replace(/\./g, '\\.')} grpc-node-js/`),
    );
  });

  it('converts JSON records to protobuf, also mixed with protobuf records', async () => {
    const receiver = await startReceiver();
    const [a, b, c] = threeTraces();
    if (!a || !b || !c) throw new Error('no traces');

    await send(newSink({ url: receiver.url }), [jsonRecord(a), protoRecord(b), jsonRecord(c)]);

    const request = decodeTraceRequest(receiver.received[0]?.request ?? Buffer.alloc(0));
    expect(decodedSpanIds(request)).toEqual(spanIds([...a, ...b, ...c]));
    expect(request).toEqual({
      resourceSpans: [
        ...decodeTraceRequest(jsonRecord(a).value, JSON_TYPE).resourceSpans,
        ...decodeTraceRequest(protoRecord(b).value).resourceSpans,
        ...decodeTraceRequest(jsonRecord(c).value, JSON_TYPE).resourceSpans,
      ],
    });
  });

  it('accepts content types with parameters and in any case', async () => {
    const receiver = await startReceiver();
    const spans = makeSpans({ spansPerTrace: 2 });
    const records: SinkRecord[] = [
      { ...protoRecord(spans), contentType: 'Application/X-Protobuf; charset=binary' },
      { ...jsonRecord(spans), contentType: 'application/json; charset=utf-8' },
    ];

    await send(newSink({ url: receiver.url }), records);

    expect(decodedSpanIds(decodeTraceRequest(receiver.received[0]?.request ?? Buffer.alloc(0)))).toHaveLength(4);
  });

  it('rejects a batch with an unknown content type as permanent, naming the record, before any call', async () => {
    const receiver = await startReceiver();
    const records = [protoRecord(makeSpans()), { value: Buffer.from('x'), contentType: 'text/plain' }];

    const err = await rejection(send(newSink({ url: receiver.url }), records));

    expect(err.retriable).toBe(false);
    expect(err.grpcCode).toBeUndefined();
    expect(err.message).toBe(
      "record 2 of 2 has content type 'text/plain', expected 'application/x-protobuf' or 'application/json'",
    );
    expect(receiver.received).toHaveLength(0);
  });

  it('rejects a JSON record that is not OTLP/JSON as permanent, naming the record, before any call', async () => {
    const receiver = await startReceiver();
    const records = [protoRecord(makeSpans()), { value: Buffer.from('{"resourceSpans": 5'), contentType: JSON_TYPE }];

    const err = await rejection(send(newSink({ url: receiver.url }), records));

    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/^record 2 of 2 cannot be sent: /);
    expect(receiver.received).toHaveLength(0);
  });

  it('rejects a JSON record that would decode to too many objects as permanent, quickly, before any call', async () => {
    const receiver = await startReceiver();
    const started = performance.now();

    const err = await rejection(
      send(newSink({ url: receiver.url }), [protoRecord(makeSpans()), emptyJsonObjectsRecord(300_000)]),
    );

    expect(performance.now() - started).toBeLessThan(1_000);
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/^record 2 of 2 cannot be sent: too large to decode: 300001 messages .* 250000 /);
    expect(receiver.received).toHaveLength(0);
  });

  it('sends nothing for an empty batch', async () => {
    const receiver = await startReceiver();

    await expect(send(newSink({ url: receiver.url }), [])).resolves.toEqual({});

    expect(receiver.received).toHaveLength(0);
  });

  it('sends the headers as metadata and keeps their values out of errors', async () => {
    const receiver = await startReceiver();
    receiver.handle((call, callback) =>
      callback({
        code: status.UNAUTHENTICATED,
        details: `token '${String(call.metadata.get('authorization')[0])}' expired`,
      }),
    );
    const sink = newSink({ url: receiver.url, headers: { authorization: TOKEN, 'X-Tenant': 'acme' } });

    const err = await rejection(send(sink, [protoRecord(makeSpans())]));

    expect(receiver.received[0]?.metadata.get('authorization')).toEqual([TOKEN]);
    expect(receiver.received[0]?.metadata.get('x-tenant')).toEqual(['acme']);
    expect(err.retriable).toBe(true);
    expect(err.grpcCode).toBe(status.UNAUTHENTICATED);
    expect(err.message).toBe(`gRPC UNAUTHENTICATED (16) from ${receiver.url}: token '[redacted]' expired`);
    expect(err.cause).toBeUndefined();
  });

  it('compresses the request message with gzip when compression is gzip', async () => {
    let seen: { headers: IncomingHttpHeaders; body: Buffer } | undefined;
    const url = await startRawServer((stream, headers, body) => {
      seen = { headers, body };
      answerOk(stream);
    });
    const records = threeTraces(20).map(protoRecord);
    const plain = Buffer.concat(records.map((r) => r.value));

    await expect(send(newSink({ url, compression: 'gzip' }), records)).resolves.toEqual({});

    expect(seen?.headers[':path']).toBe(EXPORT_PATH);
    expect(seen?.headers['content-type']).toBe('application/grpc');
    expect(seen?.headers['grpc-encoding']).toBe('gzip');
    // gRPC framing: 1 byte compressed flag, 4 bytes length, then the message.
    expect(seen?.body[0]).toBe(1);
    const message = seen?.body.subarray(5) ?? Buffer.alloc(0);
    expect(message.length).toBeLessThan(plain.length);
    expect(gunzipSync(message).equals(plain)).toBe(true);
  });

  it('sends the message uncompressed by default', async () => {
    let seen: { headers: IncomingHttpHeaders; body: Buffer } | undefined;
    const url = await startRawServer((stream, headers, body) => {
      seen = { headers, body };
      answerOk(stream);
    });
    const records = threeTraces().map(protoRecord);

    await send(newSink({ url }), records);

    expect(seen?.headers['grpc-encoding']).toBeUndefined();
    expect(seen?.body[0]).toBe(0);
    expect(seen?.body.subarray(5).equals(Buffer.concat(records.map((r) => r.value)))).toBe(true);
  });
});

describe('otlpGrpcSink status classification', () => {
  async function answer(
    code: status,
    details = 'no',
    metadata = new Metadata(),
  ): Promise<{ err: SinkError; url: string }> {
    const receiver = await startReceiver();
    receiver.handle((_call, callback) => callback({ code, details, metadata }));
    const err = await rejection(send(newSink({ url: receiver.url }), [protoRecord(makeSpans())]));
    return { err, url: receiver.url };
  }

  it.each([
    ['UNAVAILABLE', status.UNAVAILABLE],
    ['RESOURCE_EXHAUSTED', status.RESOURCE_EXHAUSTED],
    ['DEADLINE_EXCEEDED', status.DEADLINE_EXCEEDED],
    ['ABORTED', status.ABORTED],
    ['CANCELLED', status.CANCELLED],
    ['OUT_OF_RANGE', status.OUT_OF_RANGE],
    ['DATA_LOSS', status.DATA_LOSS],
    ['UNAUTHENTICATED', status.UNAUTHENTICATED],
    ['PERMISSION_DENIED', status.PERMISSION_DENIED],
  ])('rejects %s as retriable', async (name, code) => {
    const { err, url } = await answer(code, 'try later');

    expect(err.retriable).toBe(true);
    expect(err.grpcCode).toBe(code);
    expect(err.httpStatus).toBeUndefined();
    expect(err.retryAfterMillis).toBeUndefined();
    expect(err.message).toBe(`gRPC ${name} (${code}) from ${url}: try later`);
  });

  it.each([
    ['INVALID_ARGUMENT', status.INVALID_ARGUMENT],
    ['UNKNOWN', status.UNKNOWN],
    ['NOT_FOUND', status.NOT_FOUND],
    ['ALREADY_EXISTS', status.ALREADY_EXISTS],
    ['FAILED_PRECONDITION', status.FAILED_PRECONDITION],
  ])('rejects %s as permanent', async (name, code) => {
    const { err, url } = await answer(code, 'bad spans');

    expect(err.retriable).toBe(false);
    expect(err.grpcCode).toBe(code);
    expect(err.message).toBe(`gRPC ${name} (${code}) from ${url}: bad spans`);
  });

  it.each([
    // What Jaeger v2 (grpc-go) answers for a span name that is not UTF-8.
    'grpc: error unmarshalling request: string field contains invalid UTF-8',
    'grpc: failed to decompress the received message: gzip: invalid header',
    'Invalid protobuf byte sequence',
    'Exception deserializing request!',
  ])('rejects INTERNAL for a request the server cannot read (%s) as permanent', async (details) => {
    const { err } = await answer(status.INTERNAL, details);

    expect(err.retriable).toBe(false);
    expect(err.grpcCode).toBe(status.INTERNAL);
  });

  it('rejects any other INTERNAL, a server fault and not a verdict on the data, as retriable', async () => {
    const { err, url } = await answer(status.INTERNAL, 'storage: panic recovered');

    expect(err.retriable).toBe(true);
    expect(err.message).toBe(`gRPC INTERNAL (13) from ${url}: storage: panic recovered`);
  });

  it('rejects UNIMPLEMENTED, which is about the endpoint and not the data, as retriable with a loud message', async () => {
    const { err, url } = await answer(status.UNIMPLEMENTED, 'unknown service');

    expect(err.retriable).toBe(true);
    expect(err.grpcCode).toBe(status.UNIMPLEMENTED);
    expect(err.message).toBe(
      `gRPC UNIMPLEMENTED (12) from ${url}: unknown service — the endpoint refused the call, not its data: is the ` +
        "URL right? (OTLP/gRPC is host:port, Jaeger's is 4317); retrying until it answers (endpointErrors: 'retry')",
    );
  });

  it("rejects UNIMPLEMENTED as permanent with endpointErrors: 'permanent'", async () => {
    const receiver = await startReceiver();
    receiver.handle((_call, callback) => callback({ code: status.UNIMPLEMENTED, details: 'unknown service' }));

    const err = await rejection(
      send(newSink({ url: receiver.url, endpointErrors: 'permanent' }), [protoRecord(makeSpans())]),
    );

    expect(err.retriable).toBe(false);
    expect(err.message).toContain('is the URL right?');
    expect(err.message).not.toContain('retrying');
  });

  it('rejects RESOURCE_EXHAUSTED for a message over the server limit as permanent, so the batch is split', async () => {
    const receiver = await startReceiver({ serverOptions: { 'grpc.max_receive_message_length': 100 } });

    const err = await rejection(send(newSink({ url: receiver.url }), [protoRecord(makeSpans({ spansPerTrace: 5 }))]));

    expect(err.grpcCode).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.message).toMatch(/larger than max/);
    expect(err.retriable).toBe(false);
    // As grpc-go (Jaeger) words it.
    const { err: goErr } = await answer(status.RESOURCE_EXHAUSTED, 'grpc: received message larger than max (9 vs. 4)');
    expect(goErr.retriable).toBe(false);
  });

  it('rejects a call to a server without the TraceService as retriable UNIMPLEMENTED', async () => {
    const server = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    cleanups.push(() => server.forceShutdown());

    const err = await rejection(send(newSink({ url: `http://127.0.0.1:${port}` }), [protoRecord(makeSpans())]));

    expect(err.retriable).toBe(true);
    expect(err.grpcCode).toBe(status.UNIMPLEMENTED);
  });

  it('takes retryAfterMillis from a google.rpc.RetryInfo in grpc-status-details-bin', async () => {
    const metadata = new Metadata();
    metadata.set('grpc-status-details-bin', statusWithRetryInfo(status.UNAVAILABLE, 2, 500_000_000));

    const { err } = await answer(status.UNAVAILABLE, 'slow down', metadata);

    expect(err.retriable).toBe(true);
    expect(err.retryAfterMillis).toBe(2_500);
  });

  it('ignores RetryInfo on a permanent status, and status details it cannot decode', async () => {
    const withInfo = new Metadata();
    withInfo.set('grpc-status-details-bin', statusWithRetryInfo(status.INVALID_ARGUMENT, 2, 0));
    const garbage = new Metadata();
    garbage.set('grpc-status-details-bin', Buffer.from([0x1a, 0xff, 0xff]));

    expect((await answer(status.INVALID_ARGUMENT, 'no', withInfo)).err.retryAfterMillis).toBeUndefined();
    const { err } = await answer(status.UNAVAILABLE, 'no', garbage);
    expect(err.retriable).toBe(true);
    expect(err.retryAfterMillis).toBeUndefined();
  });

  it('keeps at most 300 printable characters of the status details', async () => {
    const { err, url } = await answer(status.INVALID_ARGUMENT, `bad\tspan ${'x'.repeat(1_000)}`);

    const details = err.message.slice(`gRPC INVALID_ARGUMENT (3) from ${url}: `.length);
    expect(details).toHaveLength(300);
    expect(details).toMatch(/^bad span x+…$/);
  });
});

describe('otlpGrpcSink responses', () => {
  async function respond(response: Uint8Array): Promise<ReturnType<Sink['send']>> {
    const receiver = await startReceiver();
    receiver.handle((_call, callback) => callback(null, Buffer.from(response)));
    return send(newSink({ url: receiver.url }), [protoRecord(makeSpans())]);
  }

  it('resolves an empty response, or an empty partial success (as Jaeger answers), as full success', async () => {
    await expect(respond(new Uint8Array(0))).resolves.toEqual({});
    await expect(respond(new Uint8Array([0x0a, 0x00]))).resolves.toEqual({});
  });

  it('reports a partial success, including a warning without rejected spans', async () => {
    const partial = ExportTraceServiceResponse.encode({
      partialSuccess: { rejectedSpans: 2, errorMessage: '2 spans too old' },
    }).finish();
    const warning = ExportTraceServiceResponse.encode({ partialSuccess: { errorMessage: 'clock skew' } }).finish();

    await expect(respond(partial)).resolves.toEqual({ rejectedSpans: 2, errorMessage: '2 spans too old' });
    await expect(respond(warning)).resolves.toEqual({ rejectedSpans: 0, errorMessage: 'clock skew' });
  });

  it('treats an OK with an undecodable response as full success', async () => {
    await expect(respond(new Uint8Array([0xff, 0xff, 0xff]))).resolves.toEqual({});
  });
});

describe('otlpGrpcSink transport faults', () => {
  it('rejects as retriable UNAVAILABLE, naming ECONNREFUSED, when the connection is refused', async () => {
    const port = await closedPort();
    const sink = newSink({ url: `http://127.0.0.1:${port}`, headers: { authorization: TOKEN } });

    const err = await rejection(send(sink, [protoRecord(makeSpans())]));

    expect(err.retriable).toBe(true);
    expect(err.grpcCode).toBe(status.UNAVAILABLE);
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain('s3cr3t');
  });

  it('rejects a call the server never answers as retriable DEADLINE_EXCEEDED after timeoutMillis', async () => {
    const receiver = await startReceiver();
    receiver.handle(() => undefined);
    const started = Date.now();

    const err = await rejection(
      send(newSink({ url: receiver.url, timeoutMillis: 300, headers: { authorization: TOKEN } }), [
        protoRecord(makeSpans()),
      ]),
    );

    const elapsed = Date.now() - started;
    expect(err.retriable).toBe(true);
    expect(err.grpcCode).toBe(status.DEADLINE_EXCEEDED);
    expect(err.message).not.toContain('s3cr3t');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3_000);
    expect(receiver.received).toHaveLength(1);
  });

  it('rejects a stream reset without a status (INTERNAL made up by the client) as retriable', async () => {
    const url = await startRawServer((stream) => stream.close(http2.NGHTTP2_INTERNAL_ERROR));

    const err = await rejection(send(newSink({ url }), [protoRecord(makeSpans())]));

    expect(err.grpcCode).toBe(status.INTERNAL);
    expect(err.message).toContain('RST_STREAM');
    expect(err.retriable).toBe(true);
  });

  it.each([
    [500, status.UNKNOWN, true],
    [503, status.UNAVAILABLE, true],
    [429, status.UNAVAILABLE, true],
    [400, status.INTERNAL, false],
    [404, status.UNIMPLEMENTED, true],
  ])('classifies an HTTP %d from a non-gRPC server like the OTLP/HTTP sink', async (httpStatus, code, retriable) => {
    const url = await startRawServer((stream) => {
      stream.respond({ ':status': httpStatus, 'content-type': 'text/html' });
      stream.end('<html>error</html>');
    });

    const err = await rejection(send(newSink({ url }), [protoRecord(makeSpans())]));

    expect(err.grpcCode).toBe(code);
    expect(err.retriable).toBe(retriable);
  });

  it('rejects TLS to a plaintext server as retriable UNAVAILABLE (host:port means TLS)', async () => {
    const receiver = await startReceiver();

    for (const url of [`127.0.0.1:${receiver.port}`, `https://127.0.0.1:${receiver.port}`]) {
      const err = await rejection(send(newSink({ url, timeoutMillis: 5_000 }), [protoRecord(makeSpans())]));
      expect(err.retriable).toBe(true);
      expect(err.grpcCode).toBe(status.UNAVAILABLE);
    }
    expect(receiver.received).toHaveLength(0);
  });

  it("rejects with the signal's reason as soon as the caller aborts, and cancels the call", async () => {
    const receiver = await startReceiver();
    receiver.handle(() => undefined);
    const controller = new AbortController();
    const reason = new Error('forwarder stopping');
    const sent = send(
      newSink({ url: receiver.url, timeoutMillis: 60_000 }),
      [protoRecord(makeSpans())],
      controller.signal,
    );
    const call = await receiver.callArrived(1);
    const cancelled = new Promise<void>((resolve) => call.once('cancelled', () => resolve()));
    const abortedAt = Date.now();

    controller.abort(reason);

    await expect(sent).rejects.toBe(reason);
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    await cancelled;
  });

  it('rejects at once without a call when the signal is already aborted', async () => {
    const receiver = await startReceiver();
    const controller = new AbortController();
    controller.abort(new Error('already stopped'));

    await expect(send(newSink({ url: receiver.url }), [protoRecord(makeSpans())], controller.signal)).rejects.toThrow(
      'already stopped',
    );
    expect(receiver.received).toHaveLength(0);
  });

  it('uses one connection for sequential and concurrent sends', async () => {
    const receiver = await startReceiver();
    const sink = newSink({ url: receiver.url });

    for (let i = 0; i < 3; i++) await send(sink, [protoRecord(makeSpans())]);
    await Promise.all(Array.from({ length: 10 }, () => send(sink, [protoRecord(makeSpans())])));

    expect(receiver.received).toHaveLength(13);
    expect(new Set(receiver.received.map((c) => c.getPeer())).size).toBe(1);
  });

  it('reconnects when the server is back after an outage', async () => {
    const first = await startReceiver();
    const sink = newSink({ url: first.url });
    await send(sink, [protoRecord(makeSpans())]);
    first.stop();

    const err = await rejection(send(sink, [protoRecord(makeSpans())]));
    expect(err.retriable).toBe(true);
    expect(err.grpcCode).toBe(status.UNAVAILABLE);

    const second = await startReceiver({ port: first.port });
    const deadline = Date.now() + 8_000;
    for (;;) {
      try {
        await send(sink, [protoRecord(makeSpans())]);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(second.received).toHaveLength(1);
  }, 15_000);

  it('close() closes the channel, and later sends reject as retriable', async () => {
    const receiver = await startReceiver();
    const sink = newSink({ url: receiver.url });
    await send(sink, [protoRecord(makeSpans())]);

    await sink.close();

    const err = await rejection(send(sink, [protoRecord(makeSpans())]));
    expect(err.retriable).toBe(true);
    expect(err.message).toBe(`otlp-grpc sink for ${receiver.url} is closed`);
    expect(receiver.received).toHaveLength(1);
  });
});

describe('otlpGrpcSink options', () => {
  it('has working defaults and the name otlp-grpc', () => {
    expect(newSink({}).name).toBe('otlp-grpc');
    const byDefault = otlpGrpcSink();
    cleanups.push(() => byDefault.close());
    expect(byDefault.name).toBe('otlp-grpc');
  });

  it('accepts a trailing slash and names the endpoint by scheme, host and port', async () => {
    const port = await closedPort();

    const err = await rejection(send(newSink({ url: `http://127.0.0.1:${port}/` }), [protoRecord(makeSpans())]));

    expect(err.message).toMatch(new RegExp(`^gRPC UNAVAILABLE \\(14\\) from http://127\\.0\\.0\\.1:${port}: `));
  });

  it.each([
    [{ url: 'ftp://example.com:4317' }, 'forwarder.sink.url'],
    [{ url: 'http://jaeger:4318/v1/traces' }, 'forwarder.sink.url'],
    [{ url: 'http://jaeger:4317?x=1' }, 'forwarder.sink.url'],
    [{ url: 'http://user:pass@jaeger:4317' }, 'forwarder.sink.url'],
    [{ url: 'not a url' }, 'forwarder.sink.url'],
    [{ url: 42 }, 'forwarder.sink.url'],
    [{ timeoutMillis: 0 }, 'forwarder.sink.timeoutMillis'],
    [{ timeoutMillis: -5 }, 'forwarder.sink.timeoutMillis'],
    [{ timeoutMillis: NaN }, 'forwarder.sink.timeoutMillis'],
    [{ timeoutMillis: 2 ** 31 }, 'forwarder.sink.timeoutMillis'],
    [{ timeoutMillis: '100' }, 'forwarder.sink.timeoutMillis'],
    [{ compression: 'br' }, 'forwarder.sink.compression'],
    [{ endpointErrors: 'maybe' }, 'forwarder.sink.endpointErrors'],
    [{ headers: 'authorization: x' }, 'forwarder.sink.headers'],
    [{ headers: ['x'] }, 'forwarder.sink.headers'],
    [{ headers: { 'x-count': 1 } }, 'forwarder.sink.headers.x-count'],
    [{ headers: { 'bad name': 'x' } }, 'forwarder.sink.headers.bad name'],
    [{ headers: { 'x-trace-bin': 'x' } }, 'forwarder.sink.headers.x-trace-bin'],
    [{ headers: { 'grpc-timeout': '1S' } }, 'forwarder.sink.headers.grpc-timeout'],
    [{ headers: { 'Content-Type': 'text/plain' } }, 'forwarder.sink.headers.Content-Type'],
    [{ headers: { te: 'trailers' } }, 'forwarder.sink.headers.te'],
    [{ headers: { connection: 'close' } }, 'forwarder.sink.headers.connection'],
    [{ headers: { 'x-multi': 'a\r\nInjected: yes' } }, 'forwarder.sink.headers.x-multi'],
    [{ headers: { 'x-name': 'grüße' } }, 'forwarder.sink.headers.x-name'],
    [{ headers: { 'X-Tenant': 'a', 'x-tenant': 'b' } }, 'forwarder.sink.headers.x-tenant'],
  ])('rejects %o naming %s', (options, field) => {
    let caught: unknown;
    try {
      otlpGrpcSink(options as OtlpGrpcSinkOptions);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).field).toBe(field);
  });

  it('names fields with the given prefix', () => {
    expect(() => otlpGrpcSink({ compression: 'zstd' as 'gzip' }, 'sinks[1]')).toThrow(
      expect.objectContaining({ field: 'sinks[1].compression' }) as Error,
    );
  });

  it('never puts a URL or header value into a config error', () => {
    const messages: string[] = [];
    const cases: OtlpGrpcSinkOptions[] = [
      { url: 'ftp://user:s3cr3t@example.com' },
      { url: 'http://user:s3cr3t@example.com:4317' },
      { url: 'http//user:s3cr3t@bad' },
      { headers: { 'x-token': 's3cr3t\n' } },
      { headers: { 'bad name': 's3cr3t' } },
    ];
    for (const options of cases) {
      try {
        otlpGrpcSink(options);
      } catch (err) {
        messages.push((err as Error).message);
      }
    }
    expect(messages).toHaveLength(5);
    for (const m of messages) expect(m).not.toContain('s3cr3t');
  });
});
