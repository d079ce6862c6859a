import type { KafkaJS, LibrdKafkaError, Message, TopicPartition } from '@confluentinc/kafka-javascript';

import { resolveCommon, resolveForwarderConfig, resolveKafkaConfig } from '../config/resolve-config';
import type { ResolvedForwarderConfig, ResolvedKafkaConfig } from '../config/resolve-config';
import type { OtelKafkaJaegerConfig } from '../config/types';
import { OtelKafkaJaegerError, SerializationError, ShutdownError, SinkError } from '../errors/errors';
import { consumerRdKafkaConfig } from '../kafka/client-config';
import { isRetriableKafkaCode, kafkaCodeOf } from '../kafka/kafka-errors';
import { kafkaLogger } from '../kafka/kafka-logger';
import { boundedLogger } from '../logging/logger';
import type { Logger } from '../logging/logger';
import { sleep } from '../retry/sleep';
import { OTLP_JSON_CONTENT_TYPE, OTLP_PROTO_CONTENT_TYPE } from '../serializers/otlp-serializers';
import { countSpans, decodeTraceRequest } from '../serializers/otlp-decoder';
import { recordContentType, nativeRecordContentType, nativeRecordHeaders } from '../serializers/record-content';
import type { Sink, SinkResult } from '../sinks/sink';
import { DeadLetterWriter } from './dead-letter';
import { asSinkError, deliverBatch, errorType } from './delivery';
import { ForwarderMetrics } from './forwarder-metrics';
import { Intake } from './intake';
import type { PartitionGaugeValue } from './forwarder-metrics';
import { OffsetLedger } from './offset-ledger';
import { putBack } from './record-queue';
import { replayRange } from './replay';
import type { ReplayOptions, ReplayResult } from './replay';

/** librdkafka's logical offset for the beginning of a partition. */
const OFFSET_BEGINNING = -2;
/** How often the consumer refreshes topic metadata: a topic created or grown later is seen within this. */
const TOPIC_METADATA_REFRESH_MILLIS = 10_000;
/** How often a partition's position is committed again although Kafka answered it holds it. */
const RECOMMIT_MILLIS = 10_000;
/** How long connecting (and reading the cluster's metadata) may take before start() fails. */
const CONNECT_TIMEOUT_MILLIS = 30_000;
/** How long reading committed offsets back after a commit may take before the commit counts as unconfirmed. */
const COMMIT_CONFIRM_TIMEOUT_MILLIS = 5_000;
/** How often the end offsets of paused partitions are asked of the broker (they fetch nothing meanwhile). */
const WATERMARK_REFRESH_MILLIS = 5_000;

/** Why a partition is paused. */
export type PauseReason = 'sink-failing' | 'buffer-full' | 'stopping';

/** The last delivery error seen on a partition. */
export interface PartitionError {
  /** HTTP status, gRPC code, or the library's error code. */
  code: string;
  /** The error message. */
  message: string;
  /** When it happened (ISO 8601). */
  at: string;
}

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

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  readonly ledger: OffsetLedger;
  readonly queue: ForwardRecord[];
  queueHead: number;
  readonly pauseReasons: Set<PauseReason>;
  paused: boolean;
  /** Bumped on every pause/resume decision, so a slow resume never overrides a later pause. */
  resumeToken: number;
  revoked: boolean;
  blockers: number;
  /** Undeliverable records retried one after the other (`onUndeliverable: 'block'`). */
  blockChain: Promise<void>;
  highWatermark: number | undefined;
  lastError: PartitionHealth['lastError'];
  /** When a commit of this partition was last sent (ms since the epoch; 0: never). */
  lastCommitSentAt: number;
}

interface ForwardRecord {
  readonly state: PartitionState;
  readonly offset: number;
  readonly value: Buffer;
  /** The record as the client handed it over (key, headers, timestamp: read only for a dead letter). */
  readonly message: Message;
  readonly contentType: string;
  readonly enqueuedAt: number;
  /** Counted in `#bufferedBytes` until released. */
  released: boolean;
  /** Being dead-lettered, blocked on or dropped, outside of any sink request. */
  settling?: boolean;
  /** Accepted by the sink or the dead-letter topic, or dropped: its offset is complete in the ledger. */
  done: boolean;
  spans?: number;
}

