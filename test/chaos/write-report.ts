// Writes the chaos report (CHAOS.md): one row per scenario from the runs test/chaos/chaos.ts recorded.
// Usage: tsx test/chaos/write-report.ts <results.jsonl> <report.md> <runs> [jest arguments that selected the runs]
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

import type { RunRecord } from './chaos';

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function report(records: readonly RunRecord[], runs: number, only: string, date: Date): string {
  const byScenario = new Map<string, RunRecord[]>();
  for (const r of records) byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  const rows = [...byScenario].map(([name, all]) => {
    const ok = all.flatMap((r) => (r.result ? [r.result] : []));
    const failed = all.length - ok.length;
    const sum = (f: (r: NonNullable<RunRecord['result']>) => number): number => ok.reduce((a, r) => a + f(r), 0);
    const recover = ok.map((r) => r.recoverMillis).sort((a, b) => a - b);
    const mid = recover.length / 2;
    const median =
      recover.length === 0
        ? undefined
        : recover.length % 2
          ? recover[Math.floor(mid)]!
          : (recover[mid - 1]! + recover[mid]!) / 2;
    // A run jest gave up on (its own timeout, a crash) recorded nothing: say so rather than show fewer runs.
    const unfinished = Math.max(0, runs - all.length);
    const note = [failed ? `${failed} failed` : '', unfinished ? `${unfinished} not recorded` : '']
      .filter(Boolean)
      .join(', ');
    return (
      `| ${name} | ${all.length + unfinished}${note ? ` (${note})` : ''} | ${sum((r) => r.exported)} | ` +
      `${sum((r) => r.inJaeger)} | ${failed || unfinished ? 'unknown' : sum((r) => r.lost)} | ${sum((r) => r.duplicates)} | ` +
      `${median === undefined ? '—' : `${seconds(median)} (max ${seconds(recover.at(-1)!)})`} |`
    );
  });
  const failures = records.filter((r) => r.error !== undefined).map((r) => `- ${r.scenario}: ${r.error}`);
  const cpu = cpus();
  return [
    '# Chaos report',
    '',
    `Written by \`npm run chaos -- --runs ${runs}${only ? ` ${only}` : ''}\` (the chaos project, test/chaos/${only ? ', only what the arguments selected' : ''}) on ${date.toISOString()}.`,
    `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
      `Node ${process.version}, ${process.platform}. Kafka 4.1.1, one broker for the single-broker scenarios and a ` +
      '3-node KRaft cluster (combined broker/controller nodes, replication factor 3, min.insync.replicas 2) for ' +
      'the cluster ones; Jaeger v2.13.0 (memory storage, or Badger where the scenario restarts Jaeger); all started ' +
      'by scripts/stack.',
    '',
    'Each run uses a fresh topic and service name. "Spans exported" counts what must reach Jaeger: the spans of',
    'exports that reported SUCCESS, or of the records produced to the topic (forwarder scenarios); "in Jaeger" how',
    'many of those Jaeger returns (raw, `raw=true`); "lost" the difference; "duplicates" extra stored copies of a',
    'span (at least once allows them; the scenarios bound them where the design does). Time to recover: from the',
    'fault (or its end: a restart) to the point each scenario names (test/integration/forwarder/fault-scenarios.ts,',
    'test/integration/cluster/scenarios.ts, forwarder/long-outage.ts, exporter/spool-scenario.ts); median and maximum over the runs.',
    '',
    '| scenario | runs | spans exported | spans in Jaeger | lost | duplicates (raw) | time to recover |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...(failures.length ? ['Failed runs:', '', ...failures, ''] : []),
    'CI (`npm test`) runs every one of these scenarios once, the long ones shorter: the Kafka outage behind the',
    'spool for 20 s and the Jaeger outage for 14 s.',
    '',
  ].join('\n');
}

const [resultsFile, reportFile, runs, only] = process.argv.slice(2);
if (!resultsFile || !reportFile) {
  throw new Error(
    'usage: write-report.ts <results.jsonl> <report.md> <runs> [the jest arguments that selected the runs]',
  );
}
const lines = readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean);
writeFileSync(
  reportFile,
  report(
    lines.map((l) => JSON.parse(l) as RunRecord),
    Number(runs || 1),
    only ?? '',
    new Date(),
  ),
);
