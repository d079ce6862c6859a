// The built-in sink: OTLP/HTTP `POST /v1/traces`, Jaeger v2's (and any OTel Collector's) trace receiver.
// Protobuf records go out as the plain concatenation of their values (one valid request, protobuf merges
// repeated fields), so the hot path never decodes. Responses are classified per the OTLP/HTTP spec.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

import protobuf from 'protobufjs/light.js';

import { SinkError } from '../errors/errors';
import { abortError } from '../retry/sleep';
import { decodeExportTraceServiceResponse } from '../serializers/otlp-decoder';
import type { AttrValue, DecodedAttributes, DecodedResourceSpans, DecodedSpan } from '../serializers/otlp-decoder';
import { HttpTransport, httpEndpoint, responseError } from './http-transport';
import type { HttpEndpoint, HttpResponse } from './http-transport';
import { OTLP_HTTP_DEFAULT_URL, resolveOtlpHttpSinkOptions } from './otlp-http-sink-options';
import type { OtlpHttpSinkOptions, ResolvedOtlpHttpSinkOptions } from './otlp-http-sink-options';
import {
  ConversionPacer,
  convertRecord,
  decodeRecord,
  protobufRequest,
  recordEncoding,
  recordError,
} from './record-conversion';
import type { RecordEncoding } from './record-conversion';
import type { Sink, SinkRecord, SinkResult, SinkSendOptions } from './sink';

const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';
const JSON_CONTENT_TYPE = 'application/json';

const gzipAsync = promisify(gzip);

interface Settings {
  readonly endpoint: HttpEndpoint;
  readonly gzip: boolean;
  readonly encoding: RecordEncoding;
}

/**
 * A {@link Sink} that POSTs batches to an OTLP/HTTP traces endpoint, by default Jaeger v2's
 * `http://localhost:4318/v1/traces`.
 *
 * @remarks
 * One `send()` is one request. Protobuf records are sent as the concatenation of their values, which is one
 * valid `ExportTraceServiceRequest`; JSON records are merged into one request. Records in the other encoding
 * than the sink's are converted one at a time (a record that decodes to more than 250,000 messages, spans,
 * events, links, attributes, ..., or one per 4 bytes of a larger record, is refused; a 1 MiB record of ordinary spans holds about 56,000).
 * Connections are kept alive (at most 8 per host) and never traced (the requests run under `suppressTracing`).
 *
 * Outcomes: 2xx resolves, with the rejected span count when the receiver reports a partial success.
 * 429, 408, 401, 403 and 5xx, timeouts and connection failures reject with a retriable {@link SinkError}
 * (`retryAfterMillis` from `Retry-After`). 3xx (redirects are not followed), 404, 405 and 415 say the URL
 * is wrong: retriable, with a message saying so, unless `endpointErrors` is `'permanent'`. Other 4xx, and a
 * record that cannot be parsed, converted or written in the wire encoding (a `RangeError` of
 * `JSON.stringify` on nesting too deep, say), reject with a permanent one; a record's error names it. An
 * abort of the caller's signal rejects with its reason.
 *
 * JSON records are merged as parsed by `JSON.parse`; integers beyond 2^53 written as JSON numbers (rather
 * than the strings OTLP/JSON prescribes) lose precision.
 *
 * @param options - Endpoint, headers, timeout, compression, encoding and endpoint errors.
 * @param fieldPrefix - The config path that {@link ConfigError}s name, e.g. `forwarder.sink.url`.
 * @throws {@link ConfigError} when an option is invalid.
 *
 * @example
 * ```ts
 * const sink = otlpHttpSink({ url: 'http://jaeger:4318/v1/traces', compression: 'gzip' });
 * const forwarder = new KafkaToJaegerForwarder({ kafka: { brokers }, forwarder: { sink } });
 * ```
 */
export function otlpHttpSink(options?: OtlpHttpSinkOptions, fieldPrefix = 'forwarder.sink'): Sink {
  return new OtlpHttpSink(settingsOf(resolveOtlpHttpSinkOptions(options, fieldPrefix)));
}

class OtlpHttpSink implements Sink {
  readonly name = 'otlp-http';
  readonly #settings: Settings;
  readonly #transport: HttpTransport;
  #closed = false;

  constructor(settings: Settings) {
    this.#settings = settings;
    this.#transport = new HttpTransport(settings.endpoint);
  }

