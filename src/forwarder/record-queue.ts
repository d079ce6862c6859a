// A partition's queue of fetched records: an array consumed from a head index (shift() on a long array is
// O(n) per call), with records that must be tried again put back in front. It keeps its own record count and
// value bytes, so that deciding whether a batch is due costs one look per partition, not one per record.

/** What the queue needs of a record. */
export interface QueuedRecord {
  readonly value: Buffer;
  /** When it was fetched (ms since the epoch): how long it has waited for a batch. */
  readonly enqueuedAt: number;
}

/** Records of one partition waiting for a sink request, oldest first. */
export class RecordQueue<R extends QueuedRecord> {
  #items: R[] = [];
  #head = 0;
  #bytes = 0;

  /** Records waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Value bytes of the records waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The oldest record waiting, if any. */
  peek(): R | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  push(record: R): void {
    this.#items.push(record);
    this.#bytes += record.value.length;
  }

  /** Takes the oldest record. */
  shift(): R | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const r = this.#items[this.#head++]!;
    this.#bytes -= r.value.length;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return r;
  }

  /** Puts records taken earlier back in front, in their order (see {@link putBack}). */
  putBack(records: readonly R[]): void {
    this.#head = putBack(this.#items, this.#head, records);
    for (const r of records) this.#bytes += r.value.length;
  }

  /** Empties the queue and returns what it held. */
  clear(): R[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    return rest;
  }
}

/**
 * Puts `records` back at the head of `queue` (in their order, before everything not yet taken) and returns
 * the new head index, 0.
 *
 * @remarks
 * Not `splice(head, 0, ...records)`: spreading a batch of a hundred thousand records into call arguments
 * overflows the call stack, and the records would be neither requeued nor completed.
 */
export function putBack<T>(queue: T[], head: number, records: readonly T[]): number {
  const rest = queue.slice(head);
  queue.length = 0;
  for (const r of records) queue.push(r);
  for (const r of rest) queue.push(r);
  return 0;
}
