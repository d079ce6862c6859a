import { RetriesExhaustedError, isRetriable } from '../errors/errors';
import type { RetryPolicy } from './retry-policy';
import { abortError, sleep } from './sleep';

/**
 * What {@link RetryOptions.onRetry} is told before each wait.
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
}

/**
 * Calls `fn` until it resolves, asking `policy` after each failure whether and when to try again.
 *
 * @remarks
 * When the policy stops, the promise rejects with:
 * - the error itself, when the first attempt failed with a non-retriable error (nothing was retried);
 * - otherwise a {@link RetriesExhaustedError} that keeps every attempt's error, oldest first, and says how many
 *   attempts were made and the last error's message.
 *
 * When `signal` is aborted (before the first attempt or during a wait) it rejects with the signal's reason
 * when that is an `Error`, else with a {@link ShutdownError}, and makes no further attempt. With a policy that retries for ever, every error is kept until
 * the promise settles.
 *
 * @param fn - The operation; receives the attempt number, 1 for the first call.
 * @param policy - Decides whether and when to retry, e.g. {@link exponentialBackoff}.
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
  const { signal, onRetry } = options;
  const errors: unknown[] = [];
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortError(signal);
    try {
      return await fn(attempt);
    } catch (error) {
      errors.push(error);
      const decision = policy.nextDelay(attempt, error);
      if (!decision.retry) throw giveUp(errors);
      onRetry?.({ attempt, delayMillis: decision.delayMillis, error });
      await sleep(decision.delayMillis, signal);
    }
  }
}

function giveUp(errors: readonly unknown[]): unknown {
  const last = errors.at(-1);
  if (errors.length === 1 && !isRetriable(last)) return last;
  const attempts = errors.length === 1 ? '1 attempt' : `${errors.length} attempts`;
  return new RetriesExhaustedError(`gave up after ${attempts}: ${messageOf(last)}`, errors);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
