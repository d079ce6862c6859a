// Delivery of a batch of records to a sink: retries retriable failures with the retry policy, bisects a batch
// that fails permanently so that only the bad records are undeliverable. Shared by the live forwarder and
// replay; what "blocked", "accepted" and "undeliverable" mean is the caller's.
import { OtelKafkaJaegerError, RetriesExhaustedError, SerializationError, SinkError } from '../errors/errors';
import type { Logger } from '../logging/logger';
import type { RetryPolicy } from '../retry/retry-policy';
import { runRetries } from '../retry/retry-engine';
import { findDuplicateKey } from '../serializers/json-duplicate-keys';
import { countSpans } from '../serializers/otlp/wire-walk';
import { decodeTraceRequest } from '../serializers/otlp/decode';
import { OTLP_JSON_CONTENT_TYPE, OTLP_PROTO_CONTENT_TYPE } from '../serializers/otlp-serializers';
import { ConversionPacer, maxDecodedObjects } from '../sinks/record-conversion';
import type { Sink, SinkResult } from '../sinks/sink';
import type { ForwarderMetrics } from './forwarder-metrics';

/** What delivery needs of a record. */
export interface DeliverableRecord {
  readonly value: Buffer;
  readonly contentType: string;
  /** Spans in the record, once {@link deliverBatch} checked it (OTLP protobuf and JSON records). */
  spans?: number;
}

export interface DeliveryContext<R extends DeliverableRecord> {
  readonly sink: Sink;
  readonly retry: RetryPolicy;
  readonly signal: AbortSignal;
  readonly metrics: ForwarderMetrics;
  readonly logger: Logger;
  /** False for records whose results no longer matter (their partition was revoked). */
  isLive(record: R): boolean;
  /** Called at a batch's first retriable failure; returns what undoes it once the batch is settled. */
  block(records: R[], error: OtelKafkaJaegerError): () => void;
  /** Called at every later failure of the same batch. */
  stillFailing(records: R[], error: OtelKafkaJaegerError): void;
  accepted(records: R[], result: SinkResult | undefined): void;
  undeliverable(record: R, error: OtelKafkaJaegerError, attempts: number): Promise<void>;
}

/**
 * Delivers a batch: records that cannot be a valid export are undeliverable at once and never sent, the rest
 * goes to {@link deliverRecords}.
 *
 * @remarks
 * Sinks concatenate protobuf records into one request (concatenated `ExportTraceServiceRequest`s are one valid
 * request). A truncated or random record could declare a field longer than itself and swallow the records
 * after it; a receiver that skips unknown fields would then answer 200 and those spans would be lost without
 * an error. Walking each record's framing down to its spans (no decoding) rules that out, and gives the span
 * count for the metrics.
 *
 * A non-empty record holding no span is not a valid export either: a flipped bit that turns `resource_spans`
 * into an unknown field, or `{"not":"protobuf"}` read as OTLP/JSON, would be accepted by a receiver (200, 0
 * spans) and committed, its spans gone. Such a record is undeliverable, with the reason. OTLP/JSON records are
 * decoded here (one at a time, so a batch never holds more than one decoded record) and refused when an object
 * repeats a key, which readers resolve differently (`JSON.parse` keeps the last one).
 */
export async function deliverBatch<R extends DeliverableRecord>(records: R[], ctx: DeliveryContext<R>): Promise<void> {
  let broken: { record: R; error: SerializationError }[] | undefined;
  let good = records;
  // Decoding a batch of large JSON records takes long enough to starve the consumer and the sink's sockets.
  const pacer = new ConversionPacer(ctx.signal);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.contentType === OTLP_JSON_CONTENT_TYPE && r.spans === undefined) {
      try {
        await pacer.pace();
      } catch {
        return; // stopping: nothing settled, so nothing is committed
      }
    }
    const error = checkRecord(r);
    if (error !== undefined) {
      if (!broken) {
        broken = [];
        good = records.slice(0, i);
      }
      broken.push({ record: r, error });
      continue;
    }
    if (broken) good.push(r);
  }
  if (!broken) return deliverRecords(records, ctx);
  await Promise.all([
    good.length > 0 ? deliverRecords(good, ctx) : undefined,
    ...broken.map(({ record, error }) => (ctx.isLive(record) ? ctx.undeliverable(record, error, 0) : undefined)),
  ]);
}

