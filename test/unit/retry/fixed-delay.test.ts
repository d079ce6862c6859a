import { ConfigError, OtelKafkaJaegerError, SinkError } from '../../../src/errors/errors';
import { fixedDelay } from '../../../src/retry/fixed-delay';

const transient = new Error('connection refused');

describe('fixedDelay', () => {
  it('waits the same delay before every retry', () => {
    const policy = fixedDelay(250);
    expect([1, 2, 3, 1_000, Number.MAX_SAFE_INTEGER].map((attempt) => policy.nextDelay(attempt, transient))).toEqual(
      Array.from({ length: 5 }, () => ({ retry: true, delayMillis: 250 })),
    );
  });

  it('accepts a zero delay', () => {
    expect(fixedDelay(0).nextDelay(1, transient)).toEqual({ retry: true, delayMillis: 0 });
  });

  it('stops once maxAttempts attempts were made', () => {
    const policy = fixedDelay(10, { maxAttempts: 2 });
    expect(policy.nextDelay(1, transient)).toEqual({ retry: true, delayMillis: 10 });
    expect(policy.nextDelay(2, transient)).toEqual({ retry: false });
  });

  it('stops at once on a non-retriable error', () => {
    const error = new OtelKafkaJaegerError('topic does not exist', { code: 'PRODUCE_FAILED', retriable: false });
    expect(fixedDelay(10).nextDelay(1, error)).toEqual({ retry: false });
  });

  it('lets a server-suggested delay win, shorter or longer', () => {
    const policy = fixedDelay(1_000);
    const after = (retryAfterMillis: number): SinkError =>
      new SinkError('HTTP 429', { retriable: true, httpStatus: 429, retryAfterMillis });
    expect(policy.nextDelay(1, after(5_000))).toEqual({ retry: true, delayMillis: 5_000 });
    expect(policy.nextDelay(1, after(20))).toEqual({ retry: true, delayMillis: 20 });
  });

  it('caps a server-suggested delay at 30 s, or at delayMillis when that is longer', () => {
    const error = new SinkError('HTTP 503', { retriable: true, retryAfterMillis: 3_600_000 });
    expect(fixedDelay(1_000).nextDelay(1, error)).toEqual({ retry: true, delayMillis: 30_000 });
    expect(fixedDelay(120_000).nextDelay(1, error)).toEqual({ retry: true, delayMillis: 120_000 });
  });

  it.each([-1, NaN, Infinity, 2 ** 31])('rejects delayMillis %p', (delayMillis) => {
    expect(() => fixedDelay(delayMillis)).toThrow(expect.objectContaining({ field: 'retry.delayMillis' }) as Error);
    expect(() => fixedDelay(delayMillis)).toThrow(ConfigError);
  });

  it.each([0, -3, 2.5, NaN])('rejects maxAttempts %p', (maxAttempts) => {
    expect(() => fixedDelay(10, { maxAttempts })).toThrow(
      expect.objectContaining({ field: 'retry.maxAttempts' }) as Error,
    );
  });

  it('names fields after the given prefix', () => {
    expect(() => fixedDelay(-1, {}, 'exporter.retry')).toThrow(
      expect.objectContaining({ field: 'exporter.retry.delayMillis' }) as Error,
    );
    expect(() => fixedDelay(1, { maxAttempts: 0 }, 'exporter.retry')).toThrow(
      'invalid config exporter.retry.maxAttempts: must be an integer >= 1 or Infinity, got 0',
    );
  });
});
