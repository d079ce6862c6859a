import { SinkError } from '../../../src/errors/errors';
import type { DeadLetterWriter } from '../../../src/forwarder/dead-letter';
import type { ForwarderMetrics } from '../../../src/forwarder/forwarder-metrics';
import type { ForwardRecord } from '../../../src/forwarder/partition-state';
import { PauseController } from '../../../src/forwarder/pause-controller';
import { SideSettler } from '../../../src/forwarder/side-settler';
import type { RetryPolicy, RetryState } from '../../../src/retry/retry-policy';
import type { Sink } from '../../../src/sinks/sink';
import { enqueue, partition } from './fixtures';

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const metrics = {
  retries: { add: () => undefined },
  dropped: { add: () => undefined },
  deadLettered: { add: () => undefined },
} as unknown as ForwarderMetrics;

/** A settler in `onUndeliverable: 'block'` mode whose sink answers with `replies` in turn. */
function blocking(retry: RetryPolicy, replies: (() => Promise<void>)[]) {
  const sent: number[] = [];
  const accepted: ForwardRecord[] = [];
  const sink: Sink = {
    name: 'stub',
    send: () => {
      sent.push(Date.now());
      return replies[Math.min(sent.length - 1, replies.length - 1)]!();
    },
    close: () => Promise.resolve(),
  };
  const settler = new SideSettler({
    options: { onUndeliverable: 'block', retry, deadLetterTopic: 't.dlq' },
    sink,
    logger: silent,
    metrics,
    deadLetters: {} as DeadLetterWriter,
    pauses: new PauseController(silent),
    signal: new AbortController().signal,
    accepted: (records) => accepted.push(...records),
    settled: () => undefined,
    requeue: () => undefined,
  });
  return { settler, sent, accepted };
}

describe("SideSettler, onUndeliverable: 'block'", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('retries the record on the policy’s schedule from the real errors, until the sink accepts it', async () => {
    const seen: RetryState[] = [];
    const retry: RetryPolicy = {
      nextDelay: () => ({ retry: false }),
      delayAfter: (state) => 1_000 * seen.push(state),
    };
    const original = new SinkError('HTTP 400', { retriable: false, httpStatus: 400 });
    const busy = new SinkError('HTTP 429', { retriable: true, httpStatus: 429, retryAfterMillis: 5_000 });
    const { settler, sent, accepted } = blocking(retry, [
      () => Promise.reject(busy),
      () => Promise.reject(new Error('socket hang up')),
      () => Promise.resolve(),
    ]);
    const s = partition(0);
    const record = enqueue(s);
    const start = Date.now();
    settler.settle(record, original, 2);
    await jest.advanceTimersByTimeAsync(1_000 + 2_000 + 3_000);
    expect(sent.map((t) => t - start)).toEqual([1_000, 3_000, 6_000]);
    expect(accepted).toEqual([record]);
    expect(seen.map((x) => x.attempt)).toEqual([2, 3, 4]);
    // The errors themselves: no retriable stand-in made up to keep the policy going.
    expect(seen[0]!.error).toBe(original);
    expect(seen[1]).toMatchObject({ error: busy, retryAfterMillis: 5_000 });
    expect((seen[2]!.error as Error).message).toBe('socket hang up');
    expect(s.lastError?.message).toBe('socket hang up');
    expect(settler.active).toBe(0);
  });

  it('waits 30 s between attempts once the policy gives up, and stops when the partition is revoked', async () => {
    const retry: RetryPolicy = { nextDelay: () => ({ retry: false }), delayAfter: () => undefined };
    const { settler, sent } = blocking(retry, [() => Promise.reject(new Error('down'))]);
    const s = partition(0);
    const start = Date.now();
    settler.settle(enqueue(s), new SinkError('HTTP 400', { retriable: false }), 1);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(sent.map((t) => t - start)).toEqual([30_000, 60_000]);
    s.revoked = true;
    await jest.advanceTimersByTimeAsync(120_000);
    expect(sent).toHaveLength(2);
    expect(settler.active).toBe(0);
  });
});
