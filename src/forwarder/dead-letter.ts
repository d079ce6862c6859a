// Dead letters: a record that can never be delivered is written, unchanged, to the dead-letter topic with
// headers that say where it came from and why it failed.
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

/** The message written to the dead-letter topic for `source` failing with `error` after `attempts` tries. */
export function deadLetterMessage(
  source: DeadLetterSource,
  error: OtelKafkaJaegerError,
  /** How many delivery attempts were made. */
  attempts: number,
  group: string,
  now: Date = new Date(),
): DeadLetterMessage {
  const h = DEAD_LETTER_HEADERS;
  return {
    key: source.key,
    value: source.value,
    headers: {
      ...source.headers,
      [h.sourceTopic]: source.topic,
      [h.sourcePartition]: String(source.partition),
      [h.sourceOffset]: String(source.offset),
      [h.sourceTimestamp]: source.timestamp,
      [h.errorCode]: error.code,
      [h.errorMessage]: error.message.slice(0, MAX_ERROR_MESSAGE),
      [h.attempts]: String(attempts),
      [h.consumerGroup]: group,
      [h.deadLetteredAt]: now.toISOString(),
    },
  };
}
