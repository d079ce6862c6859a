// What the orchestrator (run.ts) and one contender process (contender.ts) exchange: the spec goes in as the
// contender's only argument (JSON), progress and the result come back as prefixed lines on its stdout.
import type { Compression } from '../../src/config/types';

/** The exporter under test. */
export type ContenderKind = 'noop' | 'serializer' | 'kafka' | 'otlp-http';

export interface ContenderSpec {
  kind: ContenderKind;
  /** Spans created and measured (a multiple of the trace size). */
  spans: number;
  /** Spans pushed through the same pipeline before measuring (JIT, connections, pools). */
  warmupSpans: number;
  /** BatchSpanProcessor settings, identical for every contender. */
  maxExportBatchSize: number;
  maxQueueSize: number;
  scheduledDelayMillis: number;
  /** Traces created between two `await setImmediate()`. */
  chunkTraces: number;
  /**
   * The feeder pauses while more than this many created spans wait in the BSP's queue, so the BSP always has
   * a full batch when an export completes (it runs back to back) yet never approaches `maxQueueSize`.
   */
  queueBoundSpans: number;
  /** Fail when the pipeline makes no progress for this long. */
  stallTimeoutMillis: number;
  /** kafka: where to write. */
  brokers?: string[];
  topic?: string;
  /** kafka: exporter options under test; unset means the exporter's default. */
  lingerMillis?: number;
  compression?: Compression;
  partitionByTraceId?: boolean;
  messagePer?: 'partition' | 'trace' | 'batch';
  /** serializer: which OTLP protobuf encoder (default otlp-transformer's, the reference). */
  encoder?: 'fast' | 'otlp-transformer';
  /** kafka: `kafka.rdkafka` passthrough. */
  rdkafka?: Record<string, string | number | boolean>;
  /** kafka: turn the durable spool on (a fresh temporary directory, default options). */
  spool?: boolean;
  /** Spans per trace (default 5: a root and four children). */
  spansPerTrace?: number;
  /** otlp-http: the receiving server's URL. */
  url?: string;
}

/** What one contender process measured, from the first measured span until every export called back. */
export interface ContenderResult {
  kind: ContenderKind;
  created: number;
  /** Spans in exports that called back SUCCESS. */
  delivered: number;
  /** Spans in exports that called back FAILED, with the first error. */
  failed: number;
  firstError?: string;
  /** Spans the exporter was handed (delivered + failed + never called back). */
  handedOff: number;
  exports: number;
  /** Median time from an export call to its callback, ms (the BSP waits for it before the next export). */
  exportLatencyMillis: number;
  elapsedMillis: number;
  cpuUserMicros: number;
  cpuSystemMicros: number;
  /** Warm-up included: what the sink should hold in total. */
  createdTotal: number;
  deliveredTotal: number;
  /** serializer: bytes produced. */
  serializedBytes?: number;
  /** CPU µs of the window by thread group (`main`, `librdkafka`, `other`); Linux only, 10 ms resolution. */
  threadCpuMicros: Record<string, number>;
  /** Resident set size at the end, bytes. */
  rssBytes: number;
}

/** Printed by a contender right before its measured window starts (lets the orchestrator sample sink CPU). */
export const START_LINE = 'BENCH_START';
/** Prefix of the contender's result line: `BENCH_RESULT {json}`. */
export const RESULT_PREFIX = 'BENCH_RESULT ';
