// Brings the real stack up once for the integration project, or checks an external one
// (KAFKA_BROKERS + JAEGER_QUERY_URL set). Stops in teardown only what it started here, and not even that
// with OKJ_KEEP_STACK=1 (fast re-runs while developing).
import { fetchMetadata } from '../../../scripts/stack/kafka-probe';
import { stackEndpoints, stackUp } from '../../../scripts/stack/stack';

declare global {
  var __okjStarted: { kafka: boolean; jaeger: boolean } | undefined;
}

export default async function globalSetup(): Promise<void> {
  const endpoints = stackEndpoints();
  if (endpoints.external) {
    const [host, port] = (endpoints.kafkaBrokers[0] ?? '').split(':');
    await fetchMetadata(host ?? '127.0.0.1', Number(port), 5_000).catch((err: Error) => {
      throw new Error(`KAFKA_BROKERS=${endpoints.kafkaBrokers.join(',')} does not answer: ${err.message}`);
    });
    const services = await fetch(`${endpoints.jaegerQueryUrl}/api/v3/services`).catch((err: Error) => err);
    if (services instanceof Error || !services.ok) {
      throw new Error(`JAEGER_QUERY_URL=${endpoints.jaegerQueryUrl} does not answer /api/v3/services`);
    }
    return;
  }
  const t0 = Date.now();
  const started = await stackUp({ freshData: true });
  globalThis.__okjStarted = { kafka: started.startedKafka, jaeger: started.startedJaeger };
  process.stderr.write(
    `\nstack ready in ${Date.now() - t0} ms (kafka ${endpoints.kafkaBrokers.join(',')}, jaeger ${endpoints.jaegerQueryUrl})\n`,
  );
}