/**
 * A Kafka consumer-group member that forwards OTLP span records to Jaeger (or any {@link Sink}) and commits an
 * offset only after the sink accepted the data.
 *
 * @remarks
 * Guarantees: at-least-once from the topic to the sink. Offset N+1 of a partition is committed only when
 * every record up to N was accepted by the sink, written (acknowledged) to the dead-letter topic, or, with
 * `onUndeliverable: 'drop'` only, dropped and counted. Duplicates happen only for records accepted but not
 * yet committed when the process dies or loses its partitions (at most `forwarder.commitIntervalMillis`
 * worth plus what was in flight). The sink's acknowledgement must mean stored: run Jaeger without a batch
 * processor.
 *
 * Sink down (connection refused, timeouts, HTTP 429/5xx): the partitions involved are paused, the request is
 * retried with the configured retry policy (by default forever, 100 ms doubling to 30 s with jitter,
 * honouring Retry-After), and consumption resumes by itself once the sink accepts again. Group membership
 * survives an outage of any length, and memory stays bounded by `forwarder.maxBufferedBytes`.
 *
 * A record that can never succeed (HTTP 400 and other 4xx, undecodable) is found by bisecting its batch, so
 * the good records still go through, and goes to the dead-letter topic (`<topic>.dlq` by default) with its
 * original key, value and headers plus provenance headers; the partition keeps flowing.
 *
 * @example
 * ```ts
 * import { KafkaToJaegerForwarder } from 'otel-kafka-jaeger';
 *
 * const forwarder = new KafkaToJaegerForwarder({
 *   kafka: { brokers: ['127.0.0.1:9092'] },
 *   forwarder: { sink: { type: 'otlp-http', url: 'http://127.0.0.1:4318/v1/traces' } },
 * });
 * await forwarder.start();
 * process.on('SIGTERM', () => void forwarder.stop());
 * ```
 */
