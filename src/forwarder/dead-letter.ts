// Dead letters: a record that can never be delivered is written, unchanged, to the dead-letter topic with
// headers that say where it came from and why it failed.
import { KafkaJS } from '@confluentinc/kafka-javascript';

import type { ResolvedKafkaConfig } from '../config/resolve-config';
import { SinkError } from '../errors/errors';
import type { OtelKafkaJaegerError } from '../errors/errors';
import { commonRdKafkaConfig } from '../kafka/client-config';
import { isFatal } from '../kafka/delivery-producer';
import { toProduceError } from '../kafka/kafka-errors';
import { kafkaLogger } from '../kafka/kafka-logger';
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

export interface DeadLetterWriterOptions {
  kafka: ResolvedKafkaConfig;
  topic: string;
  group: string;
  retry: RetryPolicy;
  logger: Logger;
  metrics: ForwarderMetrics;
}

/** Writes dead letters with an idempotent acks=all producer, retrying until Kafka acknowledges. */
export class DeadLetterWriter {
  readonly #opts: DeadLetterWriterOptions;
  #producer: Promise<KafkaJS.Producer> | undefined;

  constructor(opts: DeadLetterWriterOptions) {
    this.#opts = opts;
  }

  /**
   * Writes the dead letter of `source`; resolves true once Kafka acknowledged it, false if `signal` aborted
   * first. Each failed attempt is reported to `onFailure`, then retried after the retry policy's delay
   * (30 s when the policy has given up: a dead letter is never dropped).
   */
  async write(
    source: DeadLetterSource,
    error: OtelKafkaJaegerError,
    attempts: number,
    signal: AbortSignal,
    onFailure: (failure: OtelKafkaJaegerError) => void,
  ): Promise<boolean> {
    const { topic, group, retry, logger, metrics } = this.#opts;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return false;
      const used = this.#connect();
      try {
        const producer = await used;
        await producer.send({ topic, messages: [deadLetterMessage(source, error, attempts, group)] });
        metrics.deadLettered.add(1, { 'error.type': errorType(error) });
        return true;
      } catch (err) {
        // A producer in a fatal state (e.g. the idempotent producer lost its sequence) never recovers: the
        // next attempt gets a new one (unless another write replaced it already).
        if (isFatal(err) && this.#producer === used) void this.close();
        const failure = toProduceError(err, `dead-letter write to ${topic} failed`);
        onFailure(failure);
        const decision = retry.nextDelay(attempt, new SinkError(failure.message, { retriable: true }));
        metrics.retries.add(1, { target: 'dead-letter' });
        logger.warn('dead-letter write failed; retrying', {
          partition: source.partition,
          offset: source.offset,
          error: failure.message,
        });
        await sleep(decision.retry ? decision.delayMillis : 30_000, signal).catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
  }

  #connect(): Promise<KafkaJS.Producer> {
    if (!this.#producer) {
      const kafka = new KafkaJS.Kafka({
        kafkaJS: { logger: kafkaLogger(this.#opts.logger, 'kafka.dead-letter') } as KafkaJS.KafkaConfig,
      });
      const producer = kafka.producer({
        ...commonRdKafkaConfig(this.#opts.kafka),
        acks: -1,
        'enable.idempotence': true,
        'linger.ms': 5,
        'message.timeout.ms': 30_000,
      });
      const connecting = producer.connect().then(() => producer);
      connecting.catch(() => {
        if (this.#producer === connecting) this.#producer = undefined;
      });
      this.#producer = connecting;
    }
    return this.#producer;
  }
}
