/**
 * OpenTelemetry tracing that survives Jaeger outages: spans go through Apache Kafka, and a forwarder
 * commits an offset only after Jaeger accepted the data.
 *
 * @packageDocumentation
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
export type { OtlpHttpSinkOptions } from './sinks/otlp-http-sink';
export { otlpGrpcSink } from './sinks/otlp-grpc-sink';
export type { OtlpGrpcSinkOptions } from './sinks/otlp-grpc-sink';
export { jaegerThriftHttpSink } from './sinks/jaeger-thrift-http-sink';
export type { JaegerThriftHttpSinkOptions } from './sinks/jaeger-thrift-http-sink';

export type {
  Compression,
  DeadLetterOptions,
  ExporterOptions,
  ForwarderBatchOptions,
  ForwarderOptions,
  OnUndeliverable,
  JaegerThriftHttpSinkConfig,
  OtlpGrpcSinkConfig,
  OtlpHttpSinkConfig,
  KafkaOptions,
  KafkaSaslOptions,
  KafkaTlsOptions,
  MessagePer,
  OtelKafkaJaegerConfig,
  RdKafkaValue,
  SaslMechanism,
  SecurityProtocol,
  SerializerName,
  SpoolFsync,
  SpoolOptions,
} from './config/types';
export { ENV } from './config/env';
export { resolveConfig } from './config/resolve-config';
export type {
  ResolvedBackoffConfig,
  ResolvedConfig,
  ResolvedCustomRetryConfig,
  ResolvedCustomSinkConfig,
  ResolvedExporterConfig,
  ResolvedForwarderSettings,
  ResolvedJaegerThriftHttpSinkConfig,
  ResolvedKafkaConfig,
  ResolvedOtlpGrpcSinkConfig,
  ResolvedOtlpHttpSinkConfig,
  ResolvedRetryConfig,
  ResolvedSasl,
  ResolvedSinkConfig,
  ResolvedSpoolConfig,
  ResolvedTls,
} from './config/resolve-config';

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
export {
  OTLP_JSON_CONTENT_TYPE,
  OTLP_PROTO_CONTENT_TYPE,
  otlpJsonSerializer,
  otlpProtoSerializer,
} from './serializers/otlp-serializers';
export type { OtlpProtoEncoder, OtlpProtoSerializerOptions } from './serializers/otlp-serializers';

export type { RetryDecision, RetryPolicy, RetryState } from './retry/retry-policy';
export type { ExponentialBackoffOptions } from './retry/exponential-backoff';
export type { FixedDelayOptions } from './retry/fixed-delay';
export type { RetryInfo, RetryOptions } from './retry/retry';
export { exponentialBackoff } from './retry/exponential-backoff';
export { fixedDelay } from './retry/fixed-delay';
export { noRetry } from './retry/no-retry';
export { retry } from './retry/retry';
export { sleep } from './retry/sleep';

export type { Logger } from './logging/logger';
