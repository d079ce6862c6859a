// otlpHttpSink against a real local HTTP server on 127.0.0.1 (a stub receiver: what arrives, and each kind of
// answer an OTLP/HTTP receiver gives).
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import protobuf from 'protobufjs/light';

import { ConfigError, SinkError } from '../../../src/errors/errors';
import { decodeTraceRequest } from '../../../src/serializers/otlp/decode';
import { encodeTraceRequest } from '../../../src/serializers/otlp/model-encoder';
import type { DecodedSpan, DecodedTraceRequest } from '../../../src/serializers/otlp/model';
import { ExportTraceServiceResponse } from '../../../src/serializers/otlp-schema';
import { otlpHttpSink } from '../../../src/sinks/otlp-http-sink';
import type { OtlpHttpSinkOptions } from '../../../src/sinks/otlp-http-sink-options';
import type { Sink, SinkRecord } from '../../../src/sinks/sink';
import { VERSION } from '../../../src/version';
import { makeSpans } from '../helpers/spans';
import {
  emptyEventsRecord,
  emptyJsonObjectsRecord,
  emptyResourceSpansRecord,
  nestedBracketsRecord,
} from './hostile-records';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

// ---------------------------------------------------------------------------------------------------------
// A stub OTLP/HTTP receiver

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Which accepted connection (0, 1, ...) carried the request. */
  connection: number;
  /** Index of the request on its connection (0 for the first). */
  requestOnConnection: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, received: Received) => void;

