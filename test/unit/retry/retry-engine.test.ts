import { OtelKafkaJaegerError, ShutdownError, SinkError } from '../../../src/errors/errors';
import { fixedDelay } from '../../../src/retry/fixed-delay';
import { MAX_KEPT_ERRORS, runRetries } from '../../../src/retry/retry-engine';
import type { RetryPolicy, RetryState } from '../../../src/retry/retry-policy';
import { MAX_TIMER_MILLIS } from '../../../src/retry/retry-policy';

const permanent = (message: string): OtelKafkaJaegerError =>
  new OtelKafkaJaegerError(message, { code: 'SINK_FAILED', retriable: false });
const transient = (message: string): SinkError => new SinkError(message, { retriable: true });

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

/** A scheduling-only policy that records what it was asked and answers `delays[n]` (undefined: give up). */
function recording(delays: (number | undefined)[]): RetryPolicy & { seen: RetryState[] } {
  const seen: RetryState[] = [];
  return {
    seen,
    nextDelay: () => {
      throw new Error('the engine must use delayAfter when a policy has it');
    },
    delayAfter: (state) => delays[seen.push(state) - 1],
  };
}

describe('runRetries: classification is the error’s, scheduling the policy’s', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('never asks the policy about an error that is not retriable', async () => {
    const policy = recording([0, 0, 0]);
    const error = permanent('HTTP 400');
    const result = runRetries(failing([transient('503'), error], 'never'), policy);
    await jest.advanceTimersByTimeAsync(0);
    await expect(result).resolves.toEqual({
      outcome: 'not-retriable',
      error,
      errors: [expect.anything(), error],
      attempts: 2,
    });
    expect(policy.seen.map((s) => s.attempt)).toEqual([1]);
  });

  it('lets the caller classify: a non-retriable error is retried when the caller says so', async () => {
    const policy = recording([0, 0]);
    const errors = [permanent('topic authorization failed'), permanent('still')];
    const result = runRetries(failing(errors, 'ok'), policy, { retriable: () => true });
    await jest.runAllTimersAsync();
    await expect(result).resolves.toEqual({ outcome: 'succeeded', value: 'ok', attempts: 3 });
    // The policy schedules from the real errors: nothing fabricated to make it keep going.
    expect(policy.seen).toEqual([
      { attempt: 1, error: errors[0], retryAfterMillis: undefined },
      { attempt: 2, error: errors[1], retryAfterMillis: undefined },
    ]);
  });

  it('hands the policy the delay the server asked for, and waits what the policy says', async () => {
    const policy = recording([1_234]);
    const tooMany = new SinkError('HTTP 429', { retriable: true, httpStatus: 429, retryAfterMillis: 7_000 });
    const fn = failing([tooMany], 'ok');
    const result = runRetries(fn, policy);
    await jest.advanceTimersByTimeAsync(1_233);
    expect(fn).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await expect(result).resolves.toMatchObject({ outcome: 'succeeded' });
    expect(policy.seen[0]!.retryAfterMillis).toBe(7_000);
  });

  it('uses nextDelay of a policy without delayAfter (the former interface), for retriable errors only', async () => {
    const nextDelay = jest.fn((attempt: number) =>
      attempt < 2 ? { retry: true as const, delayMillis: 5 } : { retry: false as const },
    );
    const errors = [transient('a'), transient('b'), transient('c')];
    const result = runRetries(failing(errors, 'never'), { nextDelay });
    await jest.advanceTimersByTimeAsync(10);
    await expect(result).resolves.toMatchObject({ outcome: 'exhausted', attempts: 2, error: errors[1] });
    expect(nextDelay.mock.calls).toEqual([
      [1, errors[0]],
      [2, errors[1]],
    ]);
  });

  it('keeps waiting persistMillis when the policy gives up, capped at maxDelayMillis', async () => {
    const fn = failing([transient('a'), transient('b'), transient('c')], 'ok');
    const delays: number[] = [];
    const result = runRetries(fn, recording([90_000, undefined, 5]), {
      persistMillis: 40_000,
      maxDelayMillis: 30_000,
      onRetry: (info) => delays.push(info.delayMillis),
    });
    await jest.advanceTimersByTimeAsync(60_000 + 4);
    expect(fn).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toMatchObject({ outcome: 'succeeded', attempts: 4 });
    expect(delays).toEqual([30_000, 30_000, 5]);
  });

  it('resumes from attempts made elsewhere: waits first, then numbers on', async () => {
    const policy = recording([100]);
    const earlier = permanent('HTTP 400');
    const fn = failing([], 'ok');
    const result = runRetries(fn, policy, { resume: { attempts: 3, error: earlier }, retriable: () => true });
    await jest.advanceTimersByTimeAsync(99);
    expect(fn).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(fn.mock.calls).toEqual([[4]]);
    await expect(result).resolves.toEqual({ outcome: 'succeeded', value: 'ok', attempts: 4 });
    expect(policy.seen[0]).toMatchObject({ attempt: 3, error: earlier });
  });
});

