import { RetriesExhaustedError } from '../errors/errors';
import type { RetryInfo } from './retry-engine';
import { runRetries } from './retry-engine';
import type { RetryPolicy } from './retry-policy';

export type { RetryInfo } from './retry-engine';

/**
 * Options of {@link retry}.
 *
 * @example
 * ```ts
 * const options: RetryOptions = { signal: controller.signal, onRetry: (info) => metrics.retries.add(1) };
 * ```
 */
export interface RetryOptions {
  /**
   * Aborts the retries: a wait in progress ends at once and no further attempt is made. An attempt already
   * running is not interrupted; pass the signal to it as well if it should be.
   *
   * @defaultValue none: retry until the policy stops
   */
  signal?: AbortSignal;
  /**
   * Called after each failed attempt that will be retried, before the wait. An exception it throws rejects
   * {@link retry} with that exception.
   *
   * @defaultValue none
   */
  onRetry?: (info: RetryInfo) => void;
  /**
   * Classification: whether a failed attempt is worth another one. The policy is asked only about failures this
   * accepts, and decides only when and how often.
   *
   * @defaultValue {@link isRetriable}: an {@link OtelKafkaJaegerError} by its `retriable` flag, anything else yes
   */
  retriable?: (error: unknown) => boolean;
}

/**
 * Calls `fn` until it resolves: an error that is retriable (see {@link RetryOptions.retriable}) is tried again
 * when and as long as `policy` says.
 *
 * @remarks
 * Classification is the error's business, scheduling the policy's: a failure that is not retriable ends the
 * retries without asking the policy. When the retries end, the promise rejects with:
 * - the error itself, when the first attempt failed with a non-retriable error (nothing was retried);
 * - otherwise a {@link RetriesExhaustedError} that says how many attempts were made, keeps the last error as its
 *   `cause` and in its message, and the errors of the last attempts (at most 10), oldest first.
 *
 * When `signal` is aborted (before the first attempt or during a wait) it rejects with the signal's reason
 * when that is an `Error`, else with a {@link ShutdownError}, and makes no further attempt. However long it
 * retries, it holds at most 10 errors.
 *
 * @param fn - The operation; receives the attempt number, 1 for the first call.
 * @param policy - Decides when to retry and when to give up, e.g. {@link exponentialBackoff}.
 * @param options - See {@link RetryOptions}.
 * @returns The value of the first attempt that succeeds.
 *
 * @example
 * ```ts
 * await retry((attempt) => sink.send(batch, { attempt }), exponentialBackoff(), {
 *   signal: shutdown.signal,
 *   onRetry: ({ attempt, delayMillis, error }) => diag.warn(`attempt ${attempt} failed`, error, delayMillis),
 * });
 * ```
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  options: RetryOptions = {},
): Promise<T> {
  const result = await runRetries(fn, policy, options);
  switch (result.outcome) {
    case 'succeeded':
      return result.value;
    case 'aborted':
      throw result.error;
    case 'not-retriable':
      if (result.attempts === 1) throw result.error;
      throw exhausted(result.error, result.errors, result.attempts);
    case 'exhausted':
      throw exhausted(result.error, result.errors, result.attempts);
  }
}

function exhausted(last: unknown, errors: readonly unknown[], attempts: number): RetriesExhaustedError {
  const made = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  return new RetriesExhaustedError(`gave up after ${made}: ${messageOf(last)}`, errors, attempts);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
