// The built-in sink: OTLP/HTTP `POST /v1/traces`, Jaeger v2's (and any OTel Collector's) trace receiver.
// Protobuf records go out as the plain concatenation of their values (one valid request, protobuf merges
// repeated fields), so the hot path never decodes. Responses are classified per the OTLP/HTTP spec.
import { Agent as HttpAgent, request as httpRequest, validateHeaderName, validateHeaderValue } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import protobuf from 'protobufjs/light';

import { ConfigError, SinkError } from '../errors/errors';
import { abortError } from '../retry/sleep';
import { decodeExportTraceServiceResponse, decodeTraceRequest, encodeTraceRequest } from '../serializers/otlp-decoder';
import type {
  AttrValue,
  DecodedAttributes,
  DecodedResourceSpans,
  DecodedSpan,
  DecodedTraceRequest,
} from '../serializers/otlp-decoder';
import { VERSION } from '../version';
import type { Sink, SinkRecord, SinkResult, SinkSendOptions } from './sink';

/**
 * Options of {@link otlpHttpSink}.
 *
 * @example
 * ```ts
 * const options: OtlpHttpSinkOptions = {
 *   url: 'https://jaeger.example.com/v1/traces',
 *   headers: { authorization: `Bearer ${process.env.JAEGER_TOKEN}` },
 *   compression: 'gzip',
 * };
 * ```
 */
export interface OtlpHttpSinkOptions {
  /**
   * The OTLP/HTTP traces endpoint, `http:` or `https:`. Credentials in the URL (`https://user:pass@host/...`)
   * are sent as basic auth; error messages show only scheme, host and path.
   * @defaultValue `http://localhost:4318/v1/traces`
   */
  url?: string;
  /**
   * Extra request headers, e.g. `{ authorization: 'Bearer ...' }`. Their values never appear in logs or
   * error messages. `content-type`, `content-length`, `content-encoding`, `transfer-encoding` and
   * `connection` are set by the sink and cannot be given here.
   * @defaultValue `{}`
   */
  headers?: Record<string, string>;
  /**
   * Time limit of one request, from sending it to having read the whole response.
   * @defaultValue `10000`
   */
  timeoutMillis?: number;
  /**
   * Compression of the request body (`Content-Encoding: gzip`).
   * @defaultValue `none`
   */
  compression?: 'none' | 'gzip';
  /**
   * What the sink sends. With `protobuf`, protobuf records pass through undecoded; with `json`, JSON records
   * are merged without decoding. Records in the other encoding are converted (decoded and re-encoded).
   * @defaultValue `protobuf`
   */
  encoding?: 'protobuf' | 'json';
}

const DEFAULT_URL = 'http://localhost:4318/v1/traces';
const DEFAULT_TIMEOUT_MILLIS = 10_000;
/** Node timers overflow above this and fire at once. */
const MAX_TIMER_MILLIS = 2 ** 31 - 1;
const MAX_SOCKETS = 8;
/** Bytes of a response body kept; the rest is read and dropped so the connection stays reusable. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const EXCERPT_CHARS = 300;
/** Control characters and U+FFFD (undecodable bytes): noise in an excerpt of a binary or odd body. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f\ufffd]+/g;
/** Shorter header values are not secrets worth redacting, and redacting them would garble messages. */
const MIN_REDACTED_LENGTH = 4;

const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';
const JSON_CONTENT_TYPE = 'application/json';
const USER_AGENT = `otel-kafka-jaeger/${VERSION}`;
/** Headers the sink owns: a user value would corrupt the framing or the keep-alive. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
]);
/** Connection errors worth one immediate retry on a fresh socket when they hit a reused keep-alive socket. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

const gzipAsync = promisify(gzip);

type Encoding = 'protobuf' | 'json';

interface Settings {
  readonly url: URL;
  /** The URL for messages: no credentials, no query. */
  readonly displayUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMillis: number;
  readonly gzip: boolean;
  readonly encoding: Encoding;
  /** User header values to blank out of any message. */
  readonly secrets: readonly string[];
}

