// The chaos project's runner: each scenario `OKJ_CHAOS_RUNS` times (a fresh topic and service each run), every
// run's result (or failure) appended to the file `OKJ_CHAOS_RESULTS` names, which scripts/chaos.sh turns into
// the report (test/chaos/write-report.ts) once every file ran.
import { appendFileSync } from 'node:fs';

import { stopForwarders } from '../integration/forwarder/helpers';
import type { ScenarioResult } from '../integration/harness/scenario';

export const RUNS = Math.max(1, Number(process.env.OKJ_CHAOS_RUNS || 1));

/** One line of the results file. */
export interface RunRecord {
  scenario: string;
  /** The span account, or undefined when the run failed. */
  result?: ScenarioResult;
  /** The failure's first line, when it failed. */
  error?: string;
}

function record(entry: RunRecord): void {
  const file = process.env.OKJ_CHAOS_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/**
 * Registers `RUNS` tests per scenario. A run passes when nothing was lost (each scenario also asserts what it
 * proves); what each leaves running (forwarders) is stopped before the next, so runs do not add up.
 */
export function chaosScenarios(scenarios: readonly (readonly [string, () => Promise<ScenarioResult>])[]): void {
  afterEach(stopForwarders);
  describe.each(scenarios)('chaos: %s', (scenario, run) => {
    it.each(Array.from({ length: RUNS }, (_, i) => i + 1))(`run %i of ${RUNS}`, async () => {
      let result: ScenarioResult;
      try {
        result = await run();
      } catch (err) {
        record({ scenario, error: (err instanceof Error ? err.message : String(err)).split('\n')[0] });
        throw err;
      }
      record({ scenario, result });
      expect(result.exported).toBeGreaterThan(0);
      expect(result.lost).toBe(0);
    });
  });
}
