// The forwarder's intake: librdkafka's own consumer API (the binding's node-rdkafka style `KafkaConsumer`),
// not the KafkaJS-compatible layer on top of it. Measured (BENCHMARKS.md): that layer costs ≈ 1.6 µs per span
// of 5-span records on top of `consume(n)` (a new object per message, header conversion, a message cache and
// its locks). Here the binding's own message objects are handed over in batches, and rebalance, pause/resume,
// seek, commit and committed-offset reads are the binding's calls, made by the forwarder when it decides.
import kafkaJavascript from '@confluentinc/kafka-javascript';
import type {
  KafkaConsumer,
  LibrdKafkaError,
  Message,
  TopicPartition,
  TopicPartitionOffset,
} from '@confluentinc/kafka-javascript';

import type { ResolvedKafkaConfig } from '../config/kafka';
import { OtelKafkaJaegerError, ShutdownError } from '../errors/errors';
import { connectWithin } from '../kafka/bounded-connect';
import type { ConnectWithinOptions } from '../kafka/bounded-connect';
import { consumerRdKafkaConfig } from '../kafka/client-config';
import type { RdKafkaConfig } from '../kafka/client-config';
import { InFlightCalls } from '../kafka/in-flight-calls';
import { isRetriableKafkaCode, kafkaCodeOf } from '../kafka/kafka-errors';
import type { ClientLogLine } from '../kafka/kafka-logger';

/** Methods of the binding's consumer its type declarations leave out (lib/kafka-consumer.js, 1.10). */
type NativeConsumer = KafkaConsumer & {
  setDefaultIsTimeoutOnlyForFirstMessage(timeoutOnlyForFirst: boolean): void;
  incrementalAssign(assignment: TopicPartition[]): void;
  incrementalUnassign(assignment: TopicPartition[]): void;
  assignmentLost(): boolean;
  rebalanceProtocol(): string;
};

/** How often the consumer refreshes topic metadata: a topic created or grown later is seen within this. */
const TOPIC_METADATA_REFRESH_MILLIS = 10_000;

/** librdkafka's rebalance event codes. */
const ERR_ASSIGN_PARTITIONS = -175;
const ERR_REVOKE_PARTITIONS = -174;
/**
 * How long one `consume(n)` call waits for its first record. It runs on a libuv worker thread, so the event
 * loop is free meanwhile; the wait bounds how late a stop sees the loop end, and an idle loop's cost (10 calls
 * a second, nothing measurable).
 */
const CONSUME_WAIT_MILLIS = 100;
/** librdkafka's topic-level properties a consumer uses (CONFIGURATION.md, librdkafka 2.15). */
const TOPIC_PROPERTIES = ['auto.offset.reset', 'offset.store.method', 'consume.callback.max.messages'] as const;
/** How long a seek before a resume may take before it counts as failed (and the resume is tried again). */
const SEEK_TIMEOUT_MILLIS = 5_000;
/** After a failed consume call (e.g. every broker down), the next one waits this long. */
const CONSUME_ERROR_BACKOFF_MILLIS = 200;

/** What the intake calls back; every callback is synchronous except `revoking`. */
export interface IntakeHandlers {
  /**
   * Records as the binding hands them over: up to the batch size, from any assigned partitions, each
   * partition's in offset order. Called only with records of partitions {@link assigned} and not revoked.
   */
  records(messages: Message[]): void;
  /** Partitions given to this member, before any of their records is fetched. */
  assigned(partitions: TopicPartition[]): void;
  /**
   * Partitions about to be taken away: settle them (commit what was accepted) while they still belong to this
   * member. They are handed back to the group once the promise settles.
   */
  revoking(partitions: TopicPartition[], lost: boolean): Promise<void>;
  /** A consume call or a rebalance step failed; the loop goes on. */
  error(message: string, err: unknown): void;
  /** How many records the next consume call asks for (capped at the intake's batch size); all it may when absent. */
  wanted?(): number;
}

