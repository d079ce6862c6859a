// How the forwarder (and replay) decides what a Kafka record holds: its `content-type` header, or, when the
// header is missing or empty, the record's first bytes. Records of producers that set no header (e.g. an OTel
// Collector's Kafka exporter) are thus read right whatever `serializer` says.
import { boundedText } from '../errors/bounded-text';
import { SerializationError } from '../errors/errors';
import { countSpans } from './otlp/wire-walk';
import { decodeTraceRequest } from './otlp/decode';
import { OTLP_JSON_CONTENT_TYPE, OTLP_PROTO_CONTENT_TYPE } from './otlp-serializers';

/** Record headers as the Kafka client hands them over. */
export type RecordHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/**
 * The content type a record is read as: the media type of its `content-type` header (lowercased, parameters
 * dropped; `application/protobuf` is read as `application/x-protobuf`), or, when the header is missing,
 * empty or blank, OTLP/JSON when {@link looksLikeJson} and OTLP protobuf otherwise.
 *
 * @remarks
 * Any other media type is returned as it is (control characters escaped, at most 100 characters), and the
 * record is dead-lettered as undeliverable: its producer said it is not OTLP.
 */
export function recordContentType(headers: RecordHeaders, value: Buffer | null): string {
  const raw = headers['content-type'];
  const header = Array.isArray(raw) ? raw[0] : raw;
  const type = header === undefined ? '' : header.toString().split(';', 1)[0]!.trim().toLowerCase();
  // An empty header says nothing: as good as none (seen from producers that always set the header).
  if (type === '') return looksLikeJson(value) ? OTLP_JSON_CONTENT_TYPE : OTLP_PROTO_CONTENT_TYPE;
  if (type === 'application/protobuf' || type === OTLP_PROTO_CONTENT_TYPE) return OTLP_PROTO_CONTENT_TYPE;
  if (type === OTLP_JSON_CONTENT_TYPE) return OTLP_JSON_CONTENT_TYPE;
  // Whitespace as spaces (a media type has none), the rest escaped as every quoted value is; cut to 100
  // characters before escaping, which lengthens it at most fourfold.
  return boundedText(type.replace(/\s/g, ' ').slice(0, 100), 400);
}

/**
 * Whether a record without a content type is OTLP/JSON: it opens with `{`, after an optional UTF-8 byte order
 * mark and spaces, tabs or carriage returns.
 *
 * @remarks
 * Newlines are not skipped on purpose: a protobuf request starts with 0x0a (field 1), which is also a
 * newline, and may be followed by 0x7b (a length of 123). A non-breaking space, or a byte order mark after
 * a space, is not JSON whitespace (`JSON.parse` and the Collector's reader both refuse it), so such a record
 * is read as protobuf, fails, and is dead-lettered with a reason rather than guessed at.
 */
export function looksLikeJson(value: Buffer | null): boolean {
  if (value === null) return false;
  let i = value[0] === 0xef && value[1] === 0xbb && value[2] === 0xbf ? 3 : 0; // a UTF-8 byte order mark
  while (i < value.length && (value[i] === 0x20 || value[i] === 0x09 || value[i] === 0x0d)) i++;
  return value[i] === 0x7b;
}

/** Record headers as librdkafka's own consumer API hands them over: one single-key object per header, in order. */
export type NativeRecordHeaders = readonly Record<string, Buffer | string>[] | undefined;

/** {@link recordContentType} of a record read with librdkafka's own consumer API (the first `content-type`). */
export function nativeRecordContentType(headers: NativeRecordHeaders, value: Buffer | null): string {
  let header: Buffer | string | undefined;
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i++) {
      header = headers[i]!['content-type'];
      if (header !== undefined) break;
    }
  }
  // What this library's exporter writes, recognised without building a string from the header's bytes.
  if (header instanceof Buffer && header.length === PROTO_TYPE_BYTES.length && header.equals(PROTO_TYPE_BYTES)) {
    return OTLP_PROTO_CONTENT_TYPE;
  }
  return recordContentType(header === undefined ? {} : { 'content-type': header }, value);
}

const PROTO_TYPE_BYTES = Buffer.from(OTLP_PROTO_CONTENT_TYPE, 'latin1');

/** Native headers in the shape {@link RecordHeaders} has (a repeated name becomes an array, in order). */
export function nativeRecordHeaders(
  headers: NativeRecordHeaders,
): Record<string, Buffer | string | (Buffer | string)[]> {
  const out: Record<string, Buffer | string | (Buffer | string)[]> = {};
  for (const h of headers ?? []) {
    for (const [name, v] of Object.entries(h)) {
      const existing = out[name];
      if (existing === undefined) out[name] = v;
      else if (Array.isArray(existing)) existing.push(v);
      else out[name] = [existing, v];
    }
  }
  return out;
}

/** Spans in a record of the given content type; 0 when it cannot be read (or is of another type). */
export function spansIn(value: Buffer, contentType: string): number {
  try {
    if (contentType === OTLP_PROTO_CONTENT_TYPE) return countSpans(value);
    if (contentType === OTLP_JSON_CONTENT_TYPE) {
      return decodeTraceRequest(value, OTLP_JSON_CONTENT_TYPE).resourceSpans.reduce(
        (n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0),
        0,
      );
    }
  } catch (err) {
    if (!(err instanceof SerializationError)) throw err;
  }
  return 0;
}
