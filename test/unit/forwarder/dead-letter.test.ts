import { resolveKafkaConfig } from '../../../src/config/kafka';
import { ProduceError, SinkError } from '../../../src/errors/errors';
import type { OtelKafkaJaegerError } from '../../../src/errors/errors';
import { DEAD_LETTER_HEADERS, DeadLetterWriter, deadLetterMessage } from '../../../src/forwarder/dead-letter';
import type { DeadLetterMessage, DeadLetterProducer, DeadLetterSource } from '../../../src/forwarder/dead-letter';
import type { ForwarderMetrics } from '../../../src/forwarder/forwarder-metrics';
import type { RdKafkaConfig } from '../../../src/kafka/client-config';
import { DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES } from '../../../src/kafka/topics';
import type { NewTopicSettings, TopicCreator } from '../../../src/kafka/topics';
import type { Logger } from '../../../src/logging/logger';
import { fixedDelay } from '../../../src/retry/fixed-delay';
import type { RetryPolicy, RetryState } from '../../../src/retry/retry-policy';

const TOPIC_AUTHORIZATION_FAILED = 29;
const MSG_SIZE_TOO_LARGE = 10;
const TRANSPORT = -195;
const UNKNOWN_TOPIC_OR_PART = 3;
const POLICY_VIOLATION = 44;
const INVALID_CONFIG = 40;
const INVALID_REPLICATION_FACTOR = 38;

function kafkaError(code: number, message: string): Error & { code: number } {
  return Object.assign(new Error(message), { code });
}

const source: DeadLetterSource = {
  topic: 'spans',
  partition: 3,
  offset: 42,
  timestamp: '1700000000000',
  key: Buffer.from('k'),
  value: Buffer.from('value'),
  headers: { 'content-type': 'application/x-protobuf' },
};
const cause = new SinkError('x'.repeat(2_000), { retriable: false });

function logs(): Logger & { errors: string[]; warnings: string[]; infos: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const infos: string[] = [];
  return {
    errors,
    warnings,
    infos,
    debug: () => undefined,
    info: (m, a) => infos.push(`${m} ${JSON.stringify(a ?? {})}`),
    warn: (m, a) => warnings.push(`${m} ${JSON.stringify(a ?? {})}`),
    error: (m, a) => errors.push(`${m} ${JSON.stringify(a ?? {})}`),
  };
}

const metrics = {
  deadLettered: { add: () => undefined },
  retries: { add: () => undefined },
} as unknown as ForwarderMetrics;

/** A producer whose n-th send does what `outcomes[n]` says (the last one repeats). */
function scripted(outcomes: ((m: DeadLetterMessage) => void)[]): DeadLetterProducer & { sent: DeadLetterMessage[] } {
  const sent: DeadLetterMessage[] = [];
  return {
    sent,
    send: (_topic, m) => {
      const outcome = outcomes[Math.min(sent.length, outcomes.length - 1)]!;
      sent.push(m);
      return new Promise<void>((resolve) => {
        outcome(m);
        resolve();
      });
    },
    disconnect: () => Promise.resolve(),
  };
}

function writer(
  producer: DeadLetterProducer,
  opts: {
    logger?: Logger;
    now?: () => number;
    configs?: RdKafkaConfig[];
    rdkafka?: Record<string, string>;
    createTopic?: TopicCreator;
    readReplicationFactor?: (topic: string) => Promise<number>;
    retry?: RetryPolicy;
  } = {},
): DeadLetterWriter {
  return new DeadLetterWriter({
    kafka: resolveKafkaConfig({ kafka: { brokers: ['b:9092'], topic: 'spans', rdkafka: opts.rdkafka ?? {} } }, {}),
    topic: 'spans.dlq',
    group: 'g',
    retry: opts.retry ?? fixedDelay(0),
    logger: opts.logger ?? logs(),
    metrics,
    now: opts.now,
    connectProducer: (config) => {
      opts.configs?.push(config);
      return Promise.resolve(producer);
    },
    createTopic: opts.createTopic ?? (() => Promise.resolve('exists')),
    readReplicationFactor: opts.readReplicationFactor ?? (() => Promise.resolve(3)),
  });
}

/** A topic creator that records what it was asked for and answers with `outcomes[n]` (the last repeats). */
function creator(
  outcomes: (() => 'created' | 'exists')[],
): TopicCreator & { calls: { topic: string; settings: NewTopicSettings }[] } {
  const calls: { topic: string; settings: NewTopicSettings }[] = [];
  const create = (topic: string, settings: NewTopicSettings): Promise<'created' | 'exists'> => {
    const outcome = outcomes[Math.min(calls.length, outcomes.length - 1)]!;
    // A copy: what the writer passed, not an object it may change later.
    calls.push({ topic, settings: structuredClone(settings) });
    return new Promise((resolve) => resolve(outcome()));
  };
  return Object.assign(create, { calls });
}

