// OTLP/gRPC sink: `opentelemetry.proto.collector.trace.v1.TraceService/Export` over HTTP/2 with @grpc/grpc-js.
// The client uses identity (de)serializers, so protobuf records go out as the plain concatenation of their
// values (one valid request, protobuf merges repeated fields) and the hot path never decodes. Statuses are
// classified per the OTLP/gRPC spec, with the exceptions documented on otlpGrpcSink.
// @grpc/grpc-js is loaded by the first sink created, not by importing this package: it takes ~150 ms to load
// (measured on this project's 2-core machine), which every traced service paid without ever forwarding.
import type * as GrpcJs from '@grpc/grpc-js';
import type { ChannelCredentials, Client, ClientOptions, Metadata, ServiceError } from '@grpc/grpc-js';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import protobuf from 'protobufjs/light.js';

import { SinkError } from '../errors/errors';
import { MAX_TIMER_MILLIS } from '../retry/retry-policy';
import { abortError } from '../retry/sleep';
import { decodeExportTraceServiceResponse } from '../serializers/otlp/export-response';
import { VERSION } from '../version';
import type { EndpointErrors } from './http-endpoint-options';
import { grpcTarget, resolveGrpcMetadata, resolveOtlpGrpcSinkOptions } from './otlp-grpc-sink-options';
import type { OtlpGrpcSinkOptions, ResolvedOtlpGrpcSinkOptions } from './otlp-grpc-sink-options';
import { excerpt, MIN_REDACTED_LENGTH, redact } from './message-text';
import { protobufRequest } from './record-conversion';
import type { Sink, SinkRecord, SinkResult, SinkSendOptions } from './sink';

const EXPORT_METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
/**
 * grpc-js backs off reconnecting up to 2 minutes by default, and fails calls at once meanwhile; after a long
 * Jaeger outage that would hold delivery back for up to 2 minutes after Jaeger is up again. The forwarder
 * paces its own retries, so the channel only needs to be ready when it asks.
 */
const MAX_RECONNECT_BACKOFF_MILLIS = 5_000;

const USER_AGENT = `otel-kafka-jaeger/${VERSION}`;
const RETRY_INFO_TYPE = 'google.rpc.RetryInfo';

/** The gRPC status codes (fixed by the gRPC spec), here so that classifying needs no grpc-js. */
const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];
const STATUS_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(GrpcStatus).map(([name, code]) => [code, name]),
);
/** grpc-js's `compressionAlgorithms.gzip`. */
const GZIP_ALGORITHM = 2;

type GrpcModule = typeof GrpcJs;
let grpcModule: Promise<GrpcModule> | undefined;

/** @grpc/grpc-js, imported once for every sink. */
function loadGrpc(): Promise<GrpcModule> {
  grpcModule ??= import('@grpc/grpc-js');
  return grpcModule;
}

/**
 * Codes that may pass: the OTLP/gRPC spec's retryable list, plus UNAUTHENTICATED and PERMISSION_DENIED
 * (credentials are wrong, not the data: pausing until an operator fixes a token beats dead-lettering
 * every record meanwhile; the OTLP/HTTP sink treats 401/403 alike).
 */
const RETRIABLE_CODES: ReadonlySet<number> = new Set<GrpcStatus>([
  GrpcStatus.CANCELLED,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.PERMISSION_DENIED,
]);
/** What servers say when a request exceeds their receive limit (grpc-go, grpc-js/C-core, grpc-java). */
const MESSAGE_TOO_LARGE = /larger than max|exceeds maximum size/i;
/** grpc-js's status for a non-gRPC HTTP response (a proxy's error page, say). */
const HTTP_STATUS_DETAILS = /^Received HTTP status code (\d+)/;
/**
 * What servers say with INTERNAL when they cannot read the request message: grpc-go `grpc: error
 * unmarshalling request: ...` (Jaeger, the Collector: a string field with invalid UTF-8, say) or `failed to
 * decompress`, grpc-java `Invalid protobuf byte sequence`, Python `Exception deserializing request`. The
 * data's fault: sent again, it fails again.
 */
const UNREADABLE_REQUEST = /unmarshal|decompress|invalid protobuf|deserializ/i;

