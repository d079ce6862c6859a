import type { RetryDecision, RetryPolicy } from './retry-policy';

/**
 * A {@link RetryPolicy} that never retries: the first failure is final, whatever the error.
 *
 * @example
 * ```ts
 * // One attempt per sink request: a failed batch is bisected or dead-lettered at once.
 * const forwarder = new KafkaToJaegerForwarder({ kafka: { brokers: ['kafka:9092'] }, retry: noRetry() });
 * ```
 */
export function noRetry(): RetryPolicy {
  return {
    nextDelay: (): RetryDecision => ({ retry: false }),
    delayAfter: () => undefined,
  };
}
