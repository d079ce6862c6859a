// A record the sink can never accept (undecodable, refused with a 4xx, retries run out): dead-letter it, block
// on it, or drop it, as `onUndeliverable` says. Shared by the live forwarder and replay; what blocking means and
// what a settled record does to offsets is the caller's.
import type { OnUndeliverable } from '../config/types';
import type { OtelKafkaJaegerError } from '../errors/errors';
import type { Logger } from '../logging/logger';
import type { DeadLetterSource, DeadLetterWriter } from './dead-letter';
import type { ForwarderMetrics } from './forwarder-metrics';

/** What {@link settleUndeliverable} needs; `R` is the caller's record. */
export interface UndeliverableContext<R> {
  readonly mode: OnUndeliverable;
  readonly logger: Logger;
  readonly metrics: ForwarderMetrics;
  readonly deadLetters: DeadLetterWriter;
  readonly deadLetterTopic: string;
  readonly signal: AbortSignal;
  /** Prefix of every log line (e.g. `replay: `). */
  readonly logPrefix?: string;
  /** Where the record came from: what its dead letter carries besides provenance. */
  source(record: R): DeadLetterSource;
  /** `block`: what blocking on the record means (retrying it until accepted; failing a replay), logged there. */
  block(record: R, error: OtelKafkaJaegerError, attempts: number): Promise<void>;
  /** The record was dropped or dead-lettered (for `error`): nothing more to do with it. */
  settled(record: R, how: 'dropped' | 'dead-lettered', error: OtelKafkaJaegerError): void;
  /**
   * Writing the dead letter failed (at every failure; the writer goes on retrying until it succeeds or the signal
   * aborts). Never drop: the live forwarder blocks the record's partition meanwhile.
   */
  deadLetterFailing?(record: R, failure: OtelKafkaJaegerError): void;
  /** Writing is over (written or aborted), after any {@link deadLetterFailing}. */
  deadLetterDone?(record: R): void;
}

/** Settles an undeliverable record as `ctx.mode` says; resolves once it is settled (or aborted). */
export async function settleUndeliverable<R>(
  record: R,
  error: OtelKafkaJaegerError,
  attempts: number,
  ctx: UndeliverableContext<R>,
): Promise<void> {
  const prefix = ctx.logPrefix ?? '';
  const source = ctx.source(record);
  const where = { partition: source.partition, offset: source.offset, code: error.code, error: error.message };
  if (ctx.mode === 'drop') {
    ctx.settled(record, 'dropped', error);
    ctx.metrics.dropped.add(1);
    ctx.logger.warn(`${prefix}undeliverable record dropped (onUndeliverable: 'drop')`, where);
    return;
  }
  if (ctx.mode === 'block') {
    await ctx.block(record, error, attempts);
    return;
  }
  ctx.logger.warn(`${prefix}undeliverable record; writing it to the dead-letter topic`, {
    ...where,
    topic: ctx.deadLetterTopic,
  });
  let written: boolean;
  try {
    // The writer logs its own failures (a permanent one at error level, rate-limited).
    written = await ctx.deadLetters.write(source, error, attempts, ctx.signal, (failure) =>
      ctx.deadLetterFailing?.(record, failure),
    );
  } finally {
    ctx.deadLetterDone?.(record);
  }
  if (written) ctx.settled(record, 'dead-lettered', error);
}
