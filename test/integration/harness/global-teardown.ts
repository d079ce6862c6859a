import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { JaegerInstance, KafkaBroker, KafkaCluster, runDir } from '../../../scripts/stack/stack';

export default async function globalTeardown(): Promise<void> {
  const started = globalThis.__okjStarted;
  if (process.env.OKJ_KEEP_STACK === '1') return;
  // The cluster is started by the first cluster test file of the run (test/integration/cluster/cluster.ts).
  const cluster = new KafkaCluster();
  const clusterMarker = join(runDir(), cluster.name, 'started-by-tests');
  const stopCluster = existsSync(clusterMarker)
    ? cluster.stop().then(() => rmSync(clusterMarker, { force: true }))
    : undefined;
  await Promise.all([
    started?.jaeger ? new JaegerInstance().stop() : undefined,
    started?.kafka ? new KafkaBroker().stop() : undefined,
    stopCluster,
  ]);
}
