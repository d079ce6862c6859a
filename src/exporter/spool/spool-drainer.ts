// Delivers spooled records to Kafka in the background, oldest segment first, one chunk at a time and paced
// to `bytesPerSecond`, so a recovering broker gets a steady stream and the live exports sharing the producer
// keep most of it. A segment is deleted only once every record in it was acknowledged; a chunk that fails is
// retried (only its unacknowledged records) after a backoff, and while that backoff lasts Kafka is known to
// be down. The drainer owns no Kafka client: `send` is the exporter's produce.
import type { Logger } from '../../logging/logger';
import type { RetryPolicy } from '../../retry/retry-policy';
import { sleep as cancellableSleep } from '../../retry/sleep';
import type { SegmentDamage, SpoolRecord } from './segment-format';
import type { Segment, Spool } from './spool';

export interface DrainerHooks {
  /**
   * Produces the records; calls `onAcknowledged(i)` for each one Kafka acknowledged and resolves once all
   * were, or rejects.
   */
  send(records: readonly SpoolRecord[], onAcknowledged: (index: number) => void): Promise<void>;
  /** Kafka acknowledged these records (the producer works). */
  onDelivered(records: readonly SpoolRecord[]): void;
  /** A send failed; the drainer waits `delayMillis` before the next attempt. */
  onFailure(error: unknown, delayMillis: number): void;
  /** Records given up on after `maxRejections` failures that blame them (e.g. the broker refuses their size). */
  onDropped(records: readonly SpoolRecord[], error: unknown): void;
  /** A segment had damaged or torn records, which were skipped. */
  onDamage(segment: Segment, damage: SegmentDamage): void;
}

export interface DrainerOptions {
  /** Average bound on the value bytes produced per second. */
  bytesPerSecond: number;
  /** The most value bytes in one send (at least one record is sent). */
  chunkBytes: number;
  /** Delays between failed attempts. */
  backoff: RetryPolicy;
  /**
   * The delay after a failure the backoff would give up on (a non-retriable one, e.g. authentication): the
   * drainer does not give up on spooled data, it tries again this much later. @defaultValue 5000
   */
  declinedDelayMillis?: number;
  /**
   * Whether a failure is the records' own fault, so no retry can deliver them (a size or format the broker
   * refuses). Any other failure — Kafka down, but also authentication or authorization, which an operator
   * fixes — is retried for as long as it takes. @defaultValue none is
   */
  isRejection?: (error: unknown) => boolean;
  /** Consecutive rejections of the same records before they are dropped. @defaultValue 5 */
  maxRejections?: number;
  logger: Logger;
  /** Seams for unit tests. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export class SpoolDrainer {
  readonly #spool: Spool;
  readonly #hooks: DrainerHooks;
  readonly #options: DrainerOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #woken = false;
  /** Ends the current backoff wait early. */
  #interrupt: AbortController | undefined;

  constructor(spool: Spool, hooks: DrainerHooks, options: DrainerOptions) {
    this.#spool = spool;
    this.#hooks = hooks;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? cancellableSleep;
  }

