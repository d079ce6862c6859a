// The cluster fault scenarios, each one run with span-id accounting in Jaeger. The integration tests run each
// once; `npm run chaos` repeats them and writes CHAOS.md from the results.
import { setTimeout as delay } from 'node:timers/promises';

import { ExportResultCode } from '@opentelemetry/core';

import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import type { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { exportSpans } from '../exporter/helpers';
import { forwarderConfig, invalidTraceIdRequest, startForwarder } from '../forwarder/helpers';
import { uniqueName } from '../harness/names';
import { scenarioResult } from '../harness/scenario';
import type { ScenarioResult } from '../harness/scenario';
import { accountInJaeger, ledgerOf, makeTraces, mergeLedgers, waitForAllSpans } from '../harness/traffic';
import type { SpanLedger } from '../harness/traffic';
import {
  cluster,
  commitsAndEnds,
  createClusterTopic,
  isrSizes,
  partitionLeaders,
  waitFor,
  waitForClusterCommitsAtEnd,
} from './cluster';
import { produceTo } from './produce';

function clusterKafka(topic: string): NonNullable<OtelKafkaJaegerConfig['kafka']> {
  return { brokers: cluster.bootstrap, topic, clientId: 'okj-cluster-it' };
}

const LOAD_PAUSE_MILLIS = 50;

/** A traced service exporting batches of 5 traces (25 spans) back to back until stopped. */
class ExportLoad {
  readonly exporter: KafkaSpanExporter;
  readonly success: SpanLedger[] = [];
  readonly failed: SpanLedger[] = [];
  /** When each successful export started and when it reported SUCCESS. */
  readonly successTimes: { started: number; finished: number }[] = [];
  #running = true;
  readonly #loops: Promise<void>[];

  constructor(
    topic: string,
    readonly service: string,
    concurrency = 2,
    timeoutMillis = 10_000,
  ) {
    this.exporter = new KafkaSpanExporter({ kafka: clusterKafka(topic), exporter: { timeoutMillis } });
    this.#loops = Array.from({ length: concurrency }, () => this.#loop());
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      const traces = makeTraces(this.service, 5);
      const started = Date.now();
      const result = await exportSpans(this.exporter, traces.flat());
      if (result.code === ExportResultCode.SUCCESS) {
        this.success.push(ledgerOf(traces));
        this.successTimes.push({ started, finished: Date.now() });
      } else {
        this.failed.push(ledgerOf(traces));
      }
      // The pace of a busy service (about 40 exports, 1,000 spans a second for two loops), not a wait for
      // anything: flat out, a minute-long scenario would pile some 100k spans into the shared Jaeger.
      await delay(LOAD_PAUSE_MILLIS);
    }
  }

  /** How long after `t` the first export started after `t` reported SUCCESS. */
  firstSuccessAfter(t: number): number | undefined {
    const done = this.successTimes.filter((s) => s.started >= t).map((s) => s.finished);
    return done.length === 0 ? undefined : Math.min(...done) - t;
  }

  async waitForSuccessAfter(t: number, timeoutMillis = 60_000): Promise<number> {
    await waitFor(
      'an export that succeeds after the fault',
      () => this.firstSuccessAfter(t) !== undefined,
      timeoutMillis,
    );
    return this.firstSuccessAfter(t)!;
  }

  async waitForSuccesses(n: number, timeoutMillis = 30_000): Promise<void> {
    const target = this.success.length + n;
    await waitFor(`${n} more successful exports`, () => this.success.length >= target, timeoutMillis);
  }

  async stop(): Promise<SpanLedger> {
    this.#running = false;
    await Promise.all(this.#loops);
    await this.exporter.shutdown();
    return mergeLedgers(...this.success);
  }
}

async function clusterForwarder(
  topic: string,
  extra: Partial<OtelKafkaJaegerConfig['forwarder']> = {},
): Promise<{
  forwarder: KafkaToJaegerForwarder;
  groupId: string;
}> {
  const groupId = uniqueName('okj-cluster-fwd');
  const config = forwarderConfig(topic, { groupId, forwarder: extra });
  const forwarder = await startForwarder({ ...config, kafka: clusterKafka(topic) });
  return { forwarder, groupId };
}

/** Every SUCCESS span in Jaeger (bounded wait), then the raw account. */
async function account(expected: SpanLedger, service: string, recoverMillis: number): Promise<ScenarioResult> {
  await waitForAllSpans(expected, service, { timeoutMillis: 90_000 });
  return scenarioResult(expected, await accountInJaeger(expected, service), recoverMillis);
}

/**
 * The leader of partition 0 SIGKILLed under export load: exports fail or retry within their timeout, exports
 * go on succeeding once leadership moved, and every SUCCESS span reaches Jaeger (through the forwarder).
 */
export async function leaderKillUnderExportLoad(): Promise<ScenarioResult> {
  const topic = await createClusterTopic(3);
  const service = uniqueName('cluster-leader-kill');
  const load = new ExportLoad(topic, service);
  await load.waitForSuccesses(10);
  const leader = (await partitionLeaders(topic)).get(0)!;
  const killedAt = Date.now();
  await cluster.node(leader).kill();
  const recoverMillis = await load.waitForSuccessAfter(killedAt);
  await load.waitForSuccesses(10);
  await cluster.node(leader).start();
  await load.waitForSuccesses(5);
  const expected = await load.stop();
  await clusterForwarder(topic);
  return account(expected, service, recoverMillis);
}

/** A broker (the leader of partition 0) SIGKILLed under forwarder load, restarted: 0 lost, commits resume. */
export async function brokerKillUnderForwarderLoad(): Promise<ScenarioResult> {
  const topic = await createClusterTopic(3);
  const service = uniqueName('cluster-broker-kill');
  const load = new ExportLoad(topic, service, 4);
  await load.waitForSuccesses(120);
  const { forwarder, groupId } = await clusterForwarder(topic);
  await waitFor('a first commit', async () =>
    [...(await commitsAndEnds(groupId, topic)).committed.values()].some((o) => o > 0),
  );
  const leader = (await partitionLeaders(topic)).get(0)!;
  const killedAt = Date.now();
  await cluster.node(leader).kill();
  await load.waitForSuccessAfter(killedAt);
  await load.waitForSuccesses(20);
  await cluster.node(leader).start();
  const expected = await load.stop();
  await waitForClusterCommitsAtEnd(groupId, topic, 90_000);
  const recoverMillis = Date.now() - killedAt;
  expect(forwarder.health().state).toBe('running');
  return account(expected, service, recoverMillis);
}

/** Every node stopped and started in turn (controlled shutdown) under export and forwarder load: 0 lost. */
export async function rollingRestart(): Promise<ScenarioResult> {
  const topic = await createClusterTopic(3);
  const service = uniqueName('cluster-rolling');
  const load = new ExportLoad(topic, service);
  const { groupId } = await clusterForwarder(topic);
  await load.waitForSuccesses(10);
  const t0 = Date.now();
  for (const node of cluster.nodes) {
    await node.stop();
    await load.waitForSuccesses(3);
    await node.start();
    // The next node goes down only once this one is back in every ISR, as an operator's rolling restart waits.
    await waitFor(
      `${node.name} back in the ISR of ${topic}`,
      async () => [...(await isrSizes(topic)).values()].every((n) => n === cluster.size),
      60_000,
    );
  }
  const recoverMillis = Date.now() - t0;
  await load.waitForSuccesses(5);
  const expected = await load.stop();
  await waitForClusterCommitsAtEnd(groupId, topic, 90_000);
  return account(expected, service, recoverMillis);
}

/**
 * In-sync replicas below min.insync.replicas: topics with min.insync.replicas 3 and one broker down (two down
 * would also take the KRaft quorum of these combined nodes). Exports report FAILED, never SUCCESS; the
 * forwarder's dead-letter write blocks the partition (commit held before the bad record, nothing dropped);
 * with the broker back, exports succeed, the dead letter is written and commits reach the end.
 */
export async function isrBelowMinimum(): Promise<ScenarioResult> {
  const strict = { 'min.insync.replicas': '3' };
  const topic = await createClusterTopic(1, 'okj-cluster-isr', strict);
  const deadLetters = await createClusterTopic(1, 'okj-cluster-dlq', strict);
  const service = uniqueName('cluster-isr');
  const before = new ExportLoad(topic, service, 1, 5_000);
  await before.waitForSuccesses(3);
  const beforeLedger = await before.stop();
  // The bad record, then the forwarder: its sink refuses the record, the dead-letter topic cannot take it.
  const poisonOffset = await produceTo(topic, invalidTraceIdRequest());

  // A broker that leads neither topic: its loss shrinks the ISRs without moving a leader.
  const leaders = new Set([
    ...(await partitionLeaders(topic)).values(),
    ...(await partitionLeaders(deadLetters)).values(),
  ]);
  const follower =
    cluster.nodes.map((n) => n.nodeId).find((id) => !leaders.has(id)) ?? [1, 2, 3].find((id) => !leaders.has(id))!;
  const downAt = Date.now();
  await cluster.node(follower).kill();
  await waitFor('ISR of 2', async () => (await isrSizes(topic)).get(0) === 2, 30_000);

  const during = new ExportLoad(topic, service, 1, 3_000);
  await waitFor('3 failed exports', () => during.failed.length >= 3, 30_000);
  expect(during.success).toHaveLength(0);
  await during.stop();

  const { forwarder, groupId } = await clusterForwarder(topic, { deadLetter: { topic: deadLetters } });
  // Blocked: paused by the failing dead-letter write (the sink's own refusal is a 400 and pauses nothing).
  await waitFor(
    'the dead-letter write failing, the partition blocked',
    () =>
      forwarder
        .health()
        .partitions.some((p) => p.paused && p.lastError !== undefined && !/^4\d\d$/.test(p.lastError.code)),
    60_000,
    () => JSON.stringify(forwarder.health().partitions),
  );
  const held = await commitsAndEnds(groupId, topic);
  expect(held.committed.get(0) ?? 0).toBeLessThanOrEqual(poisonOffset);
  const dlqEnd = await commitsAndEnds(groupId, deadLetters);
  expect(dlqEnd.ends.get(0)).toBe(0);

  await cluster.node(follower).start();
  const after = new ExportLoad(topic, service, 1, 10_000);
  const recoverMillis = await after.waitForSuccessAfter(downAt, 90_000);
  await after.waitForSuccesses(3);
  const afterLedger = await after.stop();
  await waitForClusterCommitsAtEnd(groupId, topic, 90_000);
  expect((await commitsAndEnds(groupId, deadLetters)).ends.get(0)).toBe(1);
  return account(mergeLedgers(beforeLedger, afterLedger), service, recoverMillis);
}
