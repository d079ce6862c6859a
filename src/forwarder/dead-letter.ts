// Dead letters: a record that can never be delivered is written, unchanged, to the dead-letter topic with
// headers that say where it came from and why it failed.
import { KafkaJS } from '@confluentinc/kafka-javascript';

import type { ResolvedKafkaConfig } from '../config/resolve-config';
import { ProduceError, SinkError } from '../errors/errors';
import type { OtelKafkaJaegerError } from '../errors/errors';
import { deadLetterProducerRdKafkaConfig } from '../kafka/client-config';
import type { RdKafkaConfig } from '../kafka/client-config';
import { isFatal } from '../kafka/delivery-producer';
import {
  isMessageTooLargeCode,
  kafkaCodeOf,
  kafkaErrorName,
  permanentProduceRemedy,
  toProduceError,
} from '../kafka/kafka-errors';
import { RepeatLimiter, kafkaLogger } from '../kafka/kafka-logger';
import { DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES, adminTopicCreator } from '../kafka/topics';
import type { TopicCreator } from '../kafka/topics';
import type { Logger } from '../logging/logger';
import type { RetryPolicy } from '../retry/retry-policy';
import { sleep } from '../retry/sleep';
import { errorType } from './delivery';
import type { ForwarderMetrics } from './forwarder-metrics';

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

const PROVENANCE_LEVELS: readonly ProvenanceLevel[] = ['full', 'short-error', 'minimal'];

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

/** The producer a {@link DeadLetterWriter} writes with (a seam for unit tests). */
export interface DeadLetterProducer {
  /** Resolves once Kafka acknowledged `message`; rejects with the client's error (librdkafka `code`). */
  send(topic: string, message: DeadLetterMessage): Promise<void>;
  disconnect(): Promise<void>;
}

/** Connects a {@link DeadLetterProducer} with these librdkafka properties. */
export type DeadLetterProducerFactory = (config: RdKafkaConfig, logger: Logger) => Promise<DeadLetterProducer>;

const connectKafkaJsProducer: DeadLetterProducerFactory = async (config, logger) => {
  const kafka = new KafkaJS.Kafka({
    kafkaJS: { logger: kafkaLogger(logger, 'kafka.dead-letter') } as KafkaJS.KafkaConfig,
  });
  const producer = kafka.producer(config);
  await producer.connect();
  return {
    send: async (topic, message) => {
      await producer.send({ topic, messages: [message] });
    },
    disconnect: () => producer.disconnect(),
  };
};

export interface DeadLetterWriterOptions {
  kafka: ResolvedKafkaConfig;
  topic: string;
  group: string;
  retry: RetryPolicy;
  logger: Logger;
  metrics: ForwarderMetrics;
  /**
   * Connects the producer (tests replace it).
   * @defaultValue a KafkaJS-API producer of `@confluentinc/kafka-javascript`
   */
  connectProducer?: DeadLetterProducerFactory;
  /**
   * Creates the dead-letter topic when it does not exist (tests replace it).
   * @defaultValue an admin client of the same `kafka` config
   */
  createTopic?: TopicCreator;
  /**
   * The clock of the rate limit on error logs.
   * @defaultValue `Date.now`
   */
  now?: () => number;
}

/** The longest wait between two attempts at one dead letter, whatever the retry policy says. */
export const MAX_DEAD_LETTER_RETRY_MILLIS = 30_000;

