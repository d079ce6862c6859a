// Records that are cheap to send and costly to convert, shared by the sink tests.
import { context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import type { SinkRecord } from '../../../src/sinks/sink';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}

/** A length-delimited protobuf field. */
function field(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag, ...varint(body.length)]), body]);
}

/** 1 MiB of `0a 00`: 524,288 empty ResourceSpans, valid protobuf without a single span. */
export function emptyResourceSpansRecord(): SinkRecord {
  return { value: Buffer.from('0a00'.repeat(512 * 1024), 'hex'), contentType: PROTOBUF };
}

/** One valid span holding `count` empty events (`5a 00` each). */
export function emptyEventsRecord(count = 512 * 1024): SinkRecord {
  const span = Buffer.concat([
    field(0x0a, Buffer.alloc(16, 1)),
    field(0x12, Buffer.alloc(8, 2)),
    field(0x2a, Buffer.from('many events')),
    Buffer.from('5a00'.repeat(count), 'hex'),
  ]);
  return { value: field(0x0a, field(0x12, field(0x12, span))), contentType: PROTOBUF };
}

/** OTLP/JSON of `count` empty resourceSpans objects (about 3 bytes each). */
export function emptyJsonObjectsRecord(count: number): SinkRecord {
  return {
    value: Buffer.from(`{"resourceSpans":[${Array<string>(count).fill('{}').join(',')}]}`),
    contentType: JSON_TYPE,
  };
}

/** The record: `{"resourceSpans":` + 10,000 `[` + 10,000 `]` + `}`, parsed fine, too deep to stringify. */
export function nestedBracketsRecord(depth = 10_000): SinkRecord {
  return { value: Buffer.from(`{"resourceSpans":${'['.repeat(depth)}${']'.repeat(depth)}}`), contentType: JSON_TYPE };
}

/** About `bytes` of protobuf: SDK HTTP server spans with 10 attributes each, what a busy service exports. */
export function ordinarySpansRecord(bytes = 1024 * 1024): SinkRecord {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'host.name': 'host-1', 'process.pid': 4242 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('@opentelemetry/instrumentation-http', '0.57.0');
  // About 410 bytes a span.
  for (let i = 0; i < bytes / 410; i++) {
    const root = tracer.startSpan(`GET /api/cart/${i % 50}`, {
      attributes: {
        'http.request.method': 'GET',
        'url.path': `/api/cart/${i}`,
        'url.scheme': 'https',
        'server.address': 'shop.example.com',
        'server.port': 443,
        'http.response.status_code': 200,
        'network.protocol.version': '1.1',
        'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64)',
        'client.address': '10.0.0.12',
        'http.route': '/api/cart/:id',
      },
    });
    trace.setSpan(context.active(), root);
    root.end();
  }
  const value = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans());
  if (!value) throw new Error('ProtobufTraceSerializer returned nothing');
  return { value: Buffer.from(value), contentType: PROTOBUF };
}
