// The dead-letter writer against the real broker, at the size limit: a record that the source topic took
// (the broker's default max.message.bytes, less a few bytes, of incompressible bytes) must reach the
// dead-letter topic with its key, value and headers intact, although its ~1 KB of provenance headers make
// it larger than the source topic's limit. Where the dead-letter topic already exists with a small limit,
// the headers are shortened when that is enough, and otherwise the writer stays blocked with a clear,
// non-retriable error: it never drops the record. The dead-letter topic it creates has the source topic's
// replication factor; when it cannot create the topic and the cluster does not auto-create topics, the
// failure says that the topic is missing and why.
import { randomBytes } from 'node:crypto';

import { KafkaJS } from '@confluentinc/kafka-javascript';

import { resolveKafkaConfig } from '../../../src/config/kafka';
import { SinkError } from '../../../src/errors/errors';
import type { OtelKafkaJaegerError } from '../../../src/errors/errors';
import { DEAD_LETTER_HEADERS, DeadLetterWriter } from '../../../src/forwarder/dead-letter';
import type { DeadLetterSource } from '../../../src/forwarder/dead-letter';
import type { ForwarderMetrics } from '../../../src/forwarder/forwarder-metrics';
import type { Logger } from '../../../src/logging/logger';
import { adminTopicCreator } from '../../../src/kafka/topics';
import type { TopicCreator } from '../../../src/kafka/topics';
import { exponentialBackoff } from '../../../src/retry/exponential-backoff';
import { connectedAdmin, consumeRaw, createTopic } from '../harness/kafka';
import type { ConsumedRecord } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';

/** Kafka's default `message.max.bytes` (broker) and so `max.message.bytes` of a topic created without one. */
const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** How far below the limit the source record is: "a few bytes". */
const MARGIN_BYTES = 8;

const writers: DeadLetterWriter[] = [];
afterAll(async () => {
  await Promise.allSettled(writers.map((w) => w.close()));
});

function varintBytes(n: number): number {
  let zigzag = n * 2; // every length here is >= 0
  let bytes = 1;
  while (zigzag >= 0x80) {
    zigzag = Math.floor(zigzag / 0x80);
    bytes++;
  }
  return bytes;
}

/** Size of a record batch (format v2, uncompressed) holding one record: what the broker compares. */
function batchBytes(key: Buffer, valueLength: number, headers: Record<string, Buffer>): number {
  const BATCH_HEADER = 61;
  let body = 1 + 1 + 1; // attributes, timestamp delta 0, offset delta 0
  body += varintBytes(key.length) + key.length + varintBytes(valueLength) + valueLength;
  const entries = Object.entries(headers);
  body += varintBytes(entries.length);
  for (const [k, v] of entries) {
    body += varintBytes(Buffer.byteLength(k)) + Buffer.byteLength(k) + varintBytes(v.length) + v.length;
  }
  return BATCH_HEADER + varintBytes(body) + body;
}

/** The largest value length whose batch (with this key and these headers) is at most `limit` bytes. */
function valueLengthFor(limit: number, key: Buffer, headers: Record<string, Buffer>): number {
  let length = limit - 61 - key.length;
  while (batchBytes(key, length, headers) > limit) length--;
  return length;
}

interface SourceRecord {
  key: Buffer;
  value: Buffer;
  headers: Record<string, Buffer>;
}

/** A record whose batch is `limit - margin` bytes, of random (incompressible) bytes. */
function recordAtLimit(limit: number, margin: number): SourceRecord {
  const key = Buffer.from(`trace-${randomBytes(8).toString('hex')}`);
  const headers = {
    'content-type': Buffer.from('application/x-protobuf'),
    'otelcol.signal': Buffer.from('traces'),
    'x-binary': randomBytes(16),
  };
  const value = randomBytes(valueLengthFor(limit - margin, key, headers));
  return { key, value, headers };
}

/** Produces `record` as a client whose own size limit is not in the way: the broker's limit decides. */
async function produceToSource(topic: string, record: SourceRecord): Promise<void> {
  const producer = new KafkaJS.Kafka({
    kafkaJS: { logLevel: KafkaJS.logLevel.NOTHING } as KafkaJS.KafkaConfig,
  }).producer({
    'bootstrap.servers': endpoints.kafkaBrokers.join(','),
    'message.max.bytes': 10_000_000,
    'compression.codec': 'none',
    acks: -1,
  });
  await producer.connect();
  try {
    // A copy: the client's send() replaces a message's headers object with its own array form.
    await producer.send({ topic, messages: [{ ...record, headers: { ...record.headers } }] });
  } finally {
    await producer.disconnect();
  }
}

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const metrics = {
  deadLettered: { add: () => undefined },
  retries: { add: () => undefined },
} as unknown as ForwarderMetrics;

