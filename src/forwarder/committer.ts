// Commits each partition's accepted position, and believes a commit only once Kafka answers it holds it.
import type { Logger } from '../logging/logger';
import type { PartitionOffset } from './intake';
import type { PartitionState } from './partition-state';

/** How often a partition's position is committed again although Kafka answered it holds it. */
export const RECOMMIT_MILLIS = 10_000;
/** How long reading committed offsets back after a commit may take before the commit counts as unconfirmed. */
export const COMMIT_CONFIRM_TIMEOUT_MILLIS = 5_000;

/** What committing needs of the consumer ({@link Intake} is one). */
export interface CommitTarget {
  /** Sends a commit; returns once it is queued. Throws when the client refuses it. */
  commit(offsets: readonly PartitionOffset[]): void;
  committed(partitions: { topic: string; partition: number }[], timeoutMillis: number): Promise<PartitionOffset[]>;
}

/**
 * Commits positions from the partitions' ledgers, one commit at a time.
 *
 * @remarks
 * librdkafka's commit returns once the commit is queued, not once Kafka stored it, and a commit lost on the way
 * (a broker restarting, the coordinator moving) is never reported. So every commit is followed by reading the
 * group's offsets back, and only what Kafka answers it holds counts as committed (`ledger.markCommitted`);
 * anything short of what was sent is sent again next time (committing the same offset twice is harmless).
 *
 * A position is also sent again every {@link RECOMMIT_MILLIS} when Kafka answered it holds it: seen after a
 * broker's kill -9 and restart, the offsets read back by the member were ahead of what any other client (and a
 * restart) would get, for minutes; a fresh commit of the same position heals that.
 */
export class Committer {
  readonly #logger: Logger;
  readonly #now: () => number;
  #target: CommitTarget | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(logger: Logger, now: () => number = Date.now) {
    this.#logger = logger;
    this.#now = now;
  }

  /** The consumer to commit with (undefined: none; commits then do nothing). */
  attach(target: CommitTarget | undefined): void {
    this.#target = target;
  }

  /** Commits the accepted position of `partitions` that moved (or are due again); serialised, never concurrent. */
  commit(partitions: Iterable<PartitionState>): Promise<void> {
    const targets = [...partitions];
    const run = (): Promise<void> => this.#run(targets);
    this.#chain = this.#chain.then(run, run);
    return this.#chain;
  }

  /**
   * Commits, and commits again (up to `attempts` times in all) while Kafka does not yet hold what was sent: for
   * the last commits before partitions change hands or the member leaves, when no later interval follows.
   */
  async commitConfirmed(partitions: () => Iterable<PartitionState>, attempts: number): Promise<void> {
    for (let i = 0; i < attempts; i++) {
      await this.commit(partitions());
      if ([...partitions()].every((s) => s.revoked || s.ledger.committable() === undefined)) return;
    }
  }

  async #run(partitions: PartitionState[]): Promise<void> {
    const target = this.#target;
    if (!target) return;
    const now = this.#now();
    const offsets: { s: PartitionState; position: number }[] = [];
    for (const s of partitions) {
      if (s.revoked) continue;
      const position =
        s.ledger.committable() ?? (now - s.lastCommitSentAt >= RECOMMIT_MILLIS ? s.ledger.position() : undefined);
      if (position !== undefined) offsets.push({ s, position });
    }
    if (offsets.length === 0) return;
    for (const { s } of offsets) s.lastCommitSentAt = now;
    try {
      target.commit(offsets.map(({ s, position }) => ({ topic: s.topic, partition: s.partition, offset: position })));
    } catch (err) {
      this.#logger.warn('offset commit failed; will retry', { error: String(err) });
      return;
    }
    let stored: PartitionOffset[];
    try {
      stored = await target.committed(
        offsets.map(({ s }) => ({ topic: s.topic, partition: s.partition })),
        COMMIT_CONFIRM_TIMEOUT_MILLIS,
      );
    } catch (err) {
      this.#logger.debug('could not read committed offsets back; the commit is sent again next time', {
        error: String(err),
      });
      return;
    }
    for (const tp of stored) {
      const s = offsets.find((o) => o.s.topic === tp.topic && o.s.partition === tp.partition)?.s;
      if (s && !s.revoked && Number.isSafeInteger(tp.offset) && tp.offset >= 0) s.ledger.markCommitted(tp.offset);
    }
  }
}