  /** Whether a drain pass is running (it ends when the spool is empty). */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Starts a drain pass unless one is running; a running pass looks for new segments before it ends. */
  wake(): void {
    if (this.#stop.signal.aborted) return;
    if (this.#running) {
      this.#woken = true;
      return;
    }
    this.#running = this.#run()
      .catch((err: unknown) => {
        this.#options.logger.error('spool drain stopped on an unexpected error', { error: String(err) });
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#woken) this.wake();
      });
  }

  /** Ends a backoff wait now (Kafka answers again), or starts a pass like {@link wake}. */
  nudge(): void {
    if (this.#interrupt) this.#interrupt.abort();
    else this.wake();
  }

  /** Resolves when no drain pass is running (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops draining: a backoff or pacing wait ends at once; a send in flight is awaited. Idempotent. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    // A segment whose records were all delivered and whose file could not be deleted yet: only its deletion is
    // retried (reading it again would deliver every record a second time).
    let delivered: Segment | undefined;
    while (!signal.aborted) {
      this.#woken = false;
      if (delivered) {
        try {
          await this.#spool.remove(delivered);
          delivered = undefined;
          failures = 0;
        } catch (err) {
          failures++;
          this.#options.logger.warn('cannot delete a drained spool segment; retrying', { error: String(err) });
          if (!(await this.#wait(this.#delay(failures, err)))) return;
        }
        continue;
      }
      let segment: Segment | undefined;
      let records: SpoolRecord[];
      try {
        segment = await this.#spool.oldest();
        if (!segment) {
          if (this.#woken) continue;
          return;
        }
        const parsed = await this.#spool.read(segment);
        records = parsed.records;
        if (parsed.damage.skippedBytes > 0) this.#hooks.onDamage(segment, parsed.damage);
      } catch (err) {
        // A file system error: try again later rather than spin.
        failures++;
        const delay = this.#delay(failures, err);
        this.#options.logger.warn('cannot read the spool; retrying', { error: String(err), delayMillis: delay });
        if (!(await this.#wait(delay))) return;
        continue;
      }
      if (!(await this.#drainSegment(records))) return;
      delivered = segment;
    }
  }

  /** Sends every record of a segment; false when stopped first. */
  async #drainSegment(records: SpoolRecord[]): Promise<boolean> {
    const { chunkBytes, bytesPerSecond } = this.#options;
    const maxRejections = this.#options.maxRejections ?? 5;
    const isRejection = this.#options.isRejection ?? (() => false);
    let queue = records;
    let attempt = 0;
    let rejections = 0;
    while (queue.length > 0) {
      if (this.#stop.signal.aborted) return false;
      let n = 0;
      let bytes = 0;
      while (n < queue.length && (n === 0 || bytes + queue[n]!.value.length <= chunkBytes)) {
        bytes += queue[n]!.value.length;
        n++;
      }
      const chunk = queue.slice(0, n);
      const acknowledged = new Set<number>();
      const started = this.#now();
      try {
        await this.#hooks.send(chunk, (i) => acknowledged.add(i));
        this.#hooks.onDelivered(chunk);
        queue = queue.slice(n);
        attempt = 0;
        rejections = 0;
        // Pacing: this chunk's share of a second at bytesPerSecond, less the time its send took.
        const wait = (bytes / bytesPerSecond) * 1000 - (this.#now() - started);
        if (wait > 0 && queue.length > 0 && !(await this.#wait(wait))) return false;
      } catch (err) {
        const delivered = chunk.filter((_, i) => acknowledged.has(i));
        const rest = chunk.filter((_, i) => !acknowledged.has(i));
        if (delivered.length > 0) this.#hooks.onDelivered(delivered);
        queue = [...rest, ...queue.slice(n)];
        if (isRejection(err) && ++rejections >= maxRejections) {
          this.#hooks.onDropped(rest, err);
          queue = queue.slice(rest.length);
          rejections = 0;
          continue;
        }
        attempt++;
        const delay = this.#delay(attempt, err);
        this.#hooks.onFailure(err, delay);
        if (!(await this.#backoff(delay))) return false;
      }
    }
    return true;
  }

  /** Waits `ms` unless nudged; false when stopped. */
  async #backoff(ms: number): Promise<boolean> {
    const interrupt = new AbortController();
    this.#interrupt = interrupt;
    try {
      await this.#sleep(ms, AbortSignal.any([this.#stop.signal, interrupt.signal]));
    } catch {
      // Nudged or stopped.
    } finally {
      this.#interrupt = undefined;
    }
    return !this.#stop.signal.aborted;
  }

  #delay(attempt: number, err: unknown): number {
    const decision = this.#options.backoff.nextDelay(attempt, err);
    return decision.retry ? decision.delayMillis : (this.#options.declinedDelayMillis ?? 5_000);
  }

  /** Waits unless stopped; false when stopped. */
  async #wait(ms: number): Promise<boolean> {
    try {
      await this.#sleep(ms, this.#stop.signal);
      return true;
    } catch {
      return false;
    }
  }
}
