import type { KafkaJS, LibrdKafkaError, Message, TopicPartition } from '@confluentinc/kafka-javascript';

import { resolveCommon } from '../config/common';
import { resolveKafkaConfig } from '../config/kafka';
import { createForwarderConfig } from './forwarder-config';
import type { ResolvedKafkaConfig } from '../config/kafka';
import type { ResolvedForwarderConfig } from './forwarder-config';
import type { OtelKafkaJaegerConfig } from '../config/types';
import { OtelKafkaJaegerError, ShutdownError } from '../errors/errors';
import { ConnectProblems } from '../kafka/bounded-connect';
import { RepeatLimiter, kafkaLogger, logClientLine } from '../kafka/kafka-logger';
import type { ConnectionFailure } from '../kafka/kafka-logger';
import { boundedLogger } from '../logging/logger';
import type { Logger } from '../logging/logger';
import { recordContentType, spansIn } from '../serializers/record-content';
import type { Sink } from '../sinks/sink';
import { Committer } from './committer';
import { DeadLetterWriter } from './dead-letter';
import { Dispatcher } from './dispatcher';
import { ForwarderMetrics } from './forwarder-metrics';
import type { PartitionGaugeValue } from './forwarder-metrics';
import { partitionsHealth } from './health';
import type { ForwarderHealth } from './health';
import { Intake, groupConsumerConfig } from './intake';
import { lagOf } from './partition-state';
import { Partitions } from './partitions';
import { PauseController } from './pause-controller';
import { replayRange } from './replay';
import type { ReplayOptions, ReplayResult } from './replay';
import { WATERMARK_REFRESH_MILLIS, WatermarkRefresher } from './watermarks';

export type { ForwarderHealth, PartitionHealth } from './health';
export type { PartitionError, PauseReason } from './partition-state';

/**
 * Records per consume call: the batch size, at least 1,000. librdkafka hands a partition's fetched records over
 * in one run, so smaller calls would show the batcher one partition at a time; the buffer bound does not depend
 * on it (see Partitions.add).
 */