/**
 * A {@link Sink} that POSTs batches to an OTLP/HTTP traces endpoint, by default Jaeger v2's
 * `http://localhost:4318/v1/traces`.
 *
 * @remarks
 * One `send()` is one request. Protobuf records are sent as the concatenation of their values, which is one
 * valid `ExportTraceServiceRequest`; JSON records are merged into one request. Connections are kept alive
 * (at most 8 per host) and never traced (the requests run under `suppressTracing`).
 *
 * Outcomes: 2xx resolves, with the rejected span count when the receiver reports a partial success.
 * 429, 408, 401, 403 and 5xx, timeouts and connection failures reject with a retriable {@link SinkError}
 * (`retryAfterMillis` from `Retry-After`). Other 4xx and 3xx (redirects are not followed), and records
 * that cannot be converted to the wire encoding, reject with a permanent one. An abort of the caller's
 * signal rejects with its reason.
 *
 * JSON records are merged as parsed by `JSON.parse`; integers beyond 2^53 written as JSON numbers (rather
 * than the strings OTLP/JSON prescribes) lose precision.
 *
 * @param options - Endpoint, headers, timeout, compression and encoding.
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
  return new OtlpHttpSink(resolveSettings(options, fieldPrefix));
}

class OtlpHttpSink implements Sink {
  readonly name = 'otlp-http';
  readonly #settings: Settings;
  readonly #agent: HttpAgent;
  readonly #request: (url: URL, options: RequestOptions) => ClientRequest;
  #closed = false;

  constructor(settings: Settings) {
    this.#settings = settings;
    const https = settings.url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS };
    this.#agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.#request = https ? httpsRequest : httpRequest;
  }

  async send(records: readonly SinkRecord[], { signal }: SinkSendOptions): Promise<SinkResult> {
    if (this.#closed)
      throw new SinkError(`otlp-http sink for ${this.#settings.displayUrl} is closed`, { retriable: true });
    if (signal.aborted) throw abortError(signal);
    if (records.length === 0) return {};
    const payload = this.#settings.encoding === 'json' ? jsonBody(records) : protobufBody(records);
    const body = this.#settings.gzip ? await gzipAsync(payload) : payload;
    if (signal.aborted) throw abortError(signal);
    return this.#post(body, signal);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#agent.destroy();
    return Promise.resolve();
  }

  #post(body: Buffer, signal: AbortSignal): Promise<SinkResult> {
    const s = this.#settings;
    const headers: Record<string, string | number> = {
      'user-agent': USER_AGENT,
      ...s.headers,
      'content-type': s.encoding === 'json' ? JSON_CONTENT_TYPE : PROTOBUF_CONTENT_TYPE,
      'content-length': body.length,
    };
    if (s.gzip) headers['content-encoding'] = 'gzip';
    const requestOptions: RequestOptions = { method: 'POST', agent: this.#agent, headers };

    return new Promise<SinkResult>((resolve, reject) => {
      let settled = false;
      let current: ClientRequest | undefined;

      const settle = (error: Error | undefined, result?: SinkResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve(result ?? {});
        else reject(error);
      };
      const abandon = (error: Error): void => {
        if (settled) return;
        settle(error);
        current?.destroy();
      };
      const onAbort = (): void => abandon(abortError(signal));
      const timer = setTimeout(() => {
        abandon(new SinkError(`POST ${s.displayUrl} timed out after ${s.timeoutMillis} ms`, { retriable: true }));
      }, s.timeoutMillis);
      signal.addEventListener('abort', onAbort, { once: true });

      const attempt = (mayRetryStaleSocket: boolean): void => {
        // Never trace our own export requests (an HTTP instrumentation would otherwise feed them back in).
        const req = context.with(suppressTracing(context.active()), () => this.#request(s.url, requestOptions));
        current = req;
        let responded = false;
        req.on('response', (res) => {
          responded = true;
          readBody(res, (error, bytes) => {
            if (error !== undefined) {
              settle(this.#connectionError(error));
              return;
            }
            let result: SinkResult;
            try {
              result = classify(res, bytes, s);
            } catch (classified) {
              settle(classified as SinkError);
              return;
            }
            settle(undefined, result);
          });
        });
        req.on('error', (error) => {
          if (settled) return;
          // The server may close an idle keep-alive connection just as we reuse it; Node's docs recommend
          // retrying such a request once on a new connection rather than reporting a failure.
          if (mayRetryStaleSocket && !responded && req.reusedSocket && STALE_SOCKET_CODES.has(errnoCode(error) ?? '')) {
            attempt(false);
            return;
          }
          settle(this.#connectionError(error));
        });
        req.end(body);
      };
      attempt(true);
    });
  }

  #connectionError(error: Error): SinkError {
    const code = errnoCode(error);
    const detail = code === undefined || error.message.includes(code) ? error.message : `${code} ${error.message}`;
    return new SinkError(redact(`POST ${this.#settings.displayUrl} failed: ${detail}`, this.#settings.secrets), {
      retriable: true,
      cause: error,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Options

function resolveSettings(options: OtlpHttpSinkOptions | undefined, prefix: string): Settings {
  const o: Partial<Record<keyof OtlpHttpSinkOptions, unknown>> = options ?? {};
  if (typeof o !== 'object' || o === null) throw new ConfigError(prefix, `expected an object, got ${typeof o}`);

  const urlText = o.url ?? DEFAULT_URL;
  if (typeof urlText !== 'string') throw new ConfigError(`${prefix}.url`, `expected a string, got ${typeof urlText}`);
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    // The value itself is not echoed: it may hold credentials.
    throw new ConfigError(`${prefix}.url`, 'expected an http: or https: URL, got a string that is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${prefix}.url`, `expected an http: or https: URL, got protocol '${url.protocol}'`);
  }

  const timeoutMillis = o.timeoutMillis ?? DEFAULT_TIMEOUT_MILLIS;
  if (typeof timeoutMillis !== 'number' || !(timeoutMillis > 0 && timeoutMillis <= MAX_TIMER_MILLIS)) {
    throw new ConfigError(
      `${prefix}.timeoutMillis`,
      `expected a number greater than 0 and at most ${MAX_TIMER_MILLIS}, got ${describeValue(timeoutMillis)}`,
    );
  }

  const compression = o.compression ?? 'none';
  if (compression !== 'none' && compression !== 'gzip') {
    throw new ConfigError(`${prefix}.compression`, `expected 'none' or 'gzip', got ${describeValue(compression)}`);
  }
  const encoding = o.encoding ?? 'protobuf';
  if (encoding !== 'protobuf' && encoding !== 'json') {
    throw new ConfigError(`${prefix}.encoding`, `expected 'protobuf' or 'json', got ${describeValue(encoding)}`);
  }

  const headers = resolveHeaders(o.headers, `${prefix}.headers`);
  const secrets = Object.values(headers).filter((v) => v.length >= MIN_REDACTED_LENGTH);
  if (url.password !== '') secrets.push(url.password, safeDecode(url.password));

  return {
    url,
    displayUrl: `${url.protocol}//${url.host}${url.pathname}`,
    headers,
    timeoutMillis,
    gzip: compression === 'gzip',
    encoding,
    secrets,
  };
}

function resolveHeaders(value: unknown, field: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(field, `expected an object of header names to string values, got ${describeValue(value)}`);
  }
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    // Header values never go into messages; only their type does.
    if (typeof headerValue !== 'string')
      throw new ConfigError(`${field}.${name}`, `expected a string, got ${typeof headerValue}`);
    try {
      validateHeaderName(name);
    } catch {
      throw new ConfigError(`${field}.${name}`, 'not a valid HTTP header name');
    }
    try {
      validateHeaderValue(name, headerValue);
    } catch {
      throw new ConfigError(`${field}.${name}`, 'the value has characters not allowed in an HTTP header');
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new ConfigError(`${field}.${name}`, 'this header is set by the sink and cannot be overridden');
    }
    headers[name] = headerValue;
  }
  return headers;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? `'${value.slice(0, 50)}'` : String(value);
}

// ---------------------------------------------------------------------------------------------------------
// Request bodies

function recordEncoding(record: SinkRecord, index: number, count: number): Encoding {
  const mediaType = String(record.contentType).split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === PROTOBUF_CONTENT_TYPE || mediaType === 'application/protobuf') return 'protobuf';
  if (mediaType === JSON_CONTENT_TYPE) return 'json';
  throw new SinkError(
    `record ${index + 1} of ${count} has content type '${String(record.contentType).slice(0, 100)}', ` +
      `expected '${PROTOBUF_CONTENT_TYPE}' or '${JSON_CONTENT_TYPE}'`,
    { retriable: false },
  );
}

function undecodable(index: number, count: number, error: unknown): SinkError {
  const reason = error instanceof Error ? error.message : String(error);
  return new SinkError(`record ${index + 1} of ${count} cannot be sent: ${reason}`, { retriable: false, cause: error });
}

function decodeRecord(record: SinkRecord, encoding: Encoding, index: number, count: number): DecodedTraceRequest {
  try {
    return decodeTraceRequest(record.value, encoding === 'json' ? JSON_CONTENT_TYPE : PROTOBUF_CONTENT_TYPE);
  } catch (error) {
    throw undecodable(index, count, error);
  }
}

/** The protobuf request body: protobuf values as they are, JSON ones converted, all concatenated. */
function protobufBody(records: readonly SinkRecord[]): Buffer {
  const parts: Uint8Array[] = [];
  records.forEach((record, i) => {
    const encoding = recordEncoding(record, i, records.length);
    if (encoding === 'protobuf') {
      parts.push(record.value);
      return;
    }
    const request = decodeRecord(record, encoding, i, records.length);
    try {
      parts.push(encodeTraceRequest(request));
    } catch (error) {
      throw undecodable(i, records.length, error);
    }
  });
  return Buffer.concat(parts);
}

