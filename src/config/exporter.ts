// The `exporter` section (its `spool` is spool.ts).
import { ConfigError } from '../errors/errors';
import { configLogger, diagLogger } from '../logging/logger';
import type { Logger } from '../logging/logger';
import { DEFAULTS, MAX_MESSAGE_BYTES, MIN_MESSAGE_BYTES } from './defaults';
import { booleanValue, ENV, EnvReader, oneOf, positiveMillis } from './env';
import { passthroughMessageMaxBytes } from './kafka';
import { resolveSpool } from './spool';
import type { ResolvedSpoolConfig } from './spool';
import type { Compression, MessagePer } from './types';
import { MAX_TIMER_MILLIS, checkBoolean, checkNumber, checkOneOf, checkRoot, checkSection } from './validators';

const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The resolved `exporter` section. */
export interface ResolvedExporterConfig {
  /** Time limit of one `export()`, in milliseconds. */
  timeoutMillis: number;
  /** What one message holds: the spans of one partition, of one trace, or the whole batch. */
  messagePer: MessagePer;
  /** Compression codec. */
  compression: Compression;
  /**
   * The largest message produced: `exporter.maxMessageBytes`, or a lower
   * `kafka.rdkafka['message.max.bytes']`.
   */
  maxMessageBytes: number;
  /** librdkafka `linger.ms`. */
  lingerMillis: number;
  /** Bound on bytes queued in the producer. */
  maxQueueBytes: number;
  /** The durable spool, or undefined when it is off. */
  spool: ResolvedSpoolConfig | undefined;
}

/** The `exporter` section. */
export function resolveExporterConfig(
  config: unknown,
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = diagLogger,
): ResolvedExporterConfig {
  const root = checkRoot(config);
  const x = checkSection('exporter', root.exporter);
  const e = new EnvReader(env, configLogger(logger));
  const d = DEFAULTS.exporter;
  const configured =
    checkNumber('exporter.maxMessageBytes', x.maxMessageBytes, {
      min: MIN_MESSAGE_BYTES,
      max: MAX_MESSAGE_BYTES,
      integer: true,
    }) ?? d.maxMessageBytes;
  // The passthrough is applied last to the producer, so a lower value there is the real limit.
  const maxMessageBytes = Math.min(configured, passthroughMessageMaxBytes(root) ?? Infinity);
  const maxQueueBytes =
    checkNumber('exporter.maxQueueBytes', x.maxQueueBytes, { min: 1024 * 1024, max: 2 ** 31 - 1, integer: true }) ??
    d.maxQueueBytes;
  if (maxQueueBytes < maxMessageBytes) {
    throw new ConfigError('exporter.maxQueueBytes', `must be at least exporter.maxMessageBytes (${maxMessageBytes})`);
  }
  return {
    timeoutMillis:
      checkNumber('exporter.timeoutMillis', x.timeoutMillis, { min: 0, exclusiveMin: true, max: MAX_TIMER_MILLIS }) ??
      e.read(ENV.timeout, positiveMillis) ??
      d.timeoutMillis,
    messagePer:
      checkOneOf('exporter.messagePer', x.messagePer, MESSAGE_PER) ??
      e.read(ENV.messagePer, oneOf(MESSAGE_PER)) ??
      legacyMessagePer(
        checkBoolean('exporter.partitionByTraceId', x.partitionByTraceId) ??
          e.read(ENV.partitionByTraceId, booleanValue),
      ) ??
      d.messagePer,
    compression:
      checkOneOf('exporter.compression', x.compression, COMPRESSIONS) ??
      e.read(ENV.compression, oneOf(COMPRESSIONS)) ??
      d.compression,
    maxMessageBytes,
    lingerMillis: checkNumber('exporter.lingerMillis', x.lingerMillis, { min: 0, max: 900_000 }) ?? d.lingerMillis,
    maxQueueBytes,
    spool: resolveSpool(x.spool, e),
  };
}

const MESSAGE_PER: readonly MessagePer[] = ['partition', 'trace', 'batch'];

/** The deprecated `partitionByTraceId` as a `messagePer`. */
function legacyMessagePer(partitionByTraceId: boolean | undefined): MessagePer | undefined {
  if (partitionByTraceId === undefined) return undefined;
  return partitionByTraceId ? 'trace' : 'batch';
}