  async send(records: readonly SinkRecord[], { signal }: SinkSendOptions): Promise<SinkResult> {
    const s = this.#settings;
    if (this.#closed) throw new SinkError(`otlp-http sink for ${s.endpoint.displayUrl} is closed`, { retriable: true });
    if (signal.aborted) throw abortError(signal);
    if (records.length === 0) return {};
    const payload = s.encoding === 'json' ? await jsonBody(records, signal) : await protobufRequest(records, signal);
    const body = s.gzip ? await gzipAsync(payload) : payload;
    if (signal.aborted) throw abortError(signal);
    const response = await this.#transport.post(
      body,
      {
        contentType: s.encoding === 'json' ? JSON_CONTENT_TYPE : PROTOBUF_CONTENT_TYPE,
        contentEncoding: s.gzip ? 'gzip' : undefined,
      },
      signal,
    );
    const error = responseError(response, s.endpoint, statusMessage);
    if (error !== undefined) throw error;
    return successResult(response);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#transport.close();
    return Promise.resolve();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Options

function settingsOf(o: ResolvedOtlpHttpSinkOptions): Settings {
  return {
    endpoint: httpEndpoint(o, OTLP_HTTP_DEFAULT_URL, 'OTLP/HTTP traces'),
    gzip: o.compression === 'gzip',
    encoding: o.encoding,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Request bodies

const JSON_BODY_START = Buffer.from('{"resourceSpans":[');
const JSON_BODY_END = Buffer.from(']}');
const COMMA = Buffer.from(',');

/**
 * The OTLP/JSON request body: JSON values merged as parsed, protobuf ones decoded and written as JSON. Each
 * record is written on its own, so that an error (a RangeError from `JSON.stringify` on nesting too deep,
 * say) names the record, and its parsed or decoded form is garbage before the next record is read.
 */
async function jsonBody(records: readonly SinkRecord[], signal: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = [JSON_BODY_START];
  const pacer = new ConversionPacer(signal);
  for (let i = 0; i < records.length; i++) {
    await pacer.pace();
    const record = records[i] as SinkRecord;
    const encoding = recordEncoding(record, i, records.length);
    const n = records.length;
    const array = convertRecord(i, n, () =>
      JSON.stringify(
        encoding === 'json'
          ? parseJsonRecord(record.value, i, n)
          : decodeRecord(record, encoding, i, n).resourceSpans.map(jsonResourceSpans),
      ),
    );
    // Without its brackets: the items of every record go into one array.
    const json = array.slice(1, -1);
    if (json === '') continue;
    if (parts.length > 1) parts.push(COMMA);
    parts.push(Buffer.from(json));
  }
  parts.push(JSON_BODY_END);
  return Buffer.concat(parts);
}

function parseJsonRecord(value: Buffer, index: number, count: number): unknown[] {
  // An empty value is an empty request, as for protobuf (and decodeTraceRequest).
  if (value.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value));
  } catch (error) {
    throw recordError(index, count, new Error(`not OTLP/JSON: ${(error as Error).message}`, { cause: error }));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw recordError(index, count, new Error('not OTLP/JSON: expected a JSON object'));
  }
  const obj = parsed as Record<string, unknown>;
  // Proto3 JSON parsers accept the proto field name too.
  const list = obj.resourceSpans ?? obj.resource_spans;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw recordError(index, count, new Error('not OTLP/JSON: resourceSpans is not an array'));
  return list;
}

// OTLP/JSON writer for the decoded model: proto3 JSON mapping with OTLP's rules (hex ids, enums as integers,
// 64-bit integers as decimal strings). Fields holding their default value are left out, as protojson does.

type Json = string | number | boolean | Json[] | { [key: string]: Json };

function jsonResourceSpans(rs: DecodedResourceSpans): Json {
  const resource: Record<string, Json> = { attributes: jsonAttributes(rs.resource.attributes) };
  putCount(resource, 'droppedAttributesCount', rs.resource.droppedAttributesCount);
  const out: Record<string, Json> = {
    resource,
    scopeSpans: rs.scopeSpans.map((ss) => {
      const scope: Record<string, Json> = { attributes: jsonAttributes(ss.scope.attributes) };
      putString(scope, 'name', ss.scope.name);
      putString(scope, 'version', ss.scope.version);
      putCount(scope, 'droppedAttributesCount', ss.scope.droppedAttributesCount);
      const scopeSpans: Record<string, Json> = { scope, spans: ss.spans.map(jsonSpan) };
      putString(scopeSpans, 'schemaUrl', ss.schemaUrl);
      return scopeSpans;
    }),
  };
  putString(out, 'schemaUrl', rs.schemaUrl);
  return out;
}

function jsonSpan(span: DecodedSpan): Json {
  const out: Record<string, Json> = { traceId: span.traceId, spanId: span.spanId };
  putString(out, 'parentSpanId', span.parentSpanId);
  putString(out, 'traceState', span.traceState);
  putCount(out, 'flags', span.flags);
  out.name = span.name;
  putCount(out, 'kind', span.kind);
  out.startTimeUnixNano = span.startTimeUnixNano.toString();
  out.endTimeUnixNano = span.endTimeUnixNano.toString();
  out.attributes = jsonAttributes(span.attributes);
  putCount(out, 'droppedAttributesCount', span.droppedAttributesCount);
  out.events = span.events.map((event) => {
    const e: Record<string, Json> = {
      timeUnixNano: event.timeUnixNano.toString(),
      name: event.name,
      attributes: jsonAttributes(event.attributes),
    };
    putCount(e, 'droppedAttributesCount', event.droppedAttributesCount);
    return e;
  });
  putCount(out, 'droppedEventsCount', span.droppedEventsCount);
  out.links = span.links.map((link) => {
    const l: Record<string, Json> = { traceId: link.traceId, spanId: link.spanId };
    putString(l, 'traceState', link.traceState);
    l.attributes = jsonAttributes(link.attributes);
    putCount(l, 'droppedAttributesCount', link.droppedAttributesCount);
    putCount(l, 'flags', link.flags);
    return l;
  });
  putCount(out, 'droppedLinksCount', span.droppedLinksCount);
  if (span.status.code !== 0 || span.status.message !== '') {
    const status: Record<string, Json> = {};
    putString(status, 'message', span.status.message);
    putCount(status, 'code', span.status.code);
    out.status = status;
  }
  return out;
}

function putString(o: Record<string, Json>, key: string, value: string): void {
  if (value !== '') o[key] = value;
}

function putCount(o: Record<string, Json>, key: string, value: number): void {
  if (value !== 0) o[key] = value;
}

function jsonAttributes(attributes: DecodedAttributes): Json[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: jsonAnyValue(value) }));
}

