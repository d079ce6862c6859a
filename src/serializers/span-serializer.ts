import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * Encodes finished spans into the bytes of one Kafka message value.
 *
 * @remarks
 * The built-ins produce an OTLP `ExportTraceServiceRequest`: `otlp_proto` (the default, the OTel
 * Collector's `otlp_proto` encoding) and `otlp_json`. A custom serializer must produce something its
 * consumer understands; the forwarder's OTLP sinks expect one of the two built-in encodings.
 *
 * @example
 * ```ts
 * const serializer: SpanSerializer = {
 *   contentType: 'application/json',
 *   serialize: (spans) => new TextEncoder().encode(JSON.stringify(spans.map((s) => s.name))),
 * };
 * ```
 */
export interface SpanSerializer {
  /** The `content-type` header written with every message, e.g. `application/x-protobuf`. */
  readonly contentType: string;
  /** Encodes the spans as one message value. Throwing fails the export of these spans. */
  serialize(spans: ReadableSpan[]): Uint8Array;
}