/**
 * Writes dead letters with an idempotent acks=all producer, retrying until Kafka acknowledges.
 *
 * @remarks
 * A dead letter is never dropped: its source partition is not committed past it until Kafka acknowledged
 * it, so every failure keeps the record and its partition blocked, and the writer keeps trying.
 *
 * - Transient failures (broker down, leader moving) are reported to `onFailure` as retriable and retried
 *   with the retry policy's backoff.
 * - Permanent failures (authentication, TLS, authorization, invalid configuration, a message the topic
 *   refuses as too large: classified by librdkafka code) are reported to `onFailure` as a
 *   {@link ProduceError} with `retriable: false` whose message names the cause and the remedy, and logged at
 *   error level once per cause per 30 s. The writer still retries (the policy's backoff, at most
 *   {@link MAX_DEAD_LETTER_RETRY_MILLIS} apart), so it resumes by itself once an operator fixes the cause.
 *
 * Size: the producer's local `message.max.bytes` never refuses a dead letter and messages are compressed
 * (zstd) before the broker checks them against the topic's `max.message.bytes`. Before its first write the
 * writer creates the dead-letter topic if it does not exist, with `max.message.bytes` =
 * {@link DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES} (partitions and replication: the broker's defaults, as with
 * auto-creation); when it cannot (no CREATE permission) it warns and the broker's auto-creation, or the
 * existing topic, applies. When the topic still refuses a dead letter as too large, the provenance
 * headers are shortened ({@link ProvenanceLevel}; header `okj.truncated` says so). When even the shortest
 * form is refused, that is a permanent failure as above: the partition stays blocked until the topic's
 * `max.message.bytes` is raised.
 */
export class DeadLetterWriter {
  readonly #opts: DeadLetterWriterOptions;
  readonly #connectProducer: DeadLetterProducerFactory;
  readonly #createTopic: TopicCreator;
  readonly #errorLogs: RepeatLimiter;
  #producer: Promise<DeadLetterProducer> | undefined;
  #topicReady = false;

  constructor(opts: DeadLetterWriterOptions) {
    this.#opts = opts;
    this.#connectProducer = opts.connectProducer ?? connectKafkaJsProducer;
    this.#createTopic = opts.createTopic ?? adminTopicCreator(opts.kafka, opts.logger);
    this.#errorLogs = new RepeatLimiter(MAX_DEAD_LETTER_RETRY_MILLIS, opts.now);
  }

  /**
   * Writes the dead letter of `source`; resolves true once Kafka acknowledged it, false if `signal` aborted
   * first (never otherwise: see the remarks of {@link DeadLetterWriter}). Each failed attempt is reported to
   * `onFailure` (`retriable: false` when it cannot succeed before an operator acts), then retried after the
   * retry policy's delay, at most {@link MAX_DEAD_LETTER_RETRY_MILLIS}.
   */
  async write(
    source: DeadLetterSource,
    error: OtelKafkaJaegerError,
    attempts: number,
    signal: AbortSignal,
    onFailure: (failure: OtelKafkaJaegerError) => void,
  ): Promise<boolean> {
    const { topic, retry, logger, metrics } = this.#opts;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return false;
      const used = this.#connect();
      try {
        const level = await this.#send(await used, source, error, attempts);
        metrics.deadLettered.add(1, { 'error.type': errorType(error) });
        if (level !== 'full') {
          logger.warn(
            `dead letter written with shortened provenance headers: ${topic} refused the full ones as too large`,
            {
              partition: source.partition,
              offset: source.offset,
              provenance: level,
            },
          );
        }
        return true;
      } catch (err) {
        // A producer in a fatal state (e.g. the idempotent producer lost its sequence) never recovers: the
        // next attempt gets a new one (unless another write replaced it already).
        const fatal = isFatal(err);
        if (fatal && this.#producer === used) void this.close();
        const failure = this.#failure(err, source, fatal);
        onFailure(failure);
        this.#log(failure, source);
        const decision = retry.nextDelay(attempt, new SinkError(failure.message, { retriable: true }));
        metrics.retries.add(1, { target: 'dead-letter' });
        const delay = decision.retry
          ? Math.min(decision.delayMillis, MAX_DEAD_LETTER_RETRY_MILLIS)
          : MAX_DEAD_LETTER_RETRY_MILLIS;
        await sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
  }

  /** Sends with the fullest provenance the topic accepts; rejects with the last error. */
  async #send(
    producer: DeadLetterProducer,
    source: DeadLetterSource,
    error: OtelKafkaJaegerError,
    attempts: number,
  ): Promise<ProvenanceLevel> {
    const { topic, group } = this.#opts;
    const now = new Date();
    for (const [i, level] of PROVENANCE_LEVELS.entries()) {
      try {
        await producer.send(topic, deadLetterMessage(source, error, attempts, group, now, level));
        return level;
      } catch (err) {
        if (i === PROVENANCE_LEVELS.length - 1 || !isMessageTooLargeCode(kafkaCodeOf(err))) throw err;
      }
    }
    throw new Error('unreachable: the last provenance level rethrows');
  }

  /** The error `onFailure` hears of: retriable for transient causes, else naming the cause and the remedy. */
  #failure(err: unknown, source: DeadLetterSource, fatal: boolean): OtelKafkaJaegerError {
    const { topic } = this.#opts;
    const failure = toProduceError(err, `dead-letter write to ${topic} failed`);
    // A fatal producer state is cured by the new producer the next attempt uses.
    if (failure.retriable || fatal) return failure;
    const code = kafkaCodeOf(err);
    const name = code === undefined ? undefined : kafkaErrorName(code);
    const detail = capped(err instanceof Error ? err.message : String(err));
    const cause = isMessageTooLargeCode(code)
      ? `the dead letter of ${source.topic} partition ${source.partition} offset ${source.offset} ` +
        `(value ${source.value?.length ?? 0} bytes) is larger than ${topic} accepts, even with its provenance ` +
        `headers shortened: raise ${topic}'s max.message.bytes above the source topic's (e.g. to ` +
        `${DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES})`
      : permanentProduceRemedy(code, topic);
    return new ProduceError(
      `dead-letter write to ${topic} cannot succeed (${name ?? 'permanent error'}: ${detail}): ${cause}. ` +
        `The record is kept: partition ${source.partition} of ${source.topic} stays blocked at offset ` +
        `${source.offset} and the write is retried at least every ${MAX_DEAD_LETTER_RETRY_MILLIS / 1000} s ` +
        'until this is fixed',
      { retriable: false, kafkaCode: code, kafkaName: name, cause: err },
    );
  }

