// A Jaeger outage longer than session.timeout.ms and max.poll.interval.ms (set low through kafka.rdkafka):
// the forwarder must keep its group membership and assignment for the whole outage (README: "for an outage
// of any length"), then deliver everything. Shared by the CI test (an outage just past the timeouts) and the
// chaos test (a long one).
import { setTimeout as delay } from 'node:timers/promises';

import { KafkaJS } from '@confluentinc/kafka-javascript';

import { freeJaegerPorts, JaegerInstance } from '../../../scripts/stack/stack';
import { connectedAdmin, createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { scenarioResult } from '../harness/scenario';
import type { ScenarioResult } from '../harness/scenario';
import { mergeLedgers, produceTraces, waitForAllSpans } from '../harness/traffic';
import { forwarderConfig, startForwarder, waitForCommitsAtEnd } from './helpers';

export const SESSION_TIMEOUT_MILLIS = 6_000;
export const MAX_POLL_INTERVAL_MILLIS = 10_000;

interface GroupSample {
  at: number;
  state: number;
  members: string[];
  assigned: number[];
}

/** One observation of the group, as the broker sees it (an observer's admin client, not the member). */
async function describeGroup(admin: KafkaJS.Admin, groupId: string): Promise<GroupSample> {
  const { groups } = await admin.describeGroups([groupId], { timeout: 5_000 });
  const group = groups[0];
  if (!group || group.error) throw new Error(`describeGroups(${groupId}): ${String(group?.error?.message)}`);
  return {
    at: Date.now(),
    state: group.state,
    members: group.members.map((m) => m.memberId),
    assigned: group.members.flatMap((m) => m.assignment.topicPartitions.map((tp) => tp.partition)).sort(),
  };
}

/**
 * Runs the scenario with Jaeger down for `outageMillis`; `duringOutage` runs once the partitions are paused
 * (a test of the test uses it to make a second member join, and see the rebalance caught).
 */
export async function longOutageScenario(
  outageMillis: number,
  duringOutage?: (group: { groupId: string; topic: string }) => Promise<void>,
): Promise<ScenarioResult> {
  const jaeger = new JaegerInstance({
    name: uniqueName('jaeger-long'),
    storage: 'badger',
    ports: await freeJaegerPorts(),
  });
  await jaeger.start();
  const admin = await connectedAdmin();
  try {
    const topic = await createTopic({ partitions: 3 });
    const service = uniqueName('long-outage');
    const rebalances: string[] = [];
    const config = forwarderConfig(topic, { sinkUrl: jaeger.otlpHttpUrl });
    config.kafka!.rdkafka = {
      'session.timeout.ms': SESSION_TIMEOUT_MILLIS,
      'max.poll.interval.ms': MAX_POLL_INTERVAL_MILLIS,
      'heartbeat.interval.ms': 1_000,
    };
    const note = (message: string, attributes?: Record<string, unknown>): void => {
      if (/^partitions (assigned|revoked)/.test(message)) rebalances.push(`${message} ${JSON.stringify(attributes)}`);
    };
    config.logger = { debug: note, info: note, warn: note, error: note };
    const groupId = config.forwarder!.groupId!;
    const forwarder = await startForwarder(config);

    const before = await produceTraces(topic, service, 300);
    await waitForAllSpans(before, service, { queryUrl: jaeger.queryUrl, timeoutMillis: 60_000 });
    const joined = await describeGroup(admin, groupId);
    expect(joined.state).toBe(KafkaJS.ConsumerGroupStates.STABLE);
    expect(joined.members).toHaveLength(1);
    expect(joined.assigned).toEqual([0, 1, 2]);
    expect(rebalances).toHaveLength(1); // the initial assignment
    const rebalancesBefore = rebalances.length;

    await jaeger.stop();
    const outageStart = Date.now();
    const during = await produceTraces(topic, service, 1_500);
    const pausedBy = Date.now() + 20_000;
    while (!forwarder.health().partitions.every((p) => p.paused && p.pauseReasons.includes('sink-failing'))) {
      if (Date.now() > pausedBy) throw new Error(`not every partition paused: ${JSON.stringify(forwarder.health())}`);
      await delay(50);
    }
    await duringOutage?.({ groupId, topic });

    // Watched the whole outage: the same single member owning every partition, the group stable.
    const samples: GroupSample[] = [];
    while (Date.now() - outageStart < outageMillis) {
      samples.push(await describeGroup(admin, groupId));
      const health = forwarder.health();
      expect(health.partitions.map((p) => [p.partition, p.assigned, p.paused])).toEqual([
        [0, true, true],
        [1, true, true],
        [2, true, true],
      ]);
      await delay(500);
    }
    const outage = Date.now() - outageStart;
    expect(outage).toBeGreaterThan(MAX_POLL_INTERVAL_MILLIS + SESSION_TIMEOUT_MILLIS / 2);
    for (const s of samples) {
      expect({ state: s.state, members: s.members, assigned: s.assigned }).toEqual({
        state: KafkaJS.ConsumerGroupStates.STABLE,
        members: joined.members,
        assigned: [0, 1, 2],
      });
    }
    expect(rebalances.slice(rebalancesBefore)).toEqual([]);

    await jaeger.start();
    const restartedAt = Date.now();
    const all = mergeLedgers(before, during);
    const account = await waitForAllSpans(all, service, { queryUrl: jaeger.queryUrl, timeoutMillis: 60_000 });
    const recoverMillis = Date.now() - restartedAt;
    expect(account.missing).toBe(0);
    await waitForCommitsAtEnd(groupId, topic, 30_000);
    // Still the same member after recovery: no rebalance at any point.
    expect((await describeGroup(admin, groupId)).members).toEqual(joined.members);
    expect(rebalances.slice(rebalancesBefore)).toEqual([]);
    return scenarioResult(all, account, recoverMillis);
  } finally {
    await admin.disconnect();
    await jaeger.destroy();
  }
}
