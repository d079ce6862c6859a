// The dead-letter writer: a record that can never be delivered is written, unchanged, to the dead-letter topic
// with provenance headers (dead-letter-message.ts), retried until Kafka acknowledged it; the topic is created
// when missing.
import { KafkaJS } from '@confluentinc/kafka-javascript';

import type { ResolvedKafkaConfig } from '../config/kafka';
import { ProduceError } from '../errors/errors';
import type { OtelKafkaJaegerError } from '../errors/errors';
import { deadLetterProducerRdKafkaConfig } from '../kafka/client-config';
import type { RdKafkaConfig } from '../kafka/client-config';
import { isFatal } from '../kafka/delivery-producer';
import {
  isInvalidReplicationFactorCode,
  isMessageTooLargeCode,
  isTopicConfigRefusedCode,
  isUnknownTopicCode,
  kafkaCodeOf,
  kafkaErrorName,
  permanentProduceRemedy,
  toProduceError,
} from '../kafka/kafka-errors';
import { RepeatLimiter, kafkaLogger } from '../kafka/kafka-logger';
import {
  BROKER_DEFAULT_REPLICATION_FACTOR,
  DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES,
  adminReplicationFactorReader,
  adminTopicCreator,
} from '../kafka/topics';
import type { NewTopicSettings, ReplicationFactorReader, TopicCreator } from '../kafka/topics';
import type { Logger } from '../logging/logger';
import type { RetryPolicy } from '../retry/retry-policy';
import { runRetries } from '../retry/retry-engine';
import { PROVENANCE_LEVELS, deadLetterMessage } from './dead-letter-message';
import type { DeadLetterMessage, DeadLetterSource, ProvenanceLevel } from './dead-letter-message';
import { errorType } from './delivery';
import type { ForwarderMetrics } from './forwarder-metrics';

