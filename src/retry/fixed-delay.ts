import { EXPONENTIAL_BACKOFF_DEFAULTS } from './exponential-backoff';
import type { RetryPolicy, RetryState } from './retry-policy';
import { decide, validateDelayMillis, validateMaxAttempts } from './retry-policy';

/**
 * Longest server-suggested delay {@link fixedDelay} honours when its own delay is shorter; the same as the
 * default `maxDelayMillis` of {@link exponentialBackoff}.
 */
const RETRY_AFTER_CAP_MILLIS = EXPONENTIAL_BACKOFF_DEFAULTS.maxDelayMillis;

/**
 * Options of {@link fixedDelay}.
 *
 * @example
 * ```ts
 * const options: FixedDelayOptions = { maxAttempts: 5 };
 * ```
 */
export interface FixedDelayOptions {
  /**
   * How many attempts to make in total, the first one included; `Infinity` retries for ever.
   *
   * @defaultValue `Infinity`
   */
  maxAttempts?: number;
}

/**
 * A {@link RetryPolicy} that waits the same delay before every retry, without jitter.
 *
 * @remarks
 * It gives up after `maxAttempts` attempts (whether an error is worth retrying is the engine's question, see
 * {@link RetryPolicy}). A delay the server asked for (`retryAfterMillis` on the error, e.g. from HTTP
 * `Retry-After`) replaces `delayMillis`, capped at the larger of `delayMillis` and 30 s: this policy has no
 * maximum delay of its own, and a server must not be able to park the caller for hours.
 *
 * @param delayMillis - The delay before each retry, in milliseconds, from 0 to 2147483647.
 * @param options - See {@link FixedDelayOptions}.
 * @param fieldPrefix - Prefix of the field names in the {@link ConfigError}s thrown for invalid options, e.g.
 *   `exporter.retry` to report `exporter.retry.delayMillis`.
 * @throws {@link ConfigError} when `delayMillis` or an option is out of range.
 *
 * @example
 * ```ts
 * const forwarder = new KafkaToJaegerForwarder({
 *   kafka: { brokers: ['kafka:9092'] },
 *   retry: fixedDelay(1_000, { maxAttempts: 3 }),
 * });
 * ```
 */
export function fixedDelay(delayMillis: number, options: FixedDelayOptions = {}, fieldPrefix = 'retry'): RetryPolicy {
  const delay = validateDelayMillis(`${fieldPrefix}.delayMillis`, delayMillis);
  const maxAttempts = validateMaxAttempts(`${fieldPrefix}.maxAttempts`, options.maxAttempts ?? Infinity);
  const retryAfterCapMillis = Math.max(delay, RETRY_AFTER_CAP_MILLIS);

  const delayAfter = ({ attempt, retryAfterMillis }: RetryState): number | undefined => {
    if (attempt >= maxAttempts) return undefined;
    return retryAfterMillis === undefined ? delay : Math.min(retryAfterMillis, retryAfterCapMillis);
  };
  return { delayAfter, nextDelay: decide(delayAfter) };
}
