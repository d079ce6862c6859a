import { EXPONENTIAL_BACKOFF_DEFAULTS } from '../retry/exponential-backoff';
import type { Compression, MessagePer, OnUndeliverable, SpoolFsync } from './types';

/**
 * The smallest `exporter.maxMessageBytes` (and passthrough `message.max.bytes`): every message keeps room for
 * its key, headers and record framing, and still has a few KiB for spans.
 */
export const MIN_MESSAGE_BYTES = 4096;
/** The largest `exporter.maxMessageBytes` (librdkafka's bound on `message.max.bytes`). */
export const MAX_MESSAGE_BYTES = 1_000_000_000;

/**
 * Defaults of every option but the built-in sinks' (each sink's options file holds its own), in one place (the
 * TSDoc `@defaultValue`s say the same).
 */
export const DEFAULTS = {
  topic: 'otlp_spans',
  clientId: 'otel-kafka-jaeger',
  connectTimeoutMillis: 10_000,
  exporter: {
    timeoutMillis: 10_000,
    messagePer: 'partition' as MessagePer,
    compression: 'none' as Compression,
    maxMessageBytes: 1_000_000,
    lingerMillis: 0,
    maxQueueBytes: 64 * 1024 * 1024,
  },
  /** `exporter.spool`'s, once it is on (it is off by default). */
  spool: {
    maxBytes: 256 * 1024 * 1024,
    fsync: 'batch' as SpoolFsync,
    segmentBytes: 16 * 1024 * 1024,
    drainBytesPerSecond: 8 * 1024 * 1024,
  },
  forwarder: {
    groupId: 'otel-kafka-jaeger',
    onUndeliverable: 'dead-letter' as OnUndeliverable,
    maxRecords: 2_000,
    maxBytes: 4 * 1024 * 1024,
    lingerMillis: 20,
    maxInFlightRequests: 2,
    maxBufferedBytes: 64 * 1024 * 1024,
    commitIntervalMillis: 1_000,
    stopTimeoutMillis: 10_000,
  },
  /** `exponentialBackoff()`'s defaults. */
  retry: EXPONENTIAL_BACKOFF_DEFAULTS,
} as const;
