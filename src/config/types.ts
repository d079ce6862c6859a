import type { MeterProvider } from '@opentelemetry/api';

import type { Logger } from '../logging/logger';
import type { ExponentialBackoffOptions } from '../retry/exponential-backoff';
import type { RetryPolicy } from '../retry/retry-policy';
import type { SpanSerializer } from '../serializers/span-serializer';
import type { JaegerThriftHttpSinkOptions } from '../sinks/jaeger-thrift-http-sink-options';
import type { OtlpGrpcSinkOptions } from '../sinks/otlp-grpc-sink-options';
import type { OtlpHttpSinkOptions } from '../sinks/otlp-http-sink-options';
import type { Sink } from '../sinks/sink';

/** Compression codec of produced messages (librdkafka `compression.codec`). */
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Kafka security protocol (librdkafka `security.protocol`). */
export type SecurityProtocol = 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';

/** SASL mechanism (librdkafka `sasl.mechanisms`). */
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** The name of a built-in serializer. */
export type SerializerName = 'otlp_proto' | 'otlp_json';

/** What one message of {@link otel-kafka-jaeger!KafkaSpanExporter} holds; see {@link otel-kafka-jaeger!ExporterOptions.messagePer}. */
export type MessagePer = 'partition' | 'trace' | 'batch';

/** A librdkafka property value passed through unchanged. */
export type RdKafkaValue = string | number | boolean;

/** TLS settings for the Kafka connection. */
export interface KafkaTlsOptions {
  /**
   * Path of a PEM file of CA certificates to trust (librdkafka `ssl.ca.location`).
   * @defaultValue env `OTEL_KAFKA_CERTIFICATE` (or `OTEL_EXPORTER_KAFKA_CERTIFICATE`), else the system's trust store
   */
  caFile?: string;
  /**
   * Path of the client certificate (PEM) for mutual TLS (librdkafka `ssl.certificate.location`).
   * @defaultValue env `OTEL_KAFKA_CLIENT_CERTIFICATE` (or `OTEL_EXPORTER_KAFKA_CLIENT_CERTIFICATE`), else none
   */
  certFile?: string;
  /**
   * Path of the client private key (PEM) for mutual TLS (librdkafka `ssl.key.location`).
   * @defaultValue env `OTEL_KAFKA_CLIENT_KEY` (or `OTEL_EXPORTER_KAFKA_CLIENT_KEY`), else none
   */
  keyFile?: string;
  /**
   * Password of the client private key. Never logged.
   * @defaultValue none
   */
  keyPassword?: string;
  /**
   * Verify the broker's certificate (librdkafka `enable.ssl.certificate.verification`).
   * @defaultValue `true`
   */
  rejectUnauthorized?: boolean;
}

/** SASL authentication. */
export interface KafkaSaslOptions {
  /**
   * The mechanism, in any case (`'SCRAM-SHA-512'` as librdkafka and KafkaJS users write it).
   * @defaultValue env `OTEL_KAFKA_SASL_MECHANISM` (or `OTEL_EXPORTER_KAFKA_SASL_MECHANISM`), else `plain`
   */
  mechanism?: SaslMechanism | Uppercase<SaslMechanism>;
  /**
   * User name.
   * @defaultValue env `OTEL_KAFKA_SASL_USERNAME` (or `OTEL_EXPORTER_KAFKA_SASL_USERNAME`)
   */
  username?: string;
  /**
   * Password. Never logged or put into an error message.
   * @defaultValue env `OTEL_KAFKA_SASL_PASSWORD` (or `OTEL_EXPORTER_KAFKA_SASL_PASSWORD`)
   */
  password?: string;
}