export { DEAD_LETTER_HEADERS, deadLetterMessage } from './dead-letter-message';
export type { DeadLetterMessage, DeadLetterSource, ProvenanceLevel } from './dead-letter-message';

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
   * Reads the replication factor of the source topic (`kafka.topic`), which the dead-letter topic gets
   * (tests replace it).
   * @defaultValue an admin client of the same `kafka` config
   */
  readReplicationFactor?: ReplicationFactorReader;
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
 * The topic: before its first write the writer creates the dead-letter topic if it does not exist, with
 * `max.message.bytes` = {@link DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES}, the source topic's replication factor
 * (dead letters are the only copy once the source offset is committed; the broker's default when the
 * source topic's cannot be read) and the broker's default partitions. When the broker refuses that
 * `max.message.bytes` (a policy: managed clusters cap it per topic; an invalid value) it creates the topic
 * without it. When it cannot create the topic at all (no CREATE permission, a policy) it warns and the
 * broker's auto-creation, or the existing topic, applies; if the topic then does not exist, the failure
 * says so and names the reason creation failed, and creation is tried again before each later attempt.
 *
 * Size: the producer's local `message.max.bytes` never refuses a dead letter; the broker checks it,
 * uncompressed (the producer sets no codec of its own), against the topic's `max.message.bytes`. When the
 * topic refuses a dead letter as too large, the provenance headers are shortened ({@link ProvenanceLevel};
 * header `okj.truncated` says so). When even the shortest form is refused, that is a permanent failure as
 * above: the partition stays blocked until the topic's `max.message.bytes` is raised.
 */
export class DeadLetterWriter {
  readonly #opts: DeadLetterWriterOptions;
  readonly #connectProducer: DeadLetterProducerFactory;
  readonly #createTopic: TopicCreator;
  readonly #readReplicationFactor: ReplicationFactorReader;
  readonly #errorLogs: RepeatLimiter;
  #producer: Promise<DeadLetterProducer> | undefined;
  /** The topic check in progress or done; cleared when it must run again. */
  #topicChecked: Promise<void> | undefined;
  /** Why the last attempt to create the topic failed; undefined once it was created or found. */
  #creationFailure: OtelKafkaJaegerError | undefined;
  #creationWarned = false;

  constructor(opts: DeadLetterWriterOptions) {
    this.#opts = opts;
    this.#connectProducer = opts.connectProducer ?? connectKafkaJsProducer;
    this.#createTopic = opts.createTopic ?? adminTopicCreator(opts.kafka, opts.logger);
    this.#readReplicationFactor = opts.readReplicationFactor ?? adminReplicationFactorReader(opts.kafka, opts.logger);
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
    const result = await runRetries(
      async () => {
        let used: Promise<DeadLetterProducer> | undefined;
        try {
          await this.#ensureTopic();
          used = this.#connect();
          return await this.#send(await used, source, error, attempts);
        } catch (err) {
          // A producer in a fatal state (e.g. the idempotent producer lost its sequence) never recovers: the
          // next attempt gets a new one (unless another write replaced it already).
          const fatal = isFatal(err);
          if (fatal && used !== undefined && this.#producer === used) void this.close();
          throw this.#failure(err, source, fatal);
        }
      },
      retry,
      {
        signal,
        // A dead letter is never given up on: a permanent failure too is retried, until an operator fixes it.
        retriable: () => true,
        persistMillis: MAX_DEAD_LETTER_RETRY_MILLIS,
        maxDelayMillis: MAX_DEAD_LETTER_RETRY_MILLIS,
        onFailure: (failure) => {
          onFailure(failure as OtelKafkaJaegerError);
          this.#log(failure as OtelKafkaJaegerError, source);
        },
        onRetry: () => metrics.retries.add(1, { target: 'dead-letter' }),
      },
    );
    if (result.outcome !== 'succeeded') return false;
    metrics.deadLettered.add(1, { 'error.type': errorType(error) });
    if (result.value !== 'full') {
      logger.warn(
        `dead letter written with shortened provenance headers: ${topic} refused the full ones as too large`,
        {
          partition: source.partition,
          offset: source.offset,
          provenance: result.value,
        },
      );
    }
    return true;
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
    const code = kafkaCodeOf(err);
    if (isUnknownTopicCode(code)) return this.#missingTopic(err, code, source);
    const failure = toProduceError(err, `dead-letter write to ${topic} failed`);
    // A fatal producer state is cured by the new producer the next attempt uses.
    if (failure.retriable || fatal) return failure;
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
        kept(source),
      { retriable: false, kafkaCode: code, kafkaName: name, cause: err },
    );
  }

  /**
   * The write failed because the topic does not exist. Creation is tried again before the next attempt
   * (the topic may have been deleted, or an operator may have lifted what refused it); when it failed for
   * a reason that will not change by itself, that is the failure, not a transient "unknown topic".
   */
  #missingTopic(err: unknown, code: number | undefined, source: DeadLetterSource): OtelKafkaJaegerError {
    const { topic } = this.#opts;
    this.#topicChecked = undefined;
    const name = code === undefined ? undefined : kafkaErrorName(code);
    const why = this.#creationFailure;
    const options = { kafkaCode: code, kafkaName: name, cause: err };
    if (why === undefined) {
      return new ProduceError(
        `dead-letter topic ${topic} does not exist (${name ?? 'unknown topic'}) although it was found or created ` +
          'before the first write; creating it again before the next attempt',
        { retriable: true, ...options },
      );
    }
    return new ProduceError(
      `dead-letter topic ${topic} does not exist and could not be created: ${capped(why.message)}; create it or ` +
        `allow auto-creation. ${kept(source)}`,
      { retriable: why.retriable, ...options },
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
      const connecting = this.#connectProducer(deadLetterProducerRdKafkaConfig(this.#opts.kafka), this.#opts.logger);
      connecting.catch(() => {
        if (this.#producer === connecting) this.#producer = undefined;
      });
      this.#producer = connecting;
    }
    return this.#producer;
  }

  /** Creates the dead-letter topic unless that was done (once for concurrent writes); never rejects. */
  #ensureTopic(): Promise<void> {
    this.#topicChecked ??= this.#createTopicOnce().then((settled) => {
      // A transient failure (broker unreachable) is worth another try before the next write.
      if (!settled) this.#topicChecked = undefined;
    });
    return this.#topicChecked;
  }

  /**
   * Creates the dead-letter topic (large enough for any record plus headers, as durable as the source
   * topic) before auto-creation can. Resolves whether that is settled: created, found, or refused for a
   * reason that will not change by itself.
   */
  async #createTopicOnce(): Promise<boolean> {
    const { topic, logger } = this.#opts;
    const { replicationFactor, basis } = await this.#replicationFactor();
    let settings: NewTopicSettings = {
      replicationFactor,
      config: { 'max.message.bytes': String(DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES) },
    };
    // At most three tries: the first as wanted, then without what the broker refused.
    for (;;) {
      try {
        const outcome = await this.#createTopic(topic, settings);
        this.#creationFailure = undefined;
        if (outcome === 'created') {
          logger.info('dead-letter topic created', {
            topic,
            replicationFactor:
              settings.replicationFactor === replicationFactor
                ? basis
                : `the broker default: it could not place ${replicationFactor}`,
            maxMessageBytes: settings.config['max.message.bytes'] ?? 'the broker default',
          });
        }
        return true;
      } catch (err) {
        const code = kafkaCodeOf(err);
        const detail = capped(err instanceof Error ? err.message : String(err));
        if (isTopicConfigRefusedCode(code) && Object.keys(settings.config).length > 0) {
          logger.warn(
            `the broker refused dead-letter topic ${topic} with max.message.bytes ` +
              `${DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES}; creating it with the broker's default instead (a record near ` +
              "the source topic's limit may then only fit with shortened provenance headers, or not at all)",
            { topic, error: `${kafkaErrorName(code!) ?? 'error'}: ${detail}` },
          );
          settings = { ...settings, config: {} };
          continue;
        }
        if (isInvalidReplicationFactorCode(code) && settings.replicationFactor !== BROKER_DEFAULT_REPLICATION_FACTOR) {
          logger.warn(`the broker cannot place dead-letter topic ${topic}'s replicas; using its default replication`, {
            topic,
            replicationFactor: settings.replicationFactor,
            error: detail,
          });
          settings = { ...settings, replicationFactor: BROKER_DEFAULT_REPLICATION_FACTOR };
          continue;
        }
        const failure = toProduceError(err, `cannot create dead-letter topic ${topic}`);
        this.#creationFailure = failure;
        // Tried again before every write while the topic is missing: warn once, not every 30 s.
        const log = this.#creationWarned ? logger.debug.bind(logger) : logger.warn.bind(logger);
        this.#creationWarned = true;
        log(
          'dead-letter topic not created; writing to it anyway (broker auto-creation or the existing topic, whose ' +
            'max.message.bytes may refuse records near the source topic limit)',
          { topic, error: capped(failure.message) },
        );
        return !failure.retriable;
      }
    }
  }

  /** The source topic's replication factor, or the broker's default when it cannot be read; and why. */
  async #replicationFactor(): Promise<{ replicationFactor: number; basis: string }> {
    const source = this.#opts.kafka.topic;
    try {
      const replicationFactor = await this.#readReplicationFactor(source);
      return { replicationFactor, basis: `${replicationFactor}, that of source topic ${source}` };
    } catch (err) {
      const why = capped(err instanceof Error ? err.message : String(err));
      return {
        replicationFactor: BROKER_DEFAULT_REPLICATION_FACTOR,
        basis: `the broker default: that of source topic ${source} could not be read (${why})`,
      };
    }
  }
}

/** What a failure that blocks the partition adds: the record is kept, and how often it is retried. */
function kept(source: DeadLetterSource): string {
  return (
    `The record is kept: partition ${source.partition} of ${source.topic} stays blocked at offset ` +
    `${source.offset} and the write is retried at least every ${MAX_DEAD_LETTER_RETRY_MILLIS / 1000} s ` +
    'until this is fixed'
  );
}

const MAX_DETAIL = 300;

function capped(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}
