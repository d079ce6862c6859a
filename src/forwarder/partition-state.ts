// What the forwarder keeps per assigned partition (its ledger, its queue of fetched records, why it is paused,
// what blocks it) and per fetched record. Every other part of the forwarder reads and updates these; none owns
// them alone.
import type { Message } from '@confluentinc/kafka-javascript';

import type { OtelKafkaJaegerError } from '../errors/errors';
import { errorType } from './delivery';
import { OffsetLedger } from './offset-ledger';
import { RecordQueue } from './record-queue';

/** Why a partition is paused. */
export type PauseReason = 'sink-failing' | 'buffer-full' | 'stopping';

/** The last delivery error seen on a partition. */
export interface PartitionError {
  /** HTTP status, gRPC code, or the library's error code. */
  code: string;
  /** The error message. */
  message: string;
  /** When it happened (ISO 8601). */
  at: string;
}

/** One assigned partition. */
export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** `topic:partition`. */
  readonly key: string;
  readonly ledger: OffsetLedger;
  readonly queue: RecordQueue<ForwardRecord>;
  readonly pauseReasons: Set<PauseReason>;
  paused: boolean;
  /** Bumped on every pause/resume decision, so a slow resume never overrides a later pause. */
  resumeToken: number;
  revoked: boolean;
  /** Requests and undeliverable records holding the partition: while any does, it is paused and not batched. */
  blockers: number;
  /** Undeliverable records retried one after the other (`onUndeliverable: 'block'`). */
  blockChain: Promise<void>;
  highWatermark: number | undefined;
  lastError: PartitionError | undefined;
  /** When a commit of this partition was last sent (ms since the epoch; 0: never). */
  lastCommitSentAt: number;
}

/** A fetched record on its way to the sink (or the dead-letter topic). */
export interface ForwardRecord {
  readonly state: PartitionState;
  readonly offset: number;
  readonly value: Buffer;
  /** The record as the client handed it over (key, headers, timestamp: read only for a dead letter). */
  readonly message: Message;
  readonly contentType: string;
  readonly enqueuedAt: number;
  /** Counted in the forwarder's buffered bytes until released. */
  released: boolean;
  /** Being dead-lettered, blocked on or dropped, outside of any sink request. */
  settling?: boolean;
  /** Accepted by the sink or the dead-letter topic, or dropped: its offset is complete in the ledger. */
  done: boolean;
  spans?: number;
}

export function newPartitionState(topic: string, partition: number): PartitionState {
  return {
    topic,
    partition,
    key: `${topic}:${partition}`,
    ledger: new OffsetLedger(),
    queue: new RecordQueue(),
    pauseReasons: new Set(),
    paused: false,
    resumeToken: 0,
    revoked: false,
    blockers: 0,
    blockChain: Promise.resolve(),
    highWatermark: undefined,
    lastError: undefined,
    lastCommitSentAt: 0,
  };
}

/** Records between what is accepted (or committed) and the end of the partition, when known. */
export function lagOf(s: PartitionState): number | undefined {
  if (s.highWatermark === undefined) return undefined;
  const position = s.ledger.position() ?? s.ledger.committed;
  return position === undefined ? undefined : Math.max(0, s.highWatermark - position);
}

/** An error as a partition's `lastError`. */
export function errorInfo(error: OtelKafkaJaegerError): PartitionError {
  return { code: errorType(error), message: error.message, at: new Date().toISOString() };
}
