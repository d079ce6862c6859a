import { JaegerInstance, KafkaBroker } from '../../../scripts/stack/stack';

export default async function globalTeardown(): Promise<void> {
  const started = globalThis.__okjStarted;
  if (!started || process.env.OKJ_KEEP_STACK === '1') return;
  await Promise.all([
    started.jaeger ? new JaegerInstance().stop() : undefined,
    started.kafka ? new KafkaBroker().stop() : undefined,
  ]);
}
