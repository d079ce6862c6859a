import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import type { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { decodeTraceRequest } from '../../../src/serializers/otlp-decoder';
import { endOffsets, kafkaClient } from '../harness/kafka';
import type { ConsumedRecord } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';

/** A config for the test stack's broker and the given topic. */
export function testConfig(topic: string, extra: Omit<OtelKafkaJaegerConfig, 'kafka'> = {}): OtelKafkaJaegerConfig {
  return { kafka: { brokers: endpoints.kafkaBrokers, topic, clientId: 'okj-int-tests' }, ...extra };
}

/** export() as a promise of its one result; fails the test if the callback fires twice. */
export function exportSpans(exporter: KafkaSpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve, reject) => {
    let calls = 0;
    exporter.export(spans, (result) => {
      calls++;
      if (calls > 1) reject(new Error('export() called back twice'));
      else resolve(result);
    });
  });
}

export const SUCCESS = ExportResultCode.SUCCESS;
export const FAILED = ExportResultCode.FAILED;

/** HrTime → unix nanoseconds. */
export function nanos(t: [number, number]): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

/**
 * Every record of `topic` from its beginning up to the end offsets it had when this was called, or fails
 * after `timeoutMillis` saying which partition fell short. Reading to the end, rather than to a count,
 * shows records nobody expected: duplicates, extras, a late delivery.
 */
export async function readToEnd(topic: string, opts: { timeoutMillis?: number } = {}): Promise<ConsumedRecord[]> {
  const timeoutMillis = opts.timeoutMillis ?? 30_000;
  const ends = await endOffsets(topic);
  const behind = new Map([...ends].filter(([, end]) => end > 0));
  if (behind.size === 0) return [];
  const consumer = kafkaClient().consumer({
    kafkaJS: { groupId: uniqueName('okj-read-to-end'), fromBeginning: true, autoCommit: false },
  });
  const records: ConsumedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const short = [...behind.keys()].map((p) => `partition ${p} (end ${ends.get(p)})`).join(', ');
        reject(new Error(`readToEnd(${topic}): ${short} not read to the end within ${timeoutMillis} ms`));
      }, timeoutMillis);
      consumer
        .run({
          eachMessage: ({ partition, message }) => {
            const offset = Number(message.offset);
            // Records behind the snapshot are someone else's question.
            if (offset < (ends.get(partition) ?? 0)) {
              const headers: Record<string, Buffer> = {};
              for (const [k, v] of Object.entries(message.headers ?? {})) {
                if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v : Buffer.from(String(v));
              }
              records.push({
                topic,
                partition,
                offset: message.offset,
                timestamp: message.timestamp,
                key: message.key,
                value: message.value,
                headers,
              });
            }
            if (offset + 1 >= (ends.get(partition) ?? 0)) behind.delete(partition);
            if (behind.size === 0) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** The span ids in OTLP records, in record order (a span id twice means the span arrived twice). */
export function spanIdsOf(records: ConsumedRecord[]): string[] {
  return records.flatMap((r) => {
    const contentType = r.headers['content-type']?.toString();
    return decodeTraceRequest(r.value!, contentType).resourceSpans.flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.spanId)),
    );
  });
}

/** Span ids, sorted: compare with `toEqual` to assert each expected span exactly once and nothing else. */
export function sortedIds(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

/** The span ids of ended spans. */
export function idsOf(spans: ReadableSpan[]): string[] {
  return spans.map((s) => s.spanContext().spanId);
}