function writer(
  topic: string,
  deadLetterTopic: string,
  opts: { rdkafka?: Record<string, string | boolean>; createTopic?: TopicCreator } = {},
): DeadLetterWriter {
  const w = new DeadLetterWriter({
    kafka: resolveKafkaConfig(
      { kafka: { brokers: endpoints.kafkaBrokers, topic, clientId: 'okj-dlq-it', rdkafka: opts.rdkafka ?? {} } },
      {},
    ),
    topic: deadLetterTopic,
    group: 'okj-dlq-it',
    retry: exponentialBackoff({ initialDelayMillis: 100, maxDelayMillis: 1_000, multiplier: 2, jitter: 0 }),
    logger: silent,
    metrics,
    createTopic: opts.createTopic,
  });
  writers.push(w);
  return w;
}

function asSource(consumed: ConsumedRecord): DeadLetterSource {
  return {
    topic: consumed.topic,
    partition: consumed.partition,
    offset: Number(consumed.offset),
    timestamp: consumed.timestamp,
    key: consumed.key,
    value: consumed.value,
    headers: consumed.headers,
  };
}

/** A sink error with a message long enough to fill the error header (1,000 characters). */
const undeliverable = new SinkError(`HTTP 400: ${'the sink refused this record; '.repeat(50)}`, { retriable: false });

/** Puts `record` into a fresh source topic (default settings) and reads it back as the forwarder would. */
async function sourceRecord(record: SourceRecord): Promise<{ topic: string; source: DeadLetterSource }> {
  const topic = await createTopic({ prefix: 'okj-dlq-src' });
  await produceToSource(topic, record);
  const [consumed] = await consumeRaw(topic, 1);
  expect(consumed!.value!.equals(record.value)).toBe(true);
  return { topic, source: asSource(consumed!) };
}

function expectIntact(dead: ConsumedRecord, record: SourceRecord): void {
  expect(dead.key!.equals(record.key)).toBe(true);
  expect(dead.value!.length).toBe(record.value.length);
  expect(dead.value!.equals(record.value)).toBe(true);
  for (const [name, value] of Object.entries(record.headers)) {
    expect({ name, same: dead.headers[name]?.equals(value) }).toEqual({ name, same: true });
  }
}

async function replicationFactors(deadLetter: string, source: string): Promise<{ deadLetter: number; source: number }> {
  const admin = await connectedAdmin();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [deadLetter, source] });
    const factor = (name: string): number => metadata.find((t) => t.name === name)!.partitions[0]!.replicas.length;
    return { deadLetter: factor(deadLetter), source: factor(source) };
  } finally {
    await admin.disconnect();
  }
}

/** What a create-topic policy (absent on the test broker) answers: the broker's POLICY_VIOLATION error. */
function policyViolation(message: string): Error & { code: number } {
  return Object.assign(new Error(message), { code: KafkaJS.ErrorCodes.ERR_POLICY_VIOLATION });
}

describe('DeadLetterWriter at the size limit (real broker)', () => {
  it('sizes the source record right: the source topic refuses it a few bytes larger', async () => {
    const topic = await createTopic({ prefix: 'okj-dlq-src' });
    await expect(
      produceToSource(topic, recordAtLimit(BROKER_DEFAULT_MAX_MESSAGE_BYTES, -MARGIN_BYTES)),
    ).rejects.toThrow(/too large/i);
  });

  it('dead-letters a record just under the source topic limit with its key, value, headers and full provenance', async () => {
    const record = recordAtLimit(BROKER_DEFAULT_MAX_MESSAGE_BYTES, MARGIN_BYTES);
    const { topic, source } = await sourceRecord(record);
    const deadLetterTopic = uniqueName('okj-dlq-big');

    const failures: OtelKafkaJaegerError[] = [];
    const written = await writer(topic, deadLetterTopic).write(
      source,
      undeliverable,
      3,
      AbortSignal.timeout(60_000),
      (f) => failures.push(f),
    );
    expect({ written, failures: failures.map((f) => f.message) }).toEqual({ written: true, failures: [] });

    const [dead] = await consumeRaw(deadLetterTopic, 1);
    expectIntact(dead!, record);
    expect(dead!.headers[DEAD_LETTER_HEADERS.sourceTopic]?.toString()).toBe(topic);
    expect(dead!.headers[DEAD_LETTER_HEADERS.sourceOffset]?.toString()).toBe(String(source.offset));
    expect(dead!.headers[DEAD_LETTER_HEADERS.errorMessage]?.toString()).toBe(undeliverable.message.slice(0, 1_000));
    expect(dead!.headers[DEAD_LETTER_HEADERS.truncated]).toBeUndefined();
    // The broker's default would do here too (one broker); the unit tests show the source topic's wins.
    expect(await replicationFactors(deadLetterTopic, topic)).toEqual({ deadLetter: 1, source: 1 });
  });

  it('shortens the provenance headers when an existing dead-letter topic refuses the full ones', async () => {
    // Room for the record and a short error header, not for the full 1,000-character one.
    const record = recordAtLimit(BROKER_DEFAULT_MAX_MESSAGE_BYTES, 800);
    const { topic, source } = await sourceRecord(record);
    const deadLetterTopic = await createTopic({ prefix: 'okj-dlq-small' });

    const failures: OtelKafkaJaegerError[] = [];
    const written = await writer(topic, deadLetterTopic).write(
      source,
      undeliverable,
      3,
      AbortSignal.timeout(60_000),
      (f) => failures.push(f),
    );
    expect({ written, failures: failures.map((f) => f.message) }).toEqual({ written: true, failures: [] });

    const [dead] = await consumeRaw(deadLetterTopic, 1);
    expectIntact(dead!, record);
    expect(dead!.headers[DEAD_LETTER_HEADERS.truncated]?.toString()).toBe('error.message');
    expect(dead!.headers[DEAD_LETTER_HEADERS.sourceOffset]?.toString()).toBe(String(source.offset));
    expect(dead!.headers[DEAD_LETTER_HEADERS.errorMessage]?.toString()).toBe(undeliverable.message.slice(0, 100));
  });

  it('stays blocked with a non-retriable error naming the remedy when the topic refuses even the shortest form', async () => {
    const record = recordAtLimit(BROKER_DEFAULT_MAX_MESSAGE_BYTES, MARGIN_BYTES);
    const { topic, source } = await sourceRecord(record);
    const deadLetterTopic = await createTopic({ prefix: 'okj-dlq-small' });

    const abort = new AbortController();
    const failures: OtelKafkaJaegerError[] = [];
    const written = await writer(topic, deadLetterTopic).write(
      source,
      undeliverable,
      3,
      AbortSignal.any([abort.signal, AbortSignal.timeout(60_000)]),
      (f) => {
        failures.push(f);
        // Two attempts: the writer keeps trying after a permanent failure (an operator may fix the topic).
        if (failures.length === 2) abort.abort();
      },
    );
    expect(written).toBe(false);
    expect(failures).toHaveLength(2);
    for (const f of failures) {
      expect(f.retriable).toBe(false);
      expect(f.message).toContain(`larger than ${deadLetterTopic} accepts`);
      expect(f.message).toContain('max.message.bytes');
      expect(f.message).toContain(`stays blocked at offset ${source.offset}`);
    }
  });
});