/** The OTLP/JSON request body: JSON values merged as parsed, protobuf ones decoded and written as JSON. */
function jsonBody(records: readonly SinkRecord[]): Buffer {
  const resourceSpans: unknown[] = [];
  records.forEach((record, i) => {
    const encoding = recordEncoding(record, i, records.length);
    // Loops rather than push(...items): spreading a very long array overflows the call stack.
    if (encoding === 'json') {
      for (const item of parseJsonRecord(record.value, i, records.length)) resourceSpans.push(item);
      return;
    }
    for (const rs of decodeRecord(record, encoding, i, records.length).resourceSpans) {
      resourceSpans.push(jsonResourceSpans(rs));
    }
  });
  return Buffer.from(JSON.stringify({ resourceSpans }));
}

function parseJsonRecord(value: Buffer, index: number, count: number): unknown[] {
  // An empty value is an empty request, as for protobuf (and decodeTraceRequest).
  if (value.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value));
  } catch (error) {
    throw undecodable(index, count, new Error(`not OTLP/JSON: ${(error as Error).message}`, { cause: error }));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw undecodable(index, count, new Error('not OTLP/JSON: expected a JSON object'));
  }
  const obj = parsed as Record<string, unknown>;
  // Proto3 JSON parsers accept the proto field name too.
  const list = obj.resourceSpans ?? obj.resource_spans;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw undecodable(index, count, new Error('not OTLP/JSON: resourceSpans is not an array'));
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

