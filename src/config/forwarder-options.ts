// The `forwarder` section's option types. The built-in sinks' options are the sinks' own
// (sinks/*-options.ts); the config adds only the `type` that selects one.
import type { JaegerThriftHttpSinkOptions } from '../sinks/jaeger-thrift-http-sink-options';
import type { OtlpGrpcSinkOptions } from '../sinks/otlp-grpc-sink-options';
import type { OtlpHttpSinkOptions } from '../sinks/otlp-http-sink-options';
import type { Sink } from '../sinks/sink';

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
