// A fault scenario's outcome, as the chaos report tabulates it: the spans that must reach Jaeger, what Jaeger
// holds of them, and how long recovery took. The integration tests run each scenario once and assert on it;
// `npm run chaos` repeats every scenario and writes CHAOS.md from the results.
import { spanCount } from './traffic';
import type { JaegerAccount, SpanLedger } from './traffic';

/** One run of a fault scenario. */
export interface ScenarioResult {
  /** Spans that must reach Jaeger: produced to the topic, or of exports that reported SUCCESS. */
  exported: number;
  /** Of those, the spans Jaeger holds. */
  inJaeger: number;
  lost: number;
  /** Extra copies Jaeger returned (raw, a span stored n times counts n - 1). */
  duplicates: number;
  /** From the fault to the scenario's recovery point (each scenario says which). */
  recoverMillis: number;
}

/** The result of a run whose `expected` spans Jaeger accounted as `account`. */
export function scenarioResult(expected: SpanLedger, account: JaegerAccount, recoverMillis: number): ScenarioResult {
  const exported = spanCount(expected);
  return {
    exported,
    inJaeger: exported - account.missing,
    lost: account.missing,
    duplicates: account.duplicates,
    recoverMillis,
  };
}