/** How to reach Kafka; shared by the exporter and the forwarder. */
export interface KafkaOptions {
  /**
   * Bootstrap brokers, `host:port` each. Required: in code or in the environment.
   * @defaultValue env `OTEL_KAFKA_BROKERS` (or `OTEL_EXPORTER_KAFKA_BROKERS`), comma-separated; no default
   */
  brokers?: string[];
  /**
   * The topic spans are written to and read from.
   * @defaultValue env `OTEL_KAFKA_TOPIC` (or `OTEL_EXPORTER_KAFKA_TOPIC`), else `otlp_spans` (the OTel
   * Collector's default)
   */
  topic?: string;
  /**
   * Client id reported to the brokers.
   * @defaultValue env `OTEL_KAFKA_CLIENT_ID` (or `OTEL_EXPORTER_KAFKA_CLIENT_ID`), else `otel-kafka-jaeger`
   */
  clientId?: string;
  /**
   * How long connecting to Kafka may take before it fails: the exporter's producer (its exports time out by
   * `exporter.timeoutMillis` meanwhile, and the next export tries again), the forwarder's `start()`, and the
   * consumers of `replay` and the CLI. The wait is made of attempts of 1, 2 and then 4 s at most, so a
   * `shutdown()` / `stop()` abandons a pending connect and the process can exit within 4 s.
   * @defaultValue env `OTEL_KAFKA_CONNECT_TIMEOUT` (milliseconds), else `10000`
   */
  connectTimeoutMillis?: number;
  /**
   * Security protocol.
   * @defaultValue env `OTEL_KAFKA_SECURITY_PROTOCOL` (or `OTEL_EXPORTER_KAFKA_SECURITY_PROTOCOL`), else
   * derived: `sasl_ssl` with `sasl` and `ssl`, `sasl_plaintext` with `sasl` only, `ssl` with `ssl` only,
   * otherwise `plaintext`
   */
  securityProtocol?: SecurityProtocol;
  /**
   * TLS: `true` for TLS with the system's trust store, or the details.
   * @defaultValue `false` (unless the TLS environment variables are set)
   */
  ssl?: boolean | KafkaTlsOptions;
  /** Another name for {@link KafkaOptions.ssl} (set one of them, not both). */
  tls?: boolean | KafkaTlsOptions;
  /**
   * SASL authentication. Set in code, it needs a username and a password (in code or in the environment).
   * From the environment alone, SASL is used only when both `OTEL_KAFKA_SASL_USERNAME` and
   * `OTEL_KAFKA_SASL_PASSWORD` (or their earlier names `OTEL_EXPORTER_KAFKA_SASL_*`) are set (and the
   * mechanism, if set, is valid); an incomplete set is logged as a warning and ignored.
   * @defaultValue none (unless the SASL environment variables are set)
   */
  sasl?: KafkaSaslOptions;
  /**
   * Any librdkafka property, passed through as is and applied last, e.g. `{ 'socket.keepalive.enable': true }`.
   * Values of properties whose name mentions a password or secret are never logged.
   *
   * The exporter checks them when it is constructed: an unknown property or invalid value throws a
   * {@link ConfigError} naming `kafka.rdkafka['<property>']`, and so does an override librdkafka would refuse
   * with the idempotent producer (`acks` other than `all`/`-1`, `max.in.flight` above 5, `retries` 0,
   * unless `enable.idempotence` is `false` too). Overrides that weaken delivery (`enable.idempotence: false`,
   * `acks` 0 or 1, a `message.timeout.ms` beyond the export timeout) are logged as warnings.
   * `message.max.bytes` must be at least 4096; a value below `exporter.maxMessageBytes` lowers the split limit.
   * @defaultValue `{}`
   */
  rdkafka?: Record<string, RdKafkaValue>;
}

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

/** What the forwarder does with a record that can never be delivered (undecodable, HTTP 400, ...). */
export type OnUndeliverable = 'dead-letter' | 'block' | 'drop';

/**
 * The built-in OTLP/HTTP sink in `forwarder.sink`: Jaeger v2's (or any OTLP receiver's) `/v1/traces`. Its
 * options are {@link OtlpHttpSinkOptions}; unset ones come from the `OTEL_KAFKA_FORWARDER_SINK_*` variables.
 */
export interface OtlpHttpSinkConfig extends OtlpHttpSinkOptions {
  /**
   * Selects this sink.
   * @defaultValue none: required (an absent `forwarder.sink` means this sink with its defaults)
   */
  type: 'otlp-http';
}