const MIN_FETCH_RECORDS = 1_000;
const MAX_FETCH_RECORDS = 10_000;

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
 * // A SIGTERM handler replaces Node's default exit: drain and commit, then exit.
 * process.on('SIGTERM', () => {
 *   void forwarder.stop().finally(() => process.exit(0));
 * });
 * ```
 */
export class KafkaToJaegerForwarder {
  readonly #kafka: ResolvedKafkaConfig;
  readonly #options: ResolvedForwarderConfig;
  readonly #sink: Sink;
  readonly #logger: Logger;
  /** The Kafka client's own errors, at warn and rate-limited (a broker outage repeats them many times a second). */
  readonly #clientLog: KafkaJS.Logger;
  /** Holds back repeats of librdkafka's log lines, across the consumers of successive start() attempts. */
  readonly #clientLogLimiter = new RepeatLimiter();
  readonly #metrics: ForwarderMetrics;
  readonly #deadLetters: DeadLetterWriter;
  readonly #partitions: Partitions;
  readonly #abort = new AbortController();
  /** Aborted by stop(): a pending connect of start() makes no further attempt. */
  readonly #startAbort = new AbortController();
  readonly #pauses: PauseController;
  readonly #dispatcher: Dispatcher;
  readonly #committer: Committer;
  readonly #watermarks: WatermarkRefresher;
  #state: ForwarderHealth['state'] = 'created';
  #intake: Intake | undefined;
  #commitTimer: NodeJS.Timeout | undefined;
  #watermarkTimer: NodeJS.Timeout | undefined;
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
    this.#clientLog = kafkaLogger(this.#logger, 'kafka.consumer', this.#clientLogLimiter);
    this.#kafka = resolveKafkaConfig(config, env, common.logger);
    this.#options = createForwarderConfig(config, this.#kafka.topic, env, common.logger);
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
    this.#pauses = new PauseController(this.#logger);
    this.#partitions = new Partitions(this.#pauses, this.#logger, this.#options.maxBufferedBytes);
    this.#dispatcher = new Dispatcher({
      options: this.#options,
      sink: this.#sink,
      logger: this.#logger,
      metrics: this.#metrics,
      deadLetters: this.#deadLetters,
      partitions: this.#partitions,
      pauses: this.#pauses,
      signal: this.#abort.signal,
      settled: () => this.#notifyIdle(),
    });
    this.#committer = new Committer(this.#logger);
    this.#watermarks = new WatermarkRefresher(this.#logger);
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
   * be reached within `kafka.connectTimeoutMillis` (10 s by default), naming the last connection problem; a
   * {@link ShutdownError} when `stop()` was called meanwhile (within 4 s of it); when librdkafka named a misconfigured secure
   * connection meanwhile, with code `KAFKA_AUTHENTICATION`, `KAFKA_TLS_VERIFICATION` or
   * `KAFKA_SECURITY_PROTOCOL` and the settings to check instead. `start()` may then be called again.
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
    // A start() still connecting makes no further attempt: it rejects with a ShutdownError once the current one
    // ends, and the stop goes on from there.
    this.#startAbort.abort(new ShutdownError('KafkaToJaegerForwarder is stopping'));
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
      partitions: partitionsHealth(this.#partitions.values()),
      bufferedBytes: this.#partitions.bufferedBytes,
      inFlightRequests: this.#dispatcher.inFlight,
    };
  }

  // ------------------------------------------------------------------------------------------ lifecycle

  async #doStart(): Promise<void> {
    if (this.#stopping) throw new ShutdownError('KafkaToJaegerForwarder was stopped');
    this.#state = 'starting';
    // intake → partitions (queues, ledgers) → dispatcher (batch, deliver, settle) → committer
    const fetchRecords = Math.max(MIN_FETCH_RECORDS, Math.min(this.#options.maxRecords, MAX_FETCH_RECORDS));
    const intake = new Intake(groupConsumerConfig(this.#kafka, this.#options.groupId), fetchRecords, {
      records: (messages) => this.#onRecords(messages),
      wanted: () => this.#partitions.recordsWanted(fetchRecords),
      assigned: (partitions) => this.#partitions.assigned(partitions),
      revoking: (partitions) => this.#onRevoking(partitions),
      error: (message, err) => this.#clientLog.error(message, { error: String(err) }),
    });
    // This attempt's own view of librdkafka's log: the refusal it names, if any, is what a failed connect reports.
    // It ends the connect only between two of its attempts (connectWithin), never while one is pending: the
    // binding runs an attempt on a libuv worker thread it holds until the attempt's own timeout, and a caller
    // retrying start() in a loop would otherwise take every worker thread of the process.
    let refusal: ConnectionFailure | undefined;
    const clientLog = kafkaLogger(this.#logger, 'kafka.consumer', this.#clientLogLimiter, (failure) => {
      refusal = failure;
    });
    intake.onClientError((err: LibrdKafkaError) => clientLog.error(err.message, { code: err.code }));
    const problems = new ConnectProblems();
    intake.onClientLog((line) => {
      problems.note(line);
      logClientLine(clientLog, line);
    });
    try {
      await intake.connect(this.#kafka.topic, this.#options.groupId, {
        timeoutMillis: this.#kafka.connectTimeoutMillis,
        signal: this.#startAbort.signal,
        brokers: this.#kafka.brokers,
        refused: () => (refusal ? new Error(refusal.cause) : undefined),
        problems,
      });
    } catch (err) {
      // Leave it as it was before start(), so that start() can be called again (e.g. once Kafka is up).
      this.#state = 'created';
      this.#starting = undefined;
      if (!refusal || err instanceof ShutdownError) throw err;
      throw new OtelKafkaJaegerError(
        `cannot join consumer group ${this.#options.groupId} at ${this.#kafka.brokers.join(',')}: ${refusal.cause}`,
        { code: refusal.code, retriable: refusal.retriable, cause: err },
      );
    }
    this.#intake = intake;
    this.#pauses.attach(intake);
    this.#committer.attach(intake);
    intake.start();
    this.#commitTimer = setInterval(
      () => void this.#committer.commit(this.#partitions.values()),
      this.#options.commitIntervalMillis,
    );
    this.#watermarkTimer = setInterval(
      () => void this.#watermarks.refresh(intake, this.#partitions.values()),
      WATERMARK_REFRESH_MILLIS,
    );
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
    this.#partitions.pauseAll('stopping');
    this.#dispatcher.drain();
    const drained = await this.#waitIdle(this.#options.stopTimeoutMillis);
    if (!drained) {
      this.#logger.warn('stop timeout reached with records undelivered; they stay uncommitted for the next owner', {
        bufferedBytes: this.#partitions.bufferedBytes,
        inFlightRequests: this.#dispatcher.inFlight,
      });
    }
    this.#abort.abort(new ShutdownError('KafkaToJaegerForwarder is stopping'));
    await this.#waitIdle(2_000);
    clearInterval(this.#commitTimer);
    clearInterval(this.#watermarkTimer);
    this.#dispatcher.stop();
    await this.#committer.commitConfirmed(() => this.#partitions.values(), 3);
    const intake = this.#intake;
    this.#intake = undefined;
    this.#pauses.attach(undefined);
    this.#committer.attach(undefined);
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
    return !this.#dispatcher.busy && !this.#partitions.anyQueued();
  }

  #notifyIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  // ------------------------------------------------------------------------------------------ intake

  #onRecords(messages: Message[]): void {
    this.#partitions.add(messages, Date.now(), (s) => this.#intake?.lastSeenEndOffset(s.topic, s.partition));
    this.#dispatcher.pump();
  }

  async #onRevoking(assignment: TopicPartition[]): Promise<void> {
    const states = this.#partitions.statesOf(assignment);
    // Commit what was accepted before giving the partitions up; results arriving later are discarded.
    await this.#committer.commitConfirmed(() => states, 2);
    this.#partitions.revoked(states);
    this.#notifyIdle();
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