/** An offset as the broker reports it: a number, or a logical offset (negative) when there is none. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** The properties of the forwarder's group member: ours, then the passthrough, then what correctness needs. */
export function groupConsumerConfig(kafka: ResolvedKafkaConfig, groupId: string): RdKafkaConfig {
  return consumerRdKafkaConfig(
    kafka,
    {
      'auto.offset.reset': 'earliest',
      'partition.assignment.strategy': 'cooperative-sticky',
      // librdkafka's default is 5 minutes: a forwarder started before its topic exists (or before partitions are
      // added) would wait that long to see them.
      'topic.metadata.refresh.interval.ms': TOPIC_METADATA_REFRESH_MILLIS,
    },
    // Commit-after-success depends on these: the passthrough cannot turn auto-commit back on.
    { 'group.id': groupId, 'enable.auto.commit': false, 'enable.auto.offset.store': false },
  );
}

/**
 * A consumer-group member reading one topic with `consume(n)` in a loop: at most one call outstanding, the next
 * issued as soon as the records of the previous one were handed over.
 *
 * @remarks
 * librdkafka serves rebalance events only inside a consume call, and waits for the member to (un)assign: an
 * assignment is taken at once; a revocation first awaits {@link IntakeHandlers.revoking}, so that what was
 * accepted is committed while the partitions are still this member's. The loop keeps running meanwhile, so
 * group heartbeats and the poll interval stay satisfied, and records of a partition that was revoked are
 * dropped here (they stay uncommitted for the next owner).
 */
export class Intake {
  readonly #consumer: NativeConsumer;
  readonly #handlers: IntakeHandlers;
  readonly #batchSize: number;
  /** Partitions of the topic assigned and not revoked. */
  readonly #owned = new Set<number>();
  #topic = '';
  #running = false;
  #consuming: Promise<void> | undefined;
  #closing = false;
  /** The binding's asynchronous calls not yet answered (seek, committed, watermarks): close() waits for them. */
  readonly #inFlight = new InFlightCalls();

  /**
   * @param config - librdkafka properties (group, bootstrap, security...); `rebalance_cb` is this class's own.
   * @param batchSize - records per consume call at most.
   */
  constructor(config: RdKafkaConfig, batchSize: number, handlers: IntakeHandlers) {
    this.#handlers = handlers;
    this.#batchSize = batchSize;
    const props: Record<string, unknown> = {};
    // Properties of the KafkaJS layer (`js.consumer.*`) mean nothing to librdkafka, which refuses them.
    for (const [k, v] of Object.entries(config)) if (!k.startsWith('js.')) props[k] = v;
    // The binding's topic configuration replaces librdkafka's default one, topic properties set among the
    // global ones included: an empty one would turn `auto.offset.reset` back to `latest`.
    const topicProps: Record<string, unknown> = {};
    for (const k of TOPIC_PROPERTIES) if (config[k] !== undefined) topicProps[k] = config[k];
    props.rebalance_cb = (err: LibrdKafkaError | undefined, assignment: TopicPartition[]) =>
      this.#onRebalance(err, assignment);
    // A default import: Node's ESM loader cannot see KafkaConsumer as a named export of this CommonJS module.
    this.#consumer = new kafkaJavascript.KafkaConsumer(props, topicProps) as NativeConsumer;
  }

  /** Errors librdkafka reports on its own (brokers down, authentication...), for logging. */
  onClientError(listener: (err: LibrdKafkaError) => void): void {
    this.#consumer.on('event.error', listener);
  }

  /** librdkafka's own log lines (connection failures among them), from the first connection attempt. */
  onClientLog(listener: (line: ClientLogLine) => void): void {
    this.#consumer.on('event.log', listener);
  }