function jsonAnyValue(value: AttrValue): { [key: string]: Json } {
  if (value === null) return {};
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'bigint':
      return { intValue: value.toString() };
    case 'number':
      // JSON has no NaN or infinities; proto3 JSON spells them as strings.
      return { doubleValue: Number.isFinite(value) ? value : String(value) };
    default:
      if (value instanceof Uint8Array) return { bytesValue: Buffer.from(value).toString('base64') };
      if (Array.isArray(value)) return { arrayValue: { values: value.map(jsonAnyValue) } };
      return { kvlistValue: { values: jsonAttributes(value) } };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Responses

function successResult({ body, headers }: HttpResponse): SinkResult {
  try {
    const { rejectedSpans, errorMessage } = decodeExportTraceServiceResponse(body, headers['content-type']);
    // OTLP: rejected_spans 0 with a message is a warning, worth passing on too.
    if (rejectedSpans > 0 || errorMessage !== '') return { rejectedSpans, errorMessage };
  } catch {
    // The receiver said 2xx: the data is accepted whatever the body holds.
  }
  return {};
}

/** OTLP receivers answer errors with a `google.rpc.Status` in the request's encoding: its message. */
function statusMessage(body: Buffer, contentType: string | undefined): string | undefined {
  const type = contentType?.toLowerCase() ?? '';
  if (type.includes('protobuf')) return statusMessageFromProtobuf(body);
  if (type.includes('json')) return statusMessageFromJson(body);
  return undefined;
}

/** Field 2 (`message`) of a protobuf `google.rpc.Status`, or undefined when the body is not one. */
function statusMessageFromProtobuf(body: Buffer): string | undefined {
  try {
    const reader = protobuf.Reader.create(body);
    let message: string | undefined;
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 2 && (tag & 7) === 2) message = reader.string();
      else reader.skipType(tag & 7);
    }
    return message;
  } catch {
    return undefined;
  }
}

function statusMessageFromJson(body: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') {
      return parsed.message;
    }
  } catch {
    // Not JSON after all: the caller shows the text.
  }
  return undefined;
}
