// `forwarder.sink`: a custom Sink object passed through, or a built-in sink's options. Code wins, then the
// OTEL_KAFKA_FORWARDER_SINK_* variables fill what code leaves unset, then each sink's own resolver checks
// the result and applies its defaults: the sinks own their options, this file only layers the environment.
import { ConfigError } from '../errors/errors';
import type { ResolvedSinkConfig } from '../sinks/create-sink';
import { resolveJaegerThriftHttpSinkOptions } from '../sinks/jaeger-thrift-http-sink-options';
import { resolveOtlpGrpcSinkOptions } from '../sinks/otlp-grpc-sink-options';
import { resolveOtlpHttpSinkOptions } from '../sinks/otlp-http-sink-options';
import type { Sink } from '../sinks/sink';
import { ENV, headerList, oneOf, positiveMillis } from './env';
import type { EnvReader } from './env';
import { describe, isObject } from './validators';

const SINK = 'forwarder.sink';
const SINK_TYPES = ['otlp-http', 'otlp-grpc', 'jaeger-thrift-http'] as const;
type SinkType = (typeof SINK_TYPES)[number];
const SINK_COMPRESSIONS = ['none', 'gzip'] as const;

/** Each built-in sink's resolver: its options checked, with field paths under `prefix`, and completed. */
const RESOLVERS = {
  'otlp-http': resolveOtlpHttpSinkOptions,
  'otlp-grpc': resolveOtlpGrpcSinkOptions,
  'jaeger-thrift-http': resolveJaegerThriftHttpSinkOptions,
} as const satisfies Record<SinkType, (options: unknown, prefix: string) => object>;

/** The resolved `forwarder.sink`; `e` reads the environment. */
export function resolveSinkConfig(sink: unknown, e: EnvReader): ResolvedSinkConfig {
  if (sink === undefined) return builtInSink(e.read(ENV.forwarderSinkType, oneOf(SINK_TYPES)) ?? 'otlp-http', {}, e);
  if (!isObject(sink)) throw new ConfigError(SINK, `expected a sink config or a Sink, got ${describe(sink)}`);
  if (typeof sink.send === 'function') {
    if (typeof sink.close !== 'function') throw new ConfigError(SINK, 'a Sink needs send() and close()');
    if (typeof sink.name !== 'string') throw new ConfigError(SINK, 'a Sink needs a name');
    return { type: 'custom', sink: sink as unknown as Sink };
  }
  const type = sink.type;
  if (!(SINK_TYPES as readonly unknown[]).includes(type)) {
    throw new ConfigError(
      `${SINK}.type`,
      `expected 'otlp-http', 'otlp-grpc', 'jaeger-thrift-http' or a Sink object, got ${describe(type)}`,
    );
  }
  return builtInSink(type as SinkType, sink, e);
}

/**
 * A built-in sink's options: each of `url`, `headers`, `timeoutMillis` and `compression` is
 * `code ?? environment`, then the sink's resolver checks them all and applies its defaults. An environment
 * value the sink would refuse is warned about and ignored, never thrown.
 */
function builtInSink(type: SinkType, o: Record<string, unknown>, e: EnvReader): ResolvedSinkConfig {
  const { type: _type, ...code } = o;
  const problem = (field: string, value: unknown): string | undefined => problemOf(type, field, value);
  const fromEnv: Record<string, unknown> = {};
  if (code.url === undefined) {
    fromEnv.url = e.read(ENV.forwarderSinkUrl, (raw) => {
      const p = problem('url', raw);
      return p === undefined ? { value: raw } : { error: `not usable by the ${type} sink: ${p}` };
    });
  }
  if (code.headers === undefined) {
    fromEnv.headers = e.read(
      ENV.forwarderSinkHeaders,
      headerList((name, value) => problem('headers', { [name]: value })),
    );
  }
  if (code.timeoutMillis === undefined) fromEnv.timeoutMillis = e.read(ENV.forwarderSinkTimeout, positiveMillis);
  if (type === 'jaeger-thrift-http') {
    e.ignoreIfSet(ENV.forwarderSinkCompression, 'the jaeger-thrift-http sink does not compress');
  } else if (code.compression === undefined) {
    fromEnv.compression = e.read(ENV.forwarderSinkCompression, oneOf(SINK_COMPRESSIONS));
  }
  // code ?? environment, key by key: a key present with the value undefined (`url: process.env.X` with X unset)
  // does not hide the environment's value.
  const merged: Record<string, unknown> = { ...code };
  for (const [key, value] of Object.entries(fromEnv)) if (merged[key] === undefined) merged[key] = value;
  switch (type) {
    case 'otlp-http':
      return { type, ...resolveOtlpHttpSinkOptions(merged, SINK) };
    case 'otlp-grpc':
      return { type, ...resolveOtlpGrpcSinkOptions(merged, SINK) };
    case 'jaeger-thrift-http':
      return { type, ...resolveJaegerThriftHttpSinkOptions(merged, SINK) };
  }
}

/** Why `type`'s sink refuses `value` as its option `field` (the sink's own check), or undefined. */
function problemOf(type: SinkType, field: string, value: unknown): string | undefined {
  try {
    RESOLVERS[type]({ [field]: value }, SINK);
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The reason only: the field path (a header's name, say) is the caller's to give.
    return err.message.slice(`invalid config ${err.field}: `.length);
  }
}
