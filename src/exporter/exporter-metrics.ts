import type { Attributes, Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';

/** Bucket boundaries for durations in seconds: 1 ms to 30 s. */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The exporter's self-observability instruments (no-ops unless a MeterProvider was configured). */
export class ExporterMetrics {
  readonly spansExported: Counter;
  readonly spansFailed: Counter;
  readonly messages: Counter;
  readonly bytes: Counter;
  readonly exportDuration: Histogram;
  readonly #queueBytes: ObservableGauge;

  constructor(meter: Meter, queueBytes: () => number) {
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
  }

  failed(count: number, errorType: string): void {
    if (count > 0) this.spansFailed.add(count, { 'error.type': errorType } satisfies Attributes);
  }
}
