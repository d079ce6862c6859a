// Kafka clients of the admin-style commands (topic, lag, dlq), built from the same resolved `kafka` config
// as the library's own clients so SASL/TLS settings from --config or the environment apply.
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';

import type { ResolvedKafkaConfig } from '../config/kafka';
import { readRanges } from '../forwarder/range-reader';
import { adminRdKafkaConfig, deadLetterProducerRdKafkaConfig } from '../kafka/client-config';
import { ENV } from '../config/env';
import { kafkaLogger, withoutThreadTag } from '../kafka/kafka-logger';
import type { ConnectionFailure } from '../kafka/kafka-logger';
import { silentLogger } from './output';

/** How long an admin-style command waits for Kafka by default (`--timeout`). */
export const DEFAULT_TIMEOUT_MILLIS = 10_000;

/**
 * What the client reported about its connections, kept for the error message: its log lines are silenced
 * (errors surface as rejections), but a rejection alone says only "Local: Timed out".
 */
class ConnectionNotes {
  last: string | undefined;
  failure: ConnectionFailure | undefined;

  logger(): KafkaJS.Logger {
    const note = (message: string): void => {
      this.last = withoutThreadTag(message);
    };
    return kafkaLogger({ ...silentLogger, warn: note, error: note }, 'kafka', undefined, (f) => (this.failure = f));
  }
}

/** A KafkaJS-style client whose connection log lines go to `notes`. */
function kafkaClient(props: Record<string, string | number | boolean>, notes = new ConnectionNotes()): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ ...props, kafkaJS: { logger: notes.logger() } as KafkaJS.KafkaConfig });
}

/** The errors a KafkaJS aggregate error (`Topic creation errors`) holds, each as `topic: message`. */
function innerErrors(err: unknown): string[] {
  const errors = (err as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return [];
  return errors.map((e: unknown) => {
    const topic = (e as { topic?: unknown }).topic;
    const message = e instanceof Error ? e.message : String(e);
    return typeof topic === 'string' ? `${topic}: ${message}` : message;
  });
}

/**
 * The error a command reports when talking to Kafka failed: what it tried, the client's answer, the last
 * connection problem it logged, the brokers and security protocol, and what to check. Never a credential
 * (librdkafka's connection lines name brokers only).
 */
export function kafkaCommandError(
  what: string,
  err: unknown,
  kafka: ResolvedKafkaConfig,
  timeoutMillis: number,
  notes: { last?: string; failure?: ConnectionFailure },
): Error {
  const answer = err instanceof Error ? err.message : String(err);
  const inner = innerErrors(err);
  const parts = [`could not ${what}: ${answer}${inner.length ? ` (${inner.join('; ')})` : ''}`];
  if (notes.failure) parts.push(notes.failure.cause);
  else if (notes.last) parts.push(`last connection problem: ${notes.last}`);
  parts.push(`brokers ${kafka.brokers.join(',')} (security protocol ${kafka.securityProtocol})`);
  const unreachable = /timed out|transport|broker.*down|all brokers/i.test([answer, ...inner].join(' '));
  if (unreachable && !notes.failure) {
    parts.push(
      `check --brokers (or ${ENV.brokers}) and that those brokers are up and reachable from here; ` +
        `--timeout <ms> waits longer than ${timeoutMillis} ms`,
    );
  }
  return new Error(parts.join('; '), { cause: err });
}

/**
 * Runs `fn` with a connected admin client, always disconnecting it. A failure becomes a
 * {@link kafkaCommandError} naming `what` was tried.
 */
export async function withAdmin<T>(
  kafka: ResolvedKafkaConfig,
  what: string,
  timeoutMillis: number,
  fn: (admin: KafkaJS.Admin) => Promise<T>,
): Promise<T> {
  const notes = new ConnectionNotes();
  const admin = kafkaClient(adminRdKafkaConfig(kafka), notes).admin();
  try {
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      // Never in place of fn's own result or error.
      await admin.disconnect().catch(() => undefined);
    }
  } catch (err) {
    throw kafkaCommandError(what, err, kafka, timeoutMillis, notes);
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
  timeoutMillis: number,
): Promise<{ partition: number; low: number; high: number }[]> {
  const offsets = await admin.fetchTopicOffsets(topic, {
    timeout: timeoutMillis,
    isolationLevel: KafkaJS.IsolationLevel.READ_UNCOMMITTED,
  });
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