interface Receiver {
  url: string;
  received: Received[];
  sockets: Socket[];
  /** Replaces how requests are answered (default: 200 with an empty body). */
  handle(handler: Handler): void;
  /** Resolves when the server has read the `n`-th request (1-based). */
  requestArrived(n: number): Promise<Received>;
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

async function startReceiver(): Promise<Receiver> {
  let handler: Handler = (_req, res) => res.end();
  const received: Received[] = [];
  const sockets: Socket[] = [];
  const waiters: { n: number; resolve: (r: Received) => void }[] = [];
  const perSocket = new Map<Socket, number>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const socket = req.socket;
      const count = perSocket.get(socket) ?? 0;
      perSocket.set(socket, count + 1);
      const r: Received = {
        headers: req.headers,
        body: Buffer.concat(chunks),
        connection: sockets.indexOf(socket),
        requestOnConnection: count,
      };
      received.push(r);
      for (const w of waiters.filter((w) => w.n === received.length)) w.resolve(r);
      handler(req, res, r);
    });
  });
  server.on('connection', (socket: Socket) => sockets.push(socket));
  // Longer than any test: a connection that closes did so because the client closed it.
  server.keepAliveTimeout = 60_000;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    received,
    sockets,
    handle: (h) => {
      handler = h;
    },
    requestArrived: (n) => {
      const already = received[n - 1];
      if (already) return Promise.resolve(already);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function newSink(options: OtlpHttpSinkOptions): Sink {
  const sink = otlpHttpSink(options);
  sinks.push(sink);
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

/** A request using every field and attribute value type the model has, including ones the SDK never makes. */
function richRequest(): DecodedTraceRequest {
  const span: DecodedSpan = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '00f067aa0ba902b7',
    traceState: 'vendor=a,other=b',
    flags: 0x301,
    name: 'rich',
    kind: 3,
    startTimeUnixNano: 1_700_000_000_123_456_789n,
    endTimeUnixNano: 18_446_744_073_709_551_615n,
    attributes: {
      str: 'grüße 🌍',
      empty: '',
      int: -9_223_372_036_854_775_808n,
      big: 9_007_199_254_740_993n,
      double: 3.25,
      nan: NaN,
      inf: -Infinity,
      yes: true,
      no: false,
      bytes: new Uint8Array([0, 1, 254, 255]),
      none: null,
      arr: ['a', 1n, 2.5, [true, null]],
      kv: { nested: { deeper: 'x' }, list: [] },
    },
    droppedAttributesCount: 2,
    events: [{ timeUnixNano: 1n, name: 'ev', attributes: { k: 'v' }, droppedAttributesCount: 1 }],
    droppedEventsCount: 3,
    links: [
      {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceState: 't=1',
        attributes: { why: 'because' },
        droppedAttributesCount: 4,
        flags: 1,
      },
    ],
    droppedLinksCount: 5,
    status: { code: 2, message: 'boom' },
  };
  return {
    resourceSpans: [
      {
        resource: { attributes: { 'service.name': 'rich' }, droppedAttributesCount: 6 },
        scopeSpans: [
          {
            scope: { name: 'scope', version: '1.2.3', attributes: { s: 1n }, droppedAttributesCount: 7 },
            spans: [span, { ...span, spanId: 'b7ad6b7169203332', parentSpanId: '', status: { code: 0, message: '' } }],
            schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
          },
        ],
        schemaUrl: 'https://example.com/resource-schema',
      },
    ],
  };
}

/** A protobuf `google.rpc.Status`, as OTLP receivers (Jaeger included) send in protobuf error replies. */
function rpcStatus(code: number, message: string): Buffer {
  return Buffer.from(protobuf.Writer.create().uint32(8).int32(code).uint32(18).string(message).finish());
}

// ---------------------------------------------------------------------------------------------------------

describe('otlpHttpSink request bodies', () => {
  it('sends protobuf records as the concatenation of their values, one request holding every span', async () => {
    const receiver = await startReceiver();
    const traces = threeTraces();
    const records = traces.map(protoRecord);

    await expect(send(newSink({ url: receiver.url }), records)).resolves.toEqual({});

    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got?.body.equals(Buffer.concat(records.map((r) => r.value)))).toBe(true);
    expect(decodedSpanIds(decodeTraceRequest(got?.body ?? Buffer.alloc(0)))).toEqual(spanIds(traces.flat()));
    expect(got?.headers['content-type']).toBe(PROTOBUF);
    expect(got?.headers['user-agent']).toBe(`otel-kafka-jaeger/${VERSION}`);
    expect(got?.headers['content-encoding']).toBeUndefined();
  });

  it('gzips the body when compression is gzip', async () => {
    const receiver = await startReceiver();
    const records = threeTraces(20).map(protoRecord);
    const plain = Buffer.concat(records.map((r) => r.value));

    await send(newSink({ url: receiver.url, compression: 'gzip' }), records);

    const [got] = receiver.received;
    expect(got?.headers['content-encoding']).toBe('gzip');
    expect(got?.body.length).toBeLessThan(plain.length);
    expect(gunzipSync(got?.body ?? Buffer.alloc(0)).equals(plain)).toBe(true);
  });

  it('merges JSON records into one OTLP/JSON request', async () => {
    const receiver = await startReceiver();
    const traces = threeTraces();
    const records = traces.map(jsonRecord);

    await send(newSink({ url: receiver.url, encoding: 'json' }), records);

    const [got] = receiver.received;
    expect(got?.headers['content-type']).toBe(JSON_TYPE);
    const body = JSON.parse(got?.body.toString() ?? '') as { resourceSpans: unknown[] };
    const expected = records.flatMap(
      (r) => (JSON.parse(r.value.toString()) as { resourceSpans: unknown[] }).resourceSpans,
    );
    expect(body).toEqual({ resourceSpans: expected });
    expect(decodedSpanIds(decodeTraceRequest(got?.body ?? Buffer.alloc(0), JSON_TYPE))).toEqual(spanIds(traces.flat()));
  });

  it('converts protobuf records to OTLP/JSON losslessly when the encoding is json', async () => {
    const receiver = await startReceiver();
    const records: SinkRecord[] = [
      { value: Buffer.from(encodeTraceRequest(richRequest())), contentType: PROTOBUF },
      protoRecord(makeSpans({ spansPerTrace: 2 })),
    ];

    await send(newSink({ url: receiver.url, encoding: 'json' }), records);

    const [got] = receiver.received;
    expect(got?.headers['content-type']).toBe(JSON_TYPE);
    const sent = decodeTraceRequest(got?.body ?? Buffer.alloc(0), JSON_TYPE);
    expect(sent).toEqual(decodeTraceRequest(Buffer.concat(records.map((r) => r.value))));
    // OTLP/JSON specifics: hex ids, 64-bit integers as strings, enums as integers.
    const text = got?.body.toString() ?? '';
    expect(text).toContain('"traceId":"0af7651916cd43dd8448eb211c80319c"');
    expect(text).toContain('"endTimeUnixNano":"18446744073709551615"');
    expect(text).toContain('"intValue":"9007199254740993"');
    expect(text).toContain('"kind":3');
  });

  it('converts JSON records to protobuf when the encoding is protobuf, also mixed with protobuf records', async () => {
    const receiver = await startReceiver();
    const traces = threeTraces();
    const records = [jsonRecord(traces[0] ?? []), protoRecord(traces[1] ?? []), jsonRecord(traces[2] ?? [])];

    await send(newSink({ url: receiver.url }), records);

    const [got] = receiver.received;
    expect(got?.headers['content-type']).toBe(PROTOBUF);
    const sent = decodeTraceRequest(got?.body ?? Buffer.alloc(0));
    expect(sent.resourceSpans).toEqual(
      records.flatMap((r) => decodeTraceRequest(r.value, r.contentType).resourceSpans),
    );
    expect(decodedSpanIds(sent)).toEqual(spanIds(traces.flat()));
  });

  it('accepts content types with parameters and in any case', async () => {
    const receiver = await startReceiver();
    const spans = makeSpans();
    const record = { ...jsonRecord(spans), contentType: 'Application/JSON; charset=utf-8' };

    await send(newSink({ url: receiver.url, encoding: 'json' }), [record]);

    expect(decodedSpanIds(decodeTraceRequest(receiver.received[0]?.body ?? Buffer.alloc(0), JSON_TYPE))).toEqual(
      spanIds(spans),
    );
  });

  it('rejects a batch with a record that is not JSON as permanent, naming the record, before any request', async () => {
    const receiver = await startReceiver();
    const records = [jsonRecord(makeSpans()), { value: Buffer.from('{"resourceSpans": ['), contentType: JSON_TYPE }];

    const err = await rejection(send(newSink({ url: receiver.url, encoding: 'json' }), records));

    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/^record 2 of 2 /);
    expect(receiver.received).toHaveLength(0);
  });

  it.each([
    ['a JSON array', 'json', { value: Buffer.from('[1, 2]'), contentType: JSON_TYPE }, /expected a JSON object/],
    [
      'a non-array resourceSpans',
      'json',
      { value: Buffer.from('{"resourceSpans": 5}'), contentType: JSON_TYPE },
      /not an array/,
    ],
    ['bad protobuf', 'json', { value: Buffer.from([0xff, 0x00, 0x01]), contentType: PROTOBUF }, /not an OTLP/],
    [
      'invalid OTLP/JSON',
      'protobuf',
      { value: Buffer.from('{"resourceSpans": "x"}'), contentType: JSON_TYPE },
      /not an OTLP\/JSON/,
    ],
    [
      'an unknown content type',
      'protobuf',
      { value: Buffer.from('x'), contentType: 'text/plain' },
      /content type 'text\/plain'/,
    ],
  ] as const)('rejects a record with %s (to %s) as permanent', async (_what, encoding, record, message) => {
    const receiver = await startReceiver();

    const err = await rejection(send(newSink({ url: receiver.url, encoding }), [protoRecord(makeSpans()), record]));

    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/^record 2 of 2 /);
    expect(err.message).toMatch(message);
    expect(receiver.received).toHaveLength(0);
  });

  it('rejects a JSON record nested too deep for JSON.stringify as permanent, naming it, before any request', async () => {
    const receiver = await startReceiver();
    const records = [jsonRecord(makeSpans()), nestedBracketsRecord(), jsonRecord(makeSpans())];

    const err = await rejection(send(newSink({ url: receiver.url, encoding: 'json' }), records));

    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/^record 2 of 3 cannot be sent: Maximum call stack size exceeded$/);
    expect(err.cause).toBeInstanceOf(RangeError);
    expect(receiver.received).toHaveLength(0);
  });

  it.each([
    ['1 MiB of empty resource spans', 'json', emptyResourceSpansRecord, 524_288],
    ['one span with 512k empty events', 'json', () => emptyEventsRecord(), 524_291],
    ['OTLP/JSON of 300,000 empty objects', 'protobuf', () => emptyJsonObjectsRecord(300_000), 300_001],
  ] as const)(
    'rejects %s (to %s) as too large to decode, quickly and before any request',
    async (_what, encoding, make, count) => {
      const receiver = await startReceiver();
      const record = make();
      const started = performance.now();

      const err = await rejection(send(newSink({ url: receiver.url, encoding }), [protoRecord(makeSpans()), record]));

      expect(performance.now() - started).toBeLessThan(1_000);
      expect(err.retriable).toBe(false);
      expect(err.message).toMatch(
        new RegExp(
          `^record 2 of 2 cannot be sent: too large to decode: ${count} messages .* more than the \\d+ one record may hold`,
        ),
      );
      expect(receiver.received).toHaveLength(0);
    },
  );

  it('sends nothing for an empty batch', async () => {
    const receiver = await startReceiver();

    await expect(send(newSink({ url: receiver.url }), [])).resolves.toEqual({});

    expect(receiver.received).toHaveLength(0);
  });

  it('sends the custom headers, lets them override the user agent, and keeps their values out of errors', async () => {
    const receiver = await startReceiver();
    const token = 'Bearer s3cr3t-t0ken-value';
    receiver.handle((req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`bad request from ${req.headers.authorization ?? ''}`);
    });
    const sink = newSink({
      url: receiver.url,
      headers: { Authorization: token, 'X-Tenant': 'team-a', 'User-Agent': 'custom/1' },
    });

    const err = await rejection(send(sink, [protoRecord(makeSpans())]));

    expect(receiver.received[0]?.headers.authorization).toBe(token);
    expect(receiver.received[0]?.headers['x-tenant']).toBe('team-a');
    expect(receiver.received[0]?.headers['user-agent']).toBe('custom/1');
    expect(err.message).toContain('bad request from [redacted]');
    expect(err.message).not.toContain('s3cr3t');
  });

  it('sends URL credentials as basic auth and keeps them out of errors', async () => {
    const receiver = await startReceiver();
    receiver.handle((req, res) => {
      res.writeHead(403);
      res.end(`who is ${req.headers.authorization ?? ''}? ${req.url ?? ''}`);
    });
    const url = receiver.url.replace('http://', 'http://user:pa55word@') + '?api_key=k3y-in-query';

    const err = await rejection(send(newSink({ url }), [protoRecord(makeSpans())]));

    expect(receiver.received[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('user:pa55word').toString('base64')}`,
    );
    expect(err.httpStatus).toBe(403);
    expect(err.message).toContain(`from POST ${receiver.url}:`);
    expect(err.message).not.toContain('pa55word');
  });
});

describe('otlpHttpSink response classification', () => {
  async function answer(
    status: number,
    headers: Record<string, string> = {},
    body: string | Buffer = '',
  ): Promise<ReturnType<Sink['send']>> {
    const receiver = await startReceiver();
    receiver.handle((_req, res) => {
      res.writeHead(status, headers);
      res.end(body);
    });
    return send(newSink({ url: receiver.url }), [protoRecord(makeSpans())]);
  }

  it('resolves a 200 with an empty body as full success', async () => {
    await expect(answer(200)).resolves.toEqual({});
  });

  it('resolves a 200 with an empty partial success (as Jaeger answers) as full success', async () => {
    await expect(answer(200, { 'content-type': PROTOBUF }, Buffer.from([0x0a, 0x00]))).resolves.toEqual({});
    await expect(answer(200, { 'content-type': JSON_TYPE }, '{"partialSuccess":{}}')).resolves.toEqual({});
  });

  it('reports a protobuf partial success', async () => {
    const body = ExportTraceServiceResponse.encode({
      partialSuccess: { rejectedSpans: 2, errorMessage: '2 spans too old' },
    }).finish();

    await expect(answer(200, { 'content-type': PROTOBUF }, Buffer.from(body))).resolves.toEqual({
      rejectedSpans: 2,
      errorMessage: '2 spans too old',
    });
  });

  it('reports a JSON partial success, including a warning without rejected spans', async () => {
    await expect(
      answer(200, { 'content-type': JSON_TYPE }, '{"partialSuccess":{"rejectedSpans":"3","errorMessage":"dup"}}'),
    ).resolves.toEqual({ rejectedSpans: 3, errorMessage: 'dup' });
    await expect(
      answer(200, { 'content-type': JSON_TYPE }, '{"partialSuccess":{"errorMessage":"clock skew"}}'),
    ).resolves.toEqual({ rejectedSpans: 0, errorMessage: 'clock skew' });
  });

  it('treats a 2xx with an undecodable body as full success', async () => {
    await expect(answer(200, { 'content-type': PROTOBUF }, Buffer.from([0xff, 0xff, 0xff]))).resolves.toEqual({});
    await expect(answer(202, { 'content-type': 'text/html' }, '<html>ok</html>')).resolves.toEqual({});
  });

  it('rejects a 400 as permanent with the message of the protobuf google.rpc.Status', async () => {
    const err = await rejection(
      answer(400, { 'content-type': PROTOBUF }, rpcStatus(3, 'proto: cannot parse invalid wire-format data')),
    );

    expect(err.retriable).toBe(false);
    expect(err.httpStatus).toBe(400);
    expect(err.message).toMatch(/^HTTP 400 from POST http:\/\/127\.0\.0\.1:\d+\/v1\/traces: /);
    expect(err.message).toMatch(/: proto: cannot parse invalid wire-format data$/);
  });

  it('rejects a 400 with a JSON status by its message', async () => {
    const err = await rejection(answer(400, { 'content-type': JSON_TYPE }, '{"code":3,"message":"ReadObject: bad"}'));

    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/: ReadObject: bad$/);
  });

  it('keeps at most 300 characters of a long error body', async () => {
    const err = await rejection(answer(400, { 'content-type': 'text/plain' }, `start ${'x'.repeat(5_000)} end`));

    const excerpt = err.message.slice(err.message.indexOf(': ') + 2);
    expect(excerpt.startsWith('start xxx')).toBe(true);
    expect(excerpt.length).toBeLessThanOrEqual(300);
    expect(err.message).not.toContain('end');
  });

  it.each([401, 403])('rejects a %i as retriable: wrong credentials are not bad data', async (status) => {
    const err = await rejection(answer(status, { 'content-type': 'text/plain' }, 'nope'));

    expect(err.retriable).toBe(true);
    expect(err.httpStatus).toBe(status);
  });

  it.each([400, 413, 422])('rejects a %i as permanent', async (status) => {
    const err = await rejection(answer(status, { 'content-type': 'text/plain' }, 'nope'));

    expect(err.retriable).toBe(false);
    expect(err.httpStatus).toBe(status);
    expect(err.retryAfterMillis).toBeUndefined();
    expect(err.message).toMatch(new RegExp(`^HTTP ${status} from POST .*: nope$`));
  });

  it('rejects a 429 as retriable with Retry-After in seconds', async () => {
    const err = await rejection(answer(429, { 'retry-after': '7' }));

    expect(err.retriable).toBe(true);
    expect(err.httpStatus).toBe(429);
    expect(err.retryAfterMillis).toBe(7_000);
  });

  it('rejects a 503 as retriable with Retry-After as an HTTP date', async () => {
    const err = await rejection(answer(503, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }));

    expect(err.retriable).toBe(true);
    expect(err.httpStatus).toBe(503);
    // HTTP dates have whole seconds.
    expect(err.retryAfterMillis).toBeGreaterThan(25_000);
    expect(err.retryAfterMillis).toBeLessThanOrEqual(30_000);
  });

  it('reads a Retry-After date in the past as no delay, and ignores one it cannot parse', async () => {
    expect((await rejection(answer(503, { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }))).retryAfterMillis).toBe(0);
    expect((await rejection(answer(503, { 'retry-after': 'soon' }))).retryAfterMillis).toBeUndefined();
  });

  it.each([500, 502, 504, 507, 408])('rejects a %i as retriable', async (status) => {
    const err = await rejection(answer(status, { 'content-type': 'text/plain' }, 'try later'));

    expect(err.retriable).toBe(true);
    expect(err.httpStatus).toBe(status);
    expect(err.retryAfterMillis).toBeUndefined();
    expect(err.message).toMatch(/: try later$/);
  });

  it('does not follow a redirect: retriable, naming the target without its query and the likely cause', async () => {
    const err = await rejection(answer(301, { location: 'https://elsewhere.example/v1/traces?token=abc' }));

    expect(err.retriable).toBe(true);
    expect(err.httpStatus).toBe(301);
    expect(err.message).toContain('redirects are not followed');
    expect(err.message).toContain('https://elsewhere.example/v1/traces');
    expect(err.message).not.toContain('token=abc');
    expect(err.message).toContain('is the URL right?');
  });

  it.each([404, 405, 415])(
    'rejects a %i, which is about the endpoint and not the data, as retriable with a loud message',
    async (status) => {
      const err = await rejection(answer(status, { 'content-type': 'text/plain' }, '404 page not found'));

      expect(err.retriable).toBe(true);
      expect(err.httpStatus).toBe(status);
      expect(err.message).toMatch(
        new RegExp(
          `^HTTP ${status} from POST http://127\\.0\\.0\\.1:\\d+/v1/traces: 404 page not found — the endpoint ` +
            `refused the request, not its data: is the URL right\\? \\(the OTLP/HTTP traces path is /v1/traces\\); ` +
            `retrying until it answers \\(endpointErrors: 'retry'\\)$`,
        ),
      );
    },
  );

  it.each([301, 404, 405, 415])("rejects a %i as permanent with endpointErrors: 'permanent'", async (status) => {
    const receiver = await startReceiver();
    receiver.handle((_req, res) => {
      res.writeHead(status, { location: 'http://elsewhere.example/v1/traces' });
      res.end();
    });

    const err = await rejection(
      send(newSink({ url: receiver.url, endpointErrors: 'permanent' }), [protoRecord(makeSpans())]),
    );

    expect(err.retriable).toBe(false);
    expect(err.httpStatus).toBe(status);
    expect(err.message).toContain('is the URL right?');
    expect(err.message).not.toContain('retrying');
  });
});

