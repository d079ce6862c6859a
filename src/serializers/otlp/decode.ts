// Decodes Kafka record values holding OTLP `ExportTraceServiceRequest`s, protobuf or OTLP/JSON, into the model.
import { SerializationError } from '../../errors/errors';

import { toRequest } from './field-reader';
import { guarded, Invalid, JSON_PREFIX, PROTO_PREFIX } from './invalid';
import { countJsonObjects, jsonReader, parseJson } from './json-reader';
import type { DecodedTraceRequest } from './model';
import { ExportTraceServiceRequest } from '../otlp-schema';
import { protoReader } from './proto-reader';
import { isJson, isObj } from './values';
import { countMessages } from './wire-walk';

/** Options of {@link decodeTraceRequest}. */
export interface DecodeOptions {
  /**
   * Most messages (resource spans, scope spans, spans, events, links, attributes and attribute values, at
   * any depth) the request may hold; a larger one is refused before the decoded model is built, since that
   * model takes some 100-300 bytes of heap per message whatever the bytes on the wire (2 for an empty one).
   * @defaultValue no limit
   */
  readonly maxObjects?: number;
}

/**
 * Decodes a Kafka record value holding an OTLP `ExportTraceServiceRequest`.
 *
 * @param bytes - The record value; 0 bytes is a valid empty request.
 * @param contentType - The record's `content-type` header; one containing `json` selects OTLP/JSON,
 *   anything else (or none) protobuf.
 * @param options - A limit on the size of the decoded request.
 * @returns The request as plain objects (ids as lowercase hex, times as bigint nanoseconds).
 * @throws {@link SerializationError} when the bytes are not such a request: malformed or truncated
 *   protobuf, invalid JSON, ids of the wrong length, ... The message names the offset or field path. Also
 *   when the request holds more messages than `options.maxObjects`; the message names both numbers.
 *
 * @remarks
 * Unknown fields are ignored (newer OTLP versions add fields). Concatenated protobuf requests decode as one
 * request holding all their resource spans, as protobuf merges repeated fields.
 *
 * @example
 * ```ts
 * const request = decodeTraceRequest(record.value, headers['content-type']);
 * ```
 */
export function decodeTraceRequest(
  bytes: Uint8Array,
  contentType?: string,
  options: DecodeOptions = {},
): DecodedTraceRequest {
  if (bytes.length === 0) return { resourceSpans: [] };
  const { maxObjects } = options;
  if (isJson(contentType)) {
    const parsed = parseJson(bytes, JSON_PREFIX);
    if (maxObjects !== undefined) checkObjects(countJsonObjects(parsed), maxObjects);
    return guarded(JSON_PREFIX, () => {
      if (!isObj(parsed)) throw new Invalid('expected a JSON object');
      return toRequest(jsonReader, parsed);
    });
  }
  // A JSON value sent without its content-type header is a common misconfiguration: say so.
  const prefix = bytes[0] === 0x7b ? `${PROTO_PREFIX}(starts with '{': JSON without content-type?) ` : PROTO_PREFIX;
  const objects = guarded(prefix, () => countMessages(bytes));
  if (maxObjects !== undefined) checkObjects(objects, maxObjects);
  return guarded(prefix, () => {
    const message: unknown = ExportTraceServiceRequest.decode(bytes);
    if (!isObj(message)) throw new Invalid('decoder returned no message');
    return toRequest(protoReader, message);
  });
}

function checkObjects(objects: number, maxObjects: number): void {
  if (objects > maxObjects) {
    throw new SerializationError(
      `too large to decode: ${objects} messages (spans, events, links, attributes, ...), more than the ` +
        `${maxObjects} one record may hold`,
    );
  }
}