/**
 * The built-in OTLP/gRPC sink in `forwarder.sink`: `TraceService/Export` on Jaeger v2's (or any OTLP
 * receiver's) gRPC port. Its options are {@link OtlpGrpcSinkOptions}; unset ones come from the
 * `OTEL_KAFKA_FORWARDER_SINK_*` variables.
 */
export interface OtlpGrpcSinkConfig extends OtlpGrpcSinkOptions {
  /**
   * Selects this sink.
   * @defaultValue none: required
   */
  type: 'otlp-grpc';
}

/**
 * The built-in Jaeger Thrift sink in `forwarder.sink`: a Jaeger collector's `/api/traces` (Thrift binary over
 * HTTP). Its options are {@link JaegerThriftHttpSinkOptions}; unset ones come from the
 * `OTEL_KAFKA_FORWARDER_SINK_*` variables (but compression, which it does not do).
 */
export interface JaegerThriftHttpSinkConfig extends JaegerThriftHttpSinkOptions {
  /**
   * Selects this sink.
   * @defaultValue none: required
   */
  type: 'jaeger-thrift-http';
}

/** The dead-letter topic for records that can never be delivered. */
export interface DeadLetterOptions {
  /**
   * The topic. Dead letters keep their original key, value and headers, plus provenance headers.
   * @defaultValue env `OTEL_KAFKA_FORWARDER_DEAD_LETTER_TOPIC`, else `<kafka.topic>.dlq`
   */
  topic?: string;
  /**
   * Same as {@link ForwarderOptions.onUndeliverable}; either place may set it.
   * @defaultValue `dead-letter`
   */
  onUndeliverable?: OnUndeliverable;
}

/** How records are batched into sink requests. */
export interface ForwarderBatchOptions {
  /**
   * Most records in one sink request.
   * @defaultValue `2000`
   */
  maxRecords?: number;
  /**
   * Most value bytes in one sink request.
   * @defaultValue `4194304` (4 MiB)
   */
  maxBytes?: number;
  /**
   * How long a record may wait for more to fill its batch.
   * @defaultValue `20`
   */
  lingerMillis?: number;
}

/** Options of {@link KafkaToJaegerForwarder}. */
export interface ForwarderOptions {
  /**
   * Consumer group id. A new group starts from the earliest offset.
   * @defaultValue env `OTEL_KAFKA_FORWARDER_GROUP_ID`, else `otel-kafka-jaeger`
   */
  groupId?: string;
  /**
   * Where spans go: a built-in sink's config or your own {@link Sink}.
   * @defaultValue the built-in sink env `OTEL_KAFKA_FORWARDER_SINK_TYPE` names, else
   * `{ type: 'otlp-http', url: 'http://localhost:4318/v1/traces' }`
   */
  sink?: OtlpHttpSinkConfig | OtlpGrpcSinkConfig | JaegerThriftHttpSinkConfig | Sink;
  /**
   * The dead-letter topic.
   * @defaultValue `{ topic: '<kafka.topic>.dlq' }`
   */
  deadLetter?: DeadLetterOptions;
  /**
   * What happens to a record that can never be delivered: written to the dead-letter topic (then
   * committed past), `block` (its partition stops and retries it until an operator steps in), or `drop`
   * (committed past, counted, logged; must be chosen explicitly).
   * @defaultValue `dead-letter`
   */
  onUndeliverable?: OnUndeliverable;
  /**
   * Batching of records into sink requests.
   * @defaultValue `{ maxRecords: 2000, maxBytes: 4194304, lingerMillis: 20 }`
   */
  batch?: ForwarderBatchOptions;
  /**
   * Sink requests in flight at once.
   * @defaultValue `2`
   */
  maxInFlightRequests?: number;
  /**
   * Bound on record bytes fetched and not yet delivered; above it, partitions are paused.
   * @defaultValue `67108864` (64 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * How often accepted offsets are committed (also on revoke and on stop).
   * @defaultValue `1000`
   */
  commitIntervalMillis?: number;
  /**
   * How long `stop()` drains in-flight work before it gives up, commits what was accepted, and leaves.
   * @defaultValue `10000`
   */
  stopTimeoutMillis?: number;
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
