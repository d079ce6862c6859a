// The options of the OTLP/gRPC sink, said once: their type, the list of their names, and the one function
// that checks and completes them (used by config resolution and by otlpGrpcSink()).
import { ConfigError } from '../errors/errors';
import {
  optionsObject,
  kindOf,
  resolveEndpointErrors,
  resolveSinkCompression,
  resolveTimeoutMillis,
} from './http-endpoint-options';

/**
 * Options of {@link otlpGrpcSink}.
 *
 * @example
 * ```ts
 * const options: OtlpGrpcSinkOptions = {
 *   url: 'https://jaeger.example.com:4317',
 *   headers: { authorization: `Bearer ${process.env.JAEGER_TOKEN}` },
 *   compression: 'gzip',
 * };
 * ```
 */
export interface OtlpGrpcSinkOptions {
  /**
   * The OTLP/gRPC endpoint: `http://host:port` (plaintext), `https://host:port` (TLS, verified against the
   * system's root certificates) or `host:port` (TLS, as in the OpenTelemetry exporters). A missing port is
   * 80 for `http://` and 443 otherwise. No path, query or credentials: authenticate with `headers`.
   * @defaultValue in `forwarder.sink`, env `OTEL_KAFKA_FORWARDER_SINK_URL`; else `http://localhost:4317`
   */
  url?: string;
  /**
   * gRPC metadata sent with every call, e.g. `{ authorization: 'Bearer ...' }`. Names are ASCII letters,
   * digits, `-`, `_` and `.` (case-insensitive); values printable ASCII. Their values never appear in logs or
   * error messages. `grpc-*`, `content-type`, `te`, `user-agent` and HTTP/1 connection headers are set by
   * the transport and cannot be given here, nor can binary (`-bin`) metadata.
   * @defaultValue in `forwarder.sink`, env `OTEL_KAFKA_FORWARDER_SINK_HEADERS` (`name=value,name2=value2`); else
   * `{}`
   */
  headers?: Record<string, string>;
  /**
   * Deadline of one call, from starting it (connecting included) to having its status.
   * @defaultValue in `forwarder.sink`, env `OTEL_KAFKA_FORWARDER_SINK_TIMEOUT` (milliseconds); else `10000`
   */
  timeoutMillis?: number;
  /**
   * Compression of the request message (`grpc-encoding: gzip`).
   * @defaultValue in `forwarder.sink`, env `OTEL_KAFKA_FORWARDER_SINK_COMPRESSION`; else `none`
   */
  compression?: 'none' | 'gzip';
  /**
   * What UNIMPLEMENTED means (the server has no `TraceService/Export`, or a proxy answered HTTP 404): `retry`,
   * the endpoint, not the data, is at fault (a wrong port, an ingress during a rollout), so the forwarder
   * pauses and retries with backoff, logging an error that names the endpoint and the likely cause;
   * `permanent`: the records are undeliverable and dead-lettered.
   * @defaultValue `retry`
   */
  endpointErrors?: 'retry' | 'permanent';
}

/** {@link OtlpGrpcSinkOptions} with every default applied, checked. */
export type ResolvedOtlpGrpcSinkOptions = Required<OtlpGrpcSinkOptions>;

/** The names of {@link OtlpGrpcSinkOptions}; an option missing here does not compile. */
export const OTLP_GRPC_SINK_OPTION_NAMES = {
  url: true,
  headers: true,
  timeoutMillis: true,
  compression: true,
  endpointErrors: true,
} as const satisfies Record<keyof OtlpGrpcSinkOptions, true>;

/** The default `url` of the OTLP/gRPC sink. */
export const OTLP_GRPC_DEFAULT_URL = 'http://localhost:4317';

