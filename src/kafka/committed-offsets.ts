// A consumer group's committed offsets, read through a consumer handle rather than the Admin API.
//
// Why not `admin.fetchOffsets()` (ListConsumerGroupOffsets): librdkafka 2.15 handles that request's
// NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE answer by asking the client's own consumer group to look for the
// coordinator again, and an admin client has none: it dereferences a null group handle and the process dies
// with SIGSEGV (rdkafka_request.c, rd_kafka_handle_OffsetFetch → rd_kafka_cgrp_op(NULL)). A coordinator that
// is loading or moving (a broker just started or restarting) is exactly when an operator asks for the lag. A
// consumer handle has a group handle, which finds the coordinator and retries within the timeout. It only reads:
// it never subscribes, so it never joins the group nor disturbs its members.
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { KafkaConsumer, Metadata, TopicPartitionOffset } from '@confluentinc/kafka-javascript';

import { runRetries } from '../retry/retry-engine';
import type { SchedulingPolicy } from '../retry/retry-policy';
import type { RdKafkaConfig } from './client-config';

/**
 * The offset `groupId` committed for each partition of `topic`, -1 where it committed none.
 *
 * @param config - librdkafka properties to reach the cluster (bootstrap servers, security); `group.id` and
 *   auto-commit are set here.
 * @param timeoutMillis - bounds connecting (with the topic's metadata) and the read, each.
 * @throws when the cluster cannot be reached, the topic does not exist, or the read times out.
 */
export async function readCommittedOffsets(
  config: RdKafkaConfig,
  groupId: string,
  topic: string,
  timeoutMillis: number,
): Promise<Map<number, number>> {
  const props: Record<string, unknown> = {};
  // Properties of the KafkaJS layer (`js.*`) mean nothing to librdkafka, which refuses them.
  for (const [k, v] of Object.entries(config)) if (!k.startsWith('js.')) props[k] = v;
  const consumer: KafkaConsumer = new kafkaJavascript.KafkaConsumer(
    { ...props, 'group.id': groupId, 'enable.auto.commit': false, 'enable.auto.offset.store': false },
    {},
  );
  const metadata = await new Promise<Metadata>((resolve, reject) =>
    consumer.connect({ topic, allTopics: false, timeout: timeoutMillis }, (err, md) =>
      err ? reject(asError(err)) : resolve(md),
    ),
  );
  try {
    const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
    if (partitions.length === 0) throw new Error(`topic ${topic} does not exist (no partitions in the metadata)`);
    const request = partitions.map((p) => ({ topic, partition: p.id }));
    const deadline = Date.now() + timeoutMillis;
    // A coordinator still loading or just created (the first group of a fresh cluster) answers with an error
    // librdkafka gives up on after its own retries; within the caller's timeout, ask again.
    const withinDeadline: SchedulingPolicy = {
      delayAfter: ({ attempt }) => {
        const wait = Math.min(200 * attempt, 1_000);
        return Date.now() + wait >= deadline ? undefined : wait;
      },
    };
    const result = await runRetries(
      () => committedOnce(consumer, request, Math.max(1, deadline - Date.now())),
      withinDeadline,
      { retriable: isRetriable },
    );
    if (result.outcome === 'succeeded') return result.value;
    throw new Error(
      `reading the offsets group ${groupId} committed on ${topic} failed: ${asError(result.error).message}`,
      { cause: result.error },
    );
  } finally {
    // Only once the read above has answered: the binding reads committed offsets without its connection lock.
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/** One OffsetFetch through the consumer's group handle: each partition's committed offset, -1 where none. */
async function committedOnce(
  consumer: KafkaConsumer,
  request: { topic: string; partition: number }[],
  timeoutMillis: number,
): Promise<Map<number, number>> {
  const offsets = await new Promise<TopicPartitionOffset[]>((resolve, reject) =>
    consumer.committed(request, timeoutMillis, (err, tps) => (err ? reject(asError(err)) : resolve(tps))),
  );
  const committed = new Map<number, number>();
  for (const o of offsets as unknown[]) {
    // The binding hands a partition's error over in its place, and leaves `offset` out where none is committed.
    if (o instanceof Error) throw o;
    const { partition, offset } = o as { partition: number; offset?: unknown };
    const n = Number(offset);
    committed.set(partition, Number.isSafeInteger(n) && n >= 0 ? n : -1);
  }
  return committed;
}

/** Kafka error codes of a group coordinator that is loading, moving or not there yet, and of a local timeout. */
const RETRIABLE_CODES = new Set([
  14, // COORDINATOR_LOAD_IN_PROGRESS
  15, // COORDINATOR_NOT_AVAILABLE
  16, // NOT_COORDINATOR
  88, // UNSTABLE_OFFSET_COMMIT
  -185, // local: timed out (one request's share of the timeout, not the caller's)
]);

function isRetriable(err: unknown): boolean {
  const e = err as { code?: unknown; isRetriable?: unknown };
  return e.isRetriable === true || (typeof e.code === 'number' && RETRIABLE_CODES.has(e.code));
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
