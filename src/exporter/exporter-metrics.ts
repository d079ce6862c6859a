import type { Attributes, Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';

/** Bucket boundaries for durations in seconds: 1 ms to 30 s. */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the spool holds now, for its gauges. */
export interface SpoolGauges {
  bytes: number;
  messages: number;
  /** Creation time of the oldest segment (`Date.now()` clock), undefined when empty. */
  oldestMillis: number | undefined;
}

/** The spool's counters; created only when the spool is on. */
export interface SpoolCounters {
  spooled: Counter;
  drained: Counter;
  dropped: Counter;
  damaged: Counter;
}

/** The exporter's self-observability instruments, on the configured or the global MeterProvider. */
export class ExporterMetrics {
  readonly spansExported: Counter;
  readonly spansFailed: Counter;
  readonly messages: Counter;
  readonly bytes: Counter;
  readonly exportDuration: Histogram;
  readonly #queueBytes: ObservableGauge;
  /** Present when the spool is on. */
  readonly spool: SpoolCounters | undefined;

  constructor(meter: Meter, queueBytes: () => number, spool?: () => SpoolGauges) {
    this.spansExported = meter.createCounter('otel_kafka_jaeger.exporter.spans.exported', {
      description: 'Spans acknowledged by Kafka',
      unit: '{span}',
    });
    this.spansFailed = meter.createCounter('otel_kafka_jaeger.exporter.spans.failed', {
      description:
        'Spans Kafka did not acknowledge (by error.type); the export holding them reported FAILED. Spans of ' +
        'messages acknowledged before the failure count as exported instead',
      unit: '{span}',
    });
    this.messages = meter.createCounter('otel_kafka_jaeger.exporter.messages', {
      description: 'Kafka messages acknowledged',
      unit: '{message}',
    });
    this.bytes = meter.createCounter('otel_kafka_jaeger.exporter.bytes', {
      description: 'Message value bytes acknowledged by Kafka',
      unit: 'By',
    });
    this.exportDuration = meter.createHistogram('otel_kafka_jaeger.exporter.export.duration', {
      description: 'Duration of export() from call to callback',
      unit: 's',
      // Seconds, not the SDK's millisecond-shaped default buckets.
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
    this.#queueBytes = meter.createObservableGauge('otel_kafka_jaeger.exporter.queue.bytes', {
      description: 'Value bytes handed to the producer and not yet acknowledged or failed',
      unit: 'By',
    });
    this.#queueBytes.addCallback((result) => result.observe(queueBytes()));
    this.spool = spool && spoolInstruments(meter, spool);
  }

  failed(count: number, errorType: string): void {
    if (count > 0) this.spansFailed.add(count, { 'error.type': errorType } satisfies Attributes);
  }
}

function spoolInstruments(meter: Meter, gauges: () => SpoolGauges): SpoolCounters {
  const bytes = meter.createObservableGauge('otel_kafka_jaeger.exporter.spool.bytes', {
    description: 'Bytes of the spool segment files on disk (messages Kafka has not acknowledged yet)',
    unit: 'By',
  });
  const messages = meter.createObservableGauge('otel_kafka_jaeger.exporter.spool.messages', {
    description: 'Messages in the spool (segments left by a previous process count once read)',
    unit: '{message}',
  });
  const age = meter.createObservableGauge('otel_kafka_jaeger.exporter.spool.oldest.age', {
    description: 'Age of the oldest spool segment; 0 when the spool is empty',
    unit: 's',
  });
  meter.addBatchObservableCallback(
    (result) => {
      const g = gauges();
      result.observe(bytes, g.bytes);
      result.observe(messages, g.messages);
      result.observe(age, g.oldestMillis === undefined ? 0 : Math.max(0, (Date.now() - g.oldestMillis) / 1000));
    },
    [bytes, messages, age],
  );
  return {
    spooled: meter.createCounter('otel_kafka_jaeger.exporter.spool.spans.spooled', {
      description: 'Spans written to the spool because Kafka did not acknowledge them (their export reported SUCCESS)',
      unit: '{span}',
    }),
    drained: meter.createCounter('otel_kafka_jaeger.exporter.spool.spans.drained', {
      description: 'Spooled spans Kafka acknowledged (also counted in spans.exported)',
      unit: '{span}',
    }),
    dropped: meter.createCounter('otel_kafka_jaeger.exporter.spool.spans.dropped', {
      description:
        'Spans the spool refused (by error.type: SPOOL_FULL at maxBytes, SPOOL_FAILED on a file system error) or gave up on (a broker that rejects them for good)',
      unit: '{span}',
    }),
    damaged: meter.createCounter('otel_kafka_jaeger.exporter.spool.damaged', {
      description:
        'Damaged regions skipped in spool segments (a torn tail after a crash, or corruption), by error.type',
      unit: '{region}',
    }),
  };
}
