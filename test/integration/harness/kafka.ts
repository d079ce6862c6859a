// Raw Kafka helpers on @confluentinc/kafka-javascript's KafkaJS-compatible API. Every client a helper
// creates is disconnected after the test file (afterAll), so a failing test leaks no connection.
import { AdminClient, KafkaJS } from '@confluentinc/kafka-javascript';

import { readCommittedOffsets } from '../../../src/kafka/committed-offsets';
import { endpoints } from './stack';
import { uniqueName } from './names';

const { Kafka, logLevel } = KafkaJS;

type Disconnectable = { disconnect(): Promise<void> };
const clients = new Set<Disconnectable>();

afterAll(async () => {
  await Promise.allSettled([...clients].map((c) => c.disconnect()));
  clients.clear();
});

export function kafkaClient(brokers: string[] = endpoints.kafkaBrokers): KafkaJS.Kafka {
  return new Kafka({ kafkaJS: { brokers, clientId: 'okj-tests', logLevel: logLevel.NOTHING } });
}

function track<T extends Disconnectable>(client: T): T {
  clients.add(client);
  const disconnect = client.disconnect.bind(client);
  client.disconnect = async () => {
    clients.delete(client);
    await disconnect();
  };
  return client;
}

export async function connectedAdmin(brokers?: string[]): Promise<KafkaJS.Admin> {
  const admin = track(kafkaClient(brokers).admin());
  await admin.connect();
  return admin;
}

/** Creates a topic with a unique name (or the given one) and `partitions` partitions; returns its name. */
export async function createTopic(
  opts: { prefix?: string; name?: string; partitions?: number; config?: Record<string, string> } = {},
): Promise<string> {
  const topic = opts.name ?? uniqueName(opts.prefix ?? 'okj-test');
  const admin = await connectedAdmin();
  try {
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: opts.partitions ?? 1,
          configEntries: Object.entries(opts.config ?? {}).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

export interface RawRecord {
  key?: string | Buffer | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer>;
  partition?: number;
}

/** Produces records with acks=all and idempotence, as the library's exporter does. */
export async function produceRaw(topic: string, records: RawRecord[]): Promise<void> {
  const producer = track(kafkaClient().producer({ kafkaJS: { acks: -1, idempotent: true } }));
  await producer.connect();
  try {
    await producer.send({ topic, messages: records });
  } finally {
    await producer.disconnect();
  }
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}

/**
 * Reads `topic` from the beginning with a fresh group, handing each record to `take` until it answers true;
 * fails after `timeoutMillis` with `shortOf()`'s account of what is missing.
 */
async function readFromBeginning(
  topic: string,
  take: (record: ConsumedRecord) => boolean,
  timeoutMillis: number,
  shortOf: () => string,
): Promise<void> {
  const consumer = track(
    kafkaClient().consumer({
      kafkaJS: { groupId: uniqueName('okj-test-group'), fromBeginning: true, autoCommit: false },
    }),
  );
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${shortOf()} within ${timeoutMillis} ms`)), timeoutMillis);
      consumer
        .run({
          eachMessage: ({ topic: t, partition, message }) => {
            const headers: Record<string, Buffer> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) {
              if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v : Buffer.from(String(v));
            }
            const record = {
              topic: t,
              partition,
              offset: message.offset,
              timestamp: message.timestamp,
              key: message.key,
              value: message.value,
              headers,
            };
            if (take(record)) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  } finally {
    await consumer.disconnect();
  }
}

/**
 * Reads `count` records from the beginning of `topic` with a fresh group, or fails after `timeoutMillis`
 * saying how many arrived.
 */
export async function consumeRaw(
  topic: string,
  count: number,
  opts: { timeoutMillis?: number } = {},
): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  await readFromBeginning(
    topic,
    (r) => records.push(r) >= count,
    opts.timeoutMillis ?? 30_000,
    () => `consumeRaw(${topic}): ${records.length} of ${count} records`,
  );
  return records;
}

/**
 * Every record of `topic` below its end offsets as they are at the call (a fresh group, nothing committed), or
 * fails after `timeoutMillis` saying which partition fell short. Reading to the end, rather than to a count,
 * shows records nobody expected: duplicates, extras, a late delivery.
 */
export async function readToEnd(topic: string, opts: { timeoutMillis?: number } = {}): Promise<ConsumedRecord[]> {
  const ends = await endOffsets(topic);
  const behind = new Map([...ends].filter(([, end]) => end > 0));
  const records: ConsumedRecord[] = [];
  if (behind.size === 0) return records;
  await readFromBeginning(
    topic,
    (r) => {
      const offset = Number(r.offset);
      const end = ends.get(r.partition) ?? 0;
      // Records behind the snapshot are someone else's question.
      if (offset < end) records.push(r);
      if (offset + 1 >= end) behind.delete(r.partition);
      return behind.size === 0;
    },
    opts.timeoutMillis ?? 30_000,
    () =>
      `readToEnd(${topic}): ${[...behind.keys()].map((p) => `partition ${p} (end ${ends.get(p)})`).join(', ')} ` +
      'not read to the end',
  );
  return records;
}

/**
 * The group's committed offset per partition of `topic` (-1 where nothing was committed), read through a consumer
 * handle: the Admin API's read crashes librdkafka 2.15 when the coordinator is loading or moving (see
 * src/kafka/committed-offsets.ts).
 */
export async function committedOffsets(
  groupId: string,
  topic: string,
  brokers?: string[],
): Promise<Map<number, number>> {
  return readCommittedOffsets(
    { 'bootstrap.servers': (brokers ?? endpoints.kafkaBrokers).join(',') },
    groupId,
    topic,
    30_000,
  );
}

/** The end offset (high watermark) per partition of `topic`. */
export async function endOffsets(topic: string): Promise<Map<number, number>> {
  const admin = await connectedAdmin();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Records in `topic` (the sum of its end offsets; nothing is deleted in these tests); 0 when the topic does
 * not exist, as a dead-letter topic until its first dead letter. Any other error fails the caller.
 */
export async function topicRecordCount(topic: string): Promise<number> {
  try {
    return [...(await endOffsets(topic)).values()].reduce((a, b) => a + b, 0);
  } catch (err) {
    if ((err as { type?: string }).type === 'ERR_UNKNOWN_TOPIC_OR_PART') return 0;
    throw err;
  }
}

/** Grows `topic` to `count` partitions (admin CreatePartitions), as an operator scaling a live topic does. */
export async function addPartitions(topic: string, count: number): Promise<void> {
  const admin = AdminClient.create({ 'bootstrap.servers': endpoints.kafkaBrokers.join(','), log_level: 0 });
  try {
    await new Promise<void>((resolve, reject) =>
      admin.createPartitions(topic, count, 10_000, (err) =>
        err ? reject(new Error(`createPartitions(${topic}, ${count}): ${err.message}`)) : resolve(),
      ),
    );
  } finally {
    admin.disconnect();
  }
}
