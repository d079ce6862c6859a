import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { SerializationError } from '../errors/errors';
import type { SpanSerializer } from './span-serializer';

/** Content type of OTLP protobuf, as in OTLP/HTTP and the OTel Collector's Kafka `content-type` header. */
export const OTLP_PROTO_CONTENT_TYPE = 'application/x-protobuf';
/** Content type of OTLP JSON. */
export const OTLP_JSON_CONTENT_TYPE = 'application/json';

function serializeWith(
  serializer: { serializeRequest(spans: ReadableSpan[]): Uint8Array | undefined },
  format: string,
  spans: ReadableSpan[],
): Uint8Array {
  let bytes: Uint8Array | undefined;
  try {
    bytes = serializer.serializeRequest(spans);
  } catch (err) {
    throw new SerializationError(`${format}: cannot encode ${spans.length} spans: ${(err as Error).message}`, err);
  }
  if (!bytes) throw new SerializationError(`${format}: the encoder returned nothing for ${spans.length} spans`);
  return bytes;
}

/**
 * OTLP protobuf (`ExportTraceServiceRequest`), encoded by `@opentelemetry/otlp-transformer`: what the OTel
 * Collector's and Jaeger v2's Kafka receivers read with `encoding: otlp_proto`.
 *
 * @example
 * ```ts
 * const exporter = new KafkaSpanExporter({ kafka: { brokers }, serializer: otlpProtoSerializer() });
 * ```
 */
export function otlpProtoSerializer(): SpanSerializer {
  return {
    contentType: OTLP_PROTO_CONTENT_TYPE,
    serialize: (spans) => serializeWith(ProtobufTraceSerializer, 'otlp_proto', spans),
  };
}

/**
 * OTLP JSON (`ExportTraceServiceRequest`), encoded by `@opentelemetry/otlp-transformer`: readable with
 * `encoding: otlp_json`.
 *
 * @example
 * ```ts
 * const exporter = new KafkaSpanExporter({ kafka: { brokers }, serializer: 'otlp_json' });
 * ```
 */
export function otlpJsonSerializer(): SpanSerializer {
  return {
    contentType: OTLP_JSON_CONTENT_TYPE,
    serialize: (spans) => serializeWith(JsonTraceSerializer, 'otlp_json', spans),
  };
}
