// The options of the OTLP/HTTP sink, said once: their type, the list of their names, and the one function
// that checks and completes them (used by config resolution and by otlpHttpSink()).
import { ConfigError } from '../errors/errors';
import { describeValue } from './message-text';
import { optionsObject, resolveHttpEndpointOptions, resolveSinkCompression } from './http-endpoint-options';

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
   * @defaultValue in `forwarder.sink`, env `OTEL_KAFKA_FORWARDER_SINK_URL`; else `http://localhost:4318/v1/traces`
   */
  url?: string;
  /**
   * Extra request headers, e.g. `{ authorization: 'Bearer ...' }`. Their values never appear in logs or
   * error messages. `content-type`, `content-length`, `content-encoding`, `transfer-encoding` and
   * `connection` are set by the sink and cannot be given here.
   * @defaultValue in `forwarder.sink`, env `OTEL_KAFKA_FORWARDER_SINK_HEADERS` (`name=value,name2=value2`); else
   * `{}`
   */
  headers?: Record<string, string>;
  /**
   * Time limit of one request, from sending it to having read the whole response.
   * @defaultValue in `forwarder.sink`, env `OTEL_KAFKA_FORWARDER_SINK_TIMEOUT` (milliseconds); else `10000`
   */
  timeoutMillis?: number;
  /**
   * Compression of the request body (`Content-Encoding: gzip`).
   * @defaultValue in `forwarder.sink`, env `OTEL_KAFKA_FORWARDER_SINK_COMPRESSION`; else `none`
   */
  compression?: 'none' | 'gzip';
  /**
   * What the sink sends. With `protobuf`, protobuf records pass through undecoded; with `json`, JSON records
   * are merged without decoding. Records in the other encoding are converted (decoded and re-encoded).
   * @defaultValue `protobuf`
   */
  encoding?: 'protobuf' | 'json';
  /**
   * What a response that says the URL is wrong means: 3xx (redirects are not followed), 404, 405 or 415.
   * `retry`: the endpoint, not the data, is at fault (a wrong path, an ingress answering 404 during a
   * rollout), so the forwarder pauses and retries with backoff, logging an error that names the URL, the
   * status and the likely cause. `permanent`: the records are undeliverable and dead-lettered.
   * @defaultValue `retry`
   */
  endpointErrors?: 'retry' | 'permanent';
}

/** {@link OtlpHttpSinkOptions} with every default applied, checked. */
export type ResolvedOtlpHttpSinkOptions = Required<OtlpHttpSinkOptions>;

/** The names of {@link OtlpHttpSinkOptions}; an option missing here does not compile. */
export const OTLP_HTTP_SINK_OPTION_NAMES = {
  url: true,
  headers: true,
  timeoutMillis: true,
  compression: true,
  encoding: true,
  endpointErrors: true,
} as const satisfies Record<keyof OtlpHttpSinkOptions, true>;

/** The default `url` of the OTLP/HTTP sink. */
export const OTLP_HTTP_DEFAULT_URL = 'http://localhost:4318/v1/traces';

/**
 * Checks the options of the OTLP/HTTP sink and applies their defaults; pure. A bad option throws a
 * {@link ConfigError} naming `${prefix}.<option>` (neither the URL nor a header value is ever shown).
 */
export function resolveOtlpHttpSinkOptions(options: unknown, prefix: string): ResolvedOtlpHttpSinkOptions {
  const o: Partial<Record<keyof OtlpHttpSinkOptions, unknown>> = optionsObject(options, prefix);
  const endpoint = resolveHttpEndpointOptions(o, prefix, OTLP_HTTP_DEFAULT_URL);
  const encoding = o.encoding ?? 'protobuf';
  if (encoding !== 'protobuf' && encoding !== 'json') {
    throw new ConfigError(`${prefix}.encoding`, `expected 'protobuf' or 'json', got ${describeValue(encoding)}`);
  }
  return {
    url: endpoint.url,
    headers: endpoint.headers,
    timeoutMillis: endpoint.timeoutMillis,
    compression: resolveSinkCompression(o.compression, `${prefix}.compression`),
    encoding,
    endpointErrors: endpoint.endpointErrors,
  };
}
