import type { Counter, Histogram, Meter } from '@opentelemetry/api';

/** Bucket boundaries for durations in seconds: 1 ms to 30 s. */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A snapshot of one partition for the observable instruments. */
export interface PartitionGaugeValue {
  topic: string;
  partition: number;
  lag: number | undefined;
  committed: number | undefined;
  paused: boolean;
}

/** The forwarder's self-observability instruments, on the configured or the global MeterProvider. */
export class ForwarderMetrics {
  readonly records: Counter;
  readonly spans: Counter;
  readonly bytes: Counter;
  readonly sinkDuration: Histogram;
  readonly sinkErrors: Counter;
  readonly retries: Counter;
  readonly deadLettered: Counter;
  readonly dropped: Counter;
  readonly rejectedSpans: Counter;

  constructor(meter: Meter, partitions: () => PartitionGaugeValue[]) {
    const p = 'otel_kafka_jaeger.forwarder';
    this.records = meter.createCounter(`${p}.records`, {
      description: 'Records accepted by the sink',
      unit: '{record}',
    });
    this.spans = meter.createCounter(`${p}.spans`, { description: 'Spans accepted by the sink', unit: '{span}' });
    this.bytes = meter.createCounter(`${p}.bytes`, {
      description: 'Record value bytes accepted by the sink',
      unit: 'By',
    });
    this.sinkDuration = meter.createHistogram(`${p}.sink.duration`, {
      description: 'Duration of sink requests, successful or not',
      unit: 's',
      // Seconds, not the SDK's millisecond-shaped default buckets.
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
    this.sinkErrors = meter.createCounter(`${p}.sink.errors`, {
      description: 'Failed sink requests, by error.class (retriable or permanent) and error.type',
      unit: '{request}',
    });
    this.retries = meter.createCounter(`${p}.retries`, {
      description: 'Sink and dead-letter requests retried after a backoff',
      unit: '{request}',
    });
    this.deadLettered = meter.createCounter(`${p}.dead_lettered`, {
      description: 'Records written to the dead-letter topic',
      unit: '{record}',
    });
    this.dropped = meter.createCounter(`${p}.dropped`, {
      description: "Undeliverable records dropped (only with onUndeliverable: 'drop')",
      unit: '{record}',
    });
    this.rejectedSpans = meter.createCounter(`${p}.rejected_spans`, {
      description: 'Spans the sink accepted the request for but rejected (OTLP partial success)',
      unit: '{span}',
    });
    const paused = meter.createObservableGauge(`${p}.partitions.paused`, {
      description: 'Assigned partitions currently paused',
      unit: '{partition}',
    });
    paused.addCallback((r) => r.observe(partitions().filter((x) => x.paused).length));
    const lag = meter.createObservableGauge(`${p}.consumer.lag`, {
      description: 'Records between the committed offset and the end of the partition',
      unit: '{record}',
    });
    lag.addCallback((r) => {
      for (const x of partitions()) {
        if (x.lag !== undefined) r.observe(x.lag, { 'messaging.destination.name': x.topic, partition: x.partition });
      }
    });
    const committed = meter.createObservableGauge(`${p}.committed_offset`, {
      description: 'Last committed offset per partition',
      unit: '{offset}',
    });
    committed.addCallback((r) => {
      for (const x of partitions()) {
        if (x.committed !== undefined) {
          r.observe(x.committed, { 'messaging.destination.name': x.topic, partition: x.partition });
        }
      }
    });
  }
}