describe('otlpHttpSink connections', () => {
  it('rejects as retriable with the errno code when the connection is refused', async () => {
    const port = await closedPort();
    const sink = newSink({ url: `http://127.0.0.1:${port}/v1/traces`, headers: { authorization: 'Bearer abcdefgh' } });

    const err = await rejection(send(sink, [protoRecord(makeSpans())]));

    expect(err.retriable).toBe(true);
    expect(err.httpStatus).toBeUndefined();
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain('abcdefgh');
  });

  it('rejects as retriable with ECONNRESET when the server drops the connection without answering', async () => {
    const receiver = await startReceiver();
    receiver.handle((req) => req.socket.destroy());

    const err = await rejection(send(newSink({ url: receiver.url }), [protoRecord(makeSpans())]));

    expect(err.retriable).toBe(true);
    expect(err.message).toContain('ECONNRESET');
    // A fresh connection that fails is not retried.
    expect(receiver.received).toHaveLength(1);
  });

  it('times out a request the server never answers, as retriable, after timeoutMillis', async () => {
    const receiver = await startReceiver();
    receiver.handle(() => undefined);
    const started = Date.now();

    const err = await rejection(
      send(newSink({ url: receiver.url, timeoutMillis: 300, headers: { authorization: 'Bearer abcdefgh' } }), [
        protoRecord(makeSpans()),
      ]),
    );

    const elapsed = Date.now() - started;
    expect(err.retriable).toBe(true);
    expect(err.message).toMatch(/timed out after 300 ms$/);
    expect(err.message).not.toContain('abcdefgh');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3_000);
    expect(receiver.received).toHaveLength(1);
  });

  it('times out a response whose body never ends', async () => {
    const receiver = await startReceiver();
    receiver.handle((_req, res) => {
      res.writeHead(200, { 'content-type': PROTOBUF });
      res.write(Buffer.from([0x0a]));
    });

    const err = await rejection(send(newSink({ url: receiver.url, timeoutMillis: 300 }), [protoRecord(makeSpans())]));

    expect(err.message).toMatch(/timed out after 300 ms$/);
  });

  it("rejects with the signal's reason as soon as the caller aborts", async () => {
    const receiver = await startReceiver();
    receiver.handle(() => undefined);
    const controller = new AbortController();
    const reason = new Error('forwarder stopping');
    const sent = send(
      newSink({ url: receiver.url, timeoutMillis: 60_000 }),
      [protoRecord(makeSpans())],
      controller.signal,
    );
    await receiver.requestArrived(1);
    const abortedAt = Date.now();

    controller.abort(reason);

    await expect(sent).rejects.toBe(reason);
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
  });

  it('rejects at once without a request when the signal is already aborted', async () => {
    const receiver = await startReceiver();
    const controller = new AbortController();
    controller.abort(new Error('already stopped'));

    await expect(send(newSink({ url: receiver.url }), [protoRecord(makeSpans())], controller.signal)).rejects.toThrow(
      'already stopped',
    );
    expect(receiver.received).toHaveLength(0);
  });

  it('keeps the connection alive across sequential sends', async () => {
    const receiver = await startReceiver();
    const sink = newSink({ url: receiver.url });

    for (let i = 0; i < 5; i++) await send(sink, [protoRecord(makeSpans())]);

    expect(receiver.received).toHaveLength(5);
    expect(receiver.sockets).toHaveLength(1);
  });

  it('opens at most 8 connections for concurrent sends', async () => {
    const receiver = await startReceiver();
    const held: ServerResponse[] = [];
    receiver.handle((_req, res) => held.push(res));
    const sink = newSink({ url: receiver.url });

    const sends = Array.from({ length: 12 }, () => send(sink, [protoRecord(makeSpans())]));
    await receiver.requestArrived(8);
    expect(receiver.sockets).toHaveLength(8);
    receiver.handle((_req, res) => res.end());
    for (const res of held.splice(0)) res.end();
    await Promise.all(sends);

    expect(receiver.received).toHaveLength(12);
    expect(receiver.sockets).toHaveLength(8);
  });

  it('retries once on a new connection when the server closed a reused keep-alive connection', async () => {
    const receiver = await startReceiver();
    // The second request on the first connection finds it closed, as when the server's idle timeout fires
    // just as the client reuses the connection.
    receiver.handle((req, res, r) => {
      if (r.connection === 0 && r.requestOnConnection === 1) req.socket.destroy();
      else res.end();
    });
    const sink = newSink({ url: receiver.url });
    await send(sink, [protoRecord(makeSpans())]);

    await expect(send(sink, [protoRecord(makeSpans())])).resolves.toEqual({});

    expect(receiver.received.map((r) => [r.connection, r.requestOnConnection])).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
    ]);
  });

  it('close() closes idle connections, and later sends reject as retriable', async () => {
    const receiver = await startReceiver();
    const sink = newSink({ url: receiver.url });
    await send(sink, [protoRecord(makeSpans())]);
    const socket = receiver.sockets[0];
    const socketClosed = new Promise<void>((resolve) => socket?.once('close', () => resolve()));

    await sink.close();

    await socketClosed;
    const err = await rejection(send(sink, [protoRecord(makeSpans())]));
    expect(err.retriable).toBe(true);
    expect(err.message).toContain('closed');
    expect(receiver.received).toHaveLength(1);
  }, 5_000);
});

