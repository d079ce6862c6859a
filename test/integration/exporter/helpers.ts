import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import type { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { decodeTraceRequest } from '../../../src/serializers/otlp/decode';
import { readToEnd } from '../harness/kafka';
import type { ConsumedRecord } from '../harness/kafka';
import { endpoints } from '../harness/stack';

// One home in the harness; re-exported for the exporter tests that import their helpers from here.
export { readToEnd };

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
