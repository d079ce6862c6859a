import { ConfigError } from '../errors/errors';
import type { RetryPolicy, RetryState } from './retry-policy';
import { decide, show, validateDelayMillis, validateMaxAttempts } from './retry-policy';

/**
 * The defaults of {@link exponentialBackoff}: the forwarder's retry policy unless configured. The one place they
 * are written; the configuration's defaults and the documentation of its options are these.
 *
 * @internal
 */
export const EXPONENTIAL_BACKOFF_DEFAULTS = {
  initialDelayMillis: 100,
  maxDelayMillis: 30_000,
  multiplier: 2,
  jitter: 0.2,
  maxAttempts: Infinity,
} as const;

/**
 * Options of {@link exponentialBackoff}.
 *
 * @example
 * ```ts
 * const options: ExponentialBackoffOptions = { initialDelayMillis: 500, maxDelayMillis: 60_000 };
 * ```
 */
export interface ExponentialBackoffOptions {
  /**
   * Delay before the first retry, in milliseconds (before jitter).
   *
   * @defaultValue `100`
   */
  initialDelayMillis?: number;
  /**
   * Largest delay, in milliseconds, after jitter; also caps a delay the server asked for. At most
   * 2147483647 (the longest `setTimeout`).
   *
   * @defaultValue `30_000`
   */
  maxDelayMillis?: number;
  /**
   * Factor by which the delay grows after each failed attempt; `>= 1` (1 gives a constant delay).
   *
   * @defaultValue `2`
   */
  multiplier?: number;
  /**
   * Spread of the random factor applied to each delay, from 0 (none) to 1: the delay is multiplied by a
   * uniform random factor in `[1 - jitter, 1 + jitter)`, then capped at `maxDelayMillis`. Jitter keeps
   * many clients that failed together from retrying together.
   *
   * @defaultValue `0.2`
   */
  jitter?: number;
  /**
   * How many attempts to make in total, the first one included; `Infinity` retries for ever with a capped
   * delay.
   *
   * @defaultValue `Infinity`
   */
  maxAttempts?: number;
  /**
   * Source of random numbers in `[0, 1)`, for jitter. Inject a fixed one in tests.
   *
   * @defaultValue `Math.random`
   */
  random?: () => number;
}

/**
 * A {@link RetryPolicy} whose delay grows exponentially up to a cap: before retry `n`, it waits
 * `min(initialDelayMillis * multiplier ** (n - 1), maxDelayMillis)`, spread by jitter.
 *
 * @remarks
 * With the defaults it retries for ever, waiting about 100, 200, 400, ... ms, then about 30 s between
 * attempts: what the forwarder needs while Jaeger is down. It gives up after `maxAttempts` attempts (whether
 * an error is worth retrying is the engine's question, see {@link RetryPolicy}). A delay the server asked for
 * (`retryAfterMillis` on the error, e.g. from HTTP `Retry-After`) replaces the computed delay, without jitter,
 * capped at `maxDelayMillis`.
 *
 * @param options - See {@link ExponentialBackoffOptions}.
 * @param fieldPrefix - Prefix of the field names in the {@link ConfigError}s thrown for invalid options, e.g.
 *   `forwarder.retry` to report `forwarder.retry.maxDelayMillis`.
 * @throws {@link ConfigError} when an option is out of range.
 *
 * @example
 * ```ts
 * const forwarder = new KafkaToJaegerForwarder({
 *   kafka: { brokers: ['kafka:9092'] },
 *   retry: exponentialBackoff({ initialDelayMillis: 200, maxDelayMillis: 10_000, maxAttempts: 8 }),
 * });
 * ```
 */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}, fieldPrefix = 'retry'): RetryPolicy {
  const d = EXPONENTIAL_BACKOFF_DEFAULTS;
  const initialDelayMillis = validateDelayMillis(
    `${fieldPrefix}.initialDelayMillis`,
    options.initialDelayMillis ?? d.initialDelayMillis,
  );
  const maxDelayMillis = validateDelayMillis(
    `${fieldPrefix}.maxDelayMillis`,
    options.maxDelayMillis ?? d.maxDelayMillis,
  );
  const multiplier = options.multiplier ?? d.multiplier;
  if (typeof multiplier !== 'number' || !(multiplier >= 1 && multiplier < Infinity)) {
    throw new ConfigError(`${fieldPrefix}.multiplier`, `must be a finite number >= 1, got ${show(multiplier)}`);
  }
  const jitter = options.jitter ?? d.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw new ConfigError(`${fieldPrefix}.jitter`, `must be a number from 0 to 1, got ${show(jitter)}`);
  }
  const maxAttempts = validateMaxAttempts(`${fieldPrefix}.maxAttempts`, options.maxAttempts ?? d.maxAttempts);
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') {
    throw new ConfigError(`${fieldPrefix}.random`, 'must be a function returning a number in [0, 1)');
  }

  const delayAfter = ({ attempt, retryAfterMillis }: RetryState): number | undefined => {
    if (attempt >= maxAttempts) return undefined;
    if (retryAfterMillis !== undefined) return Math.min(retryAfterMillis, maxDelayMillis);
    // `multiplier ** n` reaches Infinity for large n: capping before the jitter keeps the delay finite, and
    // the zero guard avoids 0 * Infinity, which is NaN.
    const growth = multiplier ** (attempt > 1 ? attempt - 1 : 0);
    const base = initialDelayMillis === 0 ? 0 : Math.min(initialDelayMillis * growth, maxDelayMillis);
    const factor = 1 - jitter + 2 * jitter * random();
    return Math.min(Math.round(base * factor), maxDelayMillis);
  };
  return { delayAfter, nextDelay: decide(delayAfter) };
}