  /**
   * Connects (fetching cluster metadata) within `within.timeoutMillis`, in attempts `within.signal` can abandon
   * ({@link connectWithin}), and subscribes.
   *
   * @throws an {@link OtelKafkaJaegerError} with code `KAFKA_UNAVAILABLE`, retriable unless librdkafka's code says
   * it cannot pass by itself (failed authentication or TLS), when no broker could be reached in time; the signal's
   * reason when it was aborted; `within.refused()`'s error when that names a cause.
   */
  async connect(topic: string, groupId: string, within: ConnectWithinOptions): Promise<void> {
    try {
      await connectWithin(this.#consumer, within);
    } catch (err) {
      if (err instanceof ShutdownError) throw err;
      const code = kafkaCodeOf(err);
      const message = err instanceof Error ? err.message : String(err);
      throw new OtelKafkaJaegerError(
        // connectWithin's own error names the brokers already.
        err instanceof OtelKafkaJaegerError
          ? `cannot join consumer group ${groupId}: ${message}`
          : `cannot join consumer group ${groupId} at ${within.brokers.join(',')}: ${message}`,
        {
          code: 'KAFKA_UNAVAILABLE',
          retriable:
            err instanceof OtelKafkaJaegerError
              ? err.retriable
              : ((code === undefined ? undefined : isRetriableKafkaCode(code)) ?? true),
          cause: err,
        },
      );
    }
    this.#consumer.setDefaultConsumeTimeout(CONSUME_WAIT_MILLIS);
    // Return what is there once the first record arrived, instead of waiting the timeout for `n` of them.
    this.#consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.#topic = topic;
    this.#consumer.subscribe([topic]);
  }

  /** Starts the consume loop. */
  start(): void {
    if (this.#running || this.#closing) return;
    this.#running = true;
    this.#consuming = new Promise<void>((resolve) => this.#next(resolve));
  }

  /** Whether records of the partition are still this member's to forward. */
  owns(topic: string, partition: number): boolean {
    return topic === this.#topic && this.#owned.has(partition);
  }

  /** Stops fetching from a partition. librdkafka drops what it had fetched for it and not yet handed over. */
  pause(topic: string, partition: number): void {
    this.#consumer.pause([{ topic, partition }]);
  }

  /**
   * Fetches again from a partition, starting at `offset` (a logical offset, e.g. -2 for the beginning, too),
   * unless `stillWanted` says otherwise once the seek is done (a pause decided meanwhile wins).
   */
  async resumeAt(topic: string, partition: number, offset: number, stillWanted: () => boolean): Promise<void> {
    // A seek with a timeout reports its failure; one without could leave the partition resumed where librdkafka
    // last fetched, past records it dropped at the pause.
    await this.#call<void>('seek', (settle) =>
      this.#consumer.seek({ topic, partition, offset }, SEEK_TIMEOUT_MILLIS, (err) => settle(err)),
    );
    if (stillWanted() && !this.#closing) this.#consumer.resume([{ topic, partition }]);
  }

  /**
   * Sends a commit of the offsets. Returns once librdkafka queued it (its asynchronous commit), not once Kafka
   * stored it: read the offsets back with {@link committed} to know. Throws when the client refuses it.
   */
  commit(offsets: readonly PartitionOffset[]): void {
    this.#consumer.commit(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
  }

  /** The group's committed offsets as the coordinator reports them now. */
  committed(partitions: readonly TopicPartition[], timeoutMillis: number): Promise<PartitionOffset[]> {
    return this.#call<PartitionOffset[]>('committed', (settle) =>
      this.#consumer.committed(
        partitions.map((p) => ({ topic: p.topic, partition: p.partition })),
        timeoutMillis,
        (err, offsets: TopicPartitionOffset[]) =>
          settle(
            err,
            err ? [] : offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) })),
          ),
      ),
    );
  }

  /** A partition's end offset as the broker reports it now (a paused partition fetches nothing to learn it). */
  endOffset(topic: string, partition: number, timeoutMillis: number): Promise<number> {
    return this.#call<number>('queryWatermarkOffsets', (settle) => {
      this.#consumer.queryWatermarkOffsets(topic, partition, timeoutMillis, (err, offsets) =>
        settle(err, err ? 0 : Number(offsets.highOffset)),
      );
    });
  }

  /** A partition's end offset as last seen by a fetch, if any (no broker round trip). */
  lastSeenEndOffset(topic: string, partition: number): number | undefined {
    try {
      const high = Number(this.#consumer.getWatermarkOffsets(topic, partition).highOffset);
      return Number.isFinite(high) && high >= 0 ? high : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stops the loop and waits for the consume call in progress to return (at most its wait). */
  async stopConsuming(): Promise<void> {
    this.#running = false;
    await this.#consuming;
  }

  /**
   * Leaves the group and closes the client. Commit before: the assignment librdkafka revokes on the way out is
   * handed back at once, without {@link IntakeHandlers.revoking}.
   */
  async close(): Promise<void> {
    await this.stopConsuming();
    if (this.#closing) return;
    this.#closing = true;
    // Each call is bounded by its own timeout. The binding runs seek and committed on a worker thread without
    // its connection lock: a disconnect meanwhile frees the client under them and the process dies (SIGSEGV).
    await this.#inFlight.settled();
    await new Promise<void>((resolve) => {
      try {
        if (this.#consumer.isConnected()) this.#consumer.unsubscribe();
      } catch {
        // Leaving without unsubscribing first is fine: close() leaves the group too.
      }
      this.#consumer.disconnect(() => resolve());
    });
  }

  /**
   * Starts one of the binding's asynchronous calls, tracked until it answers so that {@link close} waits for it;
   * refused once closing. `start` may throw (the binding refuses a call when not connected).
   */
  #call<T>(what: string, start: (settle: (err: unknown, value?: T) => void) => void): Promise<T> {
    if (this.#closing) return Promise.reject(new Error(`${what} refused: the Kafka consumer is closing`));
    const call = new Promise<T>((resolve, reject) => {
      try {
        start((err, value) => (err ? reject(toError(err)) : resolve(value as T)));
      } catch (err) {
        reject(toError(err));
      }
    });
    return this.#inFlight.track(call);
  }

  #next(done: () => void): void {
    if (!this.#running) {
      done();
      return;
    }
    const wanted = this.#handlers.wanted?.() ?? this.#batchSize;
    this.#consumer.consume(Math.max(1, Math.min(this.#batchSize, wanted)), (err, messages) => {
      if (err) {
        this.#handlers.error('consume failed', err);
        setTimeout(() => this.#next(done), CONSUME_ERROR_BACKOFF_MILLIS);
        return;
      }
      if (messages.length > 0) this.#handOver(messages);
      // setImmediate, not a direct call: what the records started (sink requests, timers) gets its turn first.
      setImmediate(() => this.#next(done));
    });
  }

  #handOver(messages: Message[]): void {
    let kept = messages;
    // A call that returned while a revocation completed may hold records of partitions no longer owned.
    for (let i = 0; i < messages.length; i++) {
      if (!this.#owned.has(messages[i]!.partition)) {
        kept = messages.filter((m) => this.#owned.has(m.partition));
        break;
      }
    }
    try {
      if (kept.length > 0) this.#handlers.records(kept);
    } catch (err) {
      this.#handlers.error('records handler failed', err);
    }
  }

  #onRebalance(err: LibrdKafkaError | undefined, assignment: TopicPartition[]): void {
    const code = err?.code;
    const cooperative = this.#protocol() === 'COOPERATIVE';
    if (code === ERR_ASSIGN_PARTITIONS) {
      for (const tp of assignment) if (tp.topic === this.#topic) this.#owned.add(tp.partition);
      try {
        this.#handlers.assigned(assignment);
      } finally {
        this.#apply(() =>
          cooperative ? this.#consumer.incrementalAssign(assignment) : this.#consumer.assign(assignment),
        );
      }
      return;
    }
    if (code !== ERR_REVOKE_PARTITIONS) {
      this.#handlers.error('unexpected rebalance event', err);
      return;
    }
    const handBack = (): void => {
      for (const tp of assignment) if (tp.topic === this.#topic) this.#owned.delete(tp.partition);
      this.#apply(() => (cooperative ? this.#consumer.incrementalUnassign(assignment) : this.#consumer.unassign()));
    };
    if (this.#closing) {
      handBack();
      return;
    }
    let lost = false;
    try {
      lost = this.#consumer.assignmentLost();
    } catch {
      // Not connected any more: what is revoked is lost either way.
    }
    void this.#handlers
      .revoking(assignment, lost)
      .catch((e: unknown) => this.#handlers.error('revocation handler failed', e))
      .finally(handBack);
  }

  #protocol(): string {
    try {
      return this.#consumer.rebalanceProtocol();
    } catch {
      return 'NONE';
    }
  }

  #apply(step: () => void): void {
    try {
      step();
    } catch (err) {
      // Not connected any more (the member is closing): nothing left to hand back.
      if (this.#consumer.isConnected()) this.#handlers.error('rebalance step failed', err);
    }
  }
}

/** The binding's errors are Errors at run time (LibrdKafkaError extends Error); its declarations do not say so. */
function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
