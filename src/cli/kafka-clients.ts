// Kafka clients of the admin-style commands (topic, lag, dlq), built from the same resolved `kafka` config
// as the library's own clients so SASL/TLS settings from --config or the environment apply.
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';

import type { ResolvedKafkaConfig } from '../config/resolve-config';
import { readRanges } from '../forwarder/range-reader';
import { adminRdKafkaConfig, deadLetterProducerRdKafkaConfig } from '../kafka/client-config';
import { kafkaLogger } from '../kafka/kafka-logger';
import { silentLogger } from './output';

/** A KafkaJS-style client whose own logging is silenced (errors surface as rejections instead). */
function kafkaClient(props: Record<string, string | number | boolean>): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ ...props, kafkaJS: { logger: kafkaLogger(silentLogger) } as KafkaJS.KafkaConfig });
}

/** Runs `fn` with a connected admin client, always disconnecting it. */
export async function withAdmin<T>(kafka: ResolvedKafkaConfig, fn: (admin: KafkaJS.Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient(adminRdKafkaConfig(kafka)).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * A connected producer that re-produces records someone else sized (a redrive of dead letters): the dead
 * letter writer's configuration, acks from all replicas, idempotent, no local size limit below the topic's.
 */
export async function connectedRedriveProducer(kafka: ResolvedKafkaConfig): Promise<KafkaJS.Producer> {
  const producer = kafkaClient({}).producer(deadLetterProducerRdKafkaConfig(kafka));
  await producer.connect();
  return producer;
}

/** Start (low) and end (high) offset of every partition of `topic`. */
export async function partitionBounds(
  admin: KafkaJS.Admin,
  topic: string,
): Promise<{ partition: number; low: number; high: number }[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets
    .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
    .sort((a, b) => a.partition - b.partition);
}

/**
 * Reads `topic` from the start of each partition up to its end offset as of now, or until `limit` records,
 * calling `onMessage` in partition order per partition. The consumer is assigned partitions directly and
 * commits nothing, so no group's offsets move (librdkafka still wants a group id; a random one is never
 * joined).
 */
export async function readTopic(
  kafka: ResolvedKafkaConfig,
  topic: string,
  bounds: { partition: number; low: number; high: number }[],
  limit: number,
  onMessage: (message: Message) => Promise<void> | void,
): Promise<number> {
  return readRanges(
    kafka,
    topic,
    bounds.map((b) => ({ partition: b.partition, from: b.low, to: b.high })),
    async (messages) => {
      for (const m of messages) await onMessage(m);
    },
    { limit, batchSize: 500, groupPrefix: 'okj-cli' },
  );
}
