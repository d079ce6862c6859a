// The admin-client adapters behind the dead-letter writer's topic seams, against a recording admin.
import type * as KafkaModule from '@confluentinc/kafka-javascript';

import { resolveKafkaConfig } from '../../../src/config/kafka';
import type { Logger } from '../../../src/logging/logger';
import { adminReplicationFactorReader, adminTopicCreator } from '../../../src/kafka/topics';

const mockAdmin = {
  requests: [] as unknown[],
  createTopics: (_request: unknown): Promise<boolean> => Promise.resolve(true),
  metadata: [] as unknown[],
  disconnected: 0,
};

jest.mock('@confluentinc/kafka-javascript', () => {
  const actual = jest.requireActual<typeof KafkaModule>('@confluentinc/kafka-javascript');
  class Kafka {
    admin(): object {
      return {
        connect: () => Promise.resolve(),
        disconnect: () => {
          mockAdmin.disconnected++;
          return Promise.resolve();
        },
        createTopics: (request: unknown) => {
          mockAdmin.requests.push(request);
          return mockAdmin.createTopics(request);
        },
        fetchTopicMetadata: (request: unknown) => {
          mockAdmin.requests.push(request);
          return Promise.resolve(mockAdmin.metadata);
        },
      };
    }
  }
  return { ...actual, __esModule: true, KafkaJS: { ...actual.KafkaJS, Kafka } };
});

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const kafka = resolveKafkaConfig({ kafka: { brokers: ['b:9092'] } }, {});

beforeEach(() => {
  mockAdmin.requests = [];
  mockAdmin.createTopics = () => Promise.resolve(true);
  mockAdmin.metadata = [];
  mockAdmin.disconnected = 0;
});

describe('adminTopicCreator', () => {
  it('creates the topic with the replication factor and config asked for, broker-default partitions', async () => {
    await expect(
      adminTopicCreator(kafka, silent)('spans.dlq', { replicationFactor: 3, config: { 'max.message.bytes': '5' } }),
    ).resolves.toBe('created');
    expect(mockAdmin.requests).toEqual([
      {
        topics: [
          {
            topic: 'spans.dlq',
            numPartitions: -1,
            replicationFactor: 3,
            configEntries: [{ name: 'max.message.bytes', value: '5' }],
          },
        ],
      },
    ]);
    expect(mockAdmin.disconnected).toBe(1);
  });

  it("rethrows the topic's own error (with its librdkafka code), not the client's aggregate", async () => {
    const own = Object.assign(new Error('Topic max.message.bytes exceeds the limit'), { code: 44 });
    mockAdmin.createTopics = () => Promise.reject(Object.assign(new Error('aggregate'), { errors: [own] }));
    await expect(adminTopicCreator(kafka, silent)('t', { replicationFactor: -1, config: {} })).rejects.toBe(own);
    expect(mockAdmin.disconnected).toBe(1);
  });
});

describe('adminReplicationFactorReader', () => {
  it("reads the topic's replication factor from its partitions' replicas", async () => {
    mockAdmin.metadata = [
      {
        name: 'spans',
        partitions: [
          { partitionId: 0, replicas: [1, 2, 3] },
          { partitionId: 1, replicas: [2, 3, 1] },
        ],
      },
    ];
    await expect(adminReplicationFactorReader(kafka, silent)('spans')).resolves.toBe(3);
    expect(mockAdmin.requests).toEqual([{ topics: ['spans'] }]);
    expect(mockAdmin.disconnected).toBe(1);
  });

  it('rejects when the metadata has no partition (the caller then uses the broker default)', async () => {
    mockAdmin.metadata = [{ name: 'spans', partitions: [] }];
    await expect(adminReplicationFactorReader(kafka, silent)('spans')).rejects.toThrow(/no partition metadata/);
  });
});
