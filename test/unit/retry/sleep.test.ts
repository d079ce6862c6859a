import { getEventListeners } from 'node:events';

import { ShutdownError } from '../../../src/errors/errors';
import { sleep } from '../../../src/retry/sleep';

describe('sleep', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** Records how `promise` settles, so a test can look at it between timer advances. */
  function track(promise: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
    const result: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
    promise.then(
      () => (result.state = 'resolved'),
      (error: unknown) => {
        result.state = 'rejected';
        result.error = error;
      },
    );
    return result;
  }

  it('resolves after the delay, not before', async () => {
    const result = track(sleep(1_000));
    await jest.advanceTimersByTimeAsync(999);
    expect(result.state).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(result.state).toBe('resolved');
  });

  it('waits for a timer turn even for 0 ms, so a retry loop with no delay cannot starve the event loop', async () => {
    const result = track(sleep(0));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(result.state).toBe('pending');
    await jest.advanceTimersByTimeAsync(0);
    expect(result.state).toBe('resolved');
  });

  it('keeps the process alive while waiting (no unref)', () => {
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
    void sleep(500);
    const timer = setTimeoutSpy.mock.results[0]?.value as NodeJS.Timeout;
    setTimeoutSpy.mockRestore();
    expect(timer.hasRef()).toBe(true);
  });

  it('rejects at once, without a timer, when the signal is already aborted', async () => {
    const reason = new ShutdownError('exporter shut down');
    const promise = sleep(1_000, AbortSignal.abort(reason));
    expect(jest.getTimerCount()).toBe(0);
    await expect(promise).rejects.toBe(reason);
  });

  it('rejects with the reason and clears its timer when aborted during the wait', async () => {
    const controller = new AbortController();
    const result = track(sleep(10_000, controller.signal));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(jest.getTimerCount()).toBe(1);
    const reason = new Error('stop');
    controller.abort(reason);
    await jest.advanceTimersByTimeAsync(0);
    expect(result).toEqual({ state: 'rejected', error: reason });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects with a ShutdownError when the reason is not an Error', async () => {
    const controller = new AbortController();
    const promise = sleep(10_000, controller.signal);
    controller.abort('forwarder stopping');
    await expect(promise).rejects.toThrow(ShutdownError);
    await expect(promise).rejects.toThrow('forwarder stopping');
    await expect(sleep(10, AbortSignal.abort(42))).rejects.toEqual(new ShutdownError());
  });

  it('rejects with the AbortError of a plain abort()', async () => {
    const controller = new AbortController();
    const promise = sleep(10_000, controller.signal);
    controller.abort();
    await expect(promise).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('removes its abort listener when the wait ends', async () => {
    const controller = new AbortController();
    const result = track(sleep(100, controller.signal));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(100);
    expect(result.state).toBe('resolved');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort(new Error('late'));
    await jest.advanceTimersByTimeAsync(0);
    expect(result.state).toBe('resolved');
  });

  it.each([-1, NaN, Infinity, 2 ** 31])('rejects a delay of %p ms with a RangeError', async (ms) => {
    await expect(sleep(ms)).rejects.toThrow(RangeError);
    expect(jest.getTimerCount()).toBe(0);
  });
});
