import { ConfigError, isRetriable } from '../errors/errors';

/**
 * What a {@link RetryPolicy} decided after a failed attempt: try again after a delay, or stop.
 *
 * @example
 * ```ts
 * const decision = policy.nextDelay(1, err);
 * if (decision.retry) await new Promise((resolve) => setTimeout(resolve, decision.delayMillis));
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
 * What a {@link RetryPolicy}'s {@link RetryPolicy.delayAfter} is told after a failed attempt.
 *
 * @example
 * ```ts
 * const state: RetryState = { attempt: 2, error: new Error('ECONNRESET'), retryAfterMillis: undefined };
 * ```
 */
export interface RetryState {
  /** How many attempts were already made and failed: 1 after the first failure. */
  readonly attempt: number;
  /**
   * The error of the last attempt. The engine has already decided that it is to be retried (see
   * {@link isRetriable}); a policy reads it only for scheduling hints.
   */
  readonly error: unknown;
  /** The delay the server asked for, when the error carries a usable one (see {@link SinkError.retryAfterMillis}). */
  readonly retryAfterMillis: number | undefined;
}

/**
 * Decides when a failed operation is tried again, and when to stop trying: the scheduling of retries.
 *
 * @remarks
 * Whether an error is worth retrying at all (classification) is not the policy's business but the error's: the
 * retry engine (behind every retry loop of this library) asks {@link isRetriable} first, and asks the
 * policy only about failures it is going to retry. So a policy says how long to wait, how many attempts to make,
 * and when to give up.
 *
 * A policy implements {@link RetryPolicy.nextDelay}, and may implement {@link RetryPolicy.delayAfter}, which the
 * engine then uses instead. The built-in policies ({@link exponentialBackoff}, {@link fixedDelay},
 * {@link noRetry}) implement both and follow the same rules:
 *
 * 1. after `maxAttempts` attempts in total, they stop;
 * 2. a delay the server asked for (a finite `retryAfterMillis >= 0` on the error, e.g. {@link SinkError} from
 *    HTTP `Retry-After`) wins over the computed delay, capped at the policy's largest delay so that a server
 *    cannot park the caller for hours;
 * 3. otherwise the policy's own delay.
 *
 * Their `nextDelay`, for callers that use a policy without the engine, also stops at once on an error that is
 * not retriable. Policies are pure and stateless: the same inputs give the same decision (up to jitter), so one
 * policy can serve any number of concurrent operations. The engine waits at most 2147483647 ms (the longest
 * `setTimeout`), whatever a policy says.
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
   * @remarks
   * The engine calls it only when the policy has no {@link RetryPolicy.delayAfter}, and only for errors it is
   * going to retry: a policy written for earlier versions, which also gave up on errors that are not retriable,
   * keeps working unchanged.
   *
   * @param attempt - How many attempts were already made and failed: 1 after the first failure.
   * @param error - The error of the last attempt.
   * @returns Whether to retry, and after how many milliseconds.
   */
  nextDelay(attempt: number, error: unknown): RetryDecision;
  /**
   * Scheduling only: how long to wait before the next attempt, or `undefined` to give up. Never judges whether
   * the error is retriable (the engine did).
   *
   * @param state - The failed attempts so far, the last error and the delay the server asked for.
   * @returns A delay in milliseconds (`>= 0`), or `undefined` to give up.
   * @defaultValue none: the engine uses {@link RetryPolicy.nextDelay}
   */
  delayAfter?(state: RetryState): number | undefined;
}

/**
 * A policy that only schedules, for the library's own loops (users' policies are {@link RetryPolicy}s).
 *
 * @internal
 */
export interface SchedulingPolicy {
  delayAfter(state: RetryState): number | undefined;
}

/**
 * The scheduling of `policy` as one function: its {@link RetryPolicy.delayAfter}, else its
 * {@link RetryPolicy.nextDelay}. A delay is capped at {@link MAX_TIMER_MILLIS} (a longer timer would fire at once);
 * one that is not a number `>= 0` throws a `RangeError`, so that a broken policy cannot spin a loop of immediate
 * retries.
 *
 * @internal
 */
export function scheduleOf(policy: RetryPolicy | SchedulingPolicy): (state: RetryState) => number | undefined {
  const schedule =
    typeof policy.delayAfter === 'function'
      ? (state: RetryState): number | undefined => policy.delayAfter?.(state)
      : (state: RetryState): number | undefined => {
          const decision = (policy as RetryPolicy).nextDelay(state.attempt, state.error);
          return decision.retry ? decision.delayMillis : undefined;
        };
  return (state) => {
    const delay = schedule(state);
    if (delay === undefined) return undefined;
    if (typeof delay !== 'number' || !(delay >= 0)) {
      throw new RangeError(`retry policy: a delay must be a number of milliseconds >= 0, got ${show(delay)}`);
    }
    return Math.min(delay, MAX_TIMER_MILLIS);
  };
}

/**
 * The state a policy schedules from after `attempt` failed attempts, the last with `error`.
 *
 * @internal
 */
export function retryState(attempt: number, error: unknown): RetryState {
  return { attempt, error, retryAfterMillis: retryAfterMillisOf(error) };
}

/**
 * A built-in policy's `nextDelay` from its scheduling: stops on an error that is not retriable (for callers that
 * use the policy without the engine), else schedules.
 *
 * @internal
 */
export function decide(
  delayAfter: (state: RetryState) => number | undefined,
): (attempt: number, error: unknown) => RetryDecision {
  return (attempt: number, error: unknown): RetryDecision => {
    if (!isRetriable(error)) return { retry: false };
    const delayMillis = delayAfter(retryState(attempt, error));
    return delayMillis === undefined ? { retry: false } : { retry: true, delayMillis };
  };
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
