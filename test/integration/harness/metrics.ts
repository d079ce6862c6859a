// A real OpenTelemetry MeterProvider whose metrics a test can read on demand.
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface TestMeter {
  meterProvider: MeterProvider;
  /** Sum of all data points of a counter, or the last value of a gauge summed over attributes. */
  value(name: string): Promise<number>;
  /** Number of observations of a histogram. */
  count(name: string): Promise<number>;
  /** Data points of an instrument with their attributes. */
  points(name: string): Promise<{ attributes: Record<string, unknown>; value: unknown }[]>;
}

export function testMeter(): TestMeter {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const points = async (name: string) => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name === name)
      .flatMap((m) => m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })));
  };
  return {
    meterProvider,
    points,
    async value(name) {
      return (await points(name)).reduce((n, p) => n + (typeof p.value === 'number' ? p.value : 0), 0);
    },
    async count(name) {
      return (await points(name)).reduce((n, p) => n + ((p.value as { count?: number }).count ?? 0), 0);
    },
  };
}
