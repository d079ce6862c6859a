// The one retry loop of the library: the forwarder's sink delivery, its dead-letter writer, its 'block' mode,
// the committed-offsets read and the CLI's start all run on it (the exporter's spool drainer paces itself). Classification (is this failure worth another attempt?) is the
// caller's, by default the error's own `retriable` flag; scheduling (how long to wait, when to give up) is the
// policy's. The loop keeps a bounded number of errors, so that one retrying for days holds no more memory than
// one retrying for seconds.
import { isRetriable } from '../errors/errors';
import type { RetryPolicy, SchedulingPolicy } from './retry-policy';
import { retryState, scheduleOf } from './retry-policy';
import { abortError, sleep } from './sleep';

/**
 * How many attempts' errors a {@link RetriesExhaustedError} keeps: the last ones; the count of attempts is
 * always exact.
 */
export const MAX_KEPT_ERRORS = 10;

/**
 * What {@link RetryRun.onRetry} is told before each wait.
 *
 * @example
 * ```ts
 * const log = (info: RetryInfo) => console.warn(`attempt ${info.attempt} failed, retrying in ${info.delayMillis} ms`);
 * ```
 */
export interface RetryInfo {
  /** How many attempts failed so far: 1 after the first failure. */
  attempt: number;
  /** How long the next wait lasts, in milliseconds. */
  delayMillis: number;
  /** The error of the attempt that just failed. */
  error: unknown;
}

/** How {@link runRetries} runs. */
export interface RetryRun {
  /** Aborts: a wait in progress ends at once and no further attempt is made. */
  signal?: AbortSignal;
  /**
   * Classification: whether a failure is worth another attempt.
   * @defaultValue {@link isRetriable}: the error's own flag
   */
  retriable?: (error: unknown) => boolean;
  /**
   * Told of each failed attempt (unless the run was aborted meanwhile), before it is classified; an exception it
   * throws rejects the run.
   */
  onFailure?: (error: unknown, attempt: number) => void;
  /** Called before each wait; an exception it throws rejects the run. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * Never give up: when the policy does, wait this long and try again. For work whose loss is not an option
   * (a dead letter, a record the forwarder blocks on), which only `signal` or {@link RetryRun.stopped} ends.
   * @defaultValue none: the run ends when the policy gives up
   */
  persistMillis?: number;
  /**
   * Longest wait, whatever the policy says.
   * @defaultValue none: the policy's delay, which is capped at 2147483647 ms (the longest `setTimeout`) anyway
   */
  maxDelayMillis?: number;
  /** Ends the run quietly, like an abort, when it turns true (checked before each wait and each attempt). */
  stopped?: () => boolean;
  /**
   * Continue from attempts already made elsewhere: the run begins with the wait after `attempts` failed
   * attempts, the last with `error`, and numbers its attempts from `attempts + 1`.
   */
  resume?: { attempts: number; error: unknown };
}

/** How a {@link runRetries} ended. */
export type RetryOutcome<T> =
  | { outcome: 'succeeded'; value: T; attempts: number }
  /** The last attempt failed with an error classified as not retriable. */
  | { outcome: 'not-retriable'; error: unknown; errors: readonly unknown[]; attempts: number }
  /** The policy gave up. */
  | { outcome: 'exhausted'; error: unknown; errors: readonly unknown[]; attempts: number }
  /** The signal aborted (`error` is its reason, see `abortError`) or `stopped()` turned true. */
  | { outcome: 'aborted'; error: Error; attempts: number };

/**
 * Calls `fn` until it resolves, a failure is classified not retriable, the policy gives up or the run is
 * aborted (once aborted, whatever the last attempt did), and says which. `errors` holds the last {@link MAX_KEPT_ERRORS} failures, oldest first; `attempts`
 * counts them all. An exception of the policy or of `onRetry` rejects.
 *
 * @internal
 */
export async function runRetries<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy | SchedulingPolicy,
  run: RetryRun = {},
): Promise<RetryOutcome<T>> {
  const { signal, onFailure, onRetry, persistMillis, stopped } = run;
  const retriable = run.retriable ?? isRetriable;
  const schedule = scheduleOf(policy);
  const maxDelayMillis = run.maxDelayMillis ?? Infinity;
  const errors: unknown[] = [];
  const aborted = (attempts: number): RetryOutcome<T> | undefined => {
    if (signal?.aborted) return { outcome: 'aborted', error: abortError(signal), attempts };
    if (stopped?.()) return { outcome: 'aborted', error: abortError(AbortSignal.abort()), attempts };
    return undefined;
  };
  let attempt = run.resume?.attempts ?? 0;
  let error: unknown = run.resume?.error;
  for (let waiting = run.resume !== undefined; ; waiting = true) {
    if (waiting) {
      const end = aborted(attempt);
      if (end) return end;
      let delay = schedule(retryState(attempt, error));
      if (delay === undefined) {
        if (persistMillis === undefined) return { outcome: 'exhausted', error, errors, attempts: attempt };
        delay = persistMillis;
      }
      delay = Math.min(delay, maxDelayMillis);
      onRetry?.({ attempt, delayMillis: delay, error });
      try {
        await sleep(delay, signal);
      } catch {
        // Only an abort ends a sleep early; the check below reports it.
      }
    }
    const end = aborted(attempt);
    if (end) return end;
    attempt++;
    try {
      return { outcome: 'succeeded', value: await fn(attempt), attempts: attempt };
    } catch (err) {
      error = err;
    }
    // A failure after the abort is most likely caused by it: the run ends as aborted, whatever the error.
    const endedBy = aborted(attempt);
    if (endedBy) return endedBy;
    if (errors.length === MAX_KEPT_ERRORS) errors.shift();
    errors.push(error);
    onFailure?.(error, attempt);
    if (!retriable(error)) return { outcome: 'not-retriable', error, errors, attempts: attempt };
  }
}
