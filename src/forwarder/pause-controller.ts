// Whether each partition fetches: paused while any reason holds (its sink requests failing, the buffer full,
// the forwarder stopping), resumed once none does, at the record after the last one this member received.
import type { OtelKafkaJaegerError } from '../errors/errors';
import type { Logger } from '../logging/logger';
import type { PartitionOffset } from './intake';
import { errorInfo } from './partition-state';
import type { PartitionState, PauseReason } from './partition-state';

/** librdkafka's logical offset for the beginning of a partition. */
export const OFFSET_BEGINNING = -2;
/** How long the committed offset may take to read when a partition that received nothing resumes. */
const COMMITTED_TIMEOUT_MILLIS = 10_000;
/** How long before a resume that failed is tried again. */
const RESUME_RETRY_MILLIS = 1_000;

/** What pausing needs of the consumer ({@link Intake} is one). */
export interface PauseTarget {
  pause(topic: string, partition: number): void;
  resumeAt(topic: string, partition: number, offset: number, stillWanted: () => boolean): Promise<void>;
  committed(partitions: { topic: string; partition: number }[], timeoutMillis: number): Promise<PartitionOffset[]>;
}

/**
 * Pauses and resumes partitions by reason.
 *
 * @remarks
 * A resume seeks first: pausing makes librdkafka drop what it had fetched for the partition and not yet handed
 * over, and resuming at the ledger's position (one past the highest offset received) means no record is ever
 * skipped; the ledger ignores the ones received twice. A resume is asynchronous (it may read the committed
 * offset first); every decision bumps the partition's token, so a slow resume never overrides a later pause.
 */
export class PauseController {
  readonly #logger: Logger;
  #target: PauseTarget | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** The consumer to pause and resume (undefined: none yet, or no more; decisions are then only recorded). */
  attach(target: PauseTarget | undefined): void {
    this.#target = target;
  }

  add(s: PartitionState, reason: PauseReason): void {
    s.pauseReasons.add(reason);
    this.#apply(s);
  }

  remove(s: PartitionState, reason: PauseReason): void {
    if (s.pauseReasons.delete(reason)) this.#apply(s);
  }

  /** A request or an undeliverable record holds the partition: not batched, paused, until {@link unblock}. */
  block(s: PartitionState, error: OtelKafkaJaegerError): void {
    s.blockers++;
    s.lastError = errorInfo(error);
    this.add(s, 'sink-failing');
  }

  unblock(s: PartitionState): void {
    s.blockers = Math.max(0, s.blockers - 1);
    if (s.blockers === 0) this.remove(s, 'sink-failing');
  }

  #apply(s: PartitionState): void {
    const target = this.#target;
    if (!target || s.revoked) return;
    const want = s.pauseReasons.size > 0;
    if (want === s.paused) return;
    s.paused = want;
    s.resumeToken++;
    if (want) {
      let failure: unknown;
      try {
        target.pause(s.topic, s.partition);
      } catch (err) {
        failure = err;
      }
      // Logging last, and never throwing: a failing custom logger must not leave a blocker behind.
      try {
        if (failure === undefined) {
          this.#logger.info('partition paused', { partition: s.partition, reasons: [...s.pauseReasons].join(',') });
        } else {
          this.#logger.warn('could not pause partition', {
            partition: s.partition,
            error: failure instanceof Error ? failure.message : JSON.stringify(failure),
          });
        }
      } catch {
        // nothing to do
      }
      return;
    }
    void this.#resume(target, s, s.resumeToken);
  }

  async #resume(target: PauseTarget, s: PartitionState, token: number): Promise<void> {
    const current = (): boolean => token === s.resumeToken && !s.revoked && this.#target === target;
    try {
      let offset = s.ledger.highestTracked + 1;
      if (offset === 0) {
        // Nothing received yet: the group's committed offset, or the beginning for a new group.
        const [committed] = await target.committed(
          [{ topic: s.topic, partition: s.partition }],
          COMMITTED_TIMEOUT_MILLIS,
        );
        const position = committed?.offset;
        offset =
          position !== undefined && Number.isSafeInteger(position) && position >= 0 ? position : OFFSET_BEGINNING;
      }
      if (!current()) return;
      await target.resumeAt(s.topic, s.partition, offset, current);
      if (current()) this.#logger.info('partition resumed', { partition: s.partition, offset });
    } catch (err) {
      this.#logger.warn('could not resume partition; retrying', { partition: s.partition, error: String(err) });
      if (current()) {
        setTimeout(() => {
          if (current()) void this.#resume(target, s, token);
        }, RESUME_RETRY_MILLIS).unref();
      }
    }
  }
}
