import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Spans grouped by trace id (hex), in first-seen order; spans keep their order within a trace. */
export function groupByTrace(spans: readonly ReadableSpan[]): Map<string, ReadableSpan[]> {
  const groups = new Map<string, ReadableSpan[]>();
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    const group = groups.get(traceId);
    if (group) group.push(span);
    else groups.set(traceId, [span]);
  }
  return groups;
}
