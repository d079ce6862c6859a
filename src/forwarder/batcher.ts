// Which fetched records go into the next sink request, and when. Pure: no I/O, no timers; the forwarder asks
// when a batch is due and takes it.
import type { ForwardRecord, PartitionState } from './partition-state';

/** The batch settings (`forwarder.batch`). */
export interface BatchLimits {
  /** Records per request at most. */
  readonly maxRecords: number;
  /** Value bytes per request at most (a single larger record still goes alone). */
  readonly maxBytes: number;
  /** How long the oldest record may wait for a batch to fill up. */
  readonly lingerMillis: number;
}

/** A partition's records may go into a batch: it is assigned, and no request or undeliverable record holds it. */
function eligible(s: PartitionState): boolean {
  return s.blockers === 0 && !s.revoked && s.queue.length > 0;
}

/** Takes records of eligible partitions into batches, round-robin over partitions. */
export class Batcher {
  readonly #limits: BatchLimits;
  #cursor = 0;

  constructor(limits: BatchLimits) {
    this.#limits = limits;
  }

  /**
   * Milliseconds until a batch is due (0: now), or undefined when no partition has an eligible record. A batch
   * is due when the eligible records fill one, when the oldest waited `lingerMillis`, or at once when
   * `draining` (stopping: nothing more will come).
   */
  dueIn(partitions: Iterable<PartitionState>, now: number, draining: boolean): number | undefined {
    let records = 0;
    let bytes = 0;
    let oldest = Infinity;
    for (const s of partitions) {
      if (!eligible(s)) continue;
      records += s.queue.length;
      bytes += s.queue.bytes;
      const first = s.queue.peek()!;
      if (first.enqueuedAt < oldest) oldest = first.enqueuedAt;
    }
    if (records === 0) return undefined;
    if (draining || records >= this.#limits.maxRecords || bytes >= this.#limits.maxBytes) return 0;
    return Math.max(0, oldest + this.#limits.lingerMillis - now);
  }

  /**
   * Takes up to the limits from eligible partitions, each partition's records in offset order, starting one
   * partition further each time (so that no partition starves), all of one content type: a request has one.
   */
  take(partitions: Iterable<PartitionState>): ForwardRecord[] {
    const states: PartitionState[] = [];
    for (const s of partitions) if (eligible(s)) states.push(s);
    const batch: ForwardRecord[] = [];
    if (states.length === 0) return batch;
    this.#cursor = (this.#cursor + 1) % states.length;
    let bytes = 0;
    let contentType: string | undefined;
    for (let k = 0; k < states.length; k++) {
      const queue = states[(this.#cursor + k) % states.length]!.queue;
      for (let r = queue.peek(); r !== undefined; r = queue.peek()) {
        contentType ??= r.contentType;
        if (r.contentType !== contentType) break;
        if (
          batch.length > 0 &&
          (batch.length >= this.#limits.maxRecords || bytes + r.value.length > this.#limits.maxBytes)
        ) {
          return batch;
        }
        batch.push(r);
        bytes += r.value.length;
        queue.shift();
      }
    }
    return batch;
  }
}