  #log(failure: OtelKafkaJaegerError, source: DeadLetterSource): void {
    const attrs = { partition: source.partition, offset: source.offset, error: failure.message };
    if (failure.retriable) {
      this.#opts.logger.warn('dead-letter write failed; retrying', attrs);
      return;
    }
    const kafkaName = failure instanceof ProduceError ? failure.kafkaName : undefined;
    const held = this.#errorLogs.admit(kafkaName ?? failure.message);
    if (held === undefined) return;
    this.#opts.logger.error('dead-letter write cannot succeed until the cause is fixed; partition blocked', {
      ...attrs,
      ...(held > 0 && { repeatsSinceLastLogged: held }),
    });
  }

  #connect(): Promise<DeadLetterProducer> {
    if (!this.#producer) {
      const connecting = this.#ensureTopic().then(() =>
        this.#connectProducer(deadLetterProducerRdKafkaConfig(this.#opts.kafka), this.#opts.logger),
      );
      connecting.catch(() => {
        if (this.#producer === connecting) this.#producer = undefined;
      });
      this.#producer = connecting;
    }
    return this.#producer;
  }

  /** Creates the dead-letter topic (large enough for any record plus headers) before auto-creation can. */
  async #ensureTopic(): Promise<void> {
    if (this.#topicReady) return;
    const { topic, logger } = this.#opts;
    try {
      const outcome = await this.#createTopic(topic, {
        'max.message.bytes': String(DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES),
      });
      this.#topicReady = true;
      if (outcome === 'created') {
        logger.info('dead-letter topic created', { topic, maxMessageBytes: DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES });
      }
    } catch (err) {
      const failure = toProduceError(err, `cannot create dead-letter topic ${topic}`);
      // Missing permission or a policy will not change by itself: one warning, then rely on what exists.
      if (!failure.retriable) this.#topicReady = true;
      logger.warn(
        'dead-letter topic not created; writing to it anyway (broker auto-creation or the existing topic, whose ' +
          'max.message.bytes may refuse records near the source topic limit)',
        { topic, error: capped(failure.message) },
      );
    }
  }
}

const MAX_DETAIL = 300;

function capped(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}