interface Settings {
  /** The grpc-js target, `host:port`. */
  readonly target: string;
  readonly tls: boolean;
  /** The endpoint for messages: scheme, host and port. */
  readonly displayUrl: string;
  /** gRPC metadata, names lowercased. */
  readonly headers: ReadonlyMap<string, string>;
  readonly timeoutMillis: number;
  readonly gzip: boolean;
  /** User header values to blank out of any message. */
  readonly secrets: readonly string[];
  /** Whether UNIMPLEMENTED is retried. */
  readonly endpointErrors: EndpointErrors;
}

const identity = (bytes: Buffer): Buffer => bytes;

/**
 * A {@link Sink} that calls `TraceService/Export` on an OTLP/gRPC endpoint, by default Jaeger v2's
 * `http://localhost:4317`.
 *
 * @remarks
 * One `send()` is one unary call on one HTTP/2 channel, which the sink keeps for its lifetime (concurrent
 * sends share its connection). Protobuf records are sent as the concatenation of their values, which is one
 * valid `ExportTraceServiceRequest`; JSON records are converted to protobuf. Calls are never traced (they
 * run under `suppressTracing`).
 *
 * Outcomes: OK resolves, with the rejected span count when the receiver reports a partial success.
 * UNAVAILABLE (connection refused or lost included), DEADLINE_EXCEEDED (`timeoutMillis` passed), CANCELLED
 * (by the server or a proxy), ABORTED, OUT_OF_RANGE, DATA_LOSS, UNAUTHENTICATED, PERMISSION_DENIED and
 * RESOURCE_EXHAUSTED reject with a retriable {@link SinkError} (`retryAfterMillis` from a `google.rpc.RetryInfo`
 * in the status details), and so does INTERNAL (a stream reset, a server fault), except for a request the
 * server could not read (grpc-go's `error unmarshalling request`: what Jaeger answers for a string field
 * that is not UTF-8), which fails again whenever it is sent. UNIMPLEMENTED (a port that is not OTLP/gRPC, a
 * proxy's 404) is about the endpoint, not the data: retriable, with a message saying so, unless
 * `endpointErrors` is `'permanent'`. RESOURCE_EXHAUSTED because the request exceeds the server's size limit,
 * unreadable requests and every other code (INVALID_ARGUMENT, UNKNOWN, ...) reject with a permanent one, so
 * the forwarder splits the batch and dead-letters only what cannot be delivered; UNKNOWN for an HTTP 5xx,
 * 408 or 429 from something that does not speak gRPC is a transport fault and retriable. Records that cannot
 * be converted reject with a permanent error naming the record, before any call (a record that decodes to
 * more than 250,000 messages, or one per 4 bytes of a larger record, is refused). An abort of the caller's signal cancels the call and rejects with
 * its reason. `grpcCode` is set whenever there was a status.
 *
 * `@grpc/grpc-js` is loaded when the first gRPC sink is created, not when this package is imported; should
 * loading it fail, sends reject with a retriable {@link SinkError} saying so.
 *
 * @param options - Endpoint, metadata, deadline, compression and endpoint errors.
 * @param fieldPrefix - The config path that {@link ConfigError}s name, e.g. `forwarder.sink.url`.
 * @throws {@link ConfigError} when an option is invalid.
 *
 * @example
 * ```ts
 * const sink = otlpGrpcSink({ url: 'http://jaeger:4317', compression: 'gzip' });
 * const forwarder = new KafkaToJaegerForwarder({ kafka: { brokers }, forwarder: { sink } });
 * ```
 */
export function otlpGrpcSink(options?: OtlpGrpcSinkOptions, fieldPrefix = 'forwarder.sink'): Sink {
  return new OtlpGrpcSink(settingsOf(resolveOtlpGrpcSinkOptions(options, fieldPrefix)));
}

class OtlpGrpcSink implements Sink {
  readonly name = 'otlp-grpc';
  readonly #settings: Settings;
  /** The channel, once grpc-js is loaded (its loading starts with the sink). */
  readonly #channel: Promise<Channel>;
  #closed = false;

  constructor(settings: Settings) {
    this.#settings = settings;
    this.#channel = loadGrpc().then((grpc) => openChannel(grpc, settings));
    // A failed load is reported by the sends that need the channel; unawaited until then.
    this.#channel.catch(() => undefined);
  }

