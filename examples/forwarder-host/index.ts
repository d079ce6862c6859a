// An application embedding KafkaToJaegerForwarder: it forwards spans from Kafka to Jaeger and serves
// GET /healthz (for a liveness/readiness probe) and GET /metrics (Prometheus text format).
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { KafkaToJaegerForwarder } from 'otel-kafka-jaeger';
import type { ForwarderHealth } from 'otel-kafka-jaeger';

/** How long a partition may stay paused because the sink fails before /healthz answers 503. */
const maxFailingMillis = Number(process.env.HEALTH_MAX_FAILING_MILLIS ?? 60_000);
const port = Number(process.env.PORT ?? 8081);

// The forwarder's self-metrics, read by Prometheus on GET /metrics of our own server (no second port).
const prometheus = new PrometheusExporter({ preventServerStart: true });
const meterProvider = new MeterProvider({ readers: [prometheus] });

// Brokers, topic, group and sink URL come from the environment: OTEL_EXPORTER_KAFKA_BROKERS,
// OTEL_EXPORTER_KAFKA_TOPIC, OTEL_KAFKA_FORWARDER_GROUP_ID, OTEL_KAFKA_FORWARDER_SINK_URL.
const forwarder = new KafkaToJaegerForwarder({ meterProvider });

/** Since when each partition (`topic/partition`) has been paused because the sink fails. */
const failingSince = new Map<string, number>();

function sampleFailures(health: ForwarderHealth, now: number): void {
  const failing = new Set<string>();
  for (const p of health.partitions) {
    if (!p.pauseReasons.includes('sink-failing')) continue;
    const key = `${p.topic}/${p.partition}`;
    failing.add(key);
    if (!failingSince.has(key)) failingSince.set(key, now);
  }
  for (const key of failingSince.keys()) if (!failing.has(key)) failingSince.delete(key);
}

/**
 * Healthy: the forwarder is running and no partition has been paused for a failing sink longer than
 * `maxFailingMillis`. A Jaeger outage shorter than that is ridden out by the forwarder itself (it pauses,
 * retries and resumes), so it is not a reason to restart the process.
 */
function healthy(health: ForwarderHealth, now: number): boolean {
  if (health.state !== 'running') return false;
  for (const since of failingSince.values()) if (now - since > maxFailingMillis) return false;
  return true;
}

// Sampled every second as well as on each probe, so "failing since" does not depend on probe timing.
const sampler = setInterval(() => sampleFailures(forwarder.health(), Date.now()), 1_000);
sampler.unref();

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method === 'GET' && path === '/healthz') {
    const health = forwarder.health();
    const now = Date.now();
    sampleFailures(health, now);
    res.writeHead(healthy(health, now) ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(health));
  } else if (req.method === 'GET' && path === '/metrics') {
    prometheus.getMetricsRequestHandler(req, res);
  } else {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  }
}

async function main(): Promise<void> {
  const server = createServer(handle);
  // Serve /healthz (503 while starting) before the forwarder has joined its group.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  await forwarder.start();
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', port: typeof address === 'object' && address ? address.port : port })}\n`,
  );

  const stopGracefully = async (): Promise<void> => {
    await forwarder.stop();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await meterProvider.shutdown();
  };

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${JSON.stringify({ event: 'stopping', signal })}\n`);
    clearInterval(sampler);
    // stop() drains what was fetched, commits what Jaeger accepted and leaves the group; the HTTP server
    // stays up meanwhile so a probe sees 503 ("stopping") rather than a refused connection.
    stopGracefully().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
