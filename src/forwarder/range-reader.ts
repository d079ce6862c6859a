// Reads a bounded offset range of some partitions of a topic, once, with a consumer of its own that joins no
// group and commits nothing. Shared by replay and the CLI (`dlq peek`, `dlq redrive`).
import { randomBytes } from 'node:crypto';

import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { KafkaConsumer, Message } from '@confluentinc/kafka-javascript';

import type { ResolvedKafkaConfig } from '../config/kafka';
import { connectWithin } from '../kafka/bounded-connect';
import { consumerRdKafkaConfig } from '../kafka/client-config';

/** One partition's range: offsets `from` (inclusive) to `to` (exclusive). */
export interface OffsetRange {
  partition: number;
  from: number;
  to: number;
}

export interface ReadRangeOptions {
  /** Records per consume call at most. */
  batchSize?: number;
  /** Records handed over at most, in all. */
  limit?: number;
  /** Stops reading (the promise then resolves with what was read). */
  signal?: AbortSignal;
  /** A partition's range was read to its end. */
  onPartitionDone?: (partition: number) => void;
  /** Prefix of the consumer's group id (it never joins the group; librdkafka requires one). */
  groupPrefix?: string;
}

const CONSUME_TIMEOUT_MILLIS = 200;

/**
 * Reads every record of `ranges` (each partition in offset order) and hands them over a consume call at a time;
 * resolves with how many were handed over once every range is read, the limit is reached or the signal aborts.
 *
 * @remarks
 * A partition whose last records were compacted away after the range was computed would never reach `to`: the
 * end-of-partition event ends it, but only at or past `to`, so an early event cannot cut a range short.
 */
export async function readRanges(
  kafka: ResolvedKafkaConfig,
  topic: string,
  ranges: readonly OffsetRange[],
  onRecords: (messages: Message[]) => Promise<void> | void,
  options: ReadRangeOptions = {},
): Promise<number> {
  const pending = ranges.filter((r) => r.to > r.from);
  const limit = options.limit ?? Infinity;
  if (pending.length === 0 || limit <= 0) return 0;
  // A default import: Node's ESM loader cannot see KafkaConsumer as a named export of this CommonJS module.
  const consumer: KafkaConsumer = new kafkaJavascript.KafkaConsumer(
    // The passthrough applies (SASL, TLS...), but cannot turn commits back on or name a real group.
    consumerRdKafkaConfig(
      kafka,
      {},
      {
        'group.id': `${options.groupPrefix ?? 'okj-range'}-${randomBytes(6).toString('hex')}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'enable.partition.eof': true,
      },
    ),
    {},
  );
  const end = new Map(pending.map((r) => [r.partition, r.to]));
  const done = new Set<number>();
  const markDone = (partition: number): void => {
    if (done.has(partition)) return;
    done.add(partition);
    options.onPartitionDone?.(partition);
  };
  // The event may come before the consume callback that hands over the records preceding it, so it is acted on
  // after each batch.
  const atEnd = new Set<number>();
  consumer.on('partition.eof', (eof) => {
    if (eof.offset >= (end.get(eof.partition) ?? 0)) atEnd.add(eof.partition);
  });
  try {
    await connectWithin(consumer, {
      timeoutMillis: kafka.connectTimeoutMillis,
      signal: options.signal,
      brokers: kafka.brokers,
    });
  } catch (err) {
    // Aborted before any record was read: nothing to hand over.
    if (options.signal?.aborted) return 0;
    throw new Error(`${topic}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  let read = 0;
  try {
    consumer.setDefaultConsumeTimeout(CONSUME_TIMEOUT_MILLIS);
    consumer.assign(pending.map((r) => ({ topic, partition: r.partition, offset: r.from })));
    while (done.size < pending.length && read < limit && !options.signal?.aborted) {
      const messages = await new Promise<Message[]>((resolve, reject) =>
        consumer.consume(options.batchSize ?? 1_000, (err, m) =>
          err ? reject(new Error(`${topic}: consume: ${err.message}`)) : resolve(m),
        ),
      );
      const inRange: Message[] = [];
      const finished: number[] = [];
      for (const m of messages) {
        if (done.has(m.partition) || read >= limit) continue;
        const stop = end.get(m.partition) ?? 0;
        if (m.offset >= stop) {
          finished.push(m.partition);
          continue;
        }
        inRange.push(m);
        read++;
        if (m.offset + 1 >= stop) finished.push(m.partition);
      }
      if (inRange.length > 0) await onRecords(inRange);
      for (const partition of finished) markDone(partition);
      for (const partition of atEnd) markDone(partition);
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return read;
}