/** Counts the record's spans (into `spans`) and returns why it cannot be sent, if it cannot. */
function checkRecord(r: DeliverableRecord): SerializationError | undefined {
  if (r.spans === undefined) {
    try {
      if (r.contentType === OTLP_PROTO_CONTENT_TYPE) r.spans = countSpans(r.value);
      else if (r.contentType === OTLP_JSON_CONTENT_TYPE) r.spans = countJsonSpans(r.value);
      // Any other content type: the sink says why it cannot send it.
      else return undefined;
    } catch (err) {
      if (err instanceof SerializationError) return err;
      // A record nothing can read, however it fails (e.g. a RangeError deep in a parser): its own fault.
      return new SerializationError(`record cannot be read: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }
  if (r.spans === 0 && r.value.length > 0) {
    const format = r.contentType === OTLP_JSON_CONTENT_TYPE ? 'OTLP/JSON' : 'OTLP protobuf';
    return new SerializationError(
      `record of ${r.value.length} bytes holds no span as ${format} (a trace export with no span: damaged, ` +
        `or not OTLP traces); sending it would commit it with nothing stored`,
    );
  }
  return undefined;
}

/** Spans of an OTLP/JSON record, after checking that no object repeats a key. */
function countJsonSpans(value: Buffer): number {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch (err) {
    throw new SerializationError('not an OTLP/JSON ExportTraceServiceRequest: invalid UTF-8', err);
  }
  // Capped as the sinks cap their conversions: a record of hundreds of thousands of empty objects is refused
  // before its decoded model can take a large share of the heap.
  const request = decodeTraceRequest(value, OTLP_JSON_CONTENT_TYPE, { maxObjects: maxDecodedObjects(value.length) });
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    throw new SerializationError(
      `not an OTLP/JSON ExportTraceServiceRequest: key ${JSON.stringify(duplicate.key.slice(0, 100))} appears twice in one ` +
        `object (at character ${duplicate.position}); readers disagree on which to keep, so spans could be lost`,
    );
  }
  let spans = 0;
  for (const rs of request.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
  return spans;
}

/** Delivers `records` as one sink request (or, after a permanent failure, as halves, recursively). */
export async function deliverRecords<R extends DeliverableRecord>(
  records: R[],
  ctx: DeliveryContext<R>,
): Promise<void> {
  let release: (() => void) | undefined;
  try {
    const result = await runRetries(
      async () => {
        records = records.filter((r) => ctx.isLive(r));
        if (records.length === 0) return;
        const started = performance.now();
        try {
          const result = await ctx.sink.send(
            records.map((r) => ({ value: r.value, contentType: r.contentType })),
            { signal: ctx.signal },
          );
          ctx.metrics.sinkDuration.record((performance.now() - started) / 1000, { outcome: 'success' });
          ctx.accepted(records, result ?? undefined);
          return;
        } catch (err) {
          ctx.metrics.sinkDuration.record((performance.now() - started) / 1000, { outcome: 'failure' });
          // Aborted meanwhile: the engine ends the run without looking at the error.
          throw ctx.signal.aborted ? err : asSinkError(err);
        }
      },
      ctx.retry,
      {
        signal: ctx.signal,
        onFailure: (err) => {
          const error = err as OtelKafkaJaegerError;
          ctx.metrics.sinkErrors.add(1, {
            'error.class': error.retriable ? 'retriable' : 'permanent',
            'error.type': errorType(error),
          });
          if (!error.retriable) return;
          if (release) ctx.stillFailing(records, error);
          else release = ctx.block(records, error);
        },
        onRetry: ({ attempt, delayMillis, error }) => {
          ctx.metrics.retries.add(1, { target: 'sink' });
          ctx.logger.warn('sink request failed; retrying', {
            sink: ctx.sink.name,
            attempt,
            delayMillis: Math.round(delayMillis),
            records: records.length,
            error: (error as OtelKafkaJaegerError).message,
          });
        },
      },
    );
    if (result.outcome === 'not-retriable') {
      const error = result.error as OtelKafkaJaegerError;
      if (records.length > 1) {
        const mid = Math.ceil(records.length / 2);
        await deliverRecords(records.slice(0, mid), ctx);
        await deliverRecords(records.slice(mid), ctx);
      } else {
        await ctx.undeliverable(records[0]!, error, result.attempts);
      }
    } else if (result.outcome === 'exhausted') {
      const last = result.error as OtelKafkaJaegerError;
      const exhausted = new RetriesExhaustedError(
        `sink ${ctx.sink.name} still failing after ${result.attempts} attempts: ${last.message}`,
        result.errors,
        result.attempts,
      );
      for (const r of records) await ctx.undeliverable(r, exhausted, result.attempts);
    }
  } finally {
    release?.();
  }
}

/** Any sink failure as one of our errors; an unknown one is assumed transient. */
export function asSinkError(err: unknown): OtelKafkaJaegerError {
  if (err instanceof OtelKafkaJaegerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // A custom sink's unknown failure is assumed transient: retrying is the safe default, dropping is not.
  return new SinkError(message, { retriable: true, cause: err });
}

/** A short label for metrics and health: the HTTP status, gRPC code, or error code. */
export function errorType(error: OtelKafkaJaegerError): string {
  if (error instanceof SinkError && error.httpStatus !== undefined) return String(error.httpStatus);
  if (error instanceof SinkError && error.grpcCode !== undefined) return `grpc_${error.grpcCode}`;
  return error.code;
}
