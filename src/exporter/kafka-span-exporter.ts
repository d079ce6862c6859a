import { context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

import { resolveCommon, resolveExporterConfig, resolveKafkaConfig } from '../config/resolve-config';
import type { ResolvedExporterConfig, ResolvedKafkaConfig } from '../config/resolve-config';
import type { OtelKafkaJaegerConfig } from '../config/types';
import { OtelKafkaJaegerError, SerializationError, ShutdownError, TimeoutError } from '../errors/errors';
import { producerRdKafkaConfig } from '../kafka/client-config';
import { DeliveryProducer } from '../kafka/delivery-producer';
import { toProduceError } from '../kafka/kafka-errors';
import type { Logger } from '../logging/logger';
import type { SpanSerializer } from '../serializers/span-serializer';
import { ExporterMetrics } from './exporter-metrics';
import { groupByTrace } from './group-by-trace';
import { encodeWithinLimit, oversizeError } from './split-by-size';
import type { EncodedChunk } from './split-by-size';

/** Room left in each message for the key, headers and record overhead. */
const MESSAGE_OVERHEAD_BYTES = 512;

interface OutgoingMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * An OpenTelemetry `SpanExporter` that writes finished spans to a Kafka topic as OTLP
 * `ExportTraceServiceRequest` messages, one per trace, keyed by trace id.
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
 * `exporter.maxQueueBytes`; every failed span is counted.
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
  readonly #inFlight = new Set<Promise<void>>();
  #producer: DeliveryProducer | undefined;
  #connecting: Promise<DeliveryProducer> | undefined;
  #queuedBytes = 0;
  #shutdown: Promise<void> | undefined;

  /**
   * @param config - the shared configuration object; this reads `kafka`, `exporter`, `serializer`,
   * `meterProvider` and `logger`.
   * @param env - where environment variables are read from.
   * @throws {@link ConfigError} when a value in `config` is invalid (naming the field).
   */
  constructor(config: OtelKafkaJaegerConfig = {}, env: NodeJS.ProcessEnv = process.env) {
    const common = resolveCommon(config);
    this.#logger = common.logger;
    this.#serializer = common.serializer;
    this.#kafka = resolveKafkaConfig(config, env, common.logger);
    this.#options = resolveExporterConfig(config, env, common.logger);
    this.#metrics = new ExporterMetrics(common.meter, () => this.#queuedBytes);
    this.#headers = { 'content-type': this.#serializer.contentType, 'otelcol.signal': 'traces' };
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
    await this.forceFlush();
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer) {
      await producer.disconnect();
    }
    // A connect still waiting for an unreachable broker is left to fail on its own; see #connect.
  }

  async #export(spans: ReadableSpan[]): Promise<void> {
    if (spans.length === 0) return;
    const { messages, spanCounts, oversize, oversizeCount } = this.#encode(spans);
    const total = messages.reduce((n, m) => n + m.value.length, 0);
    let error: OtelKafkaJaegerError | undefined = oversize;
    if (oversize) this.#metrics.failed(oversizeCount, oversize.code);
    if (messages.length > 0) {
      this.#queuedBytes += total;
      try {
        const abandoned = new AbortController();
        await this.#withTimeout(this.#produce(messages, abandoned.signal), abandoned);
        const sent = spanCounts.reduce((a, b) => a + b, 0);
        this.#metrics.spansExported.add(sent);
        this.#metrics.messages.add(messages.length);
        this.#metrics.bytes.add(total);
      } catch (err) {
        const e = err instanceof OtelKafkaJaegerError ? err : toProduceError(err, 'produce failed');
        this.#metrics.failed(spans.length - oversizeCount, e.code);
        this.#logger.warn('export to Kafka failed', {
          code: e.code,
          retriable: e.retriable,
          spans: spans.length - oversizeCount,
          error: e.message,
        });
        error = e;
      } finally {
        this.#queuedBytes -= total;
      }
    }
    if (error) throw error;
  }

  #encode(spans: ReadableSpan[]): {
    messages: OutgoingMessage[];
    spanCounts: number[];
    oversize: OtelKafkaJaegerError | undefined;
    oversizeCount: number;
  } {
    const maxBytes = Math.max(1024, this.#options.maxMessageBytes - MESSAGE_OVERHEAD_BYTES);
    const encode = (group: ReadableSpan[]): Uint8Array => this.#serialize(group);
    const groups: [string | null, ReadableSpan[]][] = this.#options.partitionByTraceId
      ? [...groupByTrace(spans)]
      : [[null, spans]];
    const messages: OutgoingMessage[] = [];
    const spanCounts: number[] = [];
    const oversizeSpans = [];
    for (const [key, group] of groups) {
      const { chunks, oversize } = encodeWithinLimit(group, encode, maxBytes);
      oversizeSpans.push(...oversize);
      for (const chunk of chunks) {
        messages.push(this.#message(key, chunk));
        spanCounts.push(chunk.spans.length);
      }
    }
    return {
      messages,
      spanCounts,
      oversize: oversizeSpans.length > 0 ? oversizeError(oversizeSpans, this.#options.maxMessageBytes) : undefined,
      oversizeCount: oversizeSpans.length,
    };
  }

  #serialize(spans: ReadableSpan[]): Uint8Array {
    try {
      return this.#serializer.serialize(spans);
    } catch (err) {
      if (err instanceof SerializationError) throw err;
      throw new SerializationError(`serializer failed on ${spans.length} spans: ${asError(err).message}`, err);
    }
  }

  #message(key: string | null, chunk: EncodedChunk): OutgoingMessage {
    const b = chunk.bytes;
    return { key, value: Buffer.from(b.buffer, b.byteOffset, b.byteLength), headers: this.#headers };
  }

  async #produce(messages: OutgoingMessage[], abandoned: AbortSignal): Promise<void> {
    const producer = await this.#connect();
    // An export that already reported FAILED must not be delivered behind the application's back.
    if (abandoned.aborted) return;
    await producer.send(this.#kafka.topic, messages);
  }

  /**
   * The connected producer, connecting on first use. librdkafka's connect waits for broker metadata, so
   * while Kafka is unreachable it stays pending (exports time out meanwhile) or fails; a failed connect is
   * retried with a fresh client by the next export.
   */
  #connect(): Promise<DeliveryProducer> {
    if (this.#producer) return Promise.resolve(this.#producer);
    if (!this.#connecting) {
      const connecting = DeliveryProducer.connect(producerRdKafkaConfig(this.#kafka, this.#options), this.#logger).then(
        (producer) => {
          this.#connecting = undefined;
          if (this.#shutdown) {
            void producer.disconnect();
            throw new ShutdownError('KafkaSpanExporter is shut down');
          }
          this.#producer = producer;
          this.#logger.info('connected to Kafka', { brokers: this.#kafka.brokers.join(','), topic: this.#kafka.topic });
          return producer;
        },
        (err: unknown) => {
          this.#connecting = undefined;
          throw toProduceError(err, `cannot connect to Kafka at ${this.#kafka.brokers.join(',')}`);
        },
      );
      // Exports that timed out no longer await this promise; keep a rejection from going unhandled.
      connecting.catch(() => undefined);
      this.#connecting = connecting;
    }
    return this.#connecting;
  }

  #withTimeout<T>(work: Promise<T>, onTimeout: AbortController): Promise<T> {
    const timeoutMillis = this.#options.timeoutMillis;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout.abort();
        const state = this.#producer ? 'waiting for acknowledgements' : 'connecting to Kafka';
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

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
