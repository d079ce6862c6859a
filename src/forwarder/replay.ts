// Replay: re-send a range of the topic (by time or by offsets) to a sink with the forwarder's delivery (retry,
// bisection) and undeliverable handling, read with the range reader's consumer, which joins no group and
// commits nothing, so the live group's offsets never move.
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Message } from '@confluentinc/kafka-javascript';

import type { ResolvedKafkaConfig } from '../config/kafka';
import type { ResolvedForwarderConfig } from './forwarder-config';
import { ConfigError, OtelKafkaJaegerError, ShutdownError } from '../errors/errors';
import { adminRdKafkaConfig } from '../kafka/client-config';
import { kafkaLogger } from '../kafka/kafka-logger';
import type { Logger } from '../logging/logger';
import type { Sink } from '../sinks/sink';
import type { DeadLetterWriter } from './dead-letter';
import { deliverBatch } from './delivery';
import type { ForwarderMetrics } from './forwarder-metrics';
import { readRanges } from './range-reader';
import { settleUndeliverable } from './undeliverable';

/** A replay bound: a time (`Date` or milliseconds since the epoch) or an offset per partition. */
export type ReplayBound = Date | number | Readonly<Record<number, number>>;

/** What {@link KafkaToJaegerForwarder.replay} re-sends, and where. */
export interface ReplayOptions {
  /** First record to send (inclusive): the first at or after a time, or an offset per partition. */
  from: ReplayBound;
  /**
   * End of the range (exclusive): the first record at or after a time, or an offset per partition.
   * @defaultValue the end of each partition when the replay starts
   */
  to?: ReplayBound;
  /**
   * Partitions to replay.
   * @defaultValue all partitions of the topic (with per-partition offsets: the partitions named in `from`)
   */
  partitions?: number[];
  /**
   * Where to send the records.
   * @defaultValue the forwarder's sink
   */
  sink?: Sink;
  /** Called after every delivered batch and when a partition is done. */
  onProgress?: (progress: ReplayProgress) => void;
  /** Aborts the replay (it then rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Progress of a replay. */
export interface ReplayProgress {
  /** Records accepted by the sink. */
  records: number;
  /** Spans in those records. */
  spans: number;
  /** Value bytes in those records. */
  bytes: number;
  /** Records that could never be delivered (dead-lettered or, with `onUndeliverable: 'drop'`, dropped). */
  undeliverable: number;
  /** Partitions whose range is fully sent. */
  partitionsDone: number;
  /** Partitions in the replay. */
  partitions: number;
}

/** One partition's replayed range: offsets `fromOffset` (inclusive) to `toOffset` (exclusive). */
export interface ReplayRange {
  /** The partition. */
  partition: number;
  /** First offset sent. */
  fromOffset: number;
  /** End of the range (exclusive). */
  toOffset: number;
}

/** What a finished replay reports. */
export interface ReplayResult extends ReplayProgress {
  /** The ranges read. */
  ranges: ReplayRange[];
  /** How long the replay took. */
  durationMillis: number;
}

export interface ReplayDeps {
  kafka: ResolvedKafkaConfig;
  options: ResolvedForwarderConfig;
  sink: Sink;
  logger: Logger;
  metrics: ForwarderMetrics;
  deadLetters: DeadLetterWriter;
  spansIn: (value: Buffer, contentType: string) => number;
  contentTypeOf: (headers: Record<string, string | Buffer>, value: Buffer | null) => string;
  signal: AbortSignal;
}

interface ReplayRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string | Buffer>;
  timestamp: string;
  contentType: string;
  spans?: number;
}

const CONSUME_BATCH = 1_000;

/** Reads exactly the requested range of every partition and sends it to the sink. */
export async function replayRange(deps: ReplayDeps, request: ReplayOptions): Promise<ReplayResult> {
  const started = Date.now();
  const signal = AbortSignal.any([deps.signal, ...(request.signal ? [request.signal] : [])]);
  const sink = request.sink ?? deps.sink;
  const ranges = (await resolveRanges(deps.kafka, request)).filter((r) => r.toOffset > r.fromOffset);
  const progress: ReplayProgress = {
    records: 0,
    spans: 0,
    bytes: 0,
    undeliverable: 0,
    partitionsDone: 0,
    partitions: ranges.length,
  };
  const report = (): void => request.onProgress?.({ ...progress });
  if (ranges.length === 0) {
    report();
    return { ...progress, ranges, durationMillis: Date.now() - started };
  }

  deps.logger.info('replay started', { topic: deps.kafka.topic, ranges: JSON.stringify(ranges), sink: sink.name });
  let partitionsDone = 0;
  await readRanges(
    deps.kafka,
    deps.kafka.topic,
    ranges.map((r) => ({ partition: r.partition, from: r.fromOffset, to: r.toOffset })),
    async (messages) => {
      let batch: ReplayRecord[] = [];
      let bytes = 0;
      for (const m of messages) {
        if (!m.value || m.value.length === 0) continue;
        const headers = headersOf(m);
        batch.push({
          partition: m.partition,
          offset: m.offset,
          key: m.key === undefined || m.key === null ? null : Buffer.from(m.key),
          value: m.value,
          headers,
          timestamp: String(m.timestamp ?? ''),
          contentType: deps.contentTypeOf(headers, m.value),
        });
        bytes += m.value.length;
        if (batch.length >= deps.options.maxRecords || bytes >= deps.options.maxBytes) {
          await sendBatch(deps, sink, signal, batch, progress);
          batch = [];
          bytes = 0;
        }
      }
      if (batch.length > 0) await sendBatch(deps, sink, signal, batch, progress);
      report();
    },
    {
      batchSize: CONSUME_BATCH,
      signal,
      groupPrefix: 'okj-replay',
      onPartitionDone: () => {
        progress.partitionsDone = ++partitionsDone;
        report();
      },
    },
  );
  if (signal.aborted) throw abortReason(signal);
  const result: ReplayResult = { ...progress, ranges, durationMillis: Date.now() - started };
  deps.logger.info('replay finished', { records: result.records, spans: result.spans, millis: result.durationMillis });
  return result;
}

