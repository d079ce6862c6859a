// Creating the sink `forwarder.sink` resolved to. Config resolution only describes a sink as data (it creates
// nothing); the forwarder and the CLI create it here.
import type { ResolvedJaegerThriftHttpSinkOptions } from './jaeger-thrift-http-sink-options';
import { jaegerThriftHttpSink } from './jaeger-thrift-http-sink';
import type { ResolvedOtlpGrpcSinkOptions } from './otlp-grpc-sink-options';
import { otlpGrpcSink } from './otlp-grpc-sink';
import type { ResolvedOtlpHttpSinkOptions } from './otlp-http-sink-options';
import { otlpHttpSink } from './otlp-http-sink';
import type { Sink } from './sink';

/** The resolved options of the built-in OTLP/HTTP sink, tagged with its type. */
export interface ResolvedOtlpHttpSinkConfig extends ResolvedOtlpHttpSinkOptions {
  /** Selects this sink. */
  type: 'otlp-http';
}

/** The resolved options of the built-in OTLP/gRPC sink, tagged with its type. */
export interface ResolvedOtlpGrpcSinkConfig extends ResolvedOtlpGrpcSinkOptions {
  /** Selects this sink. */
  type: 'otlp-grpc';
}

/** The resolved options of the built-in Jaeger Thrift sink, tagged with its type. */
export interface ResolvedJaegerThriftHttpSinkConfig extends ResolvedJaegerThriftHttpSinkOptions {
  /** Selects this sink. */
  type: 'jaeger-thrift-http';
}

/** A {@link Sink} object given in `forwarder.sink`, passed through unchanged. */
export interface ResolvedCustomSinkConfig {
  /** Marks a sink given as an object. */
  type: 'custom';
  /** The sink object from the configuration (not created, not called by config resolution). */
  sink: Sink;
}

/**
 * The resolved `forwarder.sink`: a built-in sink's type and complete options (no sink is created), or the
 * custom {@link Sink} object as given.
 */
export type ResolvedSinkConfig =
  | ResolvedOtlpHttpSinkConfig
  | ResolvedOtlpGrpcSinkConfig
  | ResolvedJaegerThriftHttpSinkConfig
  | ResolvedCustomSinkConfig;

/** The config path the built-in sinks' errors name. */
const SINK_FIELD = 'forwarder.sink';

/** Creates the sink the resolved config describes (a custom sink is returned as is). */
export function createSink(sink: ResolvedSinkConfig): Sink {
  switch (sink.type) {
    case 'custom':
      return sink.sink;
    case 'otlp-http': {
      const { type: _type, ...options } = sink;
      return otlpHttpSink(options, SINK_FIELD);
    }
    case 'otlp-grpc': {
      const { type: _type, ...options } = sink;
      return otlpGrpcSink(options, SINK_FIELD);
    }
    case 'jaeger-thrift-http': {
      const { type: _type, ...options } = sink;
      return jaegerThriftHttpSink(options, SINK_FIELD);
    }
  }
}
