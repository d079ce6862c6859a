// Topics the library creates for itself. A dead-letter topic left to the broker's auto-creation gets the
// broker's max.message.bytes, the same limit as the source topic: a record near that limit plus its ~1 KB
// of provenance headers can then never be dead-lettered (ERR_MSG_SIZE_TOO_LARGE on every attempt).
import { KafkaJS } from '@confluentinc/kafka-javascript';

import type { ResolvedKafkaConfig } from '../config/kafka';
import type { Logger } from '../logging/logger';
import { adminRdKafkaConfig } from './client-config';
import { kafkaLogger } from './kafka-logger';

/**
 * The `max.message.bytes` of a dead-letter topic the forwarder creates: the broker's default
 * `socket.request.max.bytes` (100 MiB). No produce request, so no record of a source topic, can be larger
 * on a broker with that default, so every record that reached the source topic fits with its headers.
 * It is a limit, not an allocation: the broker and consumers only use what a record needs.
 */
export const DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES = 104_857_600;

/** Replication factor -1: the broker's `default.replication.factor`. */
export const BROKER_DEFAULT_REPLICATION_FACTOR = -1;

/** How a topic is to be created. */
export interface NewTopicSettings {
  /** Replicas per partition; {@link BROKER_DEFAULT_REPLICATION_FACTOR} for the broker's default. */
  replicationFactor: number;
  /** The topic's own configuration entries (e.g. `max.message.bytes`). */
  config: Readonly<Record<string, string>>;
}

/** Creates `topic` unless it exists; the seam unit tests replace. */
export type TopicCreator = (topic: string, settings: NewTopicSettings) => Promise<'created' | 'exists'>;

/** The replication factor of an existing topic; rejects when it cannot be read. */
export type ReplicationFactorReader = (topic: string) => Promise<number>;

async function withAdmin<T>(
  kafka: ResolvedKafkaConfig,
  logger: Logger,
  use: (admin: KafkaJS.Admin) => Promise<T>,
): Promise<T> {
  const admin = new KafkaJS.Kafka({
    ...adminRdKafkaConfig(kafka),
    kafkaJS: { logger: kafkaLogger(logger, 'kafka.admin') } as KafkaJS.KafkaConfig,
  }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * A {@link TopicCreator} using an admin client built from `kafka` (connection, SASL, TLS and the
 * passthrough, as every other client). Partitions are the broker's default, as with auto-creation.
 */
export function adminTopicCreator(kafka: ResolvedKafkaConfig, logger: Logger): TopicCreator {
  return (topic, { replicationFactor, config }) =>
    withAdmin(kafka, logger, async (admin) => {
      try {
        const created = await admin.createTopics({
          topics: [
            {
              topic,
              numPartitions: -1,
              replicationFactor,
              configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
            },
          ],
        });
        return created ? 'created' : 'exists';
      } catch (err) {
        // The client wraps each topic's error (which has the librdkafka code) in an aggregate without one.
        const [first] = (err as { errors?: unknown[] }).errors ?? [];
        throw first ?? err;
      }
    });
}

/**
 * A {@link ReplicationFactorReader} using an admin client built from `kafka`: the largest replica count of
 * the topic's partitions (its metadata; needs DESCRIBE on the topic).
 */
export function adminReplicationFactorReader(kafka: ResolvedKafkaConfig, logger: Logger): ReplicationFactorReader {
  return (topic) =>
    withAdmin(kafka, logger, async (admin) => {
      const [metadata] = await admin.fetchTopicMetadata({ topics: [topic] });
      const counts = (metadata?.partitions ?? []).map((p) => p.replicas.length);
      if (counts.length === 0) throw new Error(`no partition metadata for topic ${topic}`);
      return Math.max(...counts);
    });
}
