// The partitions this member owns, the records fetched into their queues, and the bound on what they buffer:
// records come in from the intake, leave as batches, and are released once settled.
import type { Message, TopicPartition } from '@confluentinc/kafka-javascript';

import type { Logger } from '../logging/logger';
import { nativeRecordContentType } from '../serializers/record-content';
import { newPartitionState } from './partition-state';
import type { ForwardRecord, PartitionState } from './partition-state';
import type { PauseController } from './pause-controller';

/** Records the first consume call asks for, before any record size is known (60 KB records: 6 MB). */
const FIRST_CALL_RECORDS = 100;

/** Assigned partitions and their fetched records. */
export class Partitions {
  readonly #byKey = new Map<string, PartitionState>();
  readonly #pauses: PauseController;
  readonly #logger: Logger;
  readonly #maxBufferedBytes: number;
  #bufferedBytes = 0;
  /** Every partition is paused for `buffer-full`: the buffer went past its bound and has not drained to half. */
  #full = false;
  /** {@link pauseAll} paused every partition for the forwarder's stop. */
  #stopping = false;
  /** Value bytes per record fetched, averaged over the recent consume calls; undefined before the first. */
  #averageRecordBytes: number | undefined;

  /** @param maxBufferedBytes - fetched bytes held at most (`forwarder.maxBufferedBytes`): above it, all pause. */
  constructor(pauses: PauseController, logger: Logger, maxBufferedBytes: number) {
    this.#pauses = pauses;
    this.#logger = logger;
    this.#maxBufferedBytes = maxBufferedBytes;
  }

  /** Value bytes of records fetched and not yet released. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Assigned partitions, revoked ones excluded (they are removed when revoked). */
  values(): IterableIterator<PartitionState> {
    return this.#byKey.values();
  }

  /**
   * How many records the next consume call should ask for, at most `max`: as many as fit in the buffer's free
   * bytes at the average record size seen so far, and at least one. A call of large records (an exporter's
   * partition messages of ~60 KB) then stops near the bound instead of far past it: the records past the bound
   * are not kept but read again after the resume, and each such call fetched them for nothing.
   */
  recordsWanted(max: number): number {
    const average = this.#averageRecordBytes;
    if (average === undefined) return Math.min(max, FIRST_CALL_RECORDS);
    // Only empty records so far: their size says nothing about the next ones.
    if (!(average > 0)) return max;
    const free = this.#maxBufferedBytes - this.#bufferedBytes;
    return Math.max(1, Math.min(max, Math.ceil(free / average)));
  }

  /** Whether any partition has records waiting for a batch. */
  anyQueued(): boolean {
    for (const s of this.#byKey.values()) if (s.queue.length > 0) return true;
    return false;
  }

  assigned(assignment: readonly TopicPartition[]): void {
    const fresh: PartitionState[] = [];
    for (const tp of assignment) {
      const key = `${tp.topic}:${tp.partition}`;
      const existing = this.#byKey.get(key);
      if (existing && !existing.revoked) continue;
      const state = newPartitionState(tp.topic, tp.partition);
      this.#byKey.set(key, state);
      fresh.push(state);
    }
    this.#logger.info('partitions assigned', { partitions: assignment.map((tp) => tp.partition).join(',') });
    if (fresh.length > 0 && (this.#full || this.#stopping)) {
      // Assigned while the buffer is full (or the forwarder stops): paused like the rest (else each would add a
      // record past the bound, or fetch what the stop will not deliver). Once the consumer took the assignment,
      // which the rebalance handler does right after this returns: librdkafka refuses to pause a partition it
      // was not assigned.
      queueMicrotask(() => {
        for (const s of fresh) {
          if (this.#full) this.#pauses.add(s, 'buffer-full');
          if (this.#stopping) this.#pauses.add(s, 'stopping');
        }
      });
    }
  }

  /** The states of partitions about to be revoked (before {@link revoked}). */
  statesOf(assignment: readonly TopicPartition[]): PartitionState[] {
    const states: PartitionState[] = [];
    for (const tp of assignment) {
      const s = this.#byKey.get(`${tp.topic}:${tp.partition}`);
      if (s) states.push(s);
    }
    return states;
  }

  /** The partitions are no longer this member's: results arriving later are discarded, their bytes released. */
  revoked(states: readonly PartitionState[]): void {
    for (const s of states) {
      s.revoked = true;
      for (const r of s.queue.clear()) this.release(r);
      this.#byKey.delete(s.key);
    }
    this.#logger.info('partitions revoked', { partitions: states.map((s) => s.partition).join(',') });
  }

  /**
   * Queues fetched records (the binding's message objects, kept as they are).
   *
   * @remarks
   * Records of a partition being revoked are left for its next owner. Once the buffer is full (or the forwarder
   * stops), records of the partitions paused for it are left too: librdkafka drops what it had fetched for a
   * partition when it is paused, and a resume seeks to the ledger's position, so they are read again. That holds
   * the buffer to its bound plus one record, whatever the size of a consume call. Records of a partition paused
   * only because its sink requests fail are kept (they were fetched already, and count against the bound).
   */
  add(messages: readonly Message[], now: number, endOffsetOf: (s: PartitionState) => number | undefined): void {
    let state: PartitionState | undefined;
    let seen: PartitionState[] | undefined;
    let callBytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      callBytes += m.value?.length ?? 0;
      if (state?.partition !== m.partition || state.topic !== m.topic) {
        state = this.#byKey.get(`${m.topic}:${m.partition}`);
        if (state) {
          seen ??= [];
          if (!seen.includes(state)) seen.push(state);
        }
      }
      if (!state || state.revoked || state.pauseReasons.has('buffer-full') || state.pauseReasons.has('stopping')) {
        continue;
      }
      const offset = m.offset;
      // A redelivery (after a pause, the partition is read again from the ledger's position) is not queued twice.
      if (!state.ledger.track(offset)) continue;
      const value = m.value;
      if (!value || value.length === 0) {
        // Nothing to forward (a tombstone or an empty request): accepted as is.
        state.ledger.complete(offset);
        continue;
      }
      state.queue.push({
        state,
        offset,
        value,
        message: m,
        contentType: nativeRecordContentType(m.headers, value),
        enqueuedAt: now,
        released: false,
        done: false,
      });
      this.#bufferedBytes += value.length;
      if (this.#bufferedBytes > this.#maxBufferedBytes) {
        this.#full = true;
        for (const s of this.#byKey.values()) this.#pauses.add(s, 'buffer-full');
      }
    }
    if (messages.length > 0) {
      const callAverage = callBytes / messages.length;
      const previous = this.#averageRecordBytes;
      this.#averageRecordBytes = previous === undefined ? callAverage : (previous + callAverage) / 2;
    }
    for (const s of seen ?? []) {
      const high = endOffsetOf(s);
      if (high !== undefined) s.highWatermark = high;
    }
  }

  /** A record is settled (or its partition gone): its bytes no longer count; below half the bound, all resume. */
  release(record: ForwardRecord): void {
    if (record.released) return;
    record.released = true;
    this.#bufferedBytes -= record.value.length;
    if (this.#bufferedBytes <= this.#maxBufferedBytes / 2) {
      this.#full = false;
      for (const s of this.#byKey.values()) this.#pauses.remove(s, 'buffer-full');
    }
  }

  /** Pauses every partition for `reason`. */
  pauseAll(reason: 'stopping'): void {
    this.#stopping = true;
    for (const s of this.#byKey.values()) this.#pauses.add(s, reason);
  }
}