/** Reads up to MAX_RESPONSE_BYTES of `res` (draining the rest), then calls `done` once. */
function readBody(res: IncomingMessage, done: (error: Error | undefined, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  let finished = false;
  const finish = (error: Error | undefined): void => {
    if (finished) return;
    finished = true;
    done(error, Buffer.concat(chunks));
  };
  res.on('data', (chunk: Buffer) => {
    if (kept >= MAX_RESPONSE_BYTES) return;
    const part = chunk.subarray(0, MAX_RESPONSE_BYTES - kept);
    chunks.push(part);
    kept += part.length;
  });
  res.on('end', () => finish(undefined));
  res.on('error', (error) => finish(error));
  res.on('close', () => {
    if (!res.complete)
      finish(Object.assign(new Error('the response ended before its body was complete'), { code: 'ECONNRESET' }));
  });
}

/** Maps a complete response to a result, or throws the {@link SinkError} it stands for. */
function classify(res: IncomingMessage, body: Buffer, s: Settings): SinkResult {
  const status = res.statusCode ?? 0;
  const contentType = res.headers['content-type'];
  if (status >= 200 && status < 300) return successResult(body, contentType);

  const where = `HTTP ${status} from POST ${s.displayUrl}`;
  if (status >= 300 && status < 400) {
    const location = safeLocation(res.headers.location, s.url);
    throw new SinkError(
      redact(
        `${where}: redirects are not followed${location ? ` (Location: ${location})` : ''}; configure the final URL`,
        s.secrets,
      ),
      { retriable: false, httpStatus: status },
    );
  }
  const excerpt = errorExcerpt(body, contentType);
  const message = redact(excerpt === '' ? where : `${where}: ${excerpt}`, s.secrets);
  // 429 and 5xx per OTLP/HTTP (which names 502/503/504; other 5xx are server faults just as likely to pass);
  // 408 is the server giving up on a slow request, never a verdict on the data. 401 and 403 say the
  // credentials are wrong, not the data: dead-lettering every record until an operator fixes a token would
  // be worse than waiting, so the forwarder pauses and retries.
  if (status === 429 || status === 408 || status === 401 || status === 403 || status >= 500) {
    throw new SinkError(message, {
      retriable: true,
      httpStatus: status,
      retryAfterMillis: parseRetryAfter(res.headers),
    });
  }
  throw new SinkError(message, { retriable: false, httpStatus: status });
}

function successResult(body: Buffer, contentType: string | undefined): SinkResult {
  try {
    const { rejectedSpans, errorMessage } = decodeExportTraceServiceResponse(body, contentType);
    // OTLP: rejected_spans 0 with a message is a warning, worth passing on too.
    if (rejectedSpans > 0 || errorMessage !== '') return { rejectedSpans, errorMessage };
  } catch {
    // The receiver said 2xx: the data is accepted whatever the body holds.
  }
  return {};
}

/** `Retry-After` in milliseconds: delay-seconds, or an HTTP date (a past one gives 0). */
function parseRetryAfter(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['retry-after']?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** A readable summary of an error response body: the `message` of a `google.rpc.Status`, or the text. */
function errorExcerpt(body: Buffer, contentType: string | undefined): string {
  if (body.length === 0) return '';
  const type = contentType?.toLowerCase() ?? '';
  let text: string | undefined;
  // OTLP receivers answer errors with a google.rpc.Status in the request's encoding.
  if (type.includes('protobuf')) text = statusMessageFromProtobuf(body);
  else if (type.includes('json')) text = statusMessageFromJson(body);
  text ??= body.toString('utf8');
  const clean = text.replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim();
  return clean.length > EXCERPT_CHARS ? `${clean.slice(0, EXCERPT_CHARS - 1)}…` : clean;
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

/** A redirect target for messages: resolved against the request URL, without credentials or query. */
function safeLocation(location: string | undefined, base: URL): string | undefined {
  if (location === undefined) return undefined;
  try {
    const url = new URL(location, base);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** Blanks every configured secret (header values, URL password) out of `message`. */
function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}
