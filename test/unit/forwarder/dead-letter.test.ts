import { resolveKafkaConfig } from '../../../src/config/resolve-config';
import { ProduceError, SinkError } from '../../../src/errors/errors';
import type { OtelKafkaJaegerError } from '../../../src/errors/errors';
import { DEAD_LETTER_HEADERS, DeadLetterWriter, deadLetterMessage } from '../../../src/forwarder/dead-letter';
import type { DeadLetterMessage, DeadLetterProducer, DeadLetterSource } from '../../../src/forwarder/dead-letter';
import type { ForwarderMetrics } from '../../../src/forwarder/forwarder-metrics';
import type { RdKafkaConfig } from '../../../src/kafka/client-config';
import { DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES } from '../../../src/kafka/topics';
import type { Logger } from '../../../src/logging/logger';
import { fixedDelay } from '../../../src/retry/fixed-delay';

const TOPIC_AUTHORIZATION_FAILED = 29;
const MSG_SIZE_TOO_LARGE = 10;
const TRANSPORT = -195;

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

function logs(): Logger & { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  return {
    errors,
    warnings,
    debug: () => undefined,
    info: () => undefined,
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
  opts: { logger?: Logger; now?: () => number; configs?: RdKafkaConfig[]; rdkafka?: Record<string, string> } = {},
): DeadLetterWriter {
  return new DeadLetterWriter({
    kafka: resolveKafkaConfig({ kafka: { brokers: ['b:9092'], rdkafka: opts.rdkafka ?? {} } }, {}),
    topic: 'spans.dlq',
    group: 'g',
    retry: fixedDelay(0),
    logger: opts.logger ?? logs(),
    metrics,
    now: opts.now,
    connectProducer: (config) => {
      opts.configs?.push(config);
      return Promise.resolve(producer);
    },
    createTopic: () => Promise.resolve('exists'),
  });
}

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
  it('produces with the passthrough (security, SASL, TLS) and no local size limit below the topic', async () => {
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
      'compression.codec': 'zstd',
      'message.max.bytes': 1_000_000_000,
    });
    expect(configs[0]).not.toHaveProperty(['group.id']);
  });

  it('creates the dead-letter topic with room for any record before the first write', async () => {
    const created: Record<string, string>[] = [];
    const w = new DeadLetterWriter({
      kafka: resolveKafkaConfig({ kafka: { brokers: ['b:9092'] } }, {}),
      topic: 'spans.dlq',
      group: 'g',
      retry: fixedDelay(0),
      logger: logs(),
      metrics,
      connectProducer: () => Promise.resolve(scripted([() => undefined])),
      createTopic: (topic, config) => {
        expect(topic).toBe('spans.dlq');
        created.push({ ...config });
        return Promise.resolve('created');
      },
    });
    await w.write(source, cause, 1, new AbortController().signal, () => undefined);
    await w.write(source, cause, 1, new AbortController().signal, () => undefined);
    expect(created).toEqual([{ 'max.message.bytes': String(DEAD_LETTER_TOPIC_MAX_MESSAGE_BYTES) }]);
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
