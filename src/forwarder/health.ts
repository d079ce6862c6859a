// What the forwarder reports about itself: lifecycle state and, per assigned partition, pause, commit position,
// lag and the last error.
import { lagOf } from './partition-state';
import type { PartitionError, PartitionState, PauseReason } from './partition-state';

/** Health of one assigned partition, as {@link KafkaToJaegerForwarder.health} reports it. */
export interface PartitionHealth {
  /** The topic. */
  topic: string;
  /** The partition number. */
  partition: number;
  /** Whether this member owns the partition now (always true in a report; revoked ones are left out). */
  assigned: boolean;
  /** Whether fetching from it is paused. */
  paused: boolean;
  /** Why it is paused. */
  pauseReasons: PauseReason[];
  /** The last offset this member committed (the next record to read), if it committed one. */
  committedOffset: number | undefined;
  /**
   * The partition's end offset: as last seen by the consumer, and for a paused partition (which fetches
   * nothing) asked of the broker every few seconds.
   */
  highWatermark: number | undefined;
  /** Records between what is accepted (or committed) and the end of the partition, when known. */
  lag: number | undefined;
  /** Records fetched and not yet accepted by the sink or the dead-letter topic. */
  pendingRecords: number;
  /** The last delivery error on this partition, if any. */
  lastError: PartitionError | undefined;
}

/** What {@link KafkaToJaegerForwarder.health} returns. */
export interface ForwarderHealth {
  /** Lifecycle state. */
  state: 'created' | 'starting' | 'running' | 'stopping' | 'stopped';
  /** The consumer group. */
  groupId: string;
  /** The topic consumed. */
  topic: string;
  /** The sink's name. */
  sink: string;
  /** Assigned partitions. */
  partitions: PartitionHealth[];
  /** Record bytes fetched and not yet accepted (bounded by `forwarder.maxBufferedBytes`). */
  bufferedBytes: number;
  /** Sink requests in flight. */
  inFlightRequests: number;
}

/** The partitions' health, by partition number. */
export function partitionsHealth(partitions: Iterable<PartitionState>): PartitionHealth[] {
  return [...partitions]
    .sort((a, b) => a.partition - b.partition)
    .map((s) => ({
      topic: s.topic,
      partition: s.partition,
      assigned: !s.revoked,
      paused: s.paused,
      pauseReasons: [...s.pauseReasons],
      committedOffset: s.ledger.committed,
      highWatermark: s.highWatermark,
      lag: lagOf(s),
      pendingRecords: s.ledger.inFlight,
      lastError: s.lastError,
    }));
}
