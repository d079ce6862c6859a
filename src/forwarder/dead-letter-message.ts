// What a dead letter is: the record unchanged (key, value, headers) plus provenance headers that say where it
// came from and why it failed, shortened step by step when the dead-letter topic refuses them as too large.
import type { OtelKafkaJaegerError } from '../errors/errors';

/**
 * Header names of the provenance a dead letter carries, besides its original key, value and headers.
 *
 * @example
 * ```ts
 * const offset = Number(message.headers[DEAD_LETTER_HEADERS.sourceOffset]);
 * ```
 */
export const DEAD_LETTER_HEADERS = {
  /** Topic the record was read from. */
  sourceTopic: 'okj.source.topic',
  /** Its partition. */
  sourcePartition: 'okj.source.partition',
  /** Its offset. */
  sourceOffset: 'okj.source.offset',
  /** Its timestamp (milliseconds since the epoch, as Kafka gave it). */
  sourceTimestamp: 'okj.source.timestamp',
  /** The error code that made it undeliverable, e.g. `SINK_FAILED`. */
  errorCode: 'okj.error.code',
  /** The error message (at most 1000 characters). */
  errorMessage: 'okj.error.message',
  /** How many delivery attempts were made. */
  attempts: 'okj.error.attempts',
  /** The forwarder group that dead-lettered it. */
  consumerGroup: 'okj.consumer.group',
  /** When, as an ISO 8601 timestamp. */
  deadLetteredAt: 'okj.dead_lettered_at',
  /**
   * Present when the dead-letter topic refused the full provenance as too large: `error.message` (the
   * error message was cut to 100 characters) or `provenance` (only the source topic, partition, offset and
   * the error code were kept).
   */
  truncated: 'okj.truncated',
} as const;

/** The fields of a consumed record a dead letter needs. */
export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: number;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | (Buffer | string)[]>;
}

export interface DeadLetterMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | (Buffer | string)[]>;
}

const MAX_ERROR_MESSAGE = 1_000;
const SHORT_ERROR_MESSAGE = 100;

/**
 * How much provenance a dead letter carries: everything; the error message cut short; only where it came
 * from and the error code. Each step is tried only when the dead-letter topic refused the previous one as
 * too large.
 */
export type ProvenanceLevel = 'full' | 'short-error' | 'minimal';

/** The provenance levels, fullest first. */
export const PROVENANCE_LEVELS: readonly ProvenanceLevel[] = ['full', 'short-error', 'minimal'];

/** The message written to the dead-letter topic for `source` failing with `error` after `attempts` tries. */
export function deadLetterMessage(
  source: DeadLetterSource,
  error: OtelKafkaJaegerError,
  /** How many delivery attempts were made. */
  attempts: number,
  group: string,
  now: Date = new Date(),
  level: ProvenanceLevel = 'full',
): DeadLetterMessage {
  const h = DEAD_LETTER_HEADERS;
  const where = {
    [h.sourceTopic]: source.topic,
    [h.sourcePartition]: String(source.partition),
    [h.sourceOffset]: String(source.offset),
    [h.errorCode]: error.code,
  };
  const provenance =
    level === 'minimal'
      ? { ...where, [h.truncated]: 'provenance' }
      : {
          ...where,
          [h.sourceTimestamp]: source.timestamp,
          [h.errorMessage]: error.message.slice(0, level === 'full' ? MAX_ERROR_MESSAGE : SHORT_ERROR_MESSAGE),
          [h.attempts]: String(attempts),
          [h.consumerGroup]: group,
          [h.deadLetteredAt]: now.toISOString(),
          ...(level === 'short-error' && { [h.truncated]: 'error.message' }),
        };
  return { key: source.key, value: source.value, headers: { ...source.headers, ...provenance } };
}
