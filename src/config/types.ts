// The configuration object and the exporter's option types; the `kafka` and `forwarder` sections' types are in
// kafka-options.ts and forwarder-options.ts (re-exported here).
import type { MeterProvider } from '@opentelemetry/api';

import type { Logger } from '../logging/logger';
import type { ExponentialBackoffOptions } from '../retry/exponential-backoff';
import type { RetryPolicy } from '../retry/retry-policy';
import type { SpanSerializer } from '../serializers/span-serializer';
import type { ForwarderOptions } from './forwarder-options';
import type { KafkaOptions } from './kafka-options';

export type {
  DeadLetterOptions,
  ForwarderBatchOptions,
  ForwarderOptions,
  JaegerThriftHttpSinkConfig,
  OnUndeliverable,
  OtlpGrpcSinkConfig,
  OtlpHttpSinkConfig,
} from './forwarder-options';
export type {
  KafkaOptions,
  KafkaSaslOptions,
  KafkaTlsOptions,
  RdKafkaValue,
  SaslMechanism,
  SecurityProtocol,
} from './kafka-options';

/** Compression codec of produced messages (librdkafka `compression.codec`). */
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** The name of a built-in serializer. */
export type SerializerName = 'otlp_proto' | 'otlp_json';

/**
 * What one message of {@link otel-kafka-jaeger!KafkaSpanExporter} holds; see
 * {@link otel-kafka-jaeger!ExporterOptions.messagePer}.
 */
export type MessagePer = 'partition' | 'trace' | 'batch';

/** Options of {@link KafkaSpanExporter}. */
export interface ExporterOptions {
  /**
   * How long one `export()` may take before it reports FAILED; also bounds librdkafka's
   * `message.timeout.ms`, so a message not acknowledged by then is failed, not retried behind our back.
   * @defaultValue env `OTEL_EXPORTER_KAFKA_TIMEOUT` (milliseconds), else `10000`
   */
  timeoutMillis?: number;
  /**
   * What one Kafka message holds. Every choice keeps all spans of a trace in one partition, except `'batch'`.
   *
   * - `'partition'`: the spans of an export whose trace ids map to the same partition, produced to that
   *   partition (split by size as needed). The partition is the one a message keyed by the trace id would go
   *   to, computed with the producer's partitioner (librdkafka `partitioner`, default `consistent_random`)
   *   and the topic's partition count, so exporters of every service and of either mode agree. A few
   *   messages per export instead of one per trace: far less CPU and latency. Until the topic's partitions
   *   are known (the first exports after connecting), messages are per trace, which lands them in the same
   *   partitions. The partition count is re-read every `topic.metadata.refresh.interval.ms` (from
   *   `kafka.rdkafka`, else 30 s); a partition without a leader gets its groups' spans on the next one that
   *   has a leader (affinity given up to keep the spans). Trade-off: a message the consumer cannot deliver
   *   is dead-lettered with every span it holds, of several traces.
   * - `'trace'`: one message per trace, keyed by the trace id (hex).
   * - `'batch'`: one message per export, unkeyed: spans of a trace may land in different partitions.
   *
   * @defaultValue env `OTEL_EXPORTER_KAFKA_MESSAGE_PER`, else `exporter.partitionByTraceId` when set, else
   * `'partition'`
   */
  messagePer?: MessagePer;
  /**
   * @deprecated Use `messagePer`: `true` is `'trace'`, `false` is `'batch'`. Read only when `messagePer` is
   * not set.
   * @defaultValue env `OTEL_EXPORTER_KAFKA_PARTITION_BY_TRACE_ID`
   */
  partitionByTraceId?: boolean;
  /**
   * Compression codec.
   * @defaultValue env `OTEL_EXPORTER_KAFKA_COMPRESSION`, else `none`
   */
  compression?: Compression;
  /**
   * The largest message the producer sends (librdkafka `message.max.bytes`), from 4096 to 1000000000;
   * larger messages are split by resource, scope, then spans, leaving room for the key and headers. A lower
   * `kafka.rdkafka['message.max.bytes']` wins. Keep it at or below the topic's `max.message.bytes`.
   * @defaultValue `1000000`
   */
  maxMessageBytes?: number;
  /**
   * How long the producer waits to fill a batch (librdkafka `linger.ms`). A BatchSpanProcessor runs one
   * export at a time and waits for its acknowledgement, so any linger is paid on every export: 0 measured
   * 1.2–1.4× the spans/s of 5 ms at the same CPU (BENCHMARKS.md).
   * @defaultValue `0`
   */
  lingerMillis?: number;
  /**
   * Bound on bytes waiting in the producer's queue (librdkafka `queue.buffering.max.kbytes`). While Kafka is
   * unreachable memory stays below it; exports beyond it fail at once and are counted.
   * @defaultValue `67108864` (64 MiB)
   */
  maxQueueBytes?: number;
  /**
   * A durable spool on local disk for messages Kafka cannot acknowledge (off unless set). One line turns it
   * on: `spool: { directory: '/var/lib/my-service/spans' }`.
   *
   * @remarks
   * When a produce fails (broker unreachable, timeout, queue full, too few in-sync replicas, a fatal producer
   * error), the export's messages are appended to the spool instead and the export reports SUCCESS once they
   * are durable there. Until Kafka answers again, later exports go to the spool at once (no timeout to wait).
   * A background drainer produces spooled messages, oldest first, each to its original partition with its
   * key and headers, paced to `drainBytesPerSecond`, and deletes a segment file only after Kafka
   * acknowledged every message in it. A process killed meanwhile finds its spool at the next start and
   * drains it. Delivery stays at-least-once: a message whose acknowledgement was lost may be delivered twice.
   * When Kafka is healthy the spool is never written. See also {@link SpoolOptions}.
   *
   * @defaultValue env `OTEL_EXPORTER_KAFKA_SPOOL_DIRECTORY` (turns the spool on with that directory and the
   * other defaults), else off
   */
  spool?: SpoolOptions;
}