  async send(records: readonly SinkRecord[], { signal }: SinkSendOptions): Promise<SinkResult> {
    if (this.#closed)
      throw new SinkError(`otlp-grpc sink for ${this.#settings.displayUrl} is closed`, { retriable: true });
    if (signal.aborted) throw abortError(signal);
    if (records.length === 0) return {};
    const message = await protobufRequest(records, signal);
    let channel: Channel;
    try {
      channel = await this.#channel;
    } catch (error) {
      // An installation fault, not the data's: pause and retry rather than dead-letter every record.
      throw new SinkError(`otlp-grpc sink: could not load @grpc/grpc-js (${String(error)})`, {
        retriable: true,
        cause: error,
      });
    }
    if (signal.aborted) throw abortError(signal);
    return this.#export(channel, message, signal);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const channel = await this.#channel.catch(() => undefined);
    channel?.client.close();
  }

  #export({ client, metadata }: Channel, message: Buffer, signal: AbortSignal): Promise<SinkResult> {
    const s = this.#settings;
    return new Promise<SinkResult>((resolve, reject) => {
      let settled = false;
      // Hoisted: `done` may name it before the call exists, should grpc-js ever call back synchronously.
      function onAbort(): void {
        if (settled) return;
        settled = true;
        reject(abortError(signal));
        call.cancel();
      }
      const done = (error: ServiceError | null, response?: Buffer): void => {
        signal.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        if (error) reject(classify(error, s));
        else resolve(successResult(response));
      };
      // Never trace our own export calls (a gRPC instrumentation would otherwise feed them back in).
      const call = context.with(suppressTracing(context.active()), () =>
        client.makeUnaryRequest<Buffer, Buffer>(
          EXPORT_METHOD,
          identity,
          identity,
          message,
          metadata.clone(),
          { deadline: Date.now() + s.timeoutMillis },
          done,
        ),
      );
      if (!settled) signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The client of a sink's one HTTP/2 channel, and the metadata of its calls. */
interface Channel {
  readonly client: Client;
  readonly metadata: Metadata;
}

function openChannel(grpc: GrpcModule, settings: Settings): Channel {
  const channelCredentials: ChannelCredentials = settings.tls
    ? grpc.credentials.createSsl()
    : grpc.credentials.createInsecure();
  const clientOptions: ClientOptions = {
    'grpc.primary_user_agent': USER_AGENT,
    'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MILLIS,
  };
  if (settings.gzip) clientOptions['grpc.default_compression_algorithm'] = GZIP_ALGORITHM;
  const metadata = new grpc.Metadata();
  for (const [name, value] of settings.headers) metadata.set(name, value);
  return { client: new grpc.Client(settings.target, channelCredentials, clientOptions), metadata };
}

// ---------------------------------------------------------------------------------------------------------
// Options

function settingsOf(o: ResolvedOtlpGrpcSinkOptions): Settings {
  const headers = resolveGrpcMetadata(o.headers, 'headers');
  return {
    ...grpcTarget(o.url, 'url'),
    headers,
    timeoutMillis: o.timeoutMillis,
    gzip: o.compression === 'gzip',
    secrets: [...headers.values()].filter((v) => v.length >= MIN_REDACTED_LENGTH),
    endpointErrors: o.endpointErrors,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Request message

// ---------------------------------------------------------------------------------------------------------
// Responses

function successResult(response: Buffer | undefined): SinkResult {
  if (response === undefined) return {};
  try {
    const { rejectedSpans, errorMessage } = decodeExportTraceServiceResponse(response);
    // OTLP: rejected_spans 0 with a message is a warning, worth passing on too.
    if (rejectedSpans > 0 || errorMessage !== '') return { rejectedSpans, errorMessage };
  } catch {
    // The receiver said OK: the data is accepted whatever the reply holds.
  }
  return {};
}

/** The {@link SinkError} a failed call stands for. */
function classify(error: ServiceError, s: Settings): SinkError {
  // grpc-js types it as its own enum; the numbers are the spec's, as in GrpcStatus.
  const code: number = error.code;
  const details = excerpt(typeof error.details === 'string' ? error.details : '');
  const name = STATUS_NAMES.get(code) ?? 'UNRECOGNIZED';
  const where = `gRPC ${name} (${code}) from ${s.displayUrl}`;
  let message = details === '' ? where : `${where}: ${details}`;
  let retriable = isRetriable(code, details);
  if (code === GrpcStatus.UNIMPLEMENTED) {
    // About the endpoint, not the data: a port that is not OTLP/gRPC, or an ingress answering 404 during a
    // rollout. Dead-lettering the stream meanwhile would be worse than pausing it.
    retriable = s.endpointErrors === 'retry';
    message +=
      ' — the endpoint refused the call, not its data: is the URL right? (OTLP/gRPC is host:port, ' +
      `Jaeger's is 4317)${retriable ? "; retrying until it answers (endpointErrors: 'retry')" : ''}`;
  }
  return new SinkError(redact(message, s.secrets), {
    retriable,
    grpcCode: code,
    retryAfterMillis: retriable ? retryDelayMillis(error.metadata) : undefined,
    // No cause: the grpc-js error repeats the details unredacted, and message and grpcCode say it all.
  });
}

function isRetriable(code: number, details: string): boolean {
  // Too large for the server: a smaller batch may pass, so let the forwarder split it.
  if (code === GrpcStatus.RESOURCE_EXHAUSTED) return !MESSAGE_TOO_LARGE.test(details);
  if (RETRIABLE_CODES.has(code)) return true;
  const httpStatus = Number(HTTP_STATUS_DETAILS.exec(details)?.[1]);
  if (code === GrpcStatus.INTERNAL) {
    // grpc-js says INTERNAL for an HTTP 400 from something that does not speak gRPC: as the HTTP sinks do,
    // a verdict on the request.
    if (httpStatus === 400) return false;
    // A request the server could not read fails again whenever it is sent; any other INTERNAL (a stream
    // reset without a status, a server fault) is not about the data, and dead-lettering on it would lose
    // good records to a passing server bug.
    return !UNREADABLE_REQUEST.test(details);
  }
  // UNKNOWN is permanent when a server said so; grpc-js also makes it up for HTTP responses from something
  // that does not speak gRPC, and those pass as any lost connection does.
  if (code === GrpcStatus.UNKNOWN) return httpStatus >= 500 || httpStatus === 408 || httpStatus === 429;
  return false;
}

/** The delay of a `google.rpc.RetryInfo` in the trailing `grpc-status-details-bin`, if the server sent one. */
function retryDelayMillis(metadata: Metadata | undefined): number | undefined {
  const [details] = metadata?.get('grpc-status-details-bin') ?? [];
  if (!Buffer.isBuffer(details)) return undefined;
  try {
    // google.rpc.Status { 3: repeated google.protobuf.Any details }; Any { 1: type_url, 2: value }.
    for (const any of lengthDelimitedFields(details, 3)) {
      let typeUrl = '';
      let value: Uint8Array | undefined;
      const reader = protobuf.Reader.create(any);
      while (reader.pos < reader.len) {
        const tag = reader.uint32();
        if (tag === 0x0a) typeUrl = reader.string();
        else if (tag === 0x12) value = reader.bytes();
        else reader.skipType(tag & 7);
      }
      if (value !== undefined && typeUrl.slice(typeUrl.lastIndexOf('/') + 1) === RETRY_INFO_TYPE) {
        return durationMillis(value);
      }
    }
  } catch {
    // Undecodable details: retry on the forwarder's own schedule.
  }
  return undefined;
}

/** `RetryInfo { 1: google.protobuf.Duration retry_delay }` → ms; Duration { 1: int64 seconds, 2: int32 nanos }. */
function durationMillis(retryInfo: Uint8Array): number | undefined {
  const [duration] = lengthDelimitedFields(retryInfo, 1);
  if (duration === undefined) return undefined;
  let seconds = 0;
  let nanos = 0;
  const reader = protobuf.Reader.create(duration);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    // int32 reads the int64 varint whole and keeps its low 32 bits: exact for any sane delay, and no Long.
    if (tag === 0x08) seconds = reader.int32();
    else if (tag === 0x10) nanos = reader.int32();
    else reader.skipType(tag & 7);
  }
  const millis = seconds * 1000 + nanos / 1e6;
  return Number.isFinite(millis) ? Math.min(Math.max(0, Math.round(millis)), MAX_TIMER_MILLIS) : undefined;
}

/** Every value of length-delimited field `field` at the top level of `bytes`. */
function lengthDelimitedFields(bytes: Uint8Array, field: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === ((field << 3) | 2)) out.push(reader.bytes());
    else reader.skipType(tag & 7);
  }
  return out;
}
