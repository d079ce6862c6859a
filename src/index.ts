/**
 * OpenTelemetry tracing that survives Jaeger outages: spans go through Apache Kafka, and a forwarder
 * commits an offset only after Jaeger accepted the data.
 *
 * What the exporter, the forwarder, a custom sink and a custom retry policy need is here; `resolveConfig`, the
 * resolved configuration types, the environment variable names (`ENV`) and the smaller option types are in
 * `otel-kafka-jaeger/config`.
 *
 * @packageDocumentation
 * @module otel-kafka-jaeger
 */
export { VERSION } from './version';

export { KafkaSpanExporter } from './exporter/kafka-span-exporter';
export { KafkaToJaegerForwarder } from './forwarder/kafka-to-jaeger-forwarder';
export type {
  ForwarderHealth,
  PartitionError,
  PartitionHealth,
  PauseReason,
} from './forwarder/kafka-to-jaeger-forwarder';
export { DEAD_LETTER_HEADERS } from './forwarder/dead-letter';
export type { ReplayBound, ReplayOptions, ReplayProgress, ReplayRange, ReplayResult } from './forwarder/replay';

export type { Sink, SinkRecord, SinkResult, SinkSendOptions } from './sinks/sink';
export { otlpHttpSink } from './sinks/otlp-http-sink';
export type { OtlpHttpSinkOptions } from './sinks/otlp-http-sink-options';
export { otlpGrpcSink } from './sinks/otlp-grpc-sink';
export type { OtlpGrpcSinkOptions } from './sinks/otlp-grpc-sink-options';
export { jaegerThriftHttpSink } from './sinks/jaeger-thrift-http-sink';
export type { JaegerThriftHttpSinkOptions } from './sinks/jaeger-thrift-http-sink-options';

export type {
  DeadLetterOptions,
  ExporterOptions,
  ForwarderBatchOptions,
  ForwarderOptions,
  KafkaOptions,
  KafkaSaslOptions,
  KafkaTlsOptions,
  OtelKafkaJaegerConfig,
  SpoolOptions,
} from './config/types';

export {
  ConfigError,
  MessageTooLargeError,
  OtelKafkaJaegerError,
  ProduceError,
  RetriesExhaustedError,
  SerializationError,
  ShutdownError,
  SinkError,
  SpoolError,
  TimeoutError,
  isRetriable,
} from './errors/errors';
export type { ErrorCode, OtelKafkaJaegerErrorOptions, ProduceErrorOptions, SinkErrorOptions } from './errors/errors';

export type { SpanSerializer } from './serializers/span-serializer';
export { otlpJsonSerializer, otlpProtoSerializer } from './serializers/otlp-serializers';
export type { OtlpProtoEncoder, OtlpProtoSerializerOptions } from './serializers/otlp-serializers';

export type { RetryDecision, RetryPolicy, RetryState } from './retry/retry-policy';
export type { ExponentialBackoffOptions } from './retry/exponential-backoff';
export type { FixedDelayOptions } from './retry/fixed-delay';
export { exponentialBackoff } from './retry/exponential-backoff';
export { fixedDelay } from './retry/fixed-delay';
export { noRetry } from './retry/no-retry';

export type { Logger } from './logging/logger';
