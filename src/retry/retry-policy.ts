import { ConfigError } from '../errors/errors';

/**
 * What a {@link RetryPolicy} decided after a failed attempt: try again after a delay, or stop.
 *
 * @example
 * ```ts
 * const decision = policy.nextDelay(1, err);
 * if (decision.retry) await sleep(decision.delayMillis);
 * ```
 */
export type RetryDecision =
  | {
      /** Try again. */
      retry: true;
      /** How long to wait before the next attempt, in milliseconds (finite, `>= 0`). */
      delayMillis: number;
    }
  | {
      /** Give up: the last error is final. */
      retry: false;
    };

/**
 * Decides whether, and after how long, a failed operation is tried again.
 *
 * @remarks
 * Policies are pure and stateless: the same `attempt` and `error` give the same decision (up to jitter), so
 * one policy can serve any number of concurrent operations. The built-in policies ({@link exponentialBackoff},
 * {@link fixedDelay}, {@link noRetry}) all follow the same rules, in this order:
 *
 * 1. an error that is not retriable (see {@link isRetriable}) stops at once;
 * 2. after `maxAttempts` attempts in total, they stop;
 * 3. a delay the server asked for (a finite `retryAfterMillis >= 0` on the error, e.g. {@link SinkError} from
 *    HTTP `Retry-After`) wins over the computed delay, capped at the policy's largest delay so that a server
 *    cannot park the caller for hours;
 * 4. otherwise the policy's own delay.
 *
 * @example
 * ```ts
 * const twice: RetryPolicy = {
 *   nextDelay: (attempt) => (attempt < 2 ? { retry: true, delayMillis: 500 } : { retry: false }),
 * };
 * ```
 */
export interface RetryPolicy {
  /**
   * Decides what to do after a failed attempt.
   *
   * @param attempt - How many attempts were already made and failed: 1 after the first failure.
   * @param error - The error of the last attempt.
   * @returns Whether to retry, and after how many milliseconds.
   */
  nextDelay(attempt: number, error: unknown): RetryDecision;
}

/**
 * The longest delay `setTimeout` supports (2^31 - 1 ms, about 24.8 days); a longer one fires at once.
 *
 * @internal
 */
export const MAX_TIMER_MILLIS = 2_147_483_647;

/**
 * The delay a server asked for on `error` (its `retryAfterMillis` property), or `undefined` when it carries
 * none or the value is not a finite number `>= 0`.
 *
 * @internal
 */
export function retryAfterMillisOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('retryAfterMillis' in error)) return undefined;
  const value = error.retryAfterMillis;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * Throws a {@link ConfigError} unless `value` is a number of milliseconds a timer can wait.
 *
 * @internal
 */
export function validateDelayMillis(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_TIMER_MILLIS)) {
    throw new ConfigError(field, `must be a number of milliseconds from 0 to ${MAX_TIMER_MILLIS}, got ${show(value)}`);
  }
  return value;
}

/**
 * Throws a {@link ConfigError} unless `value` is an integer `>= 1` or `Infinity`.
 *
 * @internal
 */
export function validateMaxAttempts(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 1) || !(Number.isInteger(value) || value === Infinity)) {
    throw new ConfigError(field, `must be an integer >= 1 or Infinity, got ${show(value)}`);
  }
  return value;
}

/** @internal */
export function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
