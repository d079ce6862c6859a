// Faults of a replicated cluster (3 KRaft nodes, RF 3, min.insync.replicas 2), each once, with span-id
// accounting in Jaeger: a partition leader SIGKILLed under export load, a broker SIGKILLed under forwarder
// load, a rolling restart under both, and in-sync replicas below the minimum. `npm run chaos` repeats them.
import { clusterPerFile } from './cluster';
import { brokerKillUnderForwarderLoad, isrBelowMinimum, leaderKillUnderExportLoad, rollingRestart } from './scenarios';
import type { ScenarioResult } from '../harness/scenario';

jest.setTimeout(240_000);

clusterPerFile();

function expectNoLoss(r: ScenarioResult): void {
  process.stderr.write(`${JSON.stringify(r)}\n`);
  expect(r.exported).toBeGreaterThan(0);
  expect(r.lost).toBe(0);
  expect(r.inJaeger).toBe(r.exported);
}

describe('cluster faults', () => {
  it('the partition leader SIGKILLed under export load: every SUCCESS span reaches Jaeger', async () => {
    expectNoLoss(await leaderKillUnderExportLoad());
  });

  it('a broker SIGKILLed under forwarder load and restarted: 0 lost, commits reach the end', async () => {
    expectNoLoss(await brokerKillUnderForwarderLoad());
  });

  it('a rolling restart of all three brokers under export and forwarder load: 0 lost', async () => {
    expectNoLoss(await rollingRestart());
  });

  it('ISR below min.insync.replicas: exports FAILED (never SUCCESS), dead letters block, then all flows', async () => {
    expectNoLoss(await isrBelowMinimum());
  });
});
