// Connecting a librdkafka client within a time limit that a shutdown can cut short.
//
// The binding's connect() creates the client and then waits for cluster metadata on a libuv worker thread, for
// as long as its `timeout` (30 s when none is given). Nothing cancels that wait: while it lasts, the process
// cannot exit, whatever the caller has given up on. So one long wait is split into attempts of a few seconds on
// the same client object (the binding destroys the failed handle and makes a fresh one on the next connect):
// a shutdown stops the loop between attempts, and the process is free once the current attempt ends.
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';

import { withoutThreadTag } from './kafka-logger';
import type { ClientLogLine } from './kafka-logger';
import { OtelKafkaJaegerError, ShutdownError } from '../errors/errors';
import { isRetriableKafkaCode, kafkaCodeOf } from './kafka-errors';

/** The longest a connect waits for metadata in one go, so an abandoned connect frees the process within it. */
export const MAX_ATTEMPT_MILLIS = 4_000;
/**
 * The first attempt's wait. Each later one doubles it, up to {@link MAX_ATTEMPT_MILLIS}, unless the client
 * reported a connection problem during the attempt before (the broker answers, with a refusal): then it stays
 * this short, and an abandoned connect frees the process within it.
 */
export const FIRST_ATTEMPT_MILLIS = 1_000;
/** An attempt that failed faster than this is followed by a pause of this length, never a busy loop. */
const MIN_ATTEMPT_GAP_MILLIS = 250;

/** What the binding's Producer and KafkaConsumer offer to connect. */
export interface NativeConnectable<M> {
  connect(
    options: { timeout: number; topic?: string; allTopics?: boolean },
    callback: (err: LibrdKafkaError | null | undefined, metadata?: M) => void,
  ): unknown;
}

/**
 * The connection problems a client's log reported (warnings and errors: "Connect to ... failed: Connection
 * refused"). A broker that answers with a failure is retried with short attempts; one that is silent (an address
 * that drops packets, or a slow handshake) with longer ones.
 */
export class ConnectProblems {
  #last: string | undefined;
  #count = 0;

  /** Hears one of the client's log lines. */
  note(line: ClientLogLine): void {
    if (line.severity > 4) return;
    this.#last = withoutThreadTag(line.message);
    this.#count++;
  }

  /** The last problem reported, if any. */
  get last(): string | undefined {
    return this.#last;
  }

  /** How many problems were reported. */
  get count(): number {
    return this.#count;
  }

  /** Forgets them (a new connect starts). */
  clear(): void {
    this.#last = undefined;
    this.#count = 0;
  }
}

/** How {@link connectWithin} waits. */
export interface ConnectWithinOptions {
  /** The whole connect's time limit (`kafka.connectTimeoutMillis`). */
  timeoutMillis: number;
  /** Aborted by a shutdown: no attempt starts after it, and the connect rejects with its reason. */
  signal?: AbortSignal;
  /** Metadata the connect fetches (the binding's default: every topic). */
  metadata?: { topic?: string; allTopics?: boolean };
  /** What the caller learned meanwhile (e.g. a refusal named in the client's log): ends the wait at once. */
  refused?: () => Error | undefined;
  /** The client's connection problems, as its log reports them: for the timeout's message and the attempts' length. */
  problems?: ConnectProblems;
  /** Brokers, for the messages. */
  brokers: readonly string[];
}

/**
 * Connects `client` (fetching metadata) within `timeoutMillis`: attempts of {@link FIRST_ATTEMPT_MILLIS} doubling
 * up to {@link MAX_ATTEMPT_MILLIS} (see there), until one succeeds, the time is up, a non-retriable error comes, `refused()`
 * names a cause, or `signal` is aborted.
 *
 * @throws an {@link OtelKafkaJaegerError} `KAFKA_UNAVAILABLE` (retriable) when the time is up, naming the brokers
 *   and the last problem seen; the client's own error when it is not retriable; `refused()`'s error; or the
 *   signal's reason (a {@link ShutdownError} unless the caller gave another).
 */
export async function connectWithin<M>(client: NativeConnectable<M>, options: ConnectWithinOptions): Promise<M> {
  const { timeoutMillis, signal } = options;
  const deadline = Date.now() + timeoutMillis;
  let attemptMillis = FIRST_ATTEMPT_MILLIS;
  let lastError: unknown;
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    const refusal = options.refused?.();
    if (refusal) throw refusal;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw timedOut(options, lastError);
    const wait = Math.max(1, Math.min(attemptMillis, remaining));
    const started = Date.now();
    const problemsBefore = options.problems?.count ?? 0;
    try {
      return await new Promise<M>((resolve, reject) => {
        client.connect({ ...options.metadata, timeout: wait }, (err, metadata) =>
          err ? reject(asError(err)) : resolve(metadata as M),
        );
      });
    } catch (err) {
      lastError = err;
      const code = kafkaCodeOf(err);
      // Timed out, transport failures, all brokers down: the cluster may answer the next attempt. Anything else
      // (a configuration librdkafka refuses, failed authentication) will not pass by waiting.
      if (code === undefined || isRetriableKafkaCode(code) !== true) throw options.refused?.() ?? err;
      const answered = (options.problems?.count ?? 0) > problemsBefore;
      attemptMillis = answered ? FIRST_ATTEMPT_MILLIS : Math.min(attemptMillis * 2, MAX_ATTEMPT_MILLIS);
      if (Date.now() - started < MIN_ATTEMPT_GAP_MILLIS) await pause(MIN_ATTEMPT_GAP_MILLIS, signal);
    }
  }
}

function timedOut(options: ConnectWithinOptions, lastError: unknown): OtelKafkaJaegerError {
  const problem = options.problems?.last;
  const answer = lastError instanceof Error ? lastError.message : '';
  const detail = problem ? `; last connection problem: ${problem}` : answer ? ` (${answer})` : '';
  return new OtelKafkaJaegerError(
    `no Kafka broker at ${options.brokers.join(',')} answered within ${options.timeoutMillis} ms ` +
      `(kafka.connectTimeoutMillis)${detail}`,
    { code: 'KAFKA_UNAVAILABLE', retriable: true, cause: lastError },
  );
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new ShutdownError('connect abandoned: shutting down');
}

function pause(millis: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, millis);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
