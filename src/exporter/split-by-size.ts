import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { MessageTooLargeError } from '../errors/errors';

/** A group of spans and their encoding, no larger than the limit it was made for. */
export interface EncodedChunk {
  spans: ReadableSpan[];
  bytes: Uint8Array;
}

/** What {@link encodeWithinLimit} could not fit: single spans above the limit. */
export interface OversizeSpan {
  span: ReadableSpan;
  sizeBytes: number;
}

export interface SplitResult {
  chunks: EncodedChunk[];
  oversize: OversizeSpan[];
}

/**
 * Encodes `spans` as one value when it fits in `maxBytes`, otherwise splits them (by resource, then by
 * instrumentation scope, then into even runs of spans) and encodes each part, recursively, until every part
 * fits. A single span that alone exceeds the limit cannot be split: it is returned in `oversize`, never
 * silently dropped.
 *
 * `onChunk` hears each chunk as soon as it is encoded, before the next call of `encode`: with it, `encode` may
 * return bytes valid only until its next call (a view of a reused buffer), as long as `onChunk` uses or copies
 * them at once. The chunks returned then hold such views too: only their lengths still mean anything.
 */
export function encodeWithinLimit(
  spans: ReadableSpan[],
  encode: (spans: ReadableSpan[]) => Uint8Array,
  maxBytes: number,
  onChunk?: (chunk: EncodedChunk) => void,
): SplitResult {
  const result: SplitResult = { chunks: [], oversize: [] };
  split(spans, encode, maxBytes, result, onChunk);
  return result;
}

function split(
  spans: ReadableSpan[],
  encode: (spans: ReadableSpan[]) => Uint8Array,
  maxBytes: number,
  out: SplitResult,
  onChunk: ((chunk: EncodedChunk) => void) | undefined,
): void {
  const bytes = encode(spans);
  if (bytes.length <= maxBytes) {
    const chunk = { spans, bytes };
    out.chunks.push(chunk);
    onChunk?.(chunk);
    return;
  }
  const [first] = spans;
  if (spans.length === 1 && first) {
    out.oversize.push({ span: first, sizeBytes: bytes.length });
    return;
  }
  for (const part of partition(spans, bytes.length, maxBytes)) split(part, encode, maxBytes, out, onChunk);
}

function partition(spans: ReadableSpan[], sizeBytes: number, maxBytes: number): ReadableSpan[][] {
  const byResource = groupBy(spans, (s) => s.resource);
  if (byResource.length > 1) return byResource;
  const byScope = groupBy(spans, (s) => `${s.instrumentationScope.name}\0${s.instrumentationScope.version ?? ''}`);
  if (byScope.length > 1) return byScope;
  // Aim for parts at ~90% of the limit so that most need no further split.
  const parts = Math.min(spans.length, Math.max(2, Math.ceil(sizeBytes / (maxBytes * 0.9))));
  const size = Math.ceil(spans.length / parts);
  const out: ReadableSpan[][] = [];
  for (let i = 0; i < spans.length; i += size) out.push(spans.slice(i, i + size));
  return out;
}

function groupBy<K>(spans: ReadableSpan[], key: (s: ReadableSpan) => K): ReadableSpan[][] {
  const groups = new Map<K, ReadableSpan[]>();
  for (const span of spans) {
    const k = key(span);
    const g = groups.get(k);
    if (g) g.push(span);
    else groups.set(k, [span]);
  }
  return [...groups.values()];
}

/** The error an export reports for spans that can never fit in one Kafka message. */
export function oversizeError(oversize: OversizeSpan[], maxBytes: number): MessageTooLargeError {
  const largest = oversize.reduce((a, b) => (b.sizeBytes > a.sizeBytes ? b : a));
  const ctx = largest.span.spanContext();
  return new MessageTooLargeError(
    `${oversize.length} span(s) larger than exporter.maxMessageBytes (${maxBytes} bytes) cannot be produced; ` +
      `largest: '${largest.span.name}' (trace ${ctx.traceId}, span ${ctx.spanId}) encodes to ${largest.sizeBytes} bytes`,
    largest.sizeBytes,
    maxBytes,
  );
}
