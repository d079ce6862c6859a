/**
 * The commit position of one partition: which offset may be committed so that every record before it was
 * accepted by the sink or written to the dead-letter topic.
 *
 * Records are tracked in fetch order (offsets increase, possibly with gaps: compaction, transaction
 * markers) and completed in any order. The commit position is the offset of the oldest record not yet
 * completed, or one past the newest tracked record when all are complete.
 */
export class OffsetLedger {
  // Offsets tracked and not yet passed by the commit position, oldest first; `#head` indexes the oldest.
  #pending: number[] = [];
  #head = 0;
  readonly #done = new Set<number>();
  #highest = -1;
  #committed: number | undefined;

  /** The highest offset tracked so far, or -1. */
  get highestTracked(): number {
    return this.#highest;
  }

  /** Offsets tracked and not yet completed. */
  get inFlight(): number {
    return this.#pending.length - this.#head - this.#done.size;
  }

  /** The last position handed to {@link markCommitted}, if any. */
  get committed(): number | undefined {
    return this.#committed;
  }

  /** Starts tracking `offset`. Returns false (and ignores it) when it is not newer than every tracked one. */
  track(offset: number): boolean {
    if (offset <= this.#highest) return false;
    this.#highest = offset;
    this.#pending.push(offset);
    return true;
  }

  /** Marks a tracked record as accepted (by the sink or the dead-letter topic). */
  complete(offset: number): void {
    if (offset > this.#highest) throw new Error(`offset ${offset} was never tracked (highest ${this.#highest})`);
    this.#done.add(offset);
  }

  /**
   * The offset to commit (the next record to read after a restart), or undefined when nothing was tracked.
   * Never moves backwards.
   */
  position(): number | undefined {
    while (this.#head < this.#pending.length) {
      const oldest = this.#pending[this.#head]!;
      if (!this.#done.has(oldest)) break;
      this.#done.delete(oldest);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    if (this.#highest < 0) return undefined;
    return this.#head < this.#pending.length ? this.#pending[this.#head] : this.#highest + 1;
  }

  /** The position to commit when it moved past the last committed one; else undefined. */
  committable(): number | undefined {
    const position = this.position();
    if (position === undefined) return undefined;
    return this.#committed === undefined || position > this.#committed ? position : undefined;
  }

  /** Records that `position` was committed. */
  markCommitted(position: number): void {
    if (this.#committed === undefined || position > this.#committed) this.#committed = position;
  }
}
