// Topics the library creates for itself. A dead-letter topic left to the broker's auto-creation gets the
// broker's max.message.bytes, the same limit as the source topic: a record near that limit plus its ~1 KB
// of provenance headers can then never be dead-lettered (ERR_MSG_SIZE_TOO_LARGE on every attempt).
import { KafkaJS } from '@confluentinc/kafka-javascript';

import type { ResolvedKafkaConfig } from '../config/resolve-config';
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

/** Creates `topic` unless it exists; the seam unit tests replace. */
export type TopicCreator = (topic: string, config: Readonly<Record<string, string>>) => Promise<'created' | 'exists'>;

/**
 * A {@link TopicCreator} using an admin client built from `kafka` (connection, SASL, TLS and the
 * passthrough, as every other client). Partitions and replication are the broker's defaults, as with
 * auto-creation; `config` holds the topic's own settings.
 */
export function adminTopicCreator(kafka: ResolvedKafkaConfig, logger: Logger): TopicCreator {
  return async (topic, config) => {
    const admin = new KafkaJS.Kafka({
      ...adminRdKafkaConfig(kafka),
      kafkaJS: { logger: kafkaLogger(logger, 'kafka.admin') } as KafkaJS.KafkaConfig,
    }).admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: -1,
            replicationFactor: -1,
            configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
          },
        ],
      });
      return created ? 'created' : 'exists';
    } catch (err) {
      // The client wraps each topic's error (which has the librdkafka code) in an aggregate without one.
      const [first] = (err as { errors?: unknown[] }).errors ?? [];
      throw first ?? err;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}
