// The whole configuration object resolved as plain data; each section's resolver is in its own file.
import { checkProducerOverrides } from '../kafka/producer-overrides';
import { configLogger } from '../logging/logger';
import { checkMeterProvider, resolveLogger, resolveSerializer } from './common';
import { EnvReader } from './env';
import { resolveExporterConfig } from './exporter';
import type { ResolvedExporterConfig } from './exporter';
import { resolveForwarderSettings } from './forwarder';
import type { ResolvedForwarderSettings } from './forwarder';
import { resolveKafkaConfig } from './kafka';
import type { ResolvedKafkaConfig } from './kafka';
import { resolveRetryConfig } from './retry';
import type { ResolvedRetryConfig } from './retry';
import type { OtelKafkaJaegerConfig, SerializerName } from './types';
import { checkRoot } from './validators';

/**
 * What {@link resolveConfig} returns: every section with `code ?? environment ?? default` applied, as plain
 * data.
 *
 * @remarks
 * It holds secrets as configured (SASL and TLS key passwords, sink headers, passthrough properties): do not
 * log it as a whole.
 */
export interface ResolvedConfig {
  /** The `kafka` section. */
  kafka: ResolvedKafkaConfig;
  /** The `exporter` section. */
  exporter: ResolvedExporterConfig;
  /** The `forwarder` section. */
  forwarder: ResolvedForwarderSettings;
  /** The `retry` option (used by the forwarder). */
  retry: ResolvedRetryConfig;
  /** The serializer: a built-in one's name, or `custom` for a {@link otel-kafka-jaeger!SpanSerializer} object. */
  serializer: SerializerName | 'custom';
}

/**
 * Applies `code ?? environment ?? default` to the whole configuration object and returns the result as plain
 * data, without creating anything: no producer, consumer or sink, no socket. The exporter and the forwarder
 * resolve their parts the same way.
 *
 * @remarks
 * A bad value in code throws a {@link otel-kafka-jaeger!ConfigError} naming the field and what is allowed; a bad environment
 * value is logged as a warning through `config.logger` (its value redacted when it may hold a secret) and
 * ignored. A built-in sink's options are checked by that sink's own rules (header names included), the same
 * check its factory makes. Checks that need the native Kafka client (unknown or invalid `kafka.rdkafka`
 * properties) run only when the exporter is constructed.
 *
 * The result holds secrets as configured: do not log it as a whole.
 *
 * @param config - The configuration object.
 * @param env - Where environment variables are read from.
 * @returns The resolved `kafka`, `exporter` and `forwarder` sections, the `retry` option and the serializer.
 * @throws {@link otel-kafka-jaeger!ConfigError} when a value in `config` is invalid.
 *
 * @example
 * ```ts
 * import { resolveConfig } from 'otel-kafka-jaeger/config';
 *
 * const resolved = resolveConfig({ kafka: { brokers: ['127.0.0.1:9092'] } }, process.env);
 * console.log(resolved.kafka.topic); // 'otlp_spans' unless OTEL_KAFKA_TOPIC says otherwise
 * console.log(resolved.forwarder.sink); // { type: 'otlp-http', url: 'http://localhost:4318/v1/traces', ... }
 * ```
 */
export function resolveConfig(config?: OtelKafkaJaegerConfig, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const root = checkRoot(config);
  const logger = resolveLogger(root.logger);
  checkMeterProvider(root.meterProvider);
  const serializer = resolveSerializer(root.serializer, new EnvReader(env, configLogger(logger)));
  const kafka = resolveKafkaConfig(root, env, logger);
  const exporter = resolveExporterConfig(root, env, logger);
  checkProducerOverrides(kafka, exporter, configLogger(logger));
  return {
    kafka,
    exporter,
    forwarder: resolveForwarderSettings(root, kafka.topic, env, logger),
    retry: resolveRetryConfig(root),
    serializer: serializer === undefined ? 'custom' : serializer,
  };
}