async function sendBatch(
  deps: ReplayDeps,
  sink: Sink,
  signal: AbortSignal,
  batch: ReplayRecord[],
  progress: ReplayProgress,
): Promise<void> {
  let blockedBy: OtelKafkaJaegerError | undefined;
  await deliverBatch(batch, {
    sink,
    retry: deps.options.retry,
    signal,
    metrics: deps.metrics,
    logger: deps.logger,
    isLive: () => true,
    block: (_records, error) => {
      blockedBy = error;
      return () => undefined;
    },
    stillFailing: (_records, error) => {
      blockedBy = error;
    },
    accepted: (records) => {
      for (const r of records) {
        progress.records++;
        progress.bytes += r.value.length;
        progress.spans += r.spans ?? deps.spansIn(r.value, r.contentType);
      }
    },
    undeliverable: (record, error, attempts) =>
      settleUndeliverable(record, error, attempts, {
        mode: deps.options.onUndeliverable,
        logger: deps.logger,
        metrics: deps.metrics,
        deadLetters: deps.deadLetters,
        deadLetterTopic: deps.options.deadLetterTopic,
        signal,
        logPrefix: 'replay: ',
        source: (r) => ({ ...r, topic: deps.kafka.topic }),
        block: (r, e) => {
          throw new OtelKafkaJaegerError(
            `replay stopped at partition ${r.partition} offset ${r.offset}, which can never be delivered ` +
              `(onUndeliverable: 'block'): ${e.message}`,
            { code: e.code, cause: e },
          );
        },
        settled: () => {
          progress.undeliverable++;
        },
      }),
  });
  if (signal.aborted) throw abortReason(signal);
  if (blockedBy) deps.logger.info('replay: sink accepted again', { sink: sink.name });
}

function headersOf(m: Message): Record<string, string | Buffer> {
  const out: Record<string, string | Buffer> = {};
  for (const h of m.headers ?? []) for (const [k, v] of Object.entries(h)) out[k] = v;
  return out;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new ShutdownError('replay aborted');
}

/** Turns the request's bounds into offsets per partition, with the admin API (times → offsets). */
async function resolveRanges(kafka: ResolvedKafkaConfig, request: ReplayOptions): Promise<ReplayRange[]> {
  const admin = new KafkaJS.Kafka({
    ...adminRdKafkaConfig(kafka),
    kafkaJS: { logger: kafkaLogger({ debug: noop, info: noop, warn: noop, error: noop }) } as KafkaJS.KafkaConfig,
  }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(kafka.topic);
    const high = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
    const low = new Map(offsets.map((o) => [o.partition, Number(o.low)]));
    const resolveBound = async (bound: ReplayBound, field: string): Promise<Map<number, number>> => {
      if (bound instanceof Date || typeof bound === 'number') {
        const ms = bound instanceof Date ? bound.getTime() : bound;
        if (!Number.isFinite(ms) || ms < 0) throw new ConfigError(field, `expected a time, got ${String(bound)}`);
        const byTime = await admin.fetchTopicOffsetsByTimestamp(kafka.topic, ms);
        // -1: no record at or after that time, i.e. the end of the partition.
        return new Map(
          byTime.map((o) => [o.partition, Number(o.offset) < 0 ? high.get(o.partition)! : Number(o.offset)]),
        );
      }
      if (typeof bound !== 'object' || bound === null) throw new ConfigError(field, 'expected a Date, ms, or offsets');
      const map = new Map<number, number>();
      for (const [p, o] of Object.entries(bound)) {
        const partition = Number(p);
        if (!high.has(partition)) throw new ConfigError(field, `partition ${p} does not exist in ${kafka.topic}`);
        if (!Number.isInteger(o) || o < 0)
          throw new ConfigError(field, `offset ${String(o)} of partition ${p} is invalid`);
        map.set(partition, o);
      }
      return map;
    };
    const from = await resolveBound(request.from, 'replay.from');
    const to = request.to === undefined ? high : await resolveBound(request.to, 'replay.to');
    const explicitOffsets = !(request.from instanceof Date || typeof request.from === 'number');
    const partitions = request.partitions ?? (explicitOffsets ? [...from.keys()] : [...high.keys()]);
    return partitions
      .sort((a, b) => a - b)
      .map((partition) => {
        if (!high.has(partition)) throw new ConfigError('replay.partitions', `partition ${partition} does not exist`);
        const fromOffset = Math.max(from.get(partition) ?? low.get(partition)!, low.get(partition)!);
        const toOffset = Math.min(to.get(partition) ?? high.get(partition)!, high.get(partition)!);
        return { partition, fromOffset, toOffset };
      });
  } finally {
    await admin.disconnect();
  }
}

function noop(): void {
  return undefined;
}
