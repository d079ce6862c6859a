// The live forwarder's undeliverable records, settled on the side of the request that found them: a record
// waiting for the dead-letter topic, or blocked on with `onUndeliverable: 'block'`, holds its own partition's
// commit position, not the rest of its batch (other partitions) nor a request slot.
import type { ResolvedForwarderConfig } from './forwarder-config';
import type { OtelKafkaJaegerError } from '../errors/errors';
import type { Logger } from '../logging/logger';
import { runRetries } from '../retry/retry-engine';
import { nativeRecordHeaders } from '../serializers/record-content';
import type { Sink, SinkResult } from '../sinks/sink';
import type { DeadLetterSource, DeadLetterWriter } from './dead-letter';
import { asSinkError } from './delivery';
import type { ForwarderMetrics } from './forwarder-metrics';
import { errorInfo } from './partition-state';
import type { ForwardRecord } from './partition-state';
import type { PauseController } from './pause-controller';
import { settleUndeliverable } from './undeliverable';
import type { UndeliverableContext } from './undeliverable';

/** How long a blocked record waits between attempts when the retry policy says to give up. */
const BLOCKED_RETRY_MILLIS = 30_000;

export interface SideSettlerOptions {
  readonly options: Pick<ResolvedForwarderConfig, 'onUndeliverable' | 'retry' | 'deadLetterTopic'>;
  readonly sink: Sink;
  readonly logger: Logger;
  readonly metrics: ForwarderMetrics;
  readonly deadLetters: DeadLetterWriter;
  readonly pauses: PauseController;
  readonly signal: AbortSignal;
  /** A blocked record the sink finally accepted. */
  accepted(records: ForwardRecord[], result: SinkResult | undefined): void;
  /** A settlement ended, however (release the record's bytes when it is done, start what can start). */
  settled(record: ForwardRecord): void;
  /** A settlement threw (a custom logger or retry policy failing): the record must be tried again. */
  requeue(records: ForwardRecord[], err: unknown): void;
}

/** Settles undeliverable records, each on its own, as `onUndeliverable` says. */
export class SideSettler {
  readonly #o: SideSettlerOptions;
  readonly #ctx: UndeliverableContext<ForwardRecord>;
  #active = 0;

  constructor(options: SideSettlerOptions) {
    this.#o = options;
    const blocked = new Set<ForwardRecord>();
    this.#ctx = {
      mode: options.options.onUndeliverable,
      logger: options.logger,
      metrics: options.metrics,
      deadLetters: options.deadLetters,
      deadLetterTopic: options.options.deadLetterTopic,
      signal: options.signal,
      source: deadLetterSource,
      block: (record, error, attempts) => this.#blockOn(record, error, attempts),
      settled: (record, how, error) => {
        const s = record.state;
        if (s.revoked) return;
        s.ledger.complete(record.offset);
        record.done = true;
        if (how === 'dead-lettered') s.lastError = errorInfo(error);
      },
      // Never drop: a dead-letter topic that cannot be written blocks the partition until it can.
      deadLetterFailing: (record, failure) => {
        if (!blocked.has(record)) {
          blocked.add(record);
          options.pauses.block(record.state, failure);
        }
        record.state.lastError = errorInfo(failure);
      },
      deadLetterDone: (record) => {
        if (blocked.delete(record)) options.pauses.unblock(record.state);
      },
    };
  }

  /** Settlements under way. */
  get active(): number {
    return this.#active;
  }

  /** Starts settling `record`; never throws. */
  settle(record: ForwardRecord, error: OtelKafkaJaegerError, attempts: number): void {
    record.settling = true;
    this.#active++;
    void settleUndeliverable(record, error, attempts, this.#ctx)
      .catch((err: unknown) => {
        record.settling = false;
        this.#o.requeue([record], err);
      })
      .finally(() => {
        record.settling = false;
        this.#active--;
        this.#o.settled(record);
      })
      .catch(() => undefined);
  }

  /** `onUndeliverable: 'block'`: retries the record alone until the sink accepts it, one record of a partition at a time. */
  async #blockOn(record: ForwardRecord, error: OtelKafkaJaegerError, attempts: number): Promise<void> {
    const s = record.state;
    this.#o.logger.error("undeliverable record; partition blocked until it is accepted (onUndeliverable: 'block')", {
      partition: s.partition,
      offset: record.offset,
      code: error.code,
      error: error.message,
    });
    // Retries running out can hand over a whole batch at once.
    const turn = s.blockChain.then(() => this.#retryUntilAccepted(record, error, attempts));
    s.blockChain = turn.catch(() => undefined);
    await turn;
  }

  async #retryUntilAccepted(record: ForwardRecord, error: OtelKafkaJaegerError, attempts: number): Promise<void> {
    const { pauses, signal, sink, metrics } = this.#o;
    const retry = this.#o.options.retry;
    const s = record.state;
    pauses.block(s, error);
    try {
      await runRetries(
        async () => {
          metrics.retries.add(1, { target: 'sink' });
          try {
            const result = await sink.send([{ value: record.value, contentType: record.contentType }], { signal });
            this.#o.accepted([record], result ?? undefined);
          } catch (err) {
            throw asSinkError(err);
          }
        },
        retry,
        {
          signal,
          stopped: () => s.revoked,
          // The record is retried until accepted, whatever the error says: blocking is what was asked for.
          retriable: () => true,
          resume: { attempts, error },
          persistMillis: BLOCKED_RETRY_MILLIS,
          onFailure: (err) => {
            s.lastError = errorInfo(err as OtelKafkaJaegerError);
          },
        },
      );
    } finally {
      pauses.unblock(s);
    }
  }
}

/** What a dead letter of a live record carries besides provenance. */
function deadLetterSource(record: ForwardRecord): DeadLetterSource {
  const m = record.message;
  return {
    topic: record.state.topic,
    partition: record.state.partition,
    offset: record.offset,
    key: m.key === undefined || m.key === null ? null : Buffer.from(m.key),
    value: record.value,
    headers: nativeRecordHeaders(m.headers),
    timestamp: m.timestamp === undefined ? '' : String(m.timestamp),
  };
}
