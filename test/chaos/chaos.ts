// The chaos project's runner: each scenario `OKJ_CHAOS_RUNS` times (a fresh topic and service each run), every
// run's result (or failure) appended to the file `OKJ_CHAOS_RESULTS` names, which scripts/chaos.sh turns into
// the report (test/chaos/write-report.ts) once every file ran.
import { appendFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';

import { stopForwarders } from '../integration/forwarder/helpers';
import type { ScenarioResult } from '../integration/harness/scenario';

export const RUNS = Math.max(1, Number(process.env.OKJ_CHAOS_RUNS || 1));

/** One line of the results file. */
export interface RunRecord {
  scenario: string;
  /** The span account, or undefined when the run failed. */
  result?: ScenarioResult;
  /** Why it failed (the error's first lines, plain text), when it did. */
  error?: string;
}

function record(entry: RunRecord): void {
  const file = process.env.OKJ_CHAOS_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/** An error's first few lines, without terminal colours: a jest matcher's message keeps Expected/Received. */
function describeFailure(err: unknown): string {
  const text = stripVTControlCharacters(err instanceof Error ? err.message : String(err));
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.slice(0, 4).join(' / ').slice(0, 400);
}

/**
 * Registers `RUNS` tests per scenario. A run passes when nothing was lost (each scenario also asserts what it
 * proves). A run that takes longer than `runTimeoutMillis` is recorded as failed (jest's own timeout is set
 * past it, so no run ends unrecorded). What each run leaves running (forwarders) is stopped before the next.
 */
export function chaosScenarios(
  scenarios: readonly (readonly [string, () => Promise<ScenarioResult>])[],
  runTimeoutMillis: number,
): void {
  jest.setTimeout(runTimeoutMillis + 60_000);
  afterEach(stopForwarders);
  describe.each(scenarios)('chaos: %s', (scenario, run) => {
    it.each(Array.from({ length: RUNS }, (_, i) => i + 1))(`run %i of ${RUNS}`, async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the run did not finish within ${runTimeoutMillis / 1000} s`)),
          runTimeoutMillis,
        );
      });
      let result: ScenarioResult;
      try {
        result = await Promise.race([run(), timeout]);
      } catch (err) {
        record({ scenario, error: describeFailure(err) });
        throw err;
      } finally {
        clearTimeout(timer);
      }
      record({ scenario, result });
      expect(result.exported).toBeGreaterThan(0);
      expect(result.lost).toBe(0);
    });
  });
}