/** Valid gRPC metadata names once lowercased (the gRPC over HTTP/2 spec's `Header-Name`). */
const METADATA_NAME = /^[0-9a-z_.-]+$/;
/** gRPC ASCII metadata values: printable ASCII. */
const METADATA_VALUE = /^[ -~]*$/;
/** Headers the transport owns, or that HTTP/2 forbids (a request carrying one fails to start). */
const RESERVED_HEADERS = new Set([
  'content-type',
  'te',
  'user-agent',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Checks the options of the OTLP/gRPC sink and applies their defaults; pure. A bad option throws a
 * {@link ConfigError} naming `${prefix}.<option>` (neither the URL nor a header value is ever shown). The
 * headers are returned as given; the sink lowercases their names.
 */
export function resolveOtlpGrpcSinkOptions(options: unknown, prefix: string): ResolvedOtlpGrpcSinkOptions {
  const o: Partial<Record<keyof OtlpGrpcSinkOptions, unknown>> = optionsObject(options, prefix);
  const url = o.url ?? OTLP_GRPC_DEFAULT_URL;
  grpcTarget(url, `${prefix}.url`);
  const timeoutMillis = resolveTimeoutMillis(o.timeoutMillis, `${prefix}.timeoutMillis`);
  const compression = resolveSinkCompression(o.compression, `${prefix}.compression`);
  resolveGrpcMetadata(o.headers, `${prefix}.headers`);
  return {
    url: url as string,
    headers: { ...(o.headers as Record<string, string> | undefined) },
    timeoutMillis,
    compression,
    endpointErrors: resolveEndpointErrors(o.endpointErrors, `${prefix}.endpointErrors`),
  };
}

/**
 * Checks an OTLP/gRPC endpoint (a {@link ConfigError} naming `field`, never showing the value) and returns
 * grpc-js's target, whether it is TLS, and the endpoint as messages may show it.
 */
export function grpcTarget(value: unknown, field: string): { target: string; tls: boolean; displayUrl: string } {
  if (typeof value !== 'string') throw new ConfigError(field, `expected a string, got ${typeof value}`);
  const expected = 'expected http://host:port, https://host:port or host:port';
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  let url: URL;
  try {
    url = new URL(hasScheme ? value : `https://${value}`);
  } catch {
    // The value itself is not echoed: it may hold credentials.
    throw new ConfigError(field, `${expected}, got a string that is not one`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(field, `${expected}, got protocol '${url.protocol}'`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(field, 'credentials in the URL are not supported; send them in headers');
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    // A common slip is the OTLP/HTTP URL (`.../v1/traces`); a gRPC endpoint is host and port only.
    throw new ConfigError(field, `${expected} without a path or query (is this the OTLP/HTTP URL?)`);
  }
  const tls = url.protocol === 'https:';
  const port = url.port === '' ? (tls ? '443' : '80') : url.port;
  // `hostname` keeps the brackets of an IPv6 address, as the target needs.
  const hostPort = `${url.hostname}:${port}`;
  return { target: hostPort, tls, displayUrl: `${url.protocol}//${hostPort}` };
}

/** Checks `headers` as the sink does (a {@link ConfigError} naming `${field}.<name>`); values are never shown. */
export function resolveGrpcMetadata(value: unknown, field: string): Map<string, string> {
  const headers = new Map<string, string>();
  if (value === undefined) return headers;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(field, `expected an object of metadata names to string values, got ${kindOf(value)}`);
  }
  for (const [name, headerValue] of Object.entries(value)) {
    // Values never go into messages; only their type does.
    if (typeof headerValue !== 'string')
      throw new ConfigError(`${field}.${name}`, `expected a string, got ${typeof headerValue}`);
    const key = name.toLowerCase();
    if (!METADATA_NAME.test(key)) {
      throw new ConfigError(`${field}.${name}`, 'not a valid gRPC metadata name (letters, digits, -, _ and .)');
    }
    if (key.endsWith('-bin')) throw new ConfigError(`${field}.${name}`, 'binary (-bin) metadata is not supported');
    if (key.startsWith('grpc-') || RESERVED_HEADERS.has(key)) {
      throw new ConfigError(`${field}.${name}`, 'this header is set by the transport and cannot be given');
    }
    if (!METADATA_VALUE.test(headerValue)) {
      throw new ConfigError(`${field}.${name}`, 'the value has characters not allowed in gRPC metadata');
    }
    if (headers.has(key)) throw new ConfigError(`${field}.${name}`, 'given twice (names are case-insensitive)');
    headers.set(key, headerValue);
  }
  return headers;
}
