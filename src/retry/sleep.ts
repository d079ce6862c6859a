import { ShutdownError } from '../errors/errors';
import { MAX_TIMER_MILLIS } from './retry-policy';

/**
 * Waits `ms` milliseconds, unless `signal` is aborted first.
 *
 * @remarks
 * On abort the timer is cleared and the promise rejects with the signal's reason when it is an `Error` (a
 * plain `controller.abort()` gives a `DOMException` named `AbortError`), or with a {@link ShutdownError}
 * otherwise. An already aborted signal rejects at once. The timer keeps the process alive, as callers await
 * it. Even `sleep(0)` waits for a timer turn, so a loop of failing attempts with no delay still lets timers
 * and I/O (an abort, for instance) run.
 *
 * @param ms - How long to wait, in milliseconds, from 0 to 2147483647 (the longest `setTimeout`); anything
 *   else rejects with a `RangeError`.
 * @param signal - Aborts the wait.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * process.once('SIGTERM', () => controller.abort(new ShutdownError()));
 * await sleep(5_000, controller.signal);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_TIMER_MILLIS)) {
      reject(new RangeError(`sleep: ms must be a number from 0 to ${MAX_TIMER_MILLIS}, got ${String(ms)}`));
      return;
    }
    if (signal === undefined) {
      setTimeout(resolve, ms);
      return;
    }
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    // The listener is removed when the timer fires, so that a long-lived signal does not collect one
    // listener per wait.
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The error to reject with when `signal` is aborted: its reason when that is an error, else a
 * {@link ShutdownError}.
 *
 * @internal
 */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  // DOMException is an Error subclass in Node, but checked on its own because under Jest's VM contexts it
  // comes from another realm than `Error`.
  if (reason instanceof Error || reason instanceof DOMException) return reason;
  return new ShutdownError(typeof reason === 'string' ? reason : undefined);
}
