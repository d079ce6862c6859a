// The 3-node cluster for the cluster fault tests: started by the first test file that needs it (fresh data),
// shared by the rest, stopped by globalTeardown (unless OKJ_KEEP_STACK=1). Admin helpers bound to it.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { KafkaCluster, runDir } from '../../../scripts/stack/stack';
import { committedOffsets, connectedAdmin } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';

export const cluster = new KafkaCluster();

/** Present while a test run owns the cluster: globalTeardown stops it. */
export const STARTED_BY_TESTS = join(runDir(), cluster.name, 'started-by-tests');

/** Brings the cluster up (once per run; every node, on its data) and resolves when all nodes see each other. */
export async function useCluster(): Promise<KafkaCluster> {
  if (endpoints.external) throw new Error('the cluster tests need the project-managed stack (unset KAFKA_BROKERS)');
  if (!cluster.isRunning()) {
    await cluster.destroy();
    mkdirSync(join(runDir(), cluster.name), { recursive: true });
    writeFileSync(STARTED_BY_TESTS, String(process.pid));
  } else if (!existsSync(STARTED_BY_TESTS)) {
    process.stderr.write(`reusing a running ${cluster.name} (started outside this test run)\n`);
  }
  await cluster.start();
  return cluster;
}

/**
 * Registers the hooks of a file of cluster scenarios: the cluster started before the first test, and every node
 * started again after each test (a failed scenario may leave one down; the next starts from the whole cluster).
 */
export function clusterPerFile(): void {
  beforeAll(async () => {
    await useCluster();
  }, 180_000);
  afterEach(async () => {
    await cluster.start();
  }, 180_000);
}

/** Creates a topic on the cluster (replication factor 3, min.insync.replicas 2 from the broker defaults). */
export async function createClusterTopic(
  partitions: number,
  prefix = 'okj-cluster',
  config: Record<string, string> = {},
): Promise<string> {
  const topic = uniqueName(prefix);
  const admin = await connectedAdmin(cluster.bootstrap);
  try {
    const configEntries = Object.entries(config).map(([name, value]) => ({ name, value }));
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 3, configEntries }] });
  } finally {
    await admin.disconnect();
  }
  await waitFor(`leaders for every partition of ${topic}`, async () => {
    const leaders = await partitionLeaders(topic);
    return leaders.size === partitions && [...leaders.values()].every((l) => l > 0);
  });
  return topic;
}

/** The leader's node id per partition of `topic`. */
export async function partitionLeaders(topic: string): Promise<Map<number, number>> {
  const admin = await connectedAdmin(cluster.bootstrap);
  try {
    const [md] = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map((md?.partitions ?? []).map((p) => [p.partitionId, p.leader]));
  } finally {
    await admin.disconnect();
  }
}

/** In-sync replica count per partition of `topic`. */
export async function isrSizes(topic: string): Promise<Map<number, number>> {
  const admin = await connectedAdmin(cluster.bootstrap);
  try {
    const [md] = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map((md?.partitions ?? []).map((p) => [p.partitionId, p.isr.length]));
  } finally {
    await admin.disconnect();
  }
}

/** The group's committed offsets and the end offsets of `topic`, on the cluster. */
export async function commitsAndEnds(
  groupId: string,
  topic: string,
): Promise<{ committed: Map<number, number>; ends: Map<number, number> }> {
  const committed = await committedOffsets(groupId, topic, cluster.bootstrap);
  const admin = await connectedAdmin(cluster.bootstrap);
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return { committed, ends: new Map(offsets.map((p) => [p.partition, Number(p.high)])) };
  } finally {
    await admin.disconnect();
  }
}

/** Polls until the group committed every partition of `topic` to its end offset. */
export async function waitForClusterCommitsAtEnd(
  groupId: string,
  topic: string,
  timeoutMillis = 60_000,
): Promise<void> {
  let last = '';
  await waitFor(
    `commits of ${groupId} at the end of ${topic}`,
    async () => {
      const { committed, ends } = await commitsAndEnds(groupId, topic);
      last = `committed ${JSON.stringify([...committed])}, ends ${JSON.stringify([...ends])}`;
      return [...ends].every(([p, end]) => (committed.get(p) ?? 0) === end);
    },
    timeoutMillis,
    () => last,
  );
}

/** Polls `probe` (errors count as false) until true; fails after `timeoutMillis` with `detail()`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMillis = 30_000,
  detail: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  let lastError = '';
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what} ${detail()} ${lastError}`.trim());
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
