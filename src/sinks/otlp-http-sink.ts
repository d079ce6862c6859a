// The built-in sink: OTLP/HTTP `POST /v1/traces`, Jaeger v2's (and any OTel Collector's) trace receiver.
// Protobuf records go out as the plain concatenation of their values (one valid request, protobuf merges
// repeated fields), so the hot path never decodes. Responses are classified per the OTLP/HTTP spec.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

import protobuf from 'protobufjs/light.js';

import { SinkError } from '../errors/errors';
import { abortError } from '../retry/sleep';
import { decodeExportTraceServiceResponse } from '../serializers/otlp/export-response';
import { jsonResourceSpans } from '../serializers/otlp/json-writer';
import { OTLP_JSON_CONTENT_TYPE, OTLP_PROTO_CONTENT_TYPE } from '../serializers/otlp-serializers';
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
        contentType: s.encoding === 'json' ? OTLP_JSON_CONTENT_TYPE : OTLP_PROTO_CONTENT_TYPE,
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