const never = new AbortController().signal;

describe('deadLetterMessage', () => {
  it('keeps the original key, value and headers and caps the error message', () => {
    const m = deadLetterMessage(source, cause, 4, 'g', new Date(0));
    expect(m.key).toBe(source.key);
    expect(m.value).toBe(source.value);
    expect(m.headers['content-type']).toBe('application/x-protobuf');
    expect(m.headers[DEAD_LETTER_HEADERS.errorMessage]).toHaveLength(1_000);
    expect(m.headers[DEAD_LETTER_HEADERS.truncated]).toBeUndefined();
  });

  it('shortens the provenance step by step and says so', () => {
    const short = deadLetterMessage(source, cause, 4, 'g', new Date(0), 'short-error');
    expect(short.headers[DEAD_LETTER_HEADERS.errorMessage]).toHaveLength(100);
    expect(short.headers[DEAD_LETTER_HEADERS.truncated]).toBe('error.message');
    const minimal = deadLetterMessage(source, cause, 4, 'g', new Date(0), 'minimal');
    expect(minimal.headers).toEqual({
      'content-type': 'application/x-protobuf',
      [DEAD_LETTER_HEADERS.sourceTopic]: 'spans',
      [DEAD_LETTER_HEADERS.sourcePartition]: '3',
      [DEAD_LETTER_HEADERS.sourceOffset]: '42',
      [DEAD_LETTER_HEADERS.errorCode]: 'SINK_FAILED',
      [DEAD_LETTER_HEADERS.truncated]: 'provenance',
    });
  });
});

