import { ConfigError, OtelKafkaJaegerError, SinkError } from '../../../src/errors/errors';
import type { ExponentialBackoffOptions } from '../../../src/retry/exponential-backoff';
import { exponentialBackoff } from '../../../src/retry/exponential-backoff';
import type { RetryPolicy } from '../../../src/retry/retry-policy';

const transient = new Error('connection refused');
const permanent = new OtelKafkaJaegerError('bad request', { code: 'SINK_FAILED', retriable: false });

function delays(policy: RetryPolicy, attempts: number, error: unknown = transient): number[] {
  return Array.from({ length: attempts }, (_, i) => {
    const decision = policy.nextDelay(i + 1, error);
    if (!decision.retry) throw new Error(`stopped at attempt ${i + 1}`);
    return decision.delayMillis;
  });
}

describe('exponentialBackoff', () => {
  it('doubles from 100 ms up to the 30 s cap by default, without jitter', () => {
    const policy = exponentialBackoff({ jitter: 0 });
    expect(delays(policy, 12)).toEqual([
      100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000, 30_000,
    ]);
  });

  it('uses initialDelayMillis, multiplier and maxDelayMillis', () => {
    const policy = exponentialBackoff({ initialDelayMillis: 10, multiplier: 3, maxDelayMillis: 500, jitter: 0 });
    expect(delays(policy, 6)).toEqual([10, 30, 90, 270, 500, 500]);
  });

  it('keeps a constant delay with multiplier 1', () => {
    expect(delays(exponentialBackoff({ multiplier: 1, jitter: 0 }), 4)).toEqual([100, 100, 100, 100]);
  });

  it('applies jitter as a factor in [1 - jitter, 1 + jitter]', () => {
    const at = (value: number): number[] =>
      delays(exponentialBackoff({ jitter: 0.5, random: () => value, maxDelayMillis: 1_000 }), 5);
    expect(at(0)).toEqual([50, 100, 200, 400, 500]);
    expect(at(0.5)).toEqual([100, 200, 400, 800, 1_000]);
    // Math.random never returns 1; just below it gives (almost) the upper bound, still capped at the max.
    expect(at(0.999_999)).toEqual([150, 300, 600, 1_000, 1_000]);
    expect(at(1)).toEqual([150, 300, 600, 1_000, 1_000]);
  });

  it('applies the default jitter of 0.2 with Math.random', () => {
    const random = jest.spyOn(Math, 'random').mockReturnValue(0);
    try {
      expect(delays(exponentialBackoff(), 2)).toEqual([80, 160]);
      expect(random).toHaveBeenCalled();
    } finally {
      random.mockRestore();
    }
  });

  it('stays within the jitter bounds with real randomness', () => {
    const policy = exponentialBackoff({ initialDelayMillis: 1_000, jitter: 0.2 });
    const seen = Array.from({ length: 200 }, () => delays(policy, 1)[0]);
    expect(Math.min(...(seen as number[]))).toBeGreaterThanOrEqual(800);
    expect(Math.max(...(seen as number[]))).toBeLessThanOrEqual(1_200);
    expect(new Set(seen).size).toBeGreaterThan(1);
  });

  it('stays capped and finite for huge attempt numbers', () => {
    const policy = exponentialBackoff({ jitter: 0.2, random: () => 0.999 });
    for (const attempt of [1_100, 10_000, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE]) {
      expect(policy.nextDelay(attempt, transient)).toEqual({ retry: true, delayMillis: 30_000 });
    }
    const lowest = exponentialBackoff({ jitter: 0.2, random: () => 0 });
    expect(lowest.nextDelay(Number.MAX_VALUE, transient)).toEqual({ retry: true, delayMillis: 24_000 });
  });

  it('never returns NaN for huge attempts when the initial delay is 0 or the multiplier is 1', () => {
    expect(exponentialBackoff({ initialDelayMillis: 0 }).nextDelay(Number.MAX_VALUE, transient)).toEqual({
      retry: true,
      delayMillis: 0,
    });
    expect(exponentialBackoff({ multiplier: 1, jitter: 0 }).nextDelay(Number.MAX_VALUE, transient)).toEqual({
      retry: true,
      delayMillis: 100,
    });
  });

  it('lets a server-suggested delay win over the computed one, without jitter', () => {
    const policy = exponentialBackoff({ random: () => 0 });
    const tooMany = new SinkError('HTTP 429', { retriable: true, httpStatus: 429, retryAfterMillis: 7_000 });
    expect(policy.nextDelay(1, tooMany)).toEqual({ retry: true, delayMillis: 7_000 });
    const soon = new SinkError('HTTP 503', { retriable: true, retryAfterMillis: 0 });
    expect(policy.nextDelay(8, soon)).toEqual({ retry: true, delayMillis: 0 });
  });

  it('caps a server-suggested delay at maxDelayMillis', () => {
    const error = new SinkError('HTTP 503', { retriable: true, retryAfterMillis: 3_600_000 });
    expect(exponentialBackoff({ maxDelayMillis: 60_000 }).nextDelay(1, error)).toEqual({
      retry: true,
      delayMillis: 60_000,
    });
  });

  it('reads retryAfterMillis from any error and ignores unusable values', () => {
    const policy = exponentialBackoff({ jitter: 0 });
    expect(policy.nextDelay(1, Object.assign(new Error('x'), { retryAfterMillis: 250 }))).toEqual({
      retry: true,
      delayMillis: 250,
    });
    for (const retryAfterMillis of [-1, NaN, Infinity, '250', undefined]) {
      expect(policy.nextDelay(1, Object.assign(new Error('x'), { retryAfterMillis }))).toEqual({
        retry: true,
        delayMillis: 100,
      });
    }
  });

  it('stops at once on a non-retriable error, even with a server-suggested delay', () => {
    const policy = exponentialBackoff();
    expect(policy.nextDelay(1, permanent)).toEqual({ retry: false });
    expect(policy.nextDelay(1, new SinkError('HTTP 400', { retriable: false, retryAfterMillis: 10 }))).toEqual({
      retry: false,
    });
  });

  it('stops once maxAttempts attempts were made', () => {
    const policy = exponentialBackoff({ maxAttempts: 3, jitter: 0 });
    expect(policy.nextDelay(1, transient)).toEqual({ retry: true, delayMillis: 100 });
    expect(policy.nextDelay(2, transient)).toEqual({ retry: true, delayMillis: 200 });
    expect(policy.nextDelay(3, transient)).toEqual({ retry: false });
    expect(exponentialBackoff({ maxAttempts: 1 }).nextDelay(1, transient)).toEqual({ retry: false });
  });

  it('retries for ever by default', () => {
    expect(exponentialBackoff().nextDelay(1e9, transient).retry).toBe(true);
  });

  describe('validation', () => {
    const cases: [keyof ExponentialBackoffOptions, unknown[]][] = [
      ['initialDelayMillis', [-1, NaN, Infinity, 2 ** 31, '100']],
      ['maxDelayMillis', [-1, NaN, Infinity, 2 ** 31, '30000']],
      ['multiplier', [0.5, 0, -2, NaN, Infinity]],
      ['jitter', [-0.1, 1.5, NaN]],
      ['maxAttempts', [0, -1, 1.5, NaN, -Infinity]],
      ['random', [0.5, 'random']],
    ];
    it.each(cases)('rejects a bad %s', (field, values) => {
      for (const value of values) {
        const create = (): RetryPolicy => exponentialBackoff({ [field]: value });
        expect(create).toThrow(ConfigError);
        expect(create).toThrow(`invalid config retry.${field}: must be`);
        expect(create).toThrow(expect.objectContaining({ field: `retry.${field}` }) as Error);
      }
    });

    it('names fields after the given prefix', () => {
      expect(() => exponentialBackoff({ maxDelayMillis: -5 }, 'forwarder.retry')).toThrow(
        expect.objectContaining({ field: 'forwarder.retry.maxDelayMillis' }) as Error,
      );
    });

    it('accepts the limits of every range', () => {
      expect(() =>
        exponentialBackoff({ initialDelayMillis: 0, maxDelayMillis: 2 ** 31 - 1, multiplier: 1, jitter: 1 }),
      ).not.toThrow();
      expect(() => exponentialBackoff({ jitter: 0, maxAttempts: 1 })).not.toThrow();
      expect(() => exponentialBackoff({ maxAttempts: Infinity })).not.toThrow();
    });
  });
});
