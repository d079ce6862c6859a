// Every Kafka client the library creates takes its connection and security settings (kafka.sasl / tls and
// the kafka.rdkafka passthrough) from the one mapping in src/kafka/client-config.ts. The client library is
// replaced by recorders that keep each client's configuration and refuse to connect.
import type * as KafkaModule from '@confluentinc/kafka-javascript';

import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import { DeadLetterWriter } from '../../../src/forwarder/dead-letter';
import type { ForwarderMetrics } from '../../../src/forwarder/forwarder-metrics';
import { resolveKafkaConfig } from '../../../src/config/kafka';
import { adminTopicCreator } from '../../../src/kafka/topics';
import { connectedRedriveProducer, partitionBounds, readTopic, withAdmin } from '../../../src/cli/kafka-clients';
import { fixedDelay } from '../../../src/retry/fixed-delay';

type Props = Record<string, unknown>;

const mockClients: { kind: string; config: Props }[] = [];

jest.mock('@confluentinc/kafka-javascript', () => {
  const actual = jest.requireActual<typeof KafkaModule>('@confluentinc/kafka-javascript');
  const refusal = (): Error => Object.assign(new Error('connection refused by the test'), { code: -195 });
  class Producer {
    constructor(config: Props) {
      mockClients.push({ kind: 'native producer', config });
    }
    on(): this {
      return this;
    }
    connect(_options: object, callback: (err: Error) => void): void {
      callback(refusal());
    }
  }
  class KafkaConsumer {
    constructor(config: Props) {
      mockClients.push({ kind: 'native consumer', config });
    }
    on(): this {
      return this;
    }
    connect(_options: object, callback: (err: Error) => void): void {
      callback(refusal());
    }
    disconnect(callback: () => void): void {
      callback();
    }
  }
  class Kafka {
    readonly #top: Props;
    constructor(top: Props) {
      const { kafkaJS: _ignored, ...rest } = top;
      this.#top = rest;
    }
    producer(config: Props = {}): object {
      mockClients.push({ kind: 'KafkaJS producer', config: { ...this.#top, ...config } });
      return { connect: () => Promise.reject(refusal()), disconnect: () => Promise.resolve() };
    }
    consumer(config: Props = {}): object {
      mockClients.push({ kind: 'KafkaJS consumer', config: { ...this.#top, ...config } });
      return { connect: () => Promise.reject(refusal()), disconnect: () => Promise.resolve() };
    }
    admin(): object {
      mockClients.push({ kind: 'KafkaJS admin', config: this.#top });
      return {
        connect: () => Promise.resolve(),
        disconnect: () => Promise.resolve(),
        createTopics: () => Promise.resolve(true),
        fetchTopicMetadata: () => Promise.resolve([{ name: 'spans', partitions: [{ partitionId: 0, replicas: [1] }] }]),
        fetchTopicOffsets: () => Promise.resolve([{ partition: 0, low: '0', high: '1' }]),
      };
    }
  }
  return {
    ...actual,
    __esModule: true,
    default: { ...actual, Producer, KafkaConsumer },
    KafkaJS: { ...actual.KafkaJS, Kafka },
  };
});

const security = {
  'security.protocol': 'sasl_ssl',
  'sasl.mechanisms': 'SCRAM-SHA-512',
  'sasl.username': 'svc',
  'sasl.password': 'secret',
  'ssl.ca.location': '/etc/kafka/ca.pem',
  'ssl.endpoint.identification.algorithm': 'https',
};
const config = {
  kafka: {
    brokers: ['b:9092'],
    topic: 'spans',
    // A producer-only and a consumer-only property: each client must only take those of its role.
    rdkafka: { ...security, 'linger.ms': 7, 'fetch.wait.max.ms': 11 },
  },
  forwarder: { groupId: 'g', sink: { type: 'otlp-http' as const, url: 'http://127.0.0.1:1/v1/traces' } },
};
const kafka = resolveKafkaConfig(config, {});
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const metrics = {
  deadLettered: { add: () => undefined },
  retries: { add: () => undefined },
} as unknown as ForwarderMetrics;

beforeEach(() => {
  mockClients.length = 0;
});

function created(): { kind: string; config: Props }[] {
  expect(mockClients.length).toBeGreaterThan(0);
  return mockClients;
}

function expectSecurity(clients: { kind: string; config: Props }[]): void {
  for (const c of clients) expect({ kind: c.kind, ...c.config }).toMatchObject({ kind: c.kind, ...security });
}

const isConsumer = (kind: string): boolean => kind.includes('consumer');
const isProducer = (kind: string): boolean => kind.includes('producer');

function expectRoleFiltered(clients: { kind: string; config: Props }[]): void {
  for (const c of clients) {
    if (!isProducer(c.kind)) expect({ kind: c.kind, ...c.config }).not.toHaveProperty(['linger.ms']);
    if (!isConsumer(c.kind)) expect({ kind: c.kind, ...c.config }).not.toHaveProperty(['fetch.wait.max.ms']);
  }
}

describe('every Kafka client gets kafka.rdkafka (security, SASL, TLS), filtered by role', () => {
  it('exporter producer', () => {
    new KafkaSpanExporter(config, {});
    const clients = created();
    expectSecurity(clients);
    expectRoleFiltered(clients);
    expect(clients[0]!.config['linger.ms']).toBe(7);
  });

  it('forwarder consumer', async () => {
    const forwarder = new KafkaToJaegerForwarder(config, {});
    await expect(forwarder.start()).rejects.toThrow(/connection refused by the test/);
    await forwarder.stop();
    const clients = created();
    expectSecurity(clients);
    expectRoleFiltered(clients);
  });

  it('dead-letter producer and the admins that read the source topic and create its topic', async () => {
    const abort = new AbortController();
    const writer = new DeadLetterWriter({
      kafka,
      topic: 'spans.dlq',
      group: 'g',
      retry: fixedDelay(0),
      logger: silent,
      metrics,
    });
    const source = { topic: 'spans', partition: 0, offset: 0, timestamp: '0', key: null, value: null, headers: {} };
    const error = new Error('x') as never;
    await writer.write(source, error, 1, abort.signal, () => abort.abort());
    const clients = created();
    expect(clients.map((c) => c.kind).sort()).toEqual(['KafkaJS admin', 'KafkaJS admin', 'KafkaJS producer']);
    expectSecurity(clients);
    expectRoleFiltered(clients);
  });

  it('replay consumer and admin', async () => {
    const forwarder = new KafkaToJaegerForwarder(config, {});
    await expect(forwarder.replay({ from: { 0: 0 } })).rejects.toThrow(/connection refused by the test/);
    await forwarder.stop();
    const clients = created();
    expect(clients.map((c) => c.kind).sort()).toEqual(['KafkaJS admin', 'native consumer']);
    expectSecurity(clients);
    expectRoleFiltered(clients);
    // The passthrough cannot turn the replay consumer into a committing group member.
    expect(clients.find((c) => c.kind === 'native consumer')!.config).toMatchObject({ 'enable.auto.commit': false });
  });

  it('CLI admin, reader and redrive producer', async () => {
    await withAdmin(kafka, 'read offsets', 1_000, (admin) => partitionBounds(admin, 'spans', 1_000));
    await expect(readTopic(kafka, 'spans', [{ partition: 0, low: 0, high: 1 }], 1, () => undefined)).rejects.toThrow(
      /connection refused/,
    );
    await expect(connectedRedriveProducer(kafka)).rejects.toThrow(/connection refused/);
    await adminTopicCreator(kafka, silent)('t', { replicationFactor: -1, config: {} });
    const clients = created();
    expect(clients.map((c) => c.kind).sort()).toEqual([
      'KafkaJS admin',
      'KafkaJS admin',
      'KafkaJS producer',
      'native consumer',
    ]);
    expectSecurity(clients);
    expectRoleFiltered(clients);
    expect(clients.find((c) => c.kind === 'KafkaJS producer')!.config['message.max.bytes']).toBe(1_000_000_000);
  });
});
