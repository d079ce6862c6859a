// `forward` keeps trying to start while Kafka is unreachable (a service is often up before its broker), with
// capped exponential backoff, and gives up only on an error that retrying cannot fix (failed authentication, a
// TLS certificate that does not verify).
import { exponentialBackoff } from '../retry/exponential-backoff';
import type { ExponentialBackoffOptions } from '../retry/exponential-backoff';
import { noRetry } from '../retry/no-retry';
import type { RetryInfo } from '../retry/retry-engine';
import { runRetries } from '../retry/retry-engine';
import type { RetryPolicy } from '../retry/retry-policy';

/** Waits between start attempts: 1 s doubling to 30 s, ±20 % jitter, for ever. */
export const START_BACKOFF = {
  initialDelayMillis: 1_000,
  maxDelayMillis: 30_000,
  multiplier: 2,
  jitter: 0.2,
} as const satisfies ExponentialBackoffOptions;

/** Options of {@link startWithRetry}. */
export interface StartRetryOptions {
  /** Retry at all (false: the first failure is final). */
  retry: boolean;
  /** Aborted on SIGTERM/SIGINT: no attempt after it, and a wait in progress ends at once. */
  signal: AbortSignal;
  /** Told of each failed attempt that will be retried, before the wait. */
  onRetry: (info: RetryInfo) => void;
  /** Told of each attempt as it begins (1 for the first). */
  onAttempt?: (attempt: number) => void;
  /** @defaultValue `exponentialBackoff(START_BACKOFF)` */
  policy?: RetryPolicy;
}

/**
 * Calls `start` until it resolves. Rejects with the error of a failed attempt that is not retriable (see
 * `isRetriable`: an `OtelKafkaJaegerError` with `retriable: false`), with the first error when `retry` is false,
 * and with the signal's reason once aborted.
 */
export async function startWithRetry(start: () => Promise<void>, options: StartRetryOptions): Promise<void> {
  const policy = options.retry ? (options.policy ?? exponentialBackoff(START_BACKOFF)) : noRetry();
  // The engine keeps a bounded number of errors, so retrying for days holds no more than retrying for seconds.
  const result = await runRetries(
    (attempt) => {
      options.onAttempt?.(attempt);
      return start();
    },
    policy,
    { signal: options.signal, onRetry: options.onRetry },
  );
  if (result.outcome !== 'succeeded') throw result.error;
}