export class KafkaToJaegerForwarder {
  readonly #kafka: ResolvedKafkaConfig;
  readonly #options: ResolvedForwarderConfig;
  readonly #sink: Sink;
  readonly #logger: Logger;
  /** The Kafka client's own errors, at warn and rate-limited (a broker outage repeats them many times a second). */
  readonly #clientLog: KafkaJS.Logger;
  readonly #metrics: ForwarderMetrics;
  readonly #deadLetters: DeadLetterWriter;
  readonly #partitions = new Map<string, PartitionState>();
  readonly #abort = new AbortController();
  #state: ForwarderHealth['state'] = 'created';
  #intake: Intake | undefined;
  #bufferedBytes = 0;
  #inFlight = 0;
  /** Undeliverable records being dead-lettered or retried on their own. */
  #settling = 0;
  #cursor = 0;
  #lingerTimer: NodeJS.Timeout | undefined;
  #commitTimer: NodeJS.Timeout | undefined;
  #watermarkTimer: NodeJS.Timeout | undefined;
  #refreshingWatermarks = false;
  #commitChain: Promise<void> = Promise.resolve();
  #draining = false;
  #idleWaiters: (() => void)[] = [];
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  /**
   * @param config - the shared configuration object; this reads `kafka`, `forwarder`, `retry`,
   * `meterProvider` and `logger` (`serializer` is only validated: each record is read by its `content-type`
   * header, or, without one, as OTLP/JSON when it starts with `{` and as OTLP protobuf otherwise).
   * @param env - where environment variables are read from.
   * @throws {@link ConfigError} when a value in `config` is invalid (naming the field).
   */
  constructor(config: OtelKafkaJaegerConfig = {}, env: NodeJS.ProcessEnv = process.env) {
    const common = resolveCommon(config);
    this.#logger = boundedLogger(common.logger);
    this.#clientLog = kafkaLogger(this.#logger, 'kafka.consumer');
    this.#kafka = resolveKafkaConfig(config, env, common.logger);
    this.#options = resolveForwarderConfig(config, this.#kafka.topic, env, common.logger);
    this.#sink = this.#options.sink;
    this.#metrics = new ForwarderMetrics(common.meter, () => this.#gaugeValues());
    this.#deadLetters = new DeadLetterWriter({
      kafka: this.#kafka,
      topic: this.#options.deadLetterTopic,
      group: this.#options.groupId,
      retry: this.#options.retry,
      logger: this.#logger,
      metrics: this.#metrics,
    });
  }

  /** The topic consumed. */
  get topic(): string {
    return this.#kafka.topic;
  }

  /** The dead-letter topic. */
  get deadLetterTopic(): string {
    return this.#options.deadLetterTopic;
  }

  /**
   * Joins the consumer group and starts forwarding. Resolves once the consumer is connected and subscribed.
   * Calling it again returns the same promise.
   *
   * @throws an {@link OtelKafkaJaegerError} with code `KAFKA_UNAVAILABLE` (retriable) when no broker could
   * be reached (librdkafka gives up connecting after about 30 s); `start()` may then be called again.
   */
  start(): Promise<void> {
    this.#starting ??= this.#doStart();
    return this.#starting;
  }

  /**
   * Stops fetching, drains what was fetched for up to `forwarder.stopTimeoutMillis`, commits everything
   * accepted, and leaves the group. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#doStop();
    return this.#stopping;
  }

  /**
   * Re-sends a range of the topic — by time (`Date` or milliseconds) or by offsets per partition — to the
   * forwarder's sink (or `options.sink`), with the same batching, retry and dead-letter handling. It reads
   * with a consumer of its own that joins no group and commits nothing: the live group's offsets never
   * move. Works whether or not the forwarder was started; `stop()` aborts it.
   *
   * @example
   * ```ts
   * const hourAgo = Date.now() - 3_600_000;
   * const result = await forwarder.replay({
   *   from: hourAgo,
   *   to: Date.now(),
   *   onProgress: (p) => console.log(`${p.records} records, ${p.partitionsDone}/${p.partitions} partitions`),
   * });
   * ```
   */
  replay(options: ReplayOptions): Promise<ReplayResult> {
    if (this.#stopping) return Promise.reject(new ShutdownError('KafkaToJaegerForwarder was stopped'));
    return replayRange(
      {
        kafka: this.#kafka,
        options: this.#options,
        sink: this.#sink,
        logger: this.#logger,
        metrics: this.#metrics,
        deadLetters: this.#deadLetters,
        spansIn,
        contentTypeOf: recordContentType,
        signal: this.#abort.signal,
      },
      options,
    );
  }

  /** Per-partition state: assignment, pause, committed offset, lag, last error. */
  health(): ForwarderHealth {
    return {
      state: this.#state,
      groupId: this.#options.groupId,
      topic: this.#kafka.topic,
      sink: this.#sink.name,
      partitions: [...this.#partitions.values()]
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
        })),
      bufferedBytes: this.#bufferedBytes,
      inFlightRequests: this.#inFlight,
    };
  }

  // ------------------------------------------------------------------------------------------ lifecycle

  async #doStart(): Promise<void> {
    if (this.#stopping) throw new ShutdownError('KafkaToJaegerForwarder was stopped');
    this.#state = 'starting';
    const intake = new Intake(
      consumerRdKafkaConfig(
        this.#kafka,
        {
          'auto.offset.reset': 'earliest',
          'partition.assignment.strategy': 'cooperative-sticky',
          // librdkafka's default is 5 minutes: a forwarder started before its topic exists (or before partitions
          // are added) would wait that long to see them.
          'topic.metadata.refresh.interval.ms': TOPIC_METADATA_REFRESH_MILLIS,
        },
        // Commit-after-success depends on these: the passthrough cannot turn auto-commit back on.
        { 'group.id': this.#options.groupId, 'enable.auto.commit': false, 'enable.auto.offset.store': false },
      ),
      // At least 1,000: librdkafka hands a partition's fetched records over in one run, so smaller calls would
      // show the batcher one partition at a time. The buffer bound does not depend on it (see #onRecords).
      Math.max(1_000, Math.min(this.#options.maxRecords, 10_000)),
      {
        records: (messages) => this.#onRecords(messages),
        assigned: (partitions) => this.#onAssigned(partitions),
        revoking: (partitions) => this.#onRevoking(partitions),
        error: (message, err) => this.#clientLog.error(message, { error: errorText(err) }),
      },
    );
    intake.onClientError((err: LibrdKafkaError) => this.#clientLog.error(err.message, { code: err.code }));
    try {
      await intake.connect(this.#kafka.topic, CONNECT_TIMEOUT_MILLIS);
    } catch (err) {
      // Leave it as it was before start(), so that start() can be called again (e.g. once Kafka is up).
      this.#state = 'created';
      this.#starting = undefined;
      // Unreachable brokers may come back; failed authentication or TLS will not by itself.
      const code = kafkaCodeOf(err);
      throw new OtelKafkaJaegerError(
        `cannot join consumer group ${this.#options.groupId} at ${this.#kafka.brokers.join(',')}: ` + errorText(err),
        {
          code: 'KAFKA_UNAVAILABLE',
          retriable: (code === undefined ? undefined : isRetriableKafkaCode(code)) ?? true,
          cause: err,
        },
      );
    }
    this.#intake = intake;
    intake.start();
    this.#commitTimer = setInterval(() => void this.#commit(), this.#options.commitIntervalMillis);
    this.#watermarkTimer = setInterval(() => void this.#refreshWatermarks(), WATERMARK_REFRESH_MILLIS);
    this.#state = 'running';
    this.#logger.info('forwarder started', {
      topic: this.#kafka.topic,
      group: this.#options.groupId,
      sink: this.#sink.name,
      deadLetterTopic: this.#options.deadLetterTopic,
    });
  }

  async #doStop(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    this.#state = 'stopping';
    this.#draining = true;
    for (const s of this.#partitions.values()) this.#addPause(s, 'stopping');
    this.#pump();
    const drained = await this.#waitIdle(this.#options.stopTimeoutMillis);
    if (!drained) {
      this.#logger.warn('stop timeout reached with records undelivered; they stay uncommitted for the next owner', {
        bufferedBytes: this.#bufferedBytes,
        inFlightRequests: this.#inFlight,
      });
    }
    this.#abort.abort(new ShutdownError('KafkaToJaegerForwarder is stopping'));
    await this.#waitIdle(2_000);
    clearInterval(this.#commitTimer);
    clearInterval(this.#watermarkTimer);
    clearTimeout(this.#lingerTimer);
    await this.#commitConfirmed(undefined, 3);
    const intake = this.#intake;
    this.#intake = undefined;
    await intake
      ?.close()
      .catch((err: unknown) => this.#logger.warn('consumer disconnect failed', { error: String(err) }));
    await this.#deadLetters.close();
    await this.#sink.close().catch((err: unknown) => this.#logger.warn('sink close failed', { error: String(err) }));
    this.#state = 'stopped';
    this.#logger.info('forwarder stopped', { topic: this.#kafka.topic, group: this.#options.groupId });
  }

  /** Resolves true when nothing is queued or in flight, false after `timeoutMillis`. */
  #waitIdle(timeoutMillis: number): Promise<boolean> {
    if (this.#isIdle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMillis);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #isIdle(): boolean {
    if (this.#inFlight > 0 || this.#settling > 0) return false;
    for (const s of this.#partitions.values()) if (s.queueHead < s.queue.length) return false;
    return true;
  }

  #notifyIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  // ------------------------------------------------------------------------------------------ rebalance

  #onAssigned(assignment: TopicPartition[]): void {
    for (const tp of assignment) {
      const key = `${tp.topic}:${tp.partition}`;
      const existing = this.#partitions.get(key);
      if (existing && !existing.revoked) continue;
      this.#partitions.set(key, newPartitionState(tp.topic, tp.partition));
    }
    this.#logger.info('partitions assigned', { partitions: assignment.map((tp) => tp.partition).join(',') });
  }

  async #onRevoking(assignment: TopicPartition[]): Promise<void> {
    const states = assignment
      .map((tp) => this.#partitions.get(`${tp.topic}:${tp.partition}`))
      .filter((s): s is PartitionState => s !== undefined);
    // Commit what was accepted before giving the partitions up; results arriving later are discarded.
    await this.#commitConfirmed(states, 2);
    for (const s of states) {
      s.revoked = true;
      for (let i = s.queueHead; i < s.queue.length; i++) this.#release(s.queue[i]!);
      s.queue.length = 0;
      s.queueHead = 0;
      this.#partitions.delete(s.key);
    }
    this.#logger.info('partitions revoked', { partitions: assignment.map((tp) => tp.partition).join(',') });
    this.#notifyIdle();
  }

  // ------------------------------------------------------------------------------------------ intake

  #onRecords(messages: Message[]): void {
    const now = Date.now();
    let state: PartitionState | undefined;
    const seen: PartitionState[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (state?.partition !== m.partition || state.topic !== m.topic) {
        state = this.#partitions.get(`${m.topic}:${m.partition}`);
        if (state && !seen.includes(state)) seen.push(state);
      }
      // Records of a partition being revoked stay uncommitted for its next owner; those of a paused one (the
      // buffer filled up within this call, or its sink is failing) are read again from the ledger's position
      // when it resumes, as librdkafka drops what it had fetched for a partition when it is paused.
      if (!state || state.revoked || state.paused) continue;
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
      if (this.#bufferedBytes > this.#options.maxBufferedBytes) {
        for (const s of this.#partitions.values()) this.#addPause(s, 'buffer-full');
      }
    }
    for (const s of seen) {
      const hw = this.#intake?.lastSeenEndOffset(s.topic, s.partition);
      if (hw !== undefined) s.highWatermark = hw;
    }
    this.#pump();
  }

  #release(record: ForwardRecord): void {
    if (record.released) return;
    record.released = true;
    this.#bufferedBytes -= record.value.length;
    if (this.#bufferedBytes <= this.#options.maxBufferedBytes / 2) {
      for (const s of this.#partitions.values()) this.#removePause(s, 'buffer-full');
    }
  }

  // ------------------------------------------------------------------------------------------ batching

  /** Starts sink requests while there is capacity and a batch is due (full, or its oldest record lingered). */
  #pump(): void {
    while (this.#inFlight < this.#options.maxInFlightRequests && !this.#abort.signal.aborted) {
      const due = this.#dueIn();
      if (due === undefined) return;
      if (due > 0) {
        if (!this.#lingerTimer) {
          this.#lingerTimer = setTimeout(() => {
            this.#lingerTimer = undefined;
            this.#pump();
          }, due);
        }
        return;
      }
      const batch = this.#takeBatch();
      if (batch.length === 0) return;
      this.#inFlight++;
      void this.#deliver(batch)
        .catch((err: unknown) => this.#recover(batch, err))
        .finally(() => {
          this.#inFlight--;
          // Records of revoked partitions are never completed here, and must not stay counted as buffered.
          for (const r of batch) if (r.done || r.state.revoked) this.#release(r);
          this.#pump();
          this.#notifyIdle();
        })
        .catch(ignore);
    }
  }

  /** Milliseconds until a batch is due (0: now), or undefined when nothing is eligible. */
  #dueIn(): number | undefined {
    let records = 0;
    let bytes = 0;
    let oldest = Infinity;
    for (const s of this.#partitions.values()) {
      if (s.blockers > 0 || s.revoked) continue;
      for (let i = s.queueHead; i < s.queue.length; i++) {
        const r = s.queue[i]!;
        records++;
        bytes += r.value.length;
        if (r.enqueuedAt < oldest) oldest = r.enqueuedAt;
        if (records >= this.#options.maxRecords || bytes >= this.#options.maxBytes) return 0;
      }
    }
    if (records === 0) return undefined;
    if (this.#draining) return 0;
    return Math.max(0, oldest + this.#options.lingerMillis - Date.now());
  }

  /** Takes up to the batch limits from unblocked partitions, round-robin, all of one content type. */
  #takeBatch(): ForwardRecord[] {
    const states = [...this.#partitions.values()].filter(
      (s) => s.blockers === 0 && !s.revoked && s.queueHead < s.queue.length,
    );
    const batch: ForwardRecord[] = [];
    if (states.length === 0) return batch;
    this.#cursor = (this.#cursor + 1) % states.length;
    let bytes = 0;
    let contentType: string | undefined;
    for (let k = 0; k < states.length; k++) {
      const s = states[(this.#cursor + k) % states.length]!;
      while (s.queueHead < s.queue.length) {
        const r = s.queue[s.queueHead]!;
        contentType ??= r.contentType;
        if (r.contentType !== contentType) break;
        if (
          batch.length > 0 &&
          (batch.length >= this.#options.maxRecords || bytes + r.value.length > this.#options.maxBytes)
        ) {
          return batch;
        }
        batch.push(r);
        bytes += r.value.length;
        s.queueHead++;
      }
      if (s.queueHead === s.queue.length) {
        s.queue.length = 0;
        s.queueHead = 0;
      }
    }
    return batch;
  }

  // ------------------------------------------------------------------------------------------ delivery

  /**
   * A delivery that threw (a custom retry policy, logger or meter failing): nothing is lost. The records not
   * yet settled go back to the head of their partitions' queues, and those partitions wait a second.
   */
  #recover(batch: ForwardRecord[], err: unknown): void {
    const byState = new Map<PartitionState, ForwardRecord[]>();
    for (const r of batch) {
      if (r.done || r.state.revoked || r.settling) continue;
      const list = byState.get(r.state) ?? [];
      list.push(r);
      byState.set(r.state, list);
    }
    const error = asSinkError(err);
    for (const [s, records] of byState) {
      s.queueHead = putBack(s.queue, s.queueHead, records);
      this.#block(s, error);
      setTimeout(() => {
        this.#unblock(s);
        this.#pump();
      }, 1_000).unref();
    }
    try {
      this.#logger.error('delivery failed unexpectedly; records requeued', { error: String(err) });
    } catch {
      // The logger may be what failed.
    }
  }

  /** Delivers a batch; its partitions are paused while its request keeps failing retriably. */
  #deliver(records: ForwardRecord[]): Promise<void> {
    return deliverBatch(records, {
      sink: this.#sink,
      retry: this.#options.retry,
      signal: this.#abort.signal,
      metrics: this.#metrics,
      logger: this.#logger,
      isLive: (r) => !r.state.revoked,
      block: (batch, error) => {
        const states = new Set(batch.map((r) => r.state));
        for (const s of states) this.#block(s, error);
        return () => {
          for (const s of states) this.#unblock(s);
        };
      },
      stillFailing: (batch, error) => {
        for (const r of batch) r.state.lastError = errorInfo(error);
      },
      accepted: (batch, result) => this.#accepted(batch, result),
      // Settled on the side: a record blocked or waiting for the dead-letter topic holds its own partition's
      // commit position, not the rest of the batch (other partitions) nor a request slot.
      undeliverable: (record, error, attempts) => {
        record.settling = true;
        this.#settling++;
        void this.#undeliverable(record, error, attempts)
          .catch((err: unknown) => {
            record.settling = false;
            this.#recover([record], err);
          })
          .finally(() => {
            record.settling = false;
            this.#settling--;
            if (record.done || record.state.revoked) this.#release(record);
            this.#pump();
            this.#notifyIdle();
          })
          .catch(ignore);
        return Promise.resolve();
      },
    });
  }

  #accepted(records: ForwardRecord[], result: SinkResult | undefined): void {
    let spans = 0;
    let bytes = 0;
    let count = 0;
    for (const r of records) {
      if (r.state.revoked) continue;
      r.state.ledger.complete(r.offset);
      r.done = true;
      this.#release(r);
      count++;
      bytes += r.value.length;
      spans += r.spans ?? spansIn(r.value, r.contentType);
    }
    if (count > 0) {
      this.#metrics.records.add(count);
      this.#metrics.bytes.add(bytes);
      this.#metrics.spans.add(spans);
    }
    if (result?.rejectedSpans) {
      this.#metrics.rejectedSpans.add(result.rejectedSpans);
      this.#logger.warn('sink accepted the request but rejected some spans (partial success)', {
        sink: this.#sink.name,
        rejectedSpans: result.rejectedSpans,
        message: result.errorMessage ?? '',
      });
    }
  }

  /** A record the sink can never accept: dead-letter it, block on it, or drop it, as configured. */
  async #undeliverable(record: ForwardRecord, error: OtelKafkaJaegerError, attempts: number): Promise<void> {
    const mode = this.#options.onUndeliverable;
    const where = { partition: record.state.partition, offset: record.offset, code: error.code, error: error.message };
    if (mode === 'drop') {
      if (record.state.revoked) return;
      record.state.ledger.complete(record.offset);
      record.done = true;
      this.#release(record);
      this.#metrics.dropped.add(1);
      this.#logger.warn("undeliverable record dropped (onUndeliverable: 'drop')", where);
      return;
    }
    if (mode === 'block') {
      this.#logger.error(
        "undeliverable record; partition blocked until it is accepted (onUndeliverable: 'block')",
        where,
      );
      // One record of a partition at a time (retries running out can hand over a whole batch at once).
      const s = record.state;
      const turn = s.blockChain.then(() => this.#retryUntilAccepted(record, error, attempts));
      s.blockChain = turn.catch(ignore);
      await turn;
      return;
    }
    this.#logger.warn('undeliverable record; writing it to the dead-letter topic', {
      ...where,
      topic: this.#options.deadLetterTopic,
    });
    await this.#deadLetter(record, error, attempts);
  }

  async #retryUntilAccepted(record: ForwardRecord, error: OtelKafkaJaegerError, attempts: number): Promise<void> {
    const s = record.state;
    this.#block(s, error);
    try {
      let attempt = attempts;
      for (;;) {
        if (this.#abort.signal.aborted || s.revoked) return;
        const decision = this.#options.retry.nextDelay(attempt, new SinkError(error.message, { retriable: true }));
        await sleep(decision.retry ? decision.delayMillis : 30_000, this.#abort.signal).catch(() => undefined);
        if (this.#abort.signal.aborted || s.revoked) return;
        attempt++;
        this.#metrics.retries.add(1, { target: 'sink' });
        try {
          const result = await this.#sink.send([{ value: record.value, contentType: record.contentType }], {
            signal: this.#abort.signal,
          });
          this.#accepted([record], result ?? undefined);
          return;
        } catch (err) {
          s.lastError = errorInfo(asSinkError(err));
        }
      }
    } finally {
      this.#unblock(s);
    }
  }

  async #deadLetter(record: ForwardRecord, error: OtelKafkaJaegerError, attempts: number): Promise<void> {
    const s = record.state;
    let blocked = false;
    const m = record.message;
    const written = await this.#deadLetters.write(
      {
        topic: s.topic,
        partition: s.partition,
        offset: record.offset,
        key: m.key === undefined || m.key === null ? null : Buffer.from(m.key),
        value: record.value,
        headers: nativeRecordHeaders(m.headers),
        timestamp: m.timestamp === undefined ? '' : String(m.timestamp),
      },
      error,
      attempts,
      this.#abort.signal,
      (failure) => {
        // Never drop: a dead-letter topic that cannot be written blocks the partition until it can.
        if (!blocked) {
          blocked = true;
          this.#block(s, failure);
        }
        s.lastError = errorInfo(failure);
      },
    );
    if (blocked) this.#unblock(s);
    if (!written || s.revoked) return;
    s.ledger.complete(record.offset);
    record.done = true;
    this.#release(record);
    s.lastError = errorInfo(error);
  }

  // ------------------------------------------------------------------------------------------ pausing

  #block(s: PartitionState, error: OtelKafkaJaegerError): void {
    s.blockers++;
    s.lastError = errorInfo(error);
    this.#addPause(s, 'sink-failing');
  }

  #unblock(s: PartitionState): void {
    s.blockers = Math.max(0, s.blockers - 1);
    if (s.blockers === 0) this.#removePause(s, 'sink-failing');
  }

  #addPause(s: PartitionState, reason: PauseReason): void {
    s.pauseReasons.add(reason);
    this.#applyPause(s);
  }

  #removePause(s: PartitionState, reason: PauseReason): void {
    if (s.pauseReasons.delete(reason)) this.#applyPause(s);
  }

  #applyPause(s: PartitionState): void {
    const intake = this.#intake;
    if (!intake || s.revoked) return;
    const want = s.pauseReasons.size > 0;
    if (want === s.paused) return;
    s.paused = want;
    s.resumeToken++;
    if (want) {
      let failure: unknown;
      try {
        intake.pause(s.topic, s.partition);
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
    void this.#seekAndResume(intake, s, s.resumeToken);
  }

  /**
   * Resumes a partition at the record after the last one this member received. Pausing makes the client
   * drop records it had fetched but not yet handed over, and its own position bookkeeping does not always
   * seek back to them; seeking to our ledger's position on every resume means no record is ever skipped.
   */
  async #seekAndResume(intake: Intake, s: PartitionState, token: number): Promise<void> {
    try {
      let offset = s.ledger.highestTracked + 1;
      if (offset === 0) {
        // Nothing received yet: the group's committed offset, or the beginning for a new group.
        const [committed] = await intake.committed([{ topic: s.topic, partition: s.partition }], 10_000);
        const position = Number(committed?.offset);
        offset = Number.isFinite(position) && position >= 0 ? position : OFFSET_BEGINNING;
      }
      if (token !== s.resumeToken || s.revoked || this.#intake !== intake) return;
      await intake.resumeAt(
        s.topic,
        s.partition,
        offset,
        () => token === s.resumeToken && !s.revoked && this.#intake === intake,
      );
      this.#logger.info('partition resumed', { partition: s.partition, offset });
    } catch (err) {
      this.#logger.warn('could not resume partition; retrying', { partition: s.partition, error: String(err) });
      if (token === s.resumeToken && !s.revoked) {
        setTimeout(() => {
          if (token === s.resumeToken && !s.revoked) void this.#seekAndResume(intake, s, token);
        }, 1_000);
      }
    }
  }

  // ------------------------------------------------------------------------------------------ commits

  /** Commits the accepted position of the given (default: all) partitions; serialised, never concurrent. */
  #commit(states?: PartitionState[]): Promise<void> {
    const run = async (): Promise<void> => {
      const intake = this.#intake;
      if (!intake) return;
      const targets = (states ?? [...this.#partitions.values()]).filter((s) => !s.revoked);
      const now = Date.now();
      const offsets = targets
        .map((s) => ({
          s,
          // The position again now and then even when Kafka answered it holds it: seen after a broker's kill -9
          // and restart, the group's offsets read back by the member were ahead of what any other client (and
          // a restart) would get, for minutes; a fresh commit of the same position heals that.
          position:
            s.ledger.committable() ?? (now - s.lastCommitSentAt >= RECOMMIT_MILLIS ? s.ledger.position() : undefined),
        }))
        .filter((x): x is { s: PartitionState; position: number } => x.position !== undefined);
      if (offsets.length === 0) return;
      for (const { s } of offsets) s.lastCommitSentAt = now;
      try {
        intake.commit(offsets.map(({ s, position }) => ({ topic: s.topic, partition: s.partition, offset: position })));
      } catch (err) {
        this.#logger.warn('offset commit failed; will retry', { error: String(err) });
        return;
      }
      // commit() returns once librdkafka has queued the commit (the binding's commitAsync), not once Kafka
      // stored it, and a commit lost on the way (a broker restarting, the coordinator moving) is never
      // reported. Only what Kafka answers it holds counts as committed; anything short of what was sent is
      // sent again at the next interval (committing the same offset twice is harmless).
      try {
        const stored = await intake.committed(
          offsets.map(({ s }) => ({ topic: s.topic, partition: s.partition })),
          COMMIT_CONFIRM_TIMEOUT_MILLIS,
        );
        for (const tp of stored) {
          const s = this.#partitions.get(`${tp.topic}:${tp.partition}`);
          const position = tp.offset;
          if (s && !s.revoked && Number.isSafeInteger(position) && position >= 0) s.ledger.markCommitted(position);
        }
      } catch (err) {
        this.#logger.debug('could not read committed offsets back; the commit is sent again next time', {
          error: String(err),
        });
      }
    };
    this.#commitChain = this.#commitChain.then(run, run);
    return this.#commitChain;
  }

  /**
   * Commits, and commits again (up to `attempts` times in all) while Kafka does not yet hold what was sent:
   * for the last commits before partitions change hands or the member leaves, when no later interval follows.
   */
  async #commitConfirmed(states: PartitionState[] | undefined, attempts: number): Promise<void> {
    for (let i = 0; i < attempts; i++) {
      await this.#commit(states);
      const targets = states ?? [...this.#partitions.values()];
      if (targets.every((s) => s.revoked || s.ledger.committable() === undefined)) return;
    }
  }

  /**
   * A paused partition fetches nothing, so its end offset (and lag) would stay where it was when the pause
   * began: exactly when lag matters, during an outage. Ask the broker instead, through the consumer's own
   * connections.
   */
  async #refreshWatermarks(): Promise<void> {
    const intake = this.#intake;
    if (!intake || this.#refreshingWatermarks) return;
    const paused = [...this.#partitions.values()].filter((s) => s.paused && !s.revoked);
    if (paused.length === 0) return;
    this.#refreshingWatermarks = true;
    try {
      await Promise.all(
        paused.map(async (s) => {
          const high = await intake.endOffset(s.topic, s.partition, WATERMARK_REFRESH_MILLIS);
          if (Number.isFinite(high)) s.highWatermark = Math.max(s.highWatermark ?? 0, high);
        }),
      );
    } catch (err) {
      this.#logger.debug('could not refresh end offsets of paused partitions', { error: String(err) });
    } finally {
      this.#refreshingWatermarks = false;
    }
  }

  #gaugeValues(): PartitionGaugeValue[] {
    return [...this.#partitions.values()].map((s) => ({
      topic: s.topic,
      partition: s.partition,
      lag: lagOf(s),
      committed: s.ledger.committed,
      paused: s.paused,
    }));
  }
}

