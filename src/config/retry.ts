// The `retry` option: backoff options (through exponentialBackoff()) or a RetryPolicy object.
import { ConfigError } from '../errors/errors';
import { exponentialBackoff } from '../retry/exponential-backoff';
import type { ExponentialBackoffOptions } from '../retry/exponential-backoff';
import type { RetryPolicy } from '../retry/retry-policy';
import { DEFAULTS } from './defaults';
import type { OtelKafkaJaegerConfig } from './types';
import { checkRoot, describe, isObject } from './validators';

/** The resolved `retry` option when it holds backoff options (see {@link exponentialBackoff}). */
export interface ResolvedBackoffConfig {
  /** Marks exponential backoff. */
  type: 'exponential-backoff';
  /** Delay before the first retry, in milliseconds. */
  initialDelayMillis: number;
  /** Largest delay, in milliseconds. */
  maxDelayMillis: number;
  /** Growth factor of the delay. */
  multiplier: number;
  /** Spread of the random factor, 0 to 1. */
  jitter: number;
  /** Attempts in total, `Infinity` for no limit. */
  maxAttempts: number;
}

/** The resolved `retry` option when it holds a {@link RetryPolicy} object, passed through unchanged. */
export interface ResolvedCustomRetryConfig {
  /** Marks a policy given as an object. */
  type: 'custom';
  /** The policy object from the configuration. */
  policy: RetryPolicy;
}

/** The resolved `retry` option. */
export type ResolvedRetryConfig = ResolvedBackoffConfig | ResolvedCustomRetryConfig;

/** The `retry` option as a policy: a policy object as is, options through `exponentialBackoff()`. */
export function resolveRetryPolicy(config: unknown, field = 'retry'): RetryPolicy {
  const r = (checkRoot(config) as Record<string, unknown>)[field];
  if (r === undefined) return exponentialBackoff({}, field);
  if (isObject(r) && typeof r.nextDelay === 'function') return r as unknown as RetryPolicy;
  if (!isObject(r)) throw new ConfigError(field, `expected backoff options or a RetryPolicy, got ${describe(r)}`);
  return exponentialBackoff(r, field);
}

/** The `retry` option as plain data (validated by building the policy, which has no side effects). */
export function resolveRetryConfig(root: OtelKafkaJaegerConfig): ResolvedRetryConfig {
  const policy = resolveRetryPolicy(root);
  const r: unknown = root.retry;
  if (r === policy) return { type: 'custom', policy };
  const o = (isObject(r) ? r : {}) as ExponentialBackoffOptions;
  const d = DEFAULTS.retry;
  return {
    type: 'exponential-backoff',
    initialDelayMillis: o.initialDelayMillis ?? d.initialDelayMillis,
    maxDelayMillis: o.maxDelayMillis ?? d.maxDelayMillis,
    multiplier: o.multiplier ?? d.multiplier,
    jitter: o.jitter ?? d.jitter,
    maxAttempts: o.maxAttempts ?? d.maxAttempts,
  };
}