describe('DeadLetterWriter where the dead-letter topic cannot be created as wanted (real broker)', () => {
  it("creates the topic with the broker's default max.message.bytes when a policy refuses 100 MiB, and writes", async () => {
    const { topic, source } = await sourceRecord({ key: Buffer.from('k'), value: Buffer.from('v'), headers: {} });
    const deadLetterTopic = uniqueName('okj-dlq-capped');
    const real = adminTopicCreator(
      resolveKafkaConfig({ kafka: { brokers: endpoints.kafkaBrokers, clientId: 'okj-dlq-it' } }, {}),
      silent,
    );
    const asked: Record<string, string>[] = [];
    // A managed cluster's policy: at most 8 MiB per topic.
    const capped: TopicCreator = (name, settings) => {
      asked.push({ ...settings.config });
      if (Number(settings.config['max.message.bytes'] ?? 0) > 8 * 1024 * 1024) {
        return Promise.reject(policyViolation('max.message.bytes above 8388608 is not allowed'));
      }
      return real(name, settings);
    };

    const failures: OtelKafkaJaegerError[] = [];
    const written = await writer(topic, deadLetterTopic, {
      createTopic: capped,
      rdkafka: { 'allow.auto.create.topics': false },
    }).write(source, undeliverable, 1, AbortSignal.timeout(60_000), (f) => failures.push(f));
    expect({ written, failures: failures.map((f) => f.message) }).toEqual({ written: true, failures: [] });
    expect(asked).toEqual([{ 'max.message.bytes': '104857600' }, {}]);
    const [dead] = await consumeRaw(deadLetterTopic, 1);
    expect(dead!.value!.toString()).toBe('v');
  });

  it('names the missing topic and why creation failed when the cluster does not auto-create it', async () => {
    const { topic, source } = await sourceRecord({ key: Buffer.from('k'), value: Buffer.from('v'), headers: {} });
    const deadLetterTopic = uniqueName('okj-dlq-missing');
    const refuseAll: TopicCreator = () => Promise.reject(policyViolation('topic creation is not allowed'));

    const abort = new AbortController();
    const failures: OtelKafkaJaegerError[] = [];
    const written = await writer(topic, deadLetterTopic, {
      createTopic: refuseAll,
      // What a hardened cluster does (auto.create.topics.enable=false), asked for by the client instead.
      rdkafka: { 'allow.auto.create.topics': false },
    }).write(source, undeliverable, 1, AbortSignal.any([abort.signal, AbortSignal.timeout(60_000)]), (f) => {
      failures.push(f);
      abort.abort();
    });
    expect(written).toBe(false);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.retriable).toBe(false);
    expect(failures[0]!.message).toContain(
      `dead-letter topic ${deadLetterTopic} does not exist and could not be created`,
    );
    expect(failures[0]!.message).toContain('ERR_POLICY_VIOLATION: topic creation is not allowed');
    expect(failures[0]!.message).toContain('create it or allow auto-creation');
    const admin = await connectedAdmin();
    try {
      await expect(admin.listTopics()).resolves.not.toContain(deadLetterTopic);
    } finally {
      await admin.disconnect();
    }
  });
});