function newPartitionState(topic: string, partition: number): PartitionState {
  return {
    topic,
    partition,
    key: `${topic}:${partition}`,
    ledger: new OffsetLedger(),
    queue: [],
    queueHead: 0,
    pauseReasons: new Set(),
    paused: false,
    resumeToken: 0,
    revoked: false,
    blockers: 0,
    blockChain: Promise.resolve(),
    highWatermark: undefined,
    lastError: undefined,
    lastCommitSentAt: 0,
  };
}

function lagOf(s: PartitionState): number | undefined {
  if (s.highWatermark === undefined) return undefined;
  const position = s.ledger.position() ?? s.ledger.committed;
  return position === undefined ? undefined : Math.max(0, s.highWatermark - position);
}

function ignore(): void {}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorInfo(error: OtelKafkaJaegerError): PartitionError {
  return { code: errorType(error), message: error.message, at: new Date().toISOString() };
}

function spansIn(value: Buffer, contentType: string): number {
  try {
    if (contentType === OTLP_PROTO_CONTENT_TYPE) return countSpans(value);
    if (contentType === OTLP_JSON_CONTENT_TYPE) {
      return decodeTraceRequest(value, OTLP_JSON_CONTENT_TYPE).resourceSpans.reduce(
        (n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0),
        0,
      );
    }
  } catch (err) {
    if (!(err instanceof SerializationError)) throw err;
  }
  return 0;
}