/** When spooled data is forced to the disk; see {@link SpoolOptions.fsync}. */
export type SpoolFsync = 'batch' | 'never';

/** Options of the exporter's durable spool ({@link ExporterOptions.spool}). */
export interface SpoolOptions {
  /**
   * The directory of the spool's segment files, created if missing. One process per directory: a second
   * exporter on it (in any process, while the first lives) fails at construction with a `SpoolError`
   * (`SPOOL_LOCKED`) naming the holder's pid.
   * @defaultValue none: required
   */
  directory: string;
  /**
   * Bound on the spool's size on disk. When it is reached, new spans are dropped (their export reports
   * FAILED, counted in `otel_kafka_jaeger.exporter.spool.spans.dropped`, with a warning at most once a
   * minute); what is spooled is never dropped to make room.
   * @defaultValue `268435456` (256 MiB)
   */
  maxBytes?: number;
  /**
   * `'batch'`: every export's messages are forced to the disk (`fdatasync`) before it reports SUCCESS; they
   * survive a power loss or kernel crash. `'never'`: written to the OS, which flushes them later; they
   * survive the process being killed, not the machine going down, and spooling costs no disk flush.
   * @defaultValue `'batch'`
   */
  fsync?: SpoolFsync;
  /**
   * Size at which a segment file is closed and a new one started; a segment is deleted once fully drained,
   * so this is also the granularity of the space given back while draining.
   * @defaultValue `16777216` (16 MiB), or `maxBytes / 4` when smaller
   */
  segmentBytes?: number;
  /**
   * Average bound on the message bytes the drainer produces per second, so a recovering broker is not
   * flooded and live exports sharing the producer are not starved.
   * @defaultValue `8388608` (8 MiB/s)
   */
  drainBytesPerSecond?: number;
}

/**
 * The one configuration object both {@link KafkaSpanExporter} and the forwarder take; each reads the parts
 * it needs.
 *
 * @remarks
 * Every field resolves as `code ?? environment ?? default`. A bad value in code throws a
 * {@link ConfigError} naming the field; a bad environment value is logged as a warning and ignored.
 *
 * @example
 * ```ts
 * const config: OtelKafkaJaegerConfig = {
 *   kafka: { brokers: ['127.0.0.1:9092'], topic: 'otlp_spans', clientId: 'checkout' },
 *   serializer: 'otlp_proto',
 *   exporter: { timeoutMillis: 10_000, compression: 'zstd' },
 * };
 * ```
 */
export interface OtelKafkaJaegerConfig {
  /**
   * How to reach Kafka. `kafka.brokers` is required, in code or in the environment.
   * @defaultValue `{}`: every field from the environment or its own default
   */
  kafka?: KafkaOptions;
  /**
   * How spans are encoded.
   * @defaultValue env `OTEL_EXPORTER_KAFKA_SERIALIZER` (`otlp_proto` or `otlp_json`), else `otlp_proto`
   */
  serializer?: SerializerName | SpanSerializer;
  /**
   * How failed sink requests are retried (the forwarder): backoff options or a policy object.
   * @defaultValue `exponentialBackoff()`: 100 ms doubling to 30 s, jitter 0.2, forever
   */
  retry?: ExponentialBackoffOptions | RetryPolicy;
  /**
   * Options of the exporter.
   * @defaultValue `{}`: every field from the environment or its own default
   */
  exporter?: ExporterOptions;
  /**
   * Options of the forwarder.
   * @defaultValue `{}`: every field from the environment or its own default
   */
  forwarder?: ForwarderOptions;
  /**
   * Where self-metrics go.
   * @defaultValue the global MeterProvider (`metrics.getMeterProvider()` of `@opentelemetry/api`), as
   * OpenTelemetry's instrumentations use; no-op while the application registers none
   * @remarks
   * The global provider may be registered after the exporter or forwarder was created (a NodeSDK started
   * later): the metrics go to it from then on. Each instrument binds at its first recording once a real
   * provider is there; the observable ones (gauges such as `consumer.lag`) within a second. The first real
   * provider found is kept. A `meterProvider` given here is used instead of the global one.
   */
  meterProvider?: MeterProvider;
  /**
   * Where log lines go.
   * @defaultValue OpenTelemetry's `diag` (silent unless the application set a DiagLogger)
   */
  logger?: Logger;
}
