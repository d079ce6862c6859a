// What the orchestrator (run.ts) and one forwarder process (forwarder-child.ts) exchange: the spec goes in as
// the child's only argument (JSON), progress and the result come back as prefixed lines on its stdout.

/** Where the forwarder under test delivers. */
export type SinkKind = 'otlp-http' | 'otlp-grpc' | 'jaeger-thrift' | 'discard';

/**
 * The forwarder's settings the benchmark varies, all options of its public config
 * (`forwarder.batch.{maxRecords,maxBytes,lingerMillis}`, `forwarder.maxInFlightRequests`,
 * `forwarder.maxBufferedBytes`, and one consumer property through `kafka.rdkafka`); unset means the default.
 */
export interface ForwarderSettings {
  maxRecords?: number;
  maxBytes?: number;
  lingerMillis?: number;
  maxInFlightRequests?: number;
  maxBufferedBytes?: number;
  /**
   * `kafka.rdkafka['js.consumer.max.cache.size.per.worker.ms']`: the KafkaJS-compatible consumer fetches enough
   * messages for this long of consumption per fetch (client default 1500 ms) and turns each fetch into JS
   * objects in one go, on the JS thread.
   */
  consumerCacheMillis?: number;
}

export interface ForwarderSpec {
  /**
   * `forwarder`: a KafkaToJaegerForwarder into `sink`. `consumer`: only the Kafka client the forwarder uses
   * (KafkaJS-compatible consumer, `eachBatch`, same batch size), discarding every batch and committing nothing:
   * the floor the client sets under the forwarder. `raw-consumer`: librdkafka's own consumer API instead.
   */
  mode: 'forwarder' | 'consumer' | 'raw-consumer';
  brokers: string[];
  topic: string;
  groupId: string;
  sink: SinkKind;
  /** The sink's endpoint (not for `discard`). */
  url?: string;
  settings: ForwarderSettings;
  /** Records on the topic: the run is over when the sink has accepted this many. */
  expectedRecords: number;
  /** Spans in every record of the topic. */
  spansPerRecord: number;
  /** Fail when the sink accepted nothing new for this long. */
  stallTimeoutMillis: number;
  /** Write a V8 CPU profile of the measured window (main thread) to this file. */
  cpuProfileFile?: string;
}

/** What the forwarder process measured, from `forwarder.start()` until the sink accepted every record. */
export interface ForwarderResult {
  sink: string;
  /** Records and spans the sink accepted. */
  acceptedRecords: number;
  acceptedSpans: number;
  requests: number;
  /** From calling `start()` until it resolved (connected and subscribed). */
  startMillis: number;
  /** From calling `start()` until the sink accepted its first request. */
  firstAcceptMillis: number;
  /** From calling `start()` until the sink accepted the last record. */
  elapsedMillis: number;
  cpuUserMicros: number;
  cpuSystemMicros: number;
  /** CPU µs of the window by thread group (`main`, `librdkafka`, `other`); 10 ms resolution. */
  threadCpuMicros: Record<string, number>;
  /**
   * Event-loop delay over the window (`monitorEventLoopDelay`, 10 ms resolution), ms: how long timers and I/O
   * callbacks (sink responses among them) waited for the JS thread.
   */
  eventLoopDelayMaxMillis: number;
  eventLoopDelayP99Millis: number;
  /** Warnings and errors the forwarder logged during the window. */
  warnings: number;
  firstWarning?: string;
  rssBytes: number;
}

/** Printed by the child right before it calls `forwarder.start()`. */
export const START_LINE = 'FWD_START';
/** Prefix of the result line: `FWD_RESULT {json}`, printed once the sink accepted every record. */
export const RESULT_PREFIX = 'FWD_RESULT ';
/** Prefix of the last line: `FWD_STOPPED {json}` (the forwarder's health after `stop()`). */
export const STOPPED_PREFIX = 'FWD_STOPPED ';
