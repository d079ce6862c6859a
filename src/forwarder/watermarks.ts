// End offsets of paused partitions. A paused partition fetches nothing, so its end offset (and lag) would stay
// where it was when the pause began: exactly when lag matters, during an outage. The broker is asked instead.
import type { Logger } from '../logging/logger';
import type { PartitionState } from './partition-state';

/** How often the end offsets of paused partitions are asked of the broker. */
export const WATERMARK_REFRESH_MILLIS = 5_000;

/** What refreshing needs of the consumer ({@link Intake} is one). */
export interface EndOffsetSource {
  endOffset(topic: string, partition: number, timeoutMillis: number): Promise<number>;
}

/** Asks for the end offsets of paused partitions, one round at a time. */
export class WatermarkRefresher {
  readonly #logger: Logger;
  #running = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  async refresh(source: EndOffsetSource, partitions: Iterable<PartitionState>): Promise<void> {
    if (this.#running) return;
    const paused = [...partitions].filter((s) => s.paused && !s.revoked);
    if (paused.length === 0) return;
    this.#running = true;
    try {
      await Promise.all(
        paused.map(async (s) => {
          const high = await source.endOffset(s.topic, s.partition, WATERMARK_REFRESH_MILLIS);
          if (Number.isSafeInteger(high) && high >= 0) s.highWatermark = Math.max(s.highWatermark ?? 0, high);
        }),
      );
    } catch (err) {
      this.#logger.debug('could not refresh end offsets of paused partitions', { error: String(err) });
    } finally {
      this.#running = false;
    }
  }
}
