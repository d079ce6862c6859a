// The exporter groups spans by the partition a message keyed by their trace id would go to, computed by
// keyPartitioner() (src/kafka/partitioner.ts). Here librdkafka itself decides: messages keyed by random trace
// ids are produced with no partition through a native producer, and every partition its delivery report
// names must be the one keyPartitioner() computes for that key.
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type { DeliveryReport, LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { randomBytes } from 'node:crypto';

import { keyPartitioner } from '../../../src/kafka/partitioner';
import { createTopic } from '../harness/kafka';
import { endpoints } from '../harness/stack';

const PARTITIONS = 7;
const MESSAGES = 350;

/** Produces one message per key (no partition given) and returns the partition librdkafka put each one in. */
async function partitionsChosenByLibrdkafka(topic: string, keys: string[], partitioner?: string): Promise<number[]> {
  const producer = new kafkaJavascript.Producer(
    { 'bootstrap.servers': endpoints.kafkaBrokers.join(','), 'client.id': 'okj-partitioner-parity', dr_cb: true },
    partitioner === undefined ? {} : { partitioner },
  );
  const partitions = new Array<number>(keys.length).fill(-1);
  let pending = keys.length;
  const delivered = new Promise<void>((resolve, reject) => {
    producer.on('delivery-report', (err: LibrdKafkaError | null, report: DeliveryReport) => {
      if (err) {
        reject(new Error(`delivery failed: ${err.message}`));
        return;
      }
      partitions[report.opaque as number] = report.partition;
      if (--pending === 0) resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    producer.connect({}, (err) => (err ? reject(new Error(`connect failed: ${err.message}`)) : resolve()));
  });
  try {
    producer.setPollInBackground(true);
    keys.forEach((key, i) => {
      producer.produce(topic, null, Buffer.from(`message ${i}`), key, null, i);
    });
    await delivered;
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(10_000, () => resolve()));
  }
  return partitions;
}

describe('keyPartitioner() against librdkafka', () => {
  it.each([
    ['unset (librdkafka’s default, consistent_random)', undefined],
    ['murmur2_random', 'murmur2_random'],
    ['fnv1a_random', 'fnv1a_random'],
  ])('partitioner %s: every trace id lands where keyPartitioner says', async (_label, name) => {
    const topic = await createTopic({ prefix: 'okj-partitioner-parity', partitions: PARTITIONS });
    const keys = Array.from({ length: MESSAGES }, () => randomBytes(16).toString('hex'));
    const actual = await partitionsChosenByLibrdkafka(topic, keys, name);
    const partitioner = keyPartitioner(name);
    expect(partitioner).toBeDefined();
    const predicted = keys.map((key) => partitioner!(key, PARTITIONS));
    const wrong = keys
      .map((key, i) => ({ key, librdkafka: actual[i], predicted: predicted[i] }))
      .filter((m) => m.librdkafka !== m.predicted);
    expect({ wrong: wrong.length, firstWrong: wrong.slice(0, 3) }).toEqual({ wrong: 0, firstWrong: [] });
    // Not vacuous: the keys reached every partition.
    expect(new Set(actual).size).toBe(PARTITIONS);
  });
});
