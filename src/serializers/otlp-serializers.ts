import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { ConfigError, SerializationError } from '../errors/errors';
import { OtlpProtoEncodingSession } from './otlp-proto-encoder';
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

/** Which encoder {@link otlpProtoSerializer} uses; both write the same bytes. */
export type OtlpProtoEncoder = 'fast' | 'otlp-transformer';

/** Options of {@link otlpProtoSerializer}. */
export interface OtlpProtoSerializerOptions {
  /**
   * `'fast'`: this package's encoder, written for the exporter (one pass, resource and scope encoded once
   * per export). `'otlp-transformer'`: `ProtobufTraceSerializer` of `@opentelemetry/otlp-transformer`. For the
   * same spans both produce the same bytes (a property test over 10,000+ random spans holds them to it).
   * @defaultValue `'fast'`
   */
  encoder?: OtlpProtoEncoder;
}

/**
 * A serializer that can encode several messages of one export while reusing what they share (resources,
 * scopes). Internal: the exporter asks for a session per export when the serializer offers one.
 */
export interface SessionSerializer extends SpanSerializer {
  /**
   * An encoding function for one export. With `inPlace`, the bytes it returns are a view of a reused buffer,
   * valid only until its next call (or any other encoding of the process): the caller hands them on at once to
   * something that copies them, or copies them itself.
   */
  session(inPlace?: boolean): (spans: ReadableSpan[]) => Uint8Array;
}

/** Whether `serializer` offers per-export sessions. */
export function hasSessions(serializer: SpanSerializer): serializer is SessionSerializer {
  return typeof (serializer as Partial<SessionSerializer>).session === 'function';
}

function encodeWith(session: OtlpProtoEncodingSession, spans: ReadableSpan[], inPlace = false): Uint8Array {
  try {
    return inPlace ? session.encodeInPlace(spans) : session.encode(spans);
  } catch (err) {
    throw new SerializationError(`otlp_proto: cannot encode ${spans.length} spans: ${(err as Error).message}`, err);
  }
}

/**
 * OTLP protobuf (`ExportTraceServiceRequest`): what the OTel Collector's and Jaeger v2's Kafka receivers read
 * with `encoding: otlp_proto`.
 *
 * @example
 * ```ts
 * const exporter = new KafkaSpanExporter({ kafka: { brokers }, serializer: otlpProtoSerializer() });
 * // The OpenTelemetry encoder instead of this package's (same bytes, more CPU):
 * const reference = otlpProtoSerializer({ encoder: 'otlp-transformer' });
 * ```
 */
export function otlpProtoSerializer(options: OtlpProtoSerializerOptions = {}): SpanSerializer {
  const encoder = options.encoder ?? 'fast';
  if (encoder === 'otlp-transformer') {
    return {
      contentType: OTLP_PROTO_CONTENT_TYPE,
      serialize: (spans) => serializeWith(ProtobufTraceSerializer, 'otlp_proto', spans),
    };
  }
  if (encoder !== 'fast') {
    throw new ConfigError(
      'serializer',
      `otlpProtoSerializer: encoder must be 'fast' or 'otlp-transformer', got ${JSON.stringify(encoder)}`,
    );
  }
  const serializer: SessionSerializer = {
    contentType: OTLP_PROTO_CONTENT_TYPE,
    serialize: (spans) => encodeWith(new OtlpProtoEncodingSession(), spans),
    session: (inPlace = false) => {
      const session = new OtlpProtoEncodingSession();
      return (spans) => encodeWith(session, spans, inPlace);
    },
  };
  return serializer;
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