describe('otlpHttpSink options', () => {
  it('has working defaults and the name otlp-http', () => {
    expect(newSink({}).name).toBe('otlp-http');
    const byDefault = otlpHttpSink();
    sinks.push(byDefault);
    expect(byDefault.name).toBe('otlp-http');
  });

  it.each([
    [{ url: 'ftp://example.com/v1/traces' }, 'forwarder.sink.url'],
    [{ url: 'not a url' }, 'forwarder.sink.url'],
    [{ url: 42 }, 'forwarder.sink.url'],
    [{ timeoutMillis: 0 }, 'forwarder.sink.timeoutMillis'],
    [{ timeoutMillis: -5 }, 'forwarder.sink.timeoutMillis'],
    [{ timeoutMillis: NaN }, 'forwarder.sink.timeoutMillis'],
    [{ timeoutMillis: 2 ** 31 }, 'forwarder.sink.timeoutMillis'],
    [{ timeoutMillis: '100' }, 'forwarder.sink.timeoutMillis'],
    [{ compression: 'br' }, 'forwarder.sink.compression'],
    [{ encoding: 'xml' }, 'forwarder.sink.encoding'],
    [{ endpointErrors: 'sometimes' }, 'forwarder.sink.endpointErrors'],
    [{ endpointErrors: false }, 'forwarder.sink.endpointErrors'],
    [{ headers: 'authorization: x' }, 'forwarder.sink.headers'],
    [{ headers: ['x'] }, 'forwarder.sink.headers'],
    [{ headers: { 'x-count': 1 } }, 'forwarder.sink.headers.x-count'],
    [{ headers: { 'bad name': 'x' } }, 'forwarder.sink.headers.bad name'],
    [{ headers: { 'x-multi': 'a\r\nInjected: yes' } }, 'forwarder.sink.headers.x-multi'],
    [{ headers: { 'Content-Type': 'text/plain' } }, 'forwarder.sink.headers.Content-Type'],
    [{ headers: { 'content-length': '5' } }, 'forwarder.sink.headers.content-length'],
  ])('rejects %o naming %s', (options, field) => {
    let caught: unknown;
    try {
      otlpHttpSink(options as OtlpHttpSinkOptions);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).field).toBe(field);
  });

  it('names fields with the given prefix', () => {
    expect(() => otlpHttpSink({ encoding: 'yaml' as 'json' }, 'sinks[1]')).toThrow(
      expect.objectContaining({ field: 'sinks[1].encoding' }) as Error,
    );
  });

  it('never puts a URL or header value into a config error', () => {
    const messages: string[] = [];
    const cases: OtlpHttpSinkOptions[] = [
      { url: 'ftp://user:s3cr3t@example.com' },
      { url: 'http//user:s3cr3t@bad' },
      { headers: { 'x-token': 's3cr3t\n' } },
      { headers: { 'bad name': 's3cr3t' } },
    ];
    for (const options of cases) {
      try {
        otlpHttpSink(options);
      } catch (err) {
        messages.push((err as Error).message);
      }
    }
    expect(messages).toHaveLength(4);
    for (const m of messages) expect(m).not.toContain('s3cr3t');
  });
});
