import { context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

import { resolveCommon } from '../config/common';
import { resolveExporterConfig } from '../config/exporter';
import { resolveKafkaConfig } from '../config/kafka';
import type { ResolvedExporterConfig } from '../config/exporter';
import type { ResolvedKafkaConfig } from '../config/kafka';
import type { OtelKafkaJaegerConfig } from '../config/types';
import {
  ConfigError,
  OtelKafkaJaegerError,
  ProduceError,
  SerializationError,
  ShutdownError,
  SpoolError,
  TimeoutError,
} from '../errors/errors';
import { producerRdKafkaConfig } from '../kafka/client-config';
import type { RdKafkaConfig } from '../kafka/client-config';
import { ConnectProblems } from '../kafka/bounded-connect';
import { DeliveryProducer } from '../kafka/delivery-producer';
import type { SendBatch, TopicLayout } from '../kafka/delivery-producer';
import { DEFAULT_PARTITIONER, keyPartitioner } from '../kafka/partitioner';
import type { KeyPartitioner } from '../kafka/partitioner';
import { toProduceError } from '../kafka/kafka-errors';
import { RepeatLimiter, kafkaLogger, logClientLine } from '../kafka/kafka-logger';
import type { ConnectionFailure } from '../kafka/kafka-logger';
import { assertProducerConfigAccepted } from '../kafka/native-config';
import { checkProducerOverrides } from '../kafka/producer-overrides';
import { configLogger } from '../logging/logger';
import type { Logger } from '../logging/logger';
import { exponentialBackoff } from '../retry/exponential-backoff';
import { hasSessions } from '../serializers/otlp-serializers';
import type { SpanSerializer } from '../serializers/span-serializer';
import { ExporterMetrics } from './exporter-metrics';
import { groupByPartition } from './group-by-partition';
import { groupByTrace } from './group-by-trace';
import { encodeWithinLimit, oversizeError } from './split-by-size';
import type { EncodedChunk } from './split-by-size';
import type { SegmentDamage, SpoolRecord } from './spool/segment-format';
import { Spool } from './spool/spool';
import type { Segment } from './spool/spool';
import { SpoolDrainer } from './spool/spool-drainer';
import type { DrainerHooks } from './spool/spool-drainer';

/**
 * Room left in each message, besides its headers, for the key (a 32-character trace id), the record's own
 * framing (at most ~40 bytes) and the record batch header (61 bytes) that the broker counts as well.
 */
const RECORD_OVERHEAD_BYTES = 256;
/** The smallest value budget worth producing with; a custom content type longer than this leaves too little. */
const MIN_VALUE_BYTES = 1024;

/** How often the topic's partitions are re-read when `topic.metadata.refresh.interval.ms` is not set. */
const LAYOUT_REFRESH_MILLIS = 30_000;
/** How long one read of the topic's partitions may take. */
const LAYOUT_TIMEOUT_MILLIS = 5_000;

/** The most message bytes one drain step produces. */
const DRAIN_CHUNK_BYTES = 1024 * 1024;
/** Waits of the drainer between failed attempts (each attempt itself may take `exporter.timeoutMillis`). */
const DRAIN_BACKOFF = { initialDelayMillis: 250, maxDelayMillis: 5_000, multiplier: 2, jitter: 0.2 };
/** At most one warning per this interval about spans the spool drops. */
const DROP_WARNING_MILLIS = 60_000;
/** Broker answers that blame the message itself: a spooled message refused so is dropped after a few tries. */
const REJECTIONS = new Set([
  'ERR_MSG_SIZE_TOO_LARGE',
  'ERR__MSG_SIZE_TOO_LARGE',
  'ERR_RECORD_LIST_TOO_LARGE',
  'ERR_INVALID_RECORD',
  'ERR_CORRUPT_MESSAGE',
]);

interface OutgoingMessage {
  key: string | null;
  partition?: number;
  value: Buffer;
  headers: Record<string, string>;
}

/** An export's messages, in order, and the spans that could not fit in any. */
interface EncodedExport {
  messages: OutgoingMessage[];
  /** Spans of each message, by index. */
  spanCounts: number[];
  oversize: OtelKafkaJaegerError | undefined;
  oversizeCount: number;
}

/** Spans that go into one message (or several, when they exceed the size limit). */
interface SpanGroup {
  key: string | null;
  partition?: number;
  spans: ReadableSpan[];
}

/**
 * An OpenTelemetry `SpanExporter` that writes finished spans to a Kafka topic as OTLP
 * `ExportTraceServiceRequest` messages. By default each message holds the spans of an export that belong in
 * one partition: the partition a message keyed by their trace id would go to, so all spans of a trace share
 * a partition (see `exporter.messagePer`).
 *
 * @remarks
 * Delivery: `export()` reports SUCCESS only after Kafka acknowledged every message of the batch with
 * `acks=all` (idempotent producer); otherwise FAILED with the error, within `exporter.timeoutMillis`.
 * It never throws into the application, and it never traces itself (produce runs with tracing suppressed).
 *
 * Size: a trace larger than `exporter.maxMessageBytes` is split by resource, scope, then spans; a single
 * span above the limit fails the export with a {@link MessageTooLargeError} and is counted in
 * `otel_kafka_jaeger.exporter.spans.failed`, while the rest of the batch is still produced.
 *
 * Kafka down: the exporter connects lazily and keeps trying, so one created while Kafka is down works once
 * Kafka is up. Meanwhile exports fail within their timeout, and the producer's queue is bounded by
 * `exporter.maxQueueBytes`; every failed span is counted. After a fatal producer error (e.g. of the
 * idempotent producer) the exports waiting on it fail and the next export creates a new producer.
 *
 * Spool (`exporter.spool`, off by default): messages Kafka cannot acknowledge are written to local disk and the
 * export reports SUCCESS once they are durable there; a background drainer produces them when Kafka answers
 * again, also after a restart. See {@link ExporterOptions.spool}.
 *
 * Shutdown: exports accepted before `shutdown()` are still produced and acknowledged (within their
 * timeout), even when they are waiting for the first connection; then the producer disconnects. With a
 * spool, draining stops and what is left stays on disk for the next start.
 *
 * @example
 * ```ts
 * import { NodeSDK } from '@opentelemetry/sdk-node';
 * import { KafkaSpanExporter } from 'otel-kafka-jaeger';
 *
 * const sdk = new NodeSDK({
 *   serviceName: 'checkout',
 *   traceExporter: new KafkaSpanExporter({ kafka: { brokers: ['127.0.0.1:9092'] } }),
 * });
 * sdk.start();
 * ```
 */
export class KafkaSpanExporter implements SpanExporter {
  readonly #kafka: ResolvedKafkaConfig;
  readonly #options: ResolvedExporterConfig;
  readonly #serializer: SpanSerializer;
  readonly #logger: Logger;
  readonly #metrics: ExporterMetrics;
  readonly #headers: Record<string, string>;
  readonly #rdkafkaConfig: RdKafkaConfig;
  readonly #maxValueBytes: number;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #partitionOf: KeyPartitioner;
  readonly #layoutRefreshMillis: number;
  #layout: TopicLayout | undefined;
  #layoutReadAt = -Infinity;
  #layoutReading = false;
  #producer: DeliveryProducer | undefined;
  #connecting: Promise<DeliveryProducer> | undefined;
  /** The connection problems librdkafka logged while connecting, for the messages of exports that time out. */
  readonly #connectProblems = new ConnectProblems();
  /** Aborted by shutdown: a pending connect makes no further attempt. */
  readonly #connectAbort = new AbortController();
  /**
   * Set when librdkafka's connection log named a misconfiguration no retry cures (wrong password, an
   * unverifiable certificate, plaintext against a TLS listener): exports waiting for a connection fail at once
   * with it instead of waiting out their timeout. Cleared by a connect that succeeds.
   */
  #refused: OtelKafkaJaegerError | undefined;
  readonly #refusedWaiters = new Set<(err: OtelKafkaJaegerError) => void>();
  /** Causes already logged (once each) since the last successful connect. */
  readonly #refusalsLogged = new Set<string>();
  /** Holds back repeats of librdkafka's log lines across the producers of this exporter. */
  readonly #clientLogLimiter = new RepeatLimiter();
  #queuedBytes = 0;
  #shutdown: Promise<void> | undefined;
  /** Set once shutdown flushed: no export waits for a producer any more. */
  #closed = false;
  readonly #spool: Spool | undefined;
  readonly #drainer: SpoolDrainer | undefined;
  /** Kafka failed a produce and has not acknowledged a drained message since: exports go to the spool. */
  #spooling = false;
  #dropWarnedAt = -Infinity;
  readonly #damageReported = new WeakSet<Segment>();

  /**
   * @param config - the shared configuration object; this reads `kafka`, `exporter`, `serializer`,
   * `meterProvider` and `logger`.
   * @param env - where environment variables are read from.
   * @throws {@link ConfigError} when a value in `config` is invalid (naming the field), including a
   * `kafka.rdkafka` property librdkafka rejects; {@link SpoolError} when `exporter.spool.directory` is locked
   * by another live process (`SPOOL_LOCKED`, naming its pid) or cannot be created (`SPOOL_FAILED`).
   */
  constructor(config: OtelKafkaJaegerConfig = {}, env: NodeJS.ProcessEnv = process.env) {
    const common = resolveCommon(config);
    this.#logger = common.logger;
    this.#serializer = common.serializer;
    this.#kafka = resolveKafkaConfig(config, env, common.logger);
    this.#options = resolveExporterConfig(config, env, common.logger);
    this.#rdkafkaConfig = producerRdKafkaConfig(this.#kafka, this.#options);
    assertProducerConfigAccepted(this.#rdkafkaConfig, this.#kafka.rdkafka);
    checkProducerOverrides(this.#kafka, this.#options, configLogger(this.#logger));
    this.#headers = { 'content-type': this.#serializer.contentType, 'otelcol.signal': 'traces' };
    this.#maxValueBytes = this.#options.maxMessageBytes - RECORD_OVERHEAD_BYTES - headerBytes(this.#headers);
    if (this.#maxValueBytes < MIN_VALUE_BYTES) {
      throw new ConfigError(
        'serializer',
        `contentType is too long: it leaves ${this.#maxValueBytes} bytes of a ${this.#options.maxMessageBytes}-byte message for spans`,
      );
    }
    const spoolOptions = this.#options.spool;
    this.#metrics = new ExporterMetrics(
      common.meter,
      () => this.#queuedBytes,
      spoolOptions && (() => this.#spool?.stats ?? { bytes: 0, messages: 0, oldestMillis: undefined }),
    );
    const partitioner = this.#rdkafkaConfig.partitioner;
    const named = keyPartitioner(typeof partitioner === 'string' ? partitioner : DEFAULT_PARTITIONER);
    if (!named && this.#options.messagePer === 'partition') {
      this.#logger.warn(
        `kafka.rdkafka partitioner '${String(partitioner)}' does not place a message by its key alone; ` +
          "exporter.messagePer 'partition' groups spans by the CRC-32 of their trace id instead",
      );
    }
    this.#partitionOf = named ?? (keyPartitioner('consistent') as KeyPartitioner);
    const refresh = this.#rdkafkaConfig['topic.metadata.refresh.interval.ms'];
    this.#layoutRefreshMillis = typeof refresh === 'number' && refresh > 0 ? refresh : LAYOUT_REFRESH_MILLIS;
    // Last: the lock is taken only once nothing else can throw.
    if (spoolOptions) {
      this.#spool = Spool.open(spoolOptions);
      this.#drainer = new SpoolDrainer(this.#spool, this.#drainHooks(), {
        bytesPerSecond: spoolOptions.drainBytesPerSecond,
        chunkBytes: Math.min(DRAIN_CHUNK_BYTES, spoolOptions.drainBytesPerSecond),
        backoff: exponentialBackoff(DRAIN_BACKOFF),
        declinedDelayMillis: DRAIN_BACKOFF.maxDelayMillis,
        isRejection: (err) => err instanceof ProduceError && REJECTIONS.has(err.kafkaName ?? ''),
        logger: this.#logger,
      });
      if (this.#spool.segments.length > 0) void this.#recoverSpool(this.#spool, this.#drainer);
    }
  }

  /** The topic this exporter writes to. */
  get topic(): string {
    return this.#kafka.topic;
  }

  /**
   * Produces the spans and calls `resultCallback` exactly once: SUCCESS after Kafka acknowledged every
   * message, FAILED (with the error) otherwise or after shutdown.
   */
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const started = performance.now();
    let called = false;
    const done = (result: ExportResult): void => {
      if (called) return;
      called = true;
      this.#metrics.exportDuration.record((performance.now() - started) / 1000);
      try {
        resultCallback(result);
      } catch (err) {
        this.#logger.error('export result callback threw', { error: String(err) });
      }
    };
    if (this.#shutdown) {
      this.#metrics.failed(spans.length, 'SHUTDOWN');
      done({ code: ExportResultCode.FAILED, error: new ShutdownError('KafkaSpanExporter is shut down') });
      return;
    }
    const work = context
      .with(suppressTracing(context.active()), () => this.#export(spans))
      .then(
        () => done({ code: ExportResultCode.SUCCESS }),
        (err: unknown) => done({ code: ExportResultCode.FAILED, error: asError(err) }),
      );
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  /** Resolves when every export started before the call has called back. */
  async forceFlush(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  /** Waits for in-flight exports, then disconnects. Later exports report FAILED. Idempotent. */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    // Exports accepted before shutdown() may be waiting for the first connection: they keep it.
    await this.forceFlush();
    // A drain step in flight finishes (within the export timeout); what is left stays spooled for the next start.
    await this.#drainer?.stop();
    this.#closed = true;
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer) {
      await producer.disconnect();
    }
    await this.#spool?.close();
    // A connect still waiting for an unreachable broker starts no further attempt: the process can exit once the
    // current one ends (connectWithin).
    this.#connectAbort.abort(new ShutdownError('KafkaSpanExporter is shut down'));
  }

  async #export(spans: ReadableSpan[]): Promise<void> {
    if (spans.length === 0) return;
    const groups = this.#groups(spans);
    // Delivery reports arrive on later turns of the event loop, never during the synchronous encoding below.
    const acknowledged: boolean[] = [];
    const live = this.#liveBatch(acknowledged);
    const encoded: EncodedExport = { messages: [], spanCounts: [], oversize: undefined, oversizeCount: 0 };
    try {
      this.#encode(spans, groups, encoded, live && ((m) => live.add(m)));
    } catch (err) {
      const sent = live ? await this.#settleLiveBatch(live, encoded, acknowledged) : 0;
      const e = err instanceof OtelKafkaJaegerError ? err : new SerializationError(asError(err).message, err);
      this.#metrics.failed(spans.length - sent, e.code);
      throw e;
    }
    const { messages, spanCounts, oversize, oversizeCount } = encoded;
    for (let i = 0; i < messages.length; i++) acknowledged[i] = acknowledged[i] === true;
    if (live && messages.length === 0) void live.end();
    const total = messages.reduce((n, m) => n + m.value.length, 0);
    let error: OtelKafkaJaegerError | undefined = oversize;
    if (oversize) this.#metrics.failed(oversizeCount, oversize.code);
    if (messages.length > 0 && this.#spooling) {
      // Kafka is known to be down: no export waits for a timeout meanwhile.
      error =
        (await this.#toSpool(
          messages,
          spanCounts,
          messages.map((_, i) => i),
        )) ?? error;
    } else if (messages.length > 0) {
      // librdkafka's own bound applies only once produce() is called; exports waiting for the first connection
      // (or for a connect after a fatal error) would pile up past it. An export that would not fit fails now.
      const queueFull = this.#queuedBytes > 0 && this.#queuedBytes + total > this.#options.maxQueueBytes;
      const waiting = this.#queuedBytes;
      this.#queuedBytes += total;
      try {
        if (queueFull) {
          // Never with a live batch (it needs an empty queue); ended all the same, so that it cannot linger.
          void live?.end().catch(() => undefined);
          throw new ProduceError(
            `exporter queue full: ${waiting} bytes waiting for Kafka, ${total} more would exceed ` +
              `exporter.maxQueueBytes (${this.#options.maxQueueBytes}); is Kafka reachable at ` +
              `${this.#kafka.brokers.join(',')}?`,
            // The same condition as librdkafka's own full queue, so callers branching on the name see one case.
            { retriable: true, kafkaName: 'ERR__QUEUE_FULL' },
          );
        }
        const abandoned = new AbortController();
        const produced = live ? live.end() : this.#produce(messages, abandoned.signal, (i) => (acknowledged[i] = true));
        await this.#withTimeout(produced, abandoned);
        acknowledged.fill(true);
        this.#countAcknowledged(messages, spanCounts, acknowledged);
        if (this.#spool && this.#spool.segments.length > 0) this.#drainer?.nudge();
      } catch (err) {
        const e = err instanceof OtelKafkaJaegerError ? err : toProduceError(err, 'produce failed');
        if (this.#spool) {
          // Acknowledgements are final here (see below): the rest is spooled, and the export succeeds with it.
          this.#countAcknowledged(messages, spanCounts, acknowledged);
          const rest = acknowledged.flatMap((ok, i) => (ok ? [] : [i]));
          const spoolError = await this.#toSpool(messages, spanCounts, rest, e);
          if (spoolError) error = spoolError;
          if (error) throw error;
          return;
        }
        // Acknowledgements are final at this point: later ones belong to an export that already FAILED.
        const sent = this.#countAcknowledged(messages, spanCounts, acknowledged);
        const failed = spans.length - oversizeCount - sent;
        this.#metrics.failed(failed, e.code);
        this.#logger.warn('export to Kafka failed', {
          code: e.code,
          retriable: e.retriable,
          spans: failed,
          acknowledgedSpans: sent,
          error: e.message,
        });
        error = e;
      } finally {
        this.#queuedBytes -= total;
      }
    }
    if (error) throw error;
  }

  /**
   * Appends messages (by index) to the spool and switches exports to it until Kafka answers again. Returns
   * the error when the spool refuses them (full, or a file system error): their spans are dropped, counted.
   */
  async #toSpool(
    messages: OutgoingMessage[],
    spanCounts: number[],
    indices: number[],
    cause?: OtelKafkaJaegerError,
  ): Promise<SpoolError | undefined> {
    const spool = this.#spool;
    const counters = this.#metrics.spool;
    if (!spool || !counters || indices.length === 0) return undefined;
    const spooledAtMillis = Date.now();
    const records: SpoolRecord[] = indices.map((i) => ({
      ...(messages[i] as OutgoingMessage),
      spanCount: spanCounts[i] ?? 0,
      spooledAtMillis,
    }));
    const spans = records.reduce((n, r) => n + r.spanCount, 0);
    try {
      await spool.append(records);
    } catch (err) {
      const e =
        err instanceof SpoolError ? err : new SpoolError(`spool append failed: ${String(err)}`, 'SPOOL_FAILED', err);
      counters.dropped.add(spans, { 'error.type': e.code });
      this.#metrics.failed(spans, e.code);
      const now = performance.now();
      if (now - this.#dropWarnedAt >= DROP_WARNING_MILLIS) {
        this.#dropWarnedAt = now;
        this.#logger.warn('the spool drops spans (at most one such warning a minute)', {
          code: e.code,
          spans,
          spoolBytes: spool.stats.bytes,
          error: e.message,
        });
      }
      return e;
    }
    counters.spooled.add(spans);
    if (!this.#spooling) {
      this.#spooling = true;
      this.#logger.warn('Kafka did not acknowledge an export: exports go to the spool until it does', {
        directory: spool.settings.directory,
        code: cause?.code,
        error: cause?.message,
      });
    }
    this.#drainer?.wake();
    return undefined;
  }

  /** Reports what a previous process left in the spool, then drains it. */
  async #recoverSpool(spool: Spool, drainer: SpoolDrainer): Promise<void> {
    try {
      const damaged = await spool.recover();
      for (const { segment, damage } of damaged) this.#reportDamage(segment, damage);
      const { bytes, messages } = spool.stats;
      this.#logger.info('found spooled messages from an earlier run; draining them', {
        directory: spool.settings.directory,
        segments: spool.segments.length,
        bytes,
        messages,
      });
    } catch (err) {
      this.#logger.warn('cannot read the spool left by an earlier run; draining what can be read', {
        error: String(err),
      });
    }
    drainer.wake();
  }

  #reportDamage(segment: Segment, damage: SegmentDamage): void {
    // Segments found at startup are read twice: when recovered and when drained.
    if (this.#damageReported.has(segment)) return;
    this.#damageReported.add(segment);
    this.#metrics.spool?.damaged.add(damage.corruptRegions + (damage.truncatedTail ? 1 : 0), {
      'error.type': damage.truncatedTail && damage.corruptRegions === 0 ? 'TRUNCATED' : 'CORRUPT',
    });
    this.#logger.warn('skipped damaged records in a spool segment; the intact ones are delivered', {
      segment: segment.path,
      skippedBytes: damage.skippedBytes,
      corruptRegions: damage.corruptRegions,
      truncatedTail: damage.truncatedTail,
    });
  }

  #drainHooks(): DrainerHooks {
    return {
      send: (records, onAcknowledged) => {
        const abandoned = new AbortController();
        const messages: OutgoingMessage[] = records.map(({ key, partition, value, headers }) =>
          partition === undefined ? { key, value, headers } : { key, partition, value, headers },
        );
        return this.#withTimeout(this.#produce(messages, abandoned.signal, onAcknowledged), abandoned);
      },
      onDelivered: (records) => {
        let spans = 0;
        let bytes = 0;
        for (const r of records) {
          spans += r.spanCount;
          bytes += r.value.length;
        }
        this.#metrics.spansExported.add(spans);
        this.#metrics.messages.add(records.length);
        this.#metrics.bytes.add(bytes);
        this.#metrics.spool?.drained.add(spans);
        if (this.#spooling) {
          this.#spooling = false;
          this.#logger.info('Kafka acknowledges again: exports go to Kafka, the spool drains behind them', {
            spoolBytes: this.#spool?.stats.bytes,
          });
        }
      },
      onFailure: (error, delayMillis) => {
        this.#logger.debug('spool drain attempt failed; retrying', { error: String(error), delayMillis });
      },
      onDropped: (records, error) => {
        const spans = records.reduce((n, r) => n + r.spanCount, 0);
        this.#metrics.spool?.dropped.add(spans, { 'error.type': 'REJECTED' });
        this.#metrics.failed(spans, 'REJECTED');
        this.#logger.error('Kafka keeps rejecting spooled messages; they are dropped', {
          messages: records.length,
          spans,
          error: String(error),
        });
      },
      onDamage: (segment, damage) => this.#reportDamage(segment, damage),
    };
  }

  /** Records the acknowledged messages, their bytes and spans as exported; returns the span count. */
  #countAcknowledged(messages: OutgoingMessage[], spanCounts: number[], acknowledged: boolean[]): number {
    let spans = 0;
    let count = 0;
    let bytes = 0;
    acknowledged.forEach((ok, i) => {
      if (!ok) return;
      spans += spanCounts[i] ?? 0;
      count += 1;
      bytes += messages[i]?.value.length ?? 0;
    });
    if (count > 0) {
      this.#metrics.spansExported.add(spans);
      this.#metrics.messages.add(count);
      this.#metrics.bytes.add(bytes);
    }
    return spans;
  }

  /** What goes into which message(s), by `exporter.messagePer`. */
  #groups(spans: ReadableSpan[]): SpanGroup[] {
    const messagePer = this.#options.messagePer;
    if (messagePer === 'batch') return [{ key: null, spans }];
    if (messagePer === 'partition') {
      const layout = this.#currentLayout();
      if (layout)
        return groupByPartition(spans, layout, this.#partitionOf).map(({ partition, spans: group }) => ({
          key: null,
          partition,
          spans: group,
        }));
      // Partitions not known yet: keyed per-trace messages go to the same partitions, by librdkafka's choice.
    }
    return Array.from(groupByTrace(spans), ([key, group]) => ({ key, spans: group }));
  }

  /**
   * The topic's partitions as last read, for `messagePer: 'partition'`; starts a new read in the background
   * when the last one is older than the refresh interval (an export never waits for it).
   */
  #currentLayout(): TopicLayout | undefined {
    const producer = this.#producer;
    if (producer && !this.#layoutReading && performance.now() - this.#layoutReadAt >= this.#layoutRefreshMillis) {
      this.#layoutReading = true;
      producer.topicLayout(this.#kafka.topic, Math.min(LAYOUT_TIMEOUT_MILLIS, this.#options.timeoutMillis)).then(
        (layout) => {
          if (this.#layout && layout.partitions !== this.#layout.partitions) {
            this.#logger.info('topic partition count changed', {
              topic: this.#kafka.topic,
              from: this.#layout.partitions,
              to: layout.partitions,
            });
          }
          this.#layout = layout;
          this.#layoutReadAt = performance.now();
          this.#layoutReading = false;
        },
        (err: unknown) => {
          // Keep the last layout (or per-trace messages without one) and try again after the interval.
          this.#logger.debug('cannot read the topic partitions', { topic: this.#kafka.topic, error: String(err) });
          this.#layoutReadAt = performance.now();
          this.#layoutReading = false;
        },
      );
    }
    return this.#layout;
  }

  /**
   * A send to produce this export's messages as they are encoded (the first on its way to the broker while the
   * next is encoded), when that is safe: a producer connected and healthy, Kafka not known to be down (the spool
   * is not in use), no other export waiting (so the queue bound cannot be reached), and a serializer with
   * encoding sessions, as the built-in one (a plain serializer is encoded in full first, so that one throwing
   * halfway leaves nothing half sent). Otherwise undefined: encode everything first.
   */
  #liveBatch(acknowledged: boolean[]): SendBatch | undefined {
    const producer = this.#producer;
    if (!producer || producer.fatalError || this.#spooling || this.#queuedBytes > 0) return undefined;
    if (!hasSessions(this.#serializer)) return undefined;
    return producer.openBatch(this.#kafka.topic, (i) => (acknowledged[i] = true));
  }

  /**
   * Encoding threw after some messages of a live batch were produced: waits for their reports (within the export
   * timeout), counts those acknowledged as exported and returns their span count.
   */
  async #settleLiveBatch(batch: SendBatch, encoded: EncodedExport, acknowledged: boolean[]): Promise<number> {
    await this.#withTimeout(batch.end(), new AbortController()).catch(() => undefined);
    for (let i = 0; i < encoded.messages.length; i++) acknowledged[i] = acknowledged[i] === true;
    return this.#countAcknowledged(encoded.messages, encoded.spanCounts, acknowledged);
  }

  /**
   * Encodes the groups into `out` (messages and their span counts, in order), calling `onMessage` with each
   * message as soon as it is encoded. If encoding throws, `out` holds the messages encoded before.
   *
   * Without a spool, a message handed to `onMessage` (a live batch: produced at once, and librdkafka copies the
   * value) is never read again, only its length: the built-in encoder then writes it in place, in its reused
   * buffer, and the value in `out` is a view that the next message overwrites. No copy of each ~60 KB message.
   */
  #encode(
    spans: ReadableSpan[],
    groups: SpanGroup[],
    out: EncodedExport,
    onMessage?: (message: OutgoingMessage) => void,
  ): void {
    const maxBytes = this.#maxValueBytes;
    const serializer = this.#serializer;
    const inPlace = onMessage !== undefined && this.#spool === undefined;
    // One session per export: the built-in encoder writes each resource and scope once for all messages.
    const encode = hasSessions(serializer)
      ? serializer.session(inPlace)
      : (group: ReadableSpan[]) => this.#serialize(group);
    const oversizeSpans = [];
    for (const { key, partition, spans: group } of groups) {
      const { oversize } = encodeWithinLimit(group, encode, maxBytes, (chunk) => {
        const message = this.#message(key, partition, chunk);
        out.messages.push(message);
        out.spanCounts.push(chunk.spans.length);
        onMessage?.(message);
      });
      oversizeSpans.push(...oversize);
    }
    if (oversizeSpans.length > 0) out.oversize = oversizeError(oversizeSpans, this.#options.maxMessageBytes);
    out.oversizeCount = oversizeSpans.length;
  }

  #serialize(spans: ReadableSpan[]): Uint8Array {
    try {
      return this.#serializer.serialize(spans);
    } catch (err) {
      if (err instanceof SerializationError) throw err;
      throw new SerializationError(`serializer failed on ${spans.length} spans: ${asError(err).message}`, err);
    }
  }

  #message(key: string | null, partition: number | undefined, chunk: EncodedChunk): OutgoingMessage {
    const b = chunk.bytes;
    const value = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    return partition === undefined
      ? { key, value, headers: this.#headers }
      : { key, partition, value, headers: this.#headers };
  }

  async #produce(
    messages: OutgoingMessage[],
    abandoned: AbortSignal,
    onAcknowledged: (index: number) => void,
  ): Promise<void> {
    const producer = await this.#connect();
    // An export that already reported FAILED must not be delivered behind the application's back.
    if (abandoned.aborted) return;
    await producer.send(this.#kafka.topic, messages, onAcknowledged);
  }

  /**
   * The connected producer, connecting on first use. librdkafka's connect waits for broker metadata, so
   * while Kafka is unreachable it stays pending (exports time out meanwhile) or fails; a failed connect is
   * retried with a fresh client by the next export, and so is a producer that hit a fatal error.
   */
  #connect(): Promise<DeliveryProducer> {
    const current = this.#producer;
    if (current && !current.fatalError) return Promise.resolve(current);
    if (current) {
      this.#producer = undefined;
      void current.disconnect();
    }
    if (!this.#connecting) {
      // Each attempt judges anew: a refusal seen by an earlier attempt (e.g. a broker restarting) may be gone.
      this.#refused = undefined;
      const clientLog = kafkaLogger(
        this.#logger,
        'kafka.producer',
        this.#clientLogLimiter,
        (failure) => this.#onRefused(failure),
        this.#refusalsLogged,
      );
      this.#connectProblems.clear();
      const connecting = DeliveryProducer.connect(
        this.#rdkafkaConfig,
        this.#logger,
        {
          timeoutMillis: this.#kafka.connectTimeoutMillis,
          signal: this.#connectAbort.signal,
          brokers: this.#kafka.brokers,
          refused: () => this.#refused,
          problems: this.#connectProblems,
        },
        undefined,
        (line) => {
          this.#connectProblems.note(line);
          logClientLine(clientLog, line);
        },
      ).then(
        (producer) => {
          this.#connecting = undefined;
          this.#refused = undefined;
          this.#connectProblems.clear();
          this.#refusalsLogged.clear();
          this.#refusedWaiters.clear();
          // Only a connect that outlived every export (they timed out) can finish after shutdown flushed.
          if (this.#closed) {
            void producer.disconnect();
            throw new ShutdownError('KafkaSpanExporter is shut down');
          }
          this.#producer = producer;
          // Partition grouping starts as soon as the topic's partitions are known.
          this.#currentLayout();
          // A drainer waiting out a backoff need not: Kafka answers.
          this.#drainer?.nudge();
          this.#logger.info('connected to Kafka', { brokers: this.#kafka.brokers.join(','), topic: this.#kafka.topic });
          return producer;
        },
        (err: unknown) => {
          this.#connecting = undefined;
          this.#refusedWaiters.clear();
          throw this.#refused ?? toProduceError(err, `cannot connect to Kafka at ${this.#kafka.brokers.join(',')}`);
        },
      );
      // Exports that timed out no longer await this promise; keep a rejection from going unhandled.
      connecting.catch(() => undefined);
      this.#connecting = connecting;
    }
    if (this.#refused) return Promise.reject(this.#refused);
    return Promise.race([this.#connecting, new Promise<never>((_, reject) => this.#refusedWaiters.add(reject))]);
  }

  /** librdkafka named why the broker refuses this client: fail whatever waits for the connection, with the cause. */
  #onRefused(failure: ConnectionFailure): void {
    if (this.#producer) return;
    this.#refused = new OtelKafkaJaegerError(
      `cannot connect to Kafka at ${this.#kafka.brokers.join(',')}: ${failure.cause}`,
      { code: failure.code, retriable: failure.retriable },
    );
    for (const reject of this.#refusedWaiters) reject(this.#refused);
    this.#refusedWaiters.clear();
  }

  #withTimeout<T>(work: Promise<T>, onTimeout: AbortController): Promise<T> {
    const timeoutMillis = this.#options.timeoutMillis;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout.abort();
        const problem = this.#connectProblems.last;
        const state = this.#producer
          ? 'waiting for acknowledgements'
          : `connecting to Kafka${problem ? `, last connection problem: ${problem}` : ''}`;
        reject(
          new TimeoutError(
            `export did not complete within ${timeoutMillis} ms (${state}; brokers ${this.#kafka.brokers.join(',')})`,
            timeoutMillis,
          ),
        );
      }, timeoutMillis);
    });
    // The work may still settle after the timeout; its outcome is then irrelevant but must not go unhandled.
    work.catch(() => undefined);
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

/** Bytes the headers add to a record: names, values and their length prefixes. */
function headerBytes(headers: Record<string, string>): number {
  return Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 10, 0);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
