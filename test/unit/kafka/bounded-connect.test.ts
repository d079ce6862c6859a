import { OtelKafkaJaegerError, ShutdownError } from '../../../src/errors/errors';
import { ConnectProblems, connectWithin, MAX_ATTEMPT_MILLIS } from '../../../src/kafka/bounded-connect';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';

import type { NativeConnectable } from '../../../src/kafka/bounded-connect';

const TIMED_OUT = -185;
const INVALID_ARG = -186;

/**
 * A client whose attempts each take their whole timeout on the (fake) clock, as librdkafka's metadata wait does
 * while no broker answers, until `answerFrom` (an attempt index) connects.
 */
class FakeClient implements NativeConnectable<string> {
  readonly timeouts: number[] = [];
  constructor(
    private readonly answerFrom = Infinity,
    private readonly code = TIMED_OUT,
  ) {}

  /** Hears of each failed attempt, as the client's log would report a refused connection. */
  onFailure: () => void = () => {};

  connect(options: { timeout: number }, callback: (err: LibrdKafkaError | null, metadata?: string) => void): void {
    const attempt = this.timeouts.push(options.timeout) - 1;
    if (attempt >= this.answerFrom) {
      setTimeout(() => callback(null, 'metadata'), 10);
      return;
    }
    const err = Object.assign(new Error('Local: Broker transport failure'), {
      code: this.code,
      errno: this.code,
      origin: 'kafka',
    }) as LibrdKafkaError;
    setTimeout(
      () => {
        this.onFailure();
        callback(err);
      },
      this.code === TIMED_OUT ? options.timeout : 0,
    );
  }
}

const settle = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (v) => v,
    (e: unknown) => e,
  );

describe('connectWithin', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('waits in attempts of 1, 2, then at most 4 s until one connects', async () => {
    const client = new FakeClient(4);
    const result = settle(connectWithin(client, { timeoutMillis: 60_000, brokers: ['k:9092'] }));
    await jest.advanceTimersByTimeAsync(20_000);
    expect(await result).toBe('metadata');
    expect(client.timeouts).toEqual([1_000, 2_000, MAX_ATTEMPT_MILLIS, MAX_ATTEMPT_MILLIS, MAX_ATTEMPT_MILLIS]);
  });

  it('fails once the time is up, naming the brokers, the option and the last problem', async () => {
    const client = new FakeClient();
    const problems = new ConnectProblems();
    problems.note({ severity: 7, message: 'a debug line is no problem' });
    problems.note({
      severity: 3,
      message: '[thrd:127.0.0.1:1/bootstrap]: Connect to ipv4#127.0.0.1:1 failed: Connection refused',
    });
    const result = settle(connectWithin(client, { timeoutMillis: 5_000, brokers: ['a:9092', 'b:9092'], problems }));
    await jest.advanceTimersByTimeAsync(6_000);
    const err = (await result) as OtelKafkaJaegerError;
    expect(err).toBeInstanceOf(OtelKafkaJaegerError);
    expect(err.code).toBe('KAFKA_UNAVAILABLE');
    expect(err.retriable).toBe(true);
    expect(err.message).toBe(
      'no Kafka broker at a:9092,b:9092 answered within 5000 ms (kafka.connectTimeoutMillis); ' +
        'last connection problem: Connect to ipv4#127.0.0.1:1 failed: Connection refused',
    );
    // The last attempt waits only for what is left of the time.
    expect(client.timeouts).toEqual([1_000, 2_000, 2_000]);
  });

  it('starts no attempt after the signal aborted, and rejects with its reason once the pending one ends', async () => {
    const client = new FakeClient();
    const abort = new AbortController();
    const result = settle(connectWithin(client, { timeoutMillis: 60_000, brokers: ['k:9092'], signal: abort.signal }));
    await jest.advanceTimersByTimeAsync(1_500);
    abort.abort(new ShutdownError('stopping'));
    await jest.advanceTimersByTimeAsync(600);
    // The second attempt (2 s) is still pending: nothing can cancel it.
    await jest.advanceTimersByTimeAsync(1_000);
    const err = (await result) as Error;
    expect(err).toBeInstanceOf(ShutdownError);
    expect(err.message).toBe('stopping');
    expect(client.timeouts).toEqual([1_000, 2_000]);
  });

  it('keeps attempts short while the broker answers with a failure (a refused connection)', async () => {
    const client = new FakeClient(5);
    const problems = new ConnectProblems();
    let refusals = 0;
    client.onFailure = () => {
      // Refused twice, then silent (e.g. packets dropped), then answered.
      if (++refusals <= 2)
        problems.note({ severity: 3, message: 'Connect to ipv4#10.0.0.1:9092 failed: Connection refused' });
    };
    const result = settle(connectWithin(client, { timeoutMillis: 60_000, brokers: ['k:9092'], problems }));
    await jest.advanceTimersByTimeAsync(20_000);
    expect(await result).toBe('metadata');
    expect(client.timeouts).toEqual([1_000, 1_000, 1_000, 2_000, MAX_ATTEMPT_MILLIS, MAX_ATTEMPT_MILLIS]);
  });

  it('gives up at once on an error no waiting cures', async () => {
    const client = new FakeClient(Infinity, INVALID_ARG);
    const result = settle(connectWithin(client, { timeoutMillis: 60_000, brokers: ['k:9092'] }));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(((await result) as { code: number }).code).toBe(INVALID_ARG);
    expect(client.timeouts).toHaveLength(1);
  });

  it('ends the wait with the refusal the caller learned of, after the pending attempt', async () => {
    const client = new FakeClient();
    const learned: { refusal?: Error } = {};
    const result = settle(
      connectWithin(client, { timeoutMillis: 60_000, brokers: ['k:9092'], refused: () => learned.refusal }),
    );
    await jest.advanceTimersByTimeAsync(500);
    const refusal = new Error('the broker rejected the SASL credentials');
    learned.refusal = refusal;
    await jest.advanceTimersByTimeAsync(600);
    expect(await result).toBe(refusal);
    expect(client.timeouts).toEqual([1_000]);
  });

  it('pauses between attempts that fail at once, instead of spinning', async () => {
    const client = new FakeClient(Infinity, TIMED_OUT);
    // An attempt that fails at once although it is retriable (e.g. a resolver error).
    client.connect = function (options, callback) {
      this.timeouts.push(options.timeout);
      const err = Object.assign(new Error('Local: Host resolution failure'), {
        code: -193,
        errno: -193,
        origin: 'kafka',
      }) as LibrdKafkaError;
      setTimeout(() => callback(err), 0);
    };
    const result = settle(connectWithin(client, { timeoutMillis: 2_000, brokers: ['k:9092'] }));
    await jest.advanceTimersByTimeAsync(2_500);
    expect(((await result) as OtelKafkaJaegerError).code).toBe('KAFKA_UNAVAILABLE');
    expect(client.timeouts.length).toBeGreaterThanOrEqual(7);
    expect(client.timeouts.length).toBeLessThanOrEqual(9);
  });
});