describe('runRetries: attempts, kept errors, timers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('counts every attempt but keeps only the last errors, however long it retries', async () => {
    const errors = Array.from({ length: 25 }, (_, i) => transient(`failure ${i + 1}`));
    const result = runRetries(failing(errors, 'never'), fixedDelay(0, { maxAttempts: 25 }));
    await jest.runAllTimersAsync();
    const outcome = await result;
    expect(outcome).toMatchObject({ outcome: 'exhausted', attempts: 25, error: errors[24] });
    expect(outcome.outcome === 'exhausted' && outcome.errors).toEqual(errors.slice(-MAX_KEPT_ERRORS));
  });

  it('never sets a timer longer than setTimeout allows', async () => {
    const fn = failing([transient('a')], 'ok');
    const spy = jest.spyOn(globalThis, 'setTimeout');
    const result = runRetries(fn, recording([Number.MAX_VALUE]));
    await jest.advanceTimersByTimeAsync(0);
    expect(spy.mock.calls.map((c) => c[1])).toContain(MAX_TIMER_MILLIS);
    expect(fn).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(MAX_TIMER_MILLIS);
    await expect(result).resolves.toMatchObject({ outcome: 'succeeded', attempts: 2 });
    spy.mockRestore();
  });

  it('rejects with a RangeError when a policy returns a delay that is not a number >= 0', async () => {
    for (const delay of [NaN, -1, '10' as unknown as number]) {
      await expect(runRetries(failing([transient('a')], 'ok'), recording([delay]))).rejects.toThrow(RangeError);
    }
  });
});

describe('runRetries: abort', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ends a wait at once on abort, with the signal’s reason, and makes no further attempt', async () => {
    const controller = new AbortController();
    const fn = failing([transient('a'), transient('b')], 'ok');
    const result = runRetries(fn, fixedDelay(60_000), { signal: controller.signal });
    await jest.advanceTimersByTimeAsync(10);
    const reason = new ShutdownError('stopping');
    controller.abort(reason);
    await expect(result).resolves.toEqual({ outcome: 'aborted', error: reason, attempts: 1 });
    expect(jest.getTimerCount()).toBe(0);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('ends as aborted when the last attempt failed after the abort, whatever its error', async () => {
    const controller = new AbortController();
    const onFailure = jest.fn();
    const fn = jest.fn(() => {
      controller.abort(new ShutdownError('stopping'));
      return Promise.reject(permanent('request aborted'));
    });
    const result = await runRetries(fn, fixedDelay(0), { signal: controller.signal, onFailure });
    expect(result.outcome).toBe('aborted');
    expect(onFailure).not.toHaveBeenCalled();
  });

  it('ends quietly when stopped() turns true, before the next attempt', async () => {
    let revoked = false;
    const fn = failing([transient('a'), transient('b')], 'ok');
    const result = runRetries(fn, fixedDelay(1_000), { stopped: () => revoked });
    await jest.advanceTimersByTimeAsync(10);
    revoked = true;
    await jest.advanceTimersByTimeAsync(1_000);
    await expect(result).resolves.toMatchObject({ outcome: 'aborted', attempts: 1 });
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
