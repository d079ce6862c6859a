import { OtelKafkaJaegerError, RetriesExhaustedError, ShutdownError, SinkError } from '../../../src/errors/errors';
import { exponentialBackoff } from '../../../src/retry/exponential-backoff';
import { fixedDelay } from '../../../src/retry/fixed-delay';
import { noRetry } from '../../../src/retry/no-retry';
import type { RetryInfo } from '../../../src/retry/retry';
import { retry } from '../../../src/retry/retry';

const permanent = (message: string): OtelKafkaJaegerError =>
  new OtelKafkaJaegerError(message, { code: 'SINK_FAILED', retriable: false });

/** An operation that fails with each of `errors` in turn, then resolves with `value`. */
function failing<T>(errors: unknown[], value: T): jest.Mock<Promise<T>, [number]> {
  const queue = [...errors];
  return jest.fn((_attempt: number) =>
    Promise.resolve().then(() => {
      if (queue.length > 0) throw queue.shift();
      return value;
    }),
  );
}

/** Records how `promise` settles, so a test can look at it between timer advances. */
function track<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const result: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => Object.assign(result, { state: 'resolved', value }),
    (error: unknown) => Object.assign(result, { state: 'rejected', error }),
  );
  return result;
}

describe('retry', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('returns the first result without waiting', async () => {
    const fn = jest.fn((_attempt: number) => Promise.resolve('ok'));
    await expect(retry(fn, fixedDelay(1_000))).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith(1);
  });

  it('retries after the policy delays, passing the attempt number, until it succeeds', async () => {
    const fn = failing([new Error('a'), new Error('b')], 'ok');
    const result = track(retry(fn, exponentialBackoff({ jitter: 0 })));
    await jest.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(99);
    expect(fn).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(199);
    expect(fn).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(fn.mock.calls).toEqual([[1], [2], [3]]);
    expect(result).toEqual({ state: 'resolved', value: 'ok' });
  });

  it('calls onRetry before each wait with the attempt, delay and error', async () => {
    const errors = [new Error('a'), new SinkError('HTTP 503', { retriable: true, retryAfterMillis: 5_000 }), 'c'];
    const onRetry = jest.fn((_info: RetryInfo) => undefined);
    const result = track(retry(failing(errors, 42), exponentialBackoff({ jitter: 0 }), { onRetry }));
    await jest.advanceTimersByTimeAsync(0);
    expect(onRetry).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(100 + 5_000 + 400);
    expect(onRetry.mock.calls.map(([info]) => info)).toEqual([
      { attempt: 1, delayMillis: 100, error: errors[0] },
      { attempt: 2, delayMillis: 5_000, error: errors[1] },
      { attempt: 3, delayMillis: 400, error: errors[2] },
    ]);
    expect(result).toEqual({ state: 'resolved', value: 42 });
  });

  it('rejects with the error itself when the first attempt fails for good', async () => {
    const error = permanent('HTTP 400');
    const fn = failing([error], 'never');
    const onRetry = jest.fn();
    await expect(retry(fn, exponentialBackoff(), { onRetry })).rejects.toBe(error);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it('keeps every cause when a later attempt fails for good', async () => {
    const errors = [new Error('refused'), new Error('reset'), permanent('HTTP 400')];
    const result = track(retry(failing(errors, 'never'), fixedDelay(10)));
    await jest.advanceTimersByTimeAsync(20);
    expect(result.state).toBe('rejected');
    const error = result.error as RetriesExhaustedError;
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error.errors).toEqual(errors);
    expect(error.errors[0]).toBe(errors[0]);
    expect(error.attempts).toBe(3);
    expect(error.cause).toBe(errors[2]);
    expect(error.message).toBe('gave up after 3 attempts: HTTP 400');
  });

  it('rejects with RetriesExhaustedError after maxAttempts, keeping every attempt error', async () => {
    const errors = [new Error('one'), new Error('two'), 'three'];
    const fn = failing([...errors, new Error('four')], 'never');
    const result = track(retry(fn, fixedDelay(1_000, { maxAttempts: 3 })));
    await jest.advanceTimersByTimeAsync(10_000);
    expect(fn).toHaveBeenCalledTimes(3);
    const error = result.error as RetriesExhaustedError;
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error.errors).toEqual(errors);
    expect(error.message).toBe('gave up after 3 attempts: three');
  });

  it('wraps a single retriable failure when the policy does not retry', async () => {
    const error = new Error('refused');
    const rejection = retry(failing([error], 'never'), noRetry());
    await expect(rejection).rejects.toThrow(RetriesExhaustedError);
    await expect(rejection).rejects.toMatchObject({
      attempts: 1,
      errors: [error],
      message: 'gave up after 1 attempt: refused',
    });
  });

  it('catches an operation that throws synchronously', async () => {
    const error = permanent('bad input');
    const fn = jest.fn((_attempt: number): Promise<never> => {
      throw error;
    });
    await expect(retry(fn, exponentialBackoff())).rejects.toBe(error);
  });

  it('stops waiting and makes no further attempt when aborted during a wait', async () => {
    const controller = new AbortController();
    const fn = jest.fn((_attempt: number) => Promise.reject(new Error('Jaeger down')));
    const result = track(retry(fn, fixedDelay(30_000), { signal: controller.signal }));
    await jest.advanceTimersByTimeAsync(30_000 + 10_000);
    expect(fn).toHaveBeenCalledTimes(2);
    const reason = new ShutdownError('forwarder stopped');
    controller.abort(reason);
    await jest.advanceTimersByTimeAsync(0);
    expect(result).toEqual({ state: 'rejected', error: reason });
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('makes no attempt when the signal is already aborted', async () => {
    const fn = jest.fn((_attempt: number) => Promise.resolve('ok'));
    await expect(retry(fn, fixedDelay(10), { signal: AbortSignal.abort('shutting down') })).rejects.toThrow(
      ShutdownError,
    );
    expect(fn).not.toHaveBeenCalled();
  });

  it('lets an exception from onRetry reject the retry, without another attempt', async () => {
    const fn = failing([new Error('a')], 'ok');
    const bug = new Error('logger broke');
    await expect(
      retry(fn, fixedDelay(10), {
        onRetry: () => {
          throw bug;
        },
      }),
    ).rejects.toBe(bug);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
