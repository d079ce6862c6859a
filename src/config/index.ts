/**
 * Advanced configuration pieces: {@link resolveConfig} and the resolved configuration it returns, the
 * environment variable names, and the smaller option types. Import them from `otel-kafka-jaeger/config`;
 * the exporter, the forwarder, the sinks and the option objects they take are in `otel-kafka-jaeger`.
 *
 * @example
 * ```ts
 * import { ENV, resolveConfig } from 'otel-kafka-jaeger/config';
 *
 * const resolved = resolveConfig({ kafka: { brokers: ['127.0.0.1:9092'] } }, process.env);
 * console.log(resolved.forwarder.sink, `(set ${ENV.forwarderSinkUrl} to change the URL)`);
 * ```
 *
 * @packageDocumentation
 * @module otel-kafka-jaeger/config
 */
export { resolveConfig } from './resolve-config';
export type { ResolvedConfig } from './resolve-config';
export { ENV } from './env';
export type { ResolvedKafkaConfig, ResolvedSasl, ResolvedTls } from './kafka';
export type { ResolvedExporterConfig } from './exporter';
export type { ResolvedSpoolConfig } from './spool';
export type { ResolvedForwarderSettings } from './forwarder';
export type { ResolvedBackoffConfig, ResolvedCustomRetryConfig, ResolvedRetryConfig } from './retry';
export type {
  ResolvedCustomSinkConfig,
  ResolvedJaegerThriftHttpSinkConfig,
  ResolvedOtlpGrpcSinkConfig,
  ResolvedOtlpHttpSinkConfig,
  ResolvedSinkConfig,
} from '../sinks/create-sink';
export type { ResolvedJaegerThriftHttpSinkOptions } from '../sinks/jaeger-thrift-http-sink-options';
export type { ResolvedOtlpGrpcSinkOptions } from '../sinks/otlp-grpc-sink-options';
export type { ResolvedOtlpHttpSinkOptions } from '../sinks/otlp-http-sink-options';
export type {
  Compression,
  JaegerThriftHttpSinkConfig,
  MessagePer,
  OnUndeliverable,
  OtlpGrpcSinkConfig,
  OtlpHttpSinkConfig,
  RdKafkaValue,
  SaslMechanism,
  SecurityProtocol,
  SerializerName,
  SpoolFsync,
} from './types';
