import { OtelKafkaJaegerError, ShutdownError } from '../../../src/errors/errors';
import { exponentialBackoff } from '../../../src/retry/exponential-backoff';
import type { RetryInfo } from '../../../src/retry/retry-engine';
import { START_BACKOFF, startWithRetry } from '../../../src/cli/start-retry';

const unavailable = (): OtelKafkaJaegerError =>
  new OtelKafkaJaegerError('cannot join consumer group g at 127.0.0.1:1: broker transport failure', {
    code: 'KAFKA_UNAVAILABLE',
    retriable: true,
  });
const badPassword = (): OtelKafkaJaegerError =>
  new OtelKafkaJaegerError('SASL authentication failed', { code: 'KAFKA_AUTHENTICATION', retriable: false });

/** A start() that fails with each of `errors` in turn, then succeeds. */
function starts(errors: Error[]): { start: () => Promise<void>; calls: () => number } {
  let calls = 0;
  return {
    start: () => {
      const error = errors[calls++];
      return error ? Promise.reject(error) : Promise.resolve();
    },
    calls: () => calls,
  };
}

// Fast waits for the tests; the shape of the real backoff is checked on its own.
const quick = exponentialBackoff({ initialDelayMillis: 1, maxDelayMillis: 4, multiplier: 2, jitter: 0 });

describe('startWithRetry', () => {
  it('tries again after retriable failures, telling each one, until start succeeds', async () => {
    const s = starts([unavailable(), unavailable(), new Error('anything unexpected')]);
    const told: RetryInfo[] = [];
    const attempts: number[] = [];
    await startWithRetry(s.start, {
      retry: true,
      signal: new AbortController().signal,
      policy: quick,
      onRetry: (info) => told.push(info),
      onAttempt: (n) => attempts.push(n),
    });
    expect(s.calls()).toBe(4);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(told.map((t) => [t.attempt, t.delayMillis])).toEqual([
      [1, 1],
      [2, 2],
      [3, 4],
    ]);
  });

  it('gives up at once on an error retrying cannot fix, first or after retries, with that error', async () => {
    const options = { retry: true, signal: new AbortController().signal, policy: quick, onRetry: () => undefined };
    for (const errors of [[badPassword()], [unavailable(), unavailable(), badPassword()]]) {
      const s = starts(errors);
      const err = await startWithRetry(s.start, options).catch((e: unknown) => e);
      expect(err).toBe(errors.at(-1));
      expect(s.calls()).toBe(errors.length);
    }
  });

  it('with retry off, the first failure is final, retriable or not', async () => {
    const s = starts([unavailable()]);
    const onRetry = jest.fn();
    await expect(
      startWithRetry(s.start, { retry: false, signal: new AbortController().signal, policy: quick, onRetry }),
    ).rejects.toThrow('broker transport failure');
    expect([s.calls(), onRetry.mock.calls.length]).toEqual([1, 0]);
  });

  it('stops waiting and trying as soon as the signal is aborted', async () => {
    const s = starts(Array.from({ length: 100 }, unavailable));
    const controller = new AbortController();
    const slow = exponentialBackoff({ initialDelayMillis: 60_000, maxDelayMillis: 60_000, jitter: 0 });
    const started = Date.now();
    const run = startWithRetry(s.start, {
      retry: true,
      signal: controller.signal,
      policy: slow,
      onRetry: () => controller.abort(new ShutdownError('SIGTERM received')),
    });
    await expect(run).rejects.toThrow('SIGTERM received');
    expect(s.calls()).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('by default waits 1 s doubling to 30 s with 20 % jitter, for ever', () => {
    const policy = exponentialBackoff(START_BACKOFF);
    const delays = [1, 2, 3, 4, 5, 6, 7, 100].map((n) => {
      const d = policy.nextDelay(n, unavailable());
      return d.retry ? d.delayMillis : -1;
    });
    const expected = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(expected[i]! * 0.8);
      expect(d).toBeLessThanOrEqual(Math.min(expected[i]! * 1.2, 30_000 * 1.2));
    });
  });
});