describe('DeadLetterWriter', () => {
  it("retries a permanent failure on the policy's schedule, told the real failure, and never gives up", async () => {
    jest.useFakeTimers();
    try {
      const seen: RetryState[] = [];
      // Gives up after its first delay: the writer then waits its longest delay and goes on.
      const retry: RetryPolicy = {
        nextDelay: () => ({ retry: false }),
        delayAfter: (state) => (seen.push(state) === 1 ? 70_000 : undefined),
      };
      const denied = (): never => {
        throw kafkaError(TOPIC_AUTHORIZATION_FAILED, 'Broker: Topic authorization failed');
      };
      const producer = scripted([denied, denied, () => undefined]);
      const failures: OtelKafkaJaegerError[] = [];
      const written = writer(producer, { retry }).write(source, cause, 1, never, (f) => failures.push(f));
      await jest.advanceTimersByTimeAsync(29_999);
      expect(producer.sent).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(producer.sent).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(30_000);
      await expect(written).resolves.toBe(true);
      expect(producer.sent).toHaveLength(3);
      expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
      expect(seen.map((s) => s.error)).toEqual(failures);
      expect(failures.map((f) => [f.constructor, f.retriable])).toEqual([
        [ProduceError, false],
        [ProduceError, false],
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('produces with the passthrough (security, SASL, TLS), no codec of its own and no local size limit', async () => {
    const configs: RdKafkaConfig[] = [];
    const w = writer(scripted([() => undefined]), {
      configs,
      rdkafka: {
        'security.protocol': 'sasl_ssl',
        'sasl.mechanisms': 'PLAIN',
        'ssl.ca.location': '/ca.pem',
        'message.max.bytes': '1000000',
        'group.id': 'consumer-only',
      },
    });
    await expect(w.write(source, cause, 1, new AbortController().signal, () => undefined)).resolves.toBe(true);
    expect(configs[0]).toMatchObject({
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'PLAIN',
      'ssl.ca.location': '/ca.pem',
      acks: -1,
      'enable.idempotence': true,
      'message.max.bytes': 1_000_000_000,
    });
    expect(configs[0]).not.toHaveProperty(['group.id']);
    // A codec the broker lacks refuses every dead letter (ERR_UNSUPPORTED_COMPRESSION_TYPE, permanent).
    expect(configs[0]).not.toHaveProperty(['compression.codec']);
    expect(configs[0]).not.toHaveProperty(['compression.type']);
  });

  it("still takes the passthrough's codec, the user's explicit choice", async () => {
    const configs: RdKafkaConfig[] = [];
    const w = writer(scripted([() => undefined]), { configs, rdkafka: { 'compression.codec': 'lz4' } });
    await w.write(source, cause, 1, never, () => undefined);
    expect(configs[0]).toMatchObject({ 'compression.codec': 'lz4' });
  });

  it("creates the dead-letter topic with room for any record and the source topic's replication factor, once", async () => {
    const logger = logs();
    const create = creator([() => 'created']);
    const read: string[] = [];
    const w = writer(scripted([() => undefined]), {
      logger,
      createTopic: create,
      readReplicationFactor: (topic) => {
        read.push(topic);
        return Promise.resolve(3);
      },
    });
    await w.write(source, cause, 1, never, () => undefined);
    await w.write(source, cause, 1, never, () => undefined);
    expect(read).toEqual(['spans']);
    expect(create.calls).toEqual([
      {
        topic: 'spans.dlq',
        settings: {
          replicationFactor: 3,
          config: { 'max.message.bytes': String(DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES) },
        },
      },
    ]);
    expect(logger.infos.join('\n')).toMatch(
      /dead-letter topic created .*"replicationFactor":"3, that of source topic spans"/,
    );
  });

  it("falls back to the broker's default replication factor when the source topic's cannot be read, and says why", async () => {
    const logger = logs();
    const create = creator([() => 'created']);
    const w = writer(scripted([() => undefined]), {
      logger,
      createTopic: create,
      readReplicationFactor: () =>
        Promise.reject(kafkaError(TOPIC_AUTHORIZATION_FAILED, 'Broker: Topic authorization failed')),
    });
    await w.write(source, cause, 1, never, () => undefined);
    expect(create.calls.map((c) => c.settings.replicationFactor)).toEqual([-1]);
    expect(logger.infos.join('\n')).toMatch(
      /"replicationFactor":"the broker default: that of source topic spans could not be read \(Broker: Topic authorization failed\)"/,
    );
  });

  it("uses the broker's default replication factor when the broker cannot place the source topic's", async () => {
    const create = creator([
      () => {
        throw kafkaError(INVALID_REPLICATION_FACTOR, 'Unable to replicate the partition 3 time(s)');
      },
      () => 'created',
    ]);
    await writer(scripted([() => undefined]), { createTopic: create }).write(source, cause, 1, never, () => undefined);
    expect(create.calls.map((c) => c.settings)).toEqual([
      { replicationFactor: 3, config: { 'max.message.bytes': String(DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES) } },
      { replicationFactor: -1, config: { 'max.message.bytes': String(DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES) } },
    ]);
  });

  it.each([
    ['a create-topic policy', POLICY_VIOLATION, 'Topic max.message.bytes 104857600 exceeds the limit of 8388608'],
    ['an invalid config', INVALID_CONFIG, 'Invalid value 104857600 for configuration max.message.bytes'],
  ])('creates the topic without its max.message.bytes when %s refuses that value', async (_why, code, message) => {
    const logger = logs();
    const create = creator([
      () => {
        throw kafkaError(code, message);
      },
      () => 'created',
    ]);
    const failures: OtelKafkaJaegerError[] = [];
    const w = writer(scripted([() => undefined]), { logger, createTopic: create });
    await expect(w.write(source, cause, 1, never, (f) => failures.push(f))).resolves.toBe(true);
    expect(failures).toEqual([]);
    expect(create.calls.map((c) => c.settings)).toEqual([
      { replicationFactor: 3, config: { 'max.message.bytes': String(DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES) } },
      { replicationFactor: 3, config: {} },
    ]);
    expect(logger.warnings.join('\n')).toContain(message);
    expect(logger.infos.join('\n')).toMatch(/dead-letter topic created .*"maxMessageBytes":"the broker default"/);
  });

  it('names the missing topic and why it could not be created when a write finds no topic; resumes once it exists', async () => {
    const logger = logs();
    const refusal = 'Topic creation is not allowed by the create-topic policy';
    let exists = false;
    const create = creator([
      () => {
        if (exists) return 'exists';
        throw kafkaError(POLICY_VIOLATION, refusal);
      },
    ]);
    const producer = scripted([
      () => {
        if (!exists) throw kafkaError(UNKNOWN_TOPIC_OR_PART, 'Broker: Unknown topic or partition');
      },
    ]);
    const failures: OtelKafkaJaegerError[] = [];
    const written = writer(producer, { logger, createTopic: create }).write(source, cause, 1, never, (f) => {
      failures.push(f);
      // An operator creates the topic after the third failure.
      if (failures.length === 3) exists = true;
    });
    await expect(written).resolves.toBe(true);
    expect(failures).toHaveLength(3);
    for (const f of failures) {
      expect(f).toBeInstanceOf(ProduceError);
      expect(f.retriable).toBe(false);
      expect(f.message).toContain('dead-letter topic spans.dlq does not exist and could not be created');
      expect(f.message).toContain(`ERR_POLICY_VIOLATION: ${refusal}`);
      expect(f.message).toContain('create it or allow auto-creation');
      expect(f.message).toMatch(/stays blocked at offset 42/);
    }
    expect(logger.errors[0]).toContain('dead-letter topic spans.dlq does not exist and could not be created');
    // Creation is tried before every attempt while the topic is missing: with the 100 MiB limit, then
    // without it; one warning for the failure, not one per attempt.
    expect(create.calls).toHaveLength(4 * 2 - 1);
    expect(logger.warnings.filter((w) => w.startsWith('dead-letter topic not created'))).toHaveLength(1);
  });

  it('keeps a missing topic retriable, naming it, when it was found before (deleted since) and creates it again', async () => {
    const create = creator([() => 'exists']);
    const producer = scripted([
      () => {
        throw kafkaError(UNKNOWN_TOPIC_OR_PART, 'Broker: Unknown topic or partition');
      },
      () => undefined,
    ]);
    const failures: OtelKafkaJaegerError[] = [];
    await writer(producer, { createTopic: create }).write(source, cause, 1, never, (f) => failures.push(f));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.retriable).toBe(true);
    expect(failures[0]!.message).toContain('dead-letter topic spans.dlq does not exist');
    expect(create.calls).toHaveLength(2);
  });

  it('reports a permanent error as not retriable, naming cause and remedy; logs it rate-limited; recovers', async () => {
    const logger = logs();
    let now = 0;
    let fixed = false;
    const producer = scripted([
      () => {
        now += 1_000;
        if (!fixed) throw kafkaError(TOPIC_AUTHORIZATION_FAILED, 'Broker: Topic authorization failed');
      },
    ]);
    const failures: OtelKafkaJaegerError[] = [];
    const w = writer(producer, { logger, now: () => now });
    const written = w.write(source, cause, 1, new AbortController().signal, (f) => {
      failures.push(f);
      // 40 failed attempts, one simulated second apart, then an operator grants the ACL.
      if (failures.length === 40) fixed = true;
    });
    await expect(written).resolves.toBe(true);
    expect(failures).toHaveLength(40);
    for (const f of failures) {
      expect(f).toBeInstanceOf(ProduceError);
      expect(f.retriable).toBe(false);
      expect(f.message).toContain('spans.dlq');
      expect(f.message).toContain('WRITE');
      expect(f.message).toContain('ERR_TOPIC_AUTHORIZATION_FAILED');
      expect(f.message).toMatch(/stays blocked at offset 42/);
    }
    // 40 s of failures, one cause: logged at error level twice (t = 1 s and t = 31 s), not 40 times.
    expect(logger.errors).toHaveLength(2);
    expect(logger.errors[0]).toContain('ERR_TOPIC_AUTHORIZATION_FAILED');
  });

  it('keeps transient errors retriable', async () => {
    const failures: OtelKafkaJaegerError[] = [];
    const producer = scripted([
      () => {
        throw kafkaError(TRANSPORT, 'Local: Broker transport failure');
      },
      () => undefined,
    ]);
    await writer(producer).write(source, cause, 1, new AbortController().signal, (f) => failures.push(f));
    expect(failures.map((f) => f.retriable)).toEqual([true]);
  });

  it('shortens the provenance headers when the topic refuses the message as too large', async () => {
    const logger = logs();
    const producer = scripted([
      () => {
        throw kafkaError(MSG_SIZE_TOO_LARGE, 'Broker: Message size too large');
      },
      () => undefined,
    ]);
    const failures: OtelKafkaJaegerError[] = [];
    await expect(
      writer(producer, { logger }).write(source, cause, 1, new AbortController().signal, (f) => failures.push(f)),
    ).resolves.toBe(true);
    expect(failures).toEqual([]);
    expect(producer.sent[1]!.headers[DEAD_LETTER_HEADERS.truncated]).toBe('error.message');
    expect(producer.sent[1]!.value).toBe(source.value);
    expect(logger.warnings.join('\n')).toMatch(/shortened provenance/);
  });

  it('never drops a dead letter the topic refuses in every form: blocked with a clear error until aborted', async () => {
    const producer = scripted([
      () => {
        throw kafkaError(MSG_SIZE_TOO_LARGE, 'Broker: Message size too large');
      },
    ]);
    const abort = new AbortController();
    const failures: OtelKafkaJaegerError[] = [];
    const written = writer(producer).write(source, cause, 1, abort.signal, (f) => {
      failures.push(f);
      if (failures.length === 3) abort.abort();
    });
    await expect(written).resolves.toBe(false);
    // Each attempt tried every provenance level, the shortest last.
    expect(producer.sent).toHaveLength(9);
    expect(producer.sent[2]!.headers[DEAD_LETTER_HEADERS.truncated]).toBe('provenance');
    expect(failures[0]!.retriable).toBe(false);
    expect(failures[0]!.message).toMatch(/larger than spans\.dlq accepts/);
    expect(failures[0]!.message).toMatch(/max\.message\.bytes/);
  });
});
