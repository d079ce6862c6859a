// One raw record produced to the cluster with acks=all; resolves with its offset.
import { KafkaJS } from '@confluentinc/kafka-javascript';

import { cluster } from './cluster';

export async function produceTo(topic: string, value: Buffer): Promise<number> {
  const producer = new KafkaJS.Kafka({
    kafkaJS: { brokers: cluster.bootstrap, clientId: 'okj-cluster-raw', logLevel: KafkaJS.logLevel.NOTHING },
  }).producer({ kafkaJS: { acks: -1, idempotent: true } });
  await producer.connect();
  try {
    const [meta] = await producer.send({
      topic,
      messages: [{ key: 'poison', value, headers: { 'content-type': 'application/x-protobuf' } }],
    });
    return Number(meta?.baseOffset ?? meta?.offset ?? -1);
  } finally {
    await producer.disconnect();
  }
}
