import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import type { TopicLayout } from '../kafka/delivery-producer';
import type { KeyPartitioner } from '../kafka/partitioner';

/** Spans bound for one partition. */
export interface PartitionGroup {
  partition: number;
  spans: ReadableSpan[];
}

/**
 * The spans grouped by the partition a message keyed by their trace id (hex) would go to, in partition
 * order; spans keep their order within a group. A partition without a leader hands its spans to the next
 * partition that has one (so they can be acknowledged), or keeps them when none has.
 */
export function groupByPartition(
  spans: readonly ReadableSpan[],
  layout: TopicLayout,
  partitionOf: KeyPartitioner,
): PartitionGroup[] {
  const count = layout.partitions;
  const groups = new Array<ReadableSpan[] | undefined>(count);
  let lastTraceId = '';
  let partition = 0;
  for (const span of spans) {
    const traceId = span.spanContext().traceId;
    // Spans of a trace usually end together, so a batch holds them side by side.
    if (traceId !== lastTraceId) {
      lastTraceId = traceId;
      partition = withLeader(partitionOf(traceId, count), layout);
    }
    const group = groups[partition];
    if (group) group.push(span);
    else groups[partition] = [span];
  }
  const out: PartitionGroup[] = [];
  groups.forEach((group, p) => {
    if (group) out.push({ partition: p, spans: group });
  });
  return out;
}

function withLeader(partition: number, layout: TopicLayout): number {
  if (layout.hasLeader[partition]) return partition;
  for (let i = 1; i < layout.partitions; i++) {
    const next = (partition + i) % layout.partitions;
    if (layout.hasLeader[next]) return next;
  }
  return partition;
}
