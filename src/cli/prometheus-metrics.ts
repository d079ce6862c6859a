// The forwarder's self-metrics in Prometheus text format, for `forward --health-port`: an OpenTelemetry
// MeterProvider whose reader is the OpenTelemetry Prometheus exporter, its handler mounted on our own server
// (preventServerStart: one port for probes and scrapes). Loaded only when asked for, so neither the library
// nor the other commands pay for the metrics SDK.
import type { MeterProvider } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A meter provider to give the forwarder, and the /metrics handler that reads it. */
export interface PrometheusMetrics {
  meterProvider: MeterProvider;
  /** Answers a scrape with every metric in Prometheus text format. */
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Flushes and stops the provider. */
  shutdown: () => Promise<void>;
}

/** Loads the metrics SDK and the Prometheus exporter and wires them. */
export async function prometheusMetrics(): Promise<PrometheusMetrics> {
  const [{ PrometheusExporter }, { MeterProvider: SdkMeterProvider }] = await Promise.all([
    import('@opentelemetry/exporter-prometheus'),
    import('@opentelemetry/sdk-metrics'),
  ]);
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new SdkMeterProvider({ readers: [exporter] });
  return {
    meterProvider: provider,
    handle: (req, res) => exporter.getMetricsRequestHandler(req, res),
    shutdown: () => provider.shutdown(),
  };
}
