// The options of the Jaeger Thrift/HTTP sink, said once: their type, the list of their names, and the one
// function that checks and completes them (used by config resolution and by jaegerThriftHttpSink()).
import { ConfigError } from '../errors/errors';
import { describeValue } from './message-text';
import { optionsObject, resolveHttpEndpointOptions } from './http-endpoint-options';

/**
 * Options of {@link jaegerThriftHttpSink}.
 *
 * @example
 * ```ts
 * const options: JaegerThriftHttpSinkOptions = {
 *   url: 'http://jaeger-collector:14268/api/traces',
 *   headers: { authorization: `Bearer ${process.env.JAEGER_TOKEN}` },
 * };
 * ```
 */
export interface JaegerThriftHttpSinkOptions {
  /**
   * The collector's Thrift/HTTP endpoint, `http:` or `https:`. Credentials in the URL
   * (`https://user:pass@host/...`) are sent as basic auth; error messages show only scheme, host and path.
   * @defaultValue in `forwarder.sink`, env `OTEL_KAFKA_FORWARDER_SINK_URL`; else `http://localhost:14268/api/traces`
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
   * Time limit of one request (one batch), from sending it to having read the whole response.
   * @defaultValue in `forwarder.sink`, env `OTEL_KAFKA_FORWARDER_SINK_TIMEOUT` (milliseconds); else `10000`
   */
  timeoutMillis?: number;
  /**
   * Largest request body. A batch whose encoding is larger is split into several requests, because a
   * collector answers an oversized body with an error that retrying cannot fix: Jaeger v2 and the OTel
   * Collector refuse bodies over 20 MiB (`max_request_body_size`) with HTTP 500. A span that alone (with its
   * process) encodes larger fails its record permanently, before any request of the send.
   * @defaultValue `8388608` (8 MiB)
   */
  maxRequestBytes?: number;
  /**
   * What a response that says the URL is wrong means: 3xx (redirects are not followed), 404, 405 or 415.
   * `retry`: the endpoint, not the data, is at fault (a wrong path, an ingress answering 404 during a
   * rollout), so the forwarder pauses and retries with backoff, logging an error that names the URL, the
   * status and the likely cause. `permanent`: the records are undeliverable and dead-lettered.
   * @defaultValue `retry`
   */
  endpointErrors?: 'retry' | 'permanent';
}

/** {@link JaegerThriftHttpSinkOptions} with every default applied, checked. */
export type ResolvedJaegerThriftHttpSinkOptions = Required<JaegerThriftHttpSinkOptions>;

/** The names of {@link JaegerThriftHttpSinkOptions}; an option missing here does not compile. */
export const JAEGER_THRIFT_HTTP_SINK_OPTION_NAMES = {
  url: true,
  headers: true,
  timeoutMillis: true,
  maxRequestBytes: true,
  endpointErrors: true,
} as const satisfies Record<keyof JaegerThriftHttpSinkOptions, true>;

/** The default `url` of the Jaeger Thrift/HTTP sink. */
export const JAEGER_THRIFT_HTTP_DEFAULT_URL = 'http://localhost:14268/api/traces';
const DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;

/**
 * Checks the options of the Jaeger Thrift/HTTP sink and applies their defaults; pure. A bad option throws a
 * {@link ConfigError} naming `${prefix}.<option>` (neither the URL nor a header value is ever shown).
 */
export function resolveJaegerThriftHttpSinkOptions(
  options: unknown,
  prefix: string,
): ResolvedJaegerThriftHttpSinkOptions {
  const o: Partial<Record<keyof JaegerThriftHttpSinkOptions, unknown>> = optionsObject(options, prefix);
  const endpoint = resolveHttpEndpointOptions(o, prefix, JAEGER_THRIFT_HTTP_DEFAULT_URL);
  const maxRequestBytes = o.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  if (typeof maxRequestBytes !== 'number' || !Number.isSafeInteger(maxRequestBytes) || maxRequestBytes <= 0) {
    throw new ConfigError(
      `${prefix}.maxRequestBytes`,
      `expected a whole number greater than 0, got ${describeValue(maxRequestBytes)}`,
    );
  }
  return {
    url: endpoint.url,
    headers: endpoint.headers,
    timeoutMillis: endpoint.timeoutMillis,
    maxRequestBytes,
    endpointErrors: endpoint.endpointErrors,
  };
}
