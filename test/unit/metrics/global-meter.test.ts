// Without a meterProvider in the config, self-metrics go to the global MeterProvider — also to one the
// application registers after the exporter or forwarder was created.
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

import { resolveCommon } from '../../../src/config/common';
import { ExporterMetrics } from '../../../src/exporter/exporter-metrics';
import { ForwarderMetrics } from '../../../src/forwarder/forwarder-metrics';
import { globalMeter } from '../../../src/metrics/global-meter';

class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function provider(): { provider: MeterProvider; values: () => Promise<Map<string, number>> } {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    provider: meterProvider,
    // Each metric's points summed (a histogram counts its observations).
    async values() {
      const { resourceMetrics } = await reader.collect();
      const out = new Map<string, number>();
      for (const m of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
        const sum = m.dataPoints.reduce(
          (n, p) => n + (typeof p.value === 'number' ? p.value : ((p.value as { count?: number }).count ?? 0)),
          0,
        );
        out.set(m.descriptor.name, sum);
      }
      return out;
    },
  };
}

/** Polls `check` every 20 ms until it returns true, for at most `timeoutMillis`. */
async function eventually(check: () => Promise<boolean>, timeoutMillis = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMillis} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterEach(() => metrics.disable());

describe('globalMeter', () => {
  it('records nothing anywhere while no provider is registered, and never throws', () => {
    const meter = globalMeter('t');
    const counter = meter.createCounter('c');
    const histogram = meter.createHistogram('h');
    expect(() => {
      counter.add(1, { a: 'b' });
      histogram.record(0.5);
      meter.createObservableGauge('g').addCallback((r) => r.observe(1));
    }).not.toThrow();
  });

  it('sends to a provider registered after it was created, from the first recording after that on', async () => {
    const meter = globalMeter('t');
    const counter = meter.createCounter('late.counter');
    const histogram = meter.createHistogram('late.histogram');
    const upDown = meter.createUpDownCounter('late.updown');
    let gaugeValue = 7;
    meter.createObservableGauge('late.gauge').addCallback((r) => r.observe(gaugeValue));
    const batchA = meter.createObservableGauge('late.batch.a');
    const batchB = meter.createObservableCounter('late.batch.b');
    meter.addBatchObservableCallback(
      (r) => {
        r.observe(batchA, 3);
        r.observe(batchB, 4);
      },
      [batchA, batchB],
    );
    counter.add(100); // before registration: lost, as with any provider that is not there yet

    const late = provider();
    expect(metrics.setGlobalMeterProvider(late.provider)).toBe(true);
    counter.add(2);
    counter.add(3);
    histogram.record(0.1);
    upDown.add(-1);

    gaugeValue = 9;
    const values = await late.values();
    expect(Object.fromEntries(values)).toEqual({
      'late.counter': 5,
      'late.histogram': 1,
      'late.updown': -1,
      'late.gauge': 9,
      'late.batch.a': 3,
      'late.batch.b': 4,
    });
    // Instruments created after binding go straight to the provider.
    meter.createCounter('after.counter').add(1);
    meter.createObservableGauge('after.gauge').addCallback((r) => r.observe(11));
    const after = await late.values();
    expect([after.get('after.counter'), after.get('after.gauge')]).toEqual([1, 11]);
  });

  it('finds a provider by itself when it only observes (within a second), and forgets a callback removed before', async () => {
    const meter = globalMeter('t');
    const gauge = meter.createObservableGauge('removed.before');
    const cb = (r: { observe(v: number): void }): void => r.observe(1);
    gauge.addCallback(cb);
    gauge.removeCallback(cb);
    const kept = meter.createObservableGauge('kept');
    const keptCb = (r: { observe(v: number): void }): void => r.observe(2);
    kept.addCallback(keptCb);
    const late = provider();
    metrics.setGlobalMeterProvider(late.provider);
    await eventually(async () => (await late.values()).has('kept'));
    expect((await late.values()).get('removed.before') ?? 0).toBe(0);
  });
});

describe('resolveCommon(config).meter', () => {
  it("defaults to the global provider: the forwarder's counters and lag gauge reach one registered later", async () => {
    const common = resolveCommon({});
    const forwarderMetrics = new ForwarderMetrics(common.meter, () => [
      { topic: 't', partition: 0, lag: 42, committed: 8, paused: true },
    ]);
    const exporterMetrics = new ExporterMetrics(common.meter, () => 1234);

    const late = provider();
    metrics.setGlobalMeterProvider(late.provider);
    forwarderMetrics.records.add(10);
    exporterMetrics.spansExported.add(5);
    await eventually(async () => (await late.values()).has('otel_kafka_jaeger.forwarder.consumer.lag'));
    const values = await late.values();
    expect({
      records: values.get('otel_kafka_jaeger.forwarder.records'),
      lag: values.get('otel_kafka_jaeger.forwarder.consumer.lag'),
      paused: values.get('otel_kafka_jaeger.forwarder.partitions.paused'),
      exported: values.get('otel_kafka_jaeger.exporter.spans.exported'),
      queue: values.get('otel_kafka_jaeger.exporter.queue.bytes'),
    }).toEqual({ records: 10, lag: 42, paused: 1, exported: 5, queue: 1234 });
  });

  it('uses an explicit meterProvider, not the global one', async () => {
    const global = provider();
    metrics.setGlobalMeterProvider(global.provider);
    const explicit = provider();
    const common = resolveCommon({ meterProvider: explicit.provider });
    new ForwarderMetrics(common.meter, () => [
      { topic: 't', partition: 0, lag: 3, committed: 1, paused: false },
    ]).records.add(4);
    const [mine, theirs] = [await explicit.values(), await global.values()];
    expect([
      mine.get('otel_kafka_jaeger.forwarder.records'),
      mine.get('otel_kafka_jaeger.forwarder.consumer.lag'),
    ]).toEqual([4, 3]);
    expect([...theirs.keys()]).toEqual([]);
  });
});
