// Partition states and records for the forwarder's unit tests, without a Kafka client.
import type { Message } from '@confluentinc/kafka-javascript';

import { newPartitionState } from '../../../src/forwarder/partition-state';
import type { ForwardRecord, PartitionState } from '../../../src/forwarder/partition-state';

export const PROTO = 'application/x-protobuf';
export const JSON_TYPE = 'application/json';

export function partition(n: number, topic = 't'): PartitionState {
  return newPartitionState(topic, n);
}

/** A message as the binding hands it over. */
export function message(partitionNumber: number, offset: number, value: Buffer | null, topic = 't'): Message {
  return {
    topic,
    partition: partitionNumber,
    offset,
    value,
    size: value?.length ?? 0,
    key: Buffer.from(`k${offset}`),
    timestamp: 1_700_000_000_000 + offset,
    headers: [{ 'content-type': Buffer.from(PROTO) }],
  };
}

/** Queues a record of `bytes` bytes at the next offset of `s` (tracked in its ledger). */
export function enqueue(
  s: PartitionState,
  bytes = 10,
  options: { contentType?: string; enqueuedAt?: number } = {},
): ForwardRecord {
  const offset = s.ledger.highestTracked + 1;
  s.ledger.track(offset);
  const value = Buffer.alloc(bytes, 1);
  const r: ForwardRecord = {
    state: s,
    offset,
    value,
    message: message(s.partition, offset, value, s.topic),
    contentType: options.contentType ?? PROTO,
    enqueuedAt: options.enqueuedAt ?? 0,
    released: false,
    done: false,
  };
  s.queue.push(r);
  return r;
}

export const silentLogger = {
  debug: (): void => undefined,
  info: (): void => undefined,
  warn: (): void => undefined,
  error: (): void => undefined,
};
