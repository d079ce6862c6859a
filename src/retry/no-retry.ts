import type { RetryDecision, RetryPolicy } from './retry-policy';

/**
 * A {@link RetryPolicy} that never retries: the first failure is final, whatever the error.
 *
 * @example
 * ```ts
 * await retry(() => send(batch), noRetry()); // one attempt only
 * ```
 */
export function noRetry(): RetryPolicy {
  return {
    nextDelay: (): RetryDecision => ({ retry: false }),
    delayAfter: () => undefined,
  };
}
