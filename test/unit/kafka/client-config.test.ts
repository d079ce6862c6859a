import { resolveExporterConfig } from '../../../src/config/exporter';
import { resolveKafkaConfig } from '../../../src/config/kafka';
import {
  adminRdKafkaConfig,
  consumerPassthrough,
  consumerRdKafkaConfig,
  deadLetterProducerRdKafkaConfig,
  messageTimeoutMillis,
  producerPassthrough,
  producerRdKafkaConfig,
  redact,
} from '../../../src/kafka/client-config';

const noEnv = {};

describe('producerRdKafkaConfig', () => {
  it('asks for acks from all replicas, idempotence, and a bounded queue', () => {
    const config = {
      kafka: { brokers: ['a:9092', 'b:9093'], clientId: 'svc' },
      exporter: { compression: 'zstd' as const },
    };
    const props = producerRdKafkaConfig(resolveKafkaConfig(config, noEnv), resolveExporterConfig(config, noEnv));
    expect(props).toMatchObject({
      'bootstrap.servers': 'a:9092,b:9093',
      'client.id': 'svc',
      acks: -1,
      'enable.idempotence': true,
      'compression.codec': 'zstd',
      'message.max.bytes': 1_000_000,
      'queue.buffering.max.kbytes': 65_536,
      'security.protocol': 'plaintext',
    });
    expect(props['message.timeout.ms']).toBeLessThan(10_000);
  });

  it('maps SASL and TLS, and applies the rdkafka passthrough last', () => {
    const config = {
      kafka: {
        brokers: ['a:9092'],
        ssl: { caFile: '/etc/ca.pem' },
        sasl: { mechanism: 'scram-sha-512' as const, username: 'u', password: 'p' },
        rdkafka: { 'socket.keepalive.enable': true, 'linger.ms': 20 },
      },
    };
    const props = producerRdKafkaConfig(resolveKafkaConfig(config, noEnv), resolveExporterConfig(config, noEnv));
    expect(props).toMatchObject({
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'u',
      'ssl.ca.location': '/etc/ca.pem',
      'socket.keepalive.enable': true,
      'linger.ms': 20,
    });
  });

  it('keeps the message timeout inside the export timeout', () => {
    for (const t of [1, 50, 1_000, 10_000, 600_000]) {
      expect(messageTimeoutMillis(t)).toBeLessThanOrEqual(t);
      expect(messageTimeoutMillis(t)).toBeGreaterThanOrEqual(1);
    }
  });

  it('redacts secrets for logging', () => {
    const shown = redact({ 'sasl.password': 'hunter2', 'ssl.key.password': 'k', 'client.id': 'svc' });
    expect(JSON.stringify(shown)).not.toMatch(/hunter2|"k"/);
    expect(shown['client.id']).toBe('svc');
  });
});

describe('passthrough by role', () => {
  const passthrough = {
    'security.protocol': 'ssl',
    'ssl.ca.location': '/ca.pem',
    'sasl.username': 'u',
    'socket.keepalive.enable': true,
    acks: 'all',
    'compression.codec': 'lz4',
    'queue.buffering.max.ms': 3,
    'group.id': 'x',
    'fetch.max.bytes': 1_000,
    'auto.offset.reset': 'latest',
  };
  const common = { 'security.protocol': 'ssl', 'ssl.ca.location': '/ca.pem', 'sasl.username': 'u' };

  it('gives a consumer everything but the producer-only properties', () => {
    expect(consumerPassthrough(passthrough)).toEqual({
      ...common,
      'socket.keepalive.enable': true,
      'group.id': 'x',
      'fetch.max.bytes': 1_000,
      'auto.offset.reset': 'latest',
    });
  });

  it('gives a producer everything but the consumer-only properties', () => {
    expect(producerPassthrough(passthrough)).toEqual({
      ...common,
      'socket.keepalive.enable': true,
      acks: 'all',
      'compression.codec': 'lz4',
      'queue.buffering.max.ms': 3,
    });
  });

  it('gives an admin client the connection and security properties only', () => {
    const kafka = resolveKafkaConfig({ kafka: { brokers: ['a:9092'], rdkafka: passthrough } }, noEnv);
    expect(adminRdKafkaConfig(kafka)).toEqual({
      'bootstrap.servers': 'a:9092',
      'client.id': kafka.clientId,
      ...common,
      'socket.keepalive.enable': true,
    });
  });

  it('lets a consumer fix what its correctness depends on, whatever the passthrough says', () => {
    const kafka = resolveKafkaConfig({ kafka: { brokers: ['a:9092'], rdkafka: passthrough } }, noEnv);
    const props = consumerRdKafkaConfig(kafka, { 'fetch.max.bytes': 5 }, { 'group.id': 'mine' });
    expect(props).toMatchObject({ ...common, 'group.id': 'mine', 'fetch.max.bytes': 1_000 });
    expect(props).not.toHaveProperty('acks');
  });

  it("never lets the passthrough's message.max.bytes refuse a dead letter locally", () => {
    const kafka = resolveKafkaConfig(
      { kafka: { brokers: ['a:9092'], rdkafka: { ...passthrough, 'message.max.bytes': 100_000 } } },
      noEnv,
    );
    const props = deadLetterProducerRdKafkaConfig(kafka);
    expect(props).toMatchObject({ ...common, 'message.max.bytes': 1_000_000_000, 'compression.codec': 'lz4' });
    expect(props).not.toHaveProperty(['group.id']);
  });

  it('gives the dead-letter producer no codec of its own and reports a missing topic before the message timeout', () => {
    const kafka = resolveKafkaConfig({ kafka: { brokers: ['a:9092'] } }, noEnv);
    const props = deadLetterProducerRdKafkaConfig(kafka);
    expect(props).not.toHaveProperty(['compression.codec']);
    expect(props).not.toHaveProperty(['compression.type']);
    // Below the message timeout: librdkafka fails a message for an unknown topic with ERR_UNKNOWN_TOPIC_OR_PART
    // only when this runs out first, else with ERR__MSG_TIMED_OUT.
    expect(props['topic.metadata.propagation.max.ms']).toBeLessThan(props['message.timeout.ms'] as number);
  });
});

describe('messageTimeoutMillis margin', () => {
  it('leaves librdkafka more than its one-second timeout scan to report a timed-out message before the export gives up', () => {
    expect(messageTimeoutMillis(10_000)).toBe(7_500);
    expect(messageTimeoutMillis(3_000)).toBe(1_500);
    for (const t of [3_000, 5_000, 10_000, 30_000]) expect(t - messageTimeoutMillis(t)).toBeGreaterThan(1_000);
  });
});
