// What the built-in sinks share about the records they convert (decode, re-encode, stringify): the content
// type check, the bound on what one record may decode to, the rule that a failure of the conversion of a
// record is that record's fault, and the pacing that keeps a long conversion from blocking the event loop.
// Sinks convert one record at a time, so that a record's decoded model is garbage before the next is decoded.
import { SinkError } from '../errors/errors';
import { abortError } from '../retry/sleep';
import { decodeTraceRequest } from '../serializers/otlp/decode';
import { encodeTraceRequest } from '../serializers/otlp/model-encoder';
import type { DecodedTraceRequest } from '../serializers/otlp/model';
import { OTLP_JSON_CONTENT_TYPE, OTLP_PROTO_CONTENT_TYPE } from '../serializers/otlp-serializers';
import type { SinkRecord } from './sink';

/**
 * Most messages (resource spans, scope spans, spans, events, links, attributes and attribute values) one
 * record may decode to, when a sink has to decode it (Jaeger Thrift, and the OTLP sinks converting between
 * protobuf and JSON); protobuf passed through is never decoded and never limited.
 *
 * @remarks
 * Decoding costs heap per message, not per byte: an empty event takes 2 bytes on the wire and some 200 bytes of
 * heap decoded, so 1 MiB of them takes about 100 MiB (and half a second of event loop). Measured: a 1 MiB record of
 * SDK HTTP server spans with 10 attributes each holds about 56,000 messages (2,500 spans); 1 MiB of spans with
 * 128 short integer attributes each (the SDK's default limit), the densest plausible data, about 180,000. A
 * record over the limit is refused with a permanent error, so the forwarder dead-letters it alone.
 */
export const MAX_DECODED_OBJECTS = 250_000;

/**
 * Fewest wire bytes per decoded message a large record must average. Real data never comes near it (the
 * densest plausible record above, 128 short integer attributes a span, averages about 6 bytes a message; SDK
 * spans about 19), while the decoding bombs do (an empty resource span or event is 2 bytes).
 */
const MIN_BYTES_PER_OBJECT = 4;

/**
 * Most messages a record of `bytes` bytes may decode to: {@link MAX_DECODED_OBJECTS}, or more for a record so
 * large that ordinary spans would exceed that (a topic whose `max.message.bytes` was raised to 10 MB holds
 * records of some 500,000 ordinary messages). Heap stays proportional to the record's size either way.
 */
export function maxDecodedObjects(bytes: number): number {
  return Math.max(MAX_DECODED_OBJECTS, Math.floor(bytes / MIN_BYTES_PER_OBJECT));
}

/** The wire encoding of a record. */
export type RecordEncoding = 'protobuf' | 'json';

/** The encoding a record's content type names; anything else is a permanent error naming the record. */
export function recordEncoding(record: SinkRecord, index: number, count: number): RecordEncoding {
  const mediaType = String(record.contentType).split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === OTLP_PROTO_CONTENT_TYPE || mediaType === 'application/protobuf') return 'protobuf';
  if (mediaType === OTLP_JSON_CONTENT_TYPE) return 'json';
  throw new SinkError(
    `record ${index + 1} of ${count} has content type '${String(record.contentType).slice(0, 100)}', ` +
      `expected '${OTLP_PROTO_CONTENT_TYPE}' or '${OTLP_JSON_CONTENT_TYPE}'`,
    { retriable: false },
  );
}

/** The permanent error for a record that cannot be sent: it names the record and why. */
export function recordError(index: number, count: number, error: unknown): SinkError {
  const reason = error instanceof Error ? error.message : String(error);
  return new SinkError(`record ${index + 1} of ${count} cannot be sent: ${reason}`, { retriable: false, cause: error });
}

/**
 * Runs the conversion of record `index`. Whatever it throws (a malformed value, a RangeError from nesting too
 * deep for `JSON.stringify`, a value no encoder can write) is the record's fault and never passes if sent
 * again: it becomes a permanent {@link SinkError} naming the record, so the forwarder splits the batch and
 * dead-letters only that record instead of retrying the batch forever.
 */
export function convertRecord<T>(index: number, count: number, convert: () => T): T {
  try {
    return convert();
  } catch (error) {
    if (error instanceof SinkError) throw error;
    throw recordError(index, count, error);
  }
}

/** Decodes record `index`, refusing one of more than {@link maxDecodedObjects} messages. */
export function decodeRecord(
  record: SinkRecord,
  encoding: RecordEncoding,
  index: number,
  count: number,
): DecodedTraceRequest {
  return convertRecord(index, count, () =>
    decodeTraceRequest(record.value, encoding === 'json' ? OTLP_JSON_CONTENT_TYPE : OTLP_PROTO_CONTENT_TYPE, {
      maxObjects: maxDecodedObjects(record.value.length),
    }),
  );
}

/**
 * The protobuf request of a batch: protobuf values as they are, concatenated (one valid request: protobuf
 * merges repeated fields), JSON ones converted first.
 */
export async function protobufRequest(records: readonly SinkRecord[], signal: AbortSignal): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let pacer: ConversionPacer | undefined;
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as SinkRecord;
    const encoding = recordEncoding(record, i, records.length);
    // The hot path: protobuf passes through, undecoded and unpaced.
    if (encoding === 'protobuf') {
      parts.push(record.value);
      continue;
    }
    pacer ??= new ConversionPacer(signal);
    await pacer.pace();
    const request = decodeRecord(record, encoding, i, records.length);
    parts.push(convertRecord(i, records.length, () => encodeTraceRequest(request)));
  }
  return Buffer.concat(parts);
}

/** How long a conversion may hold the event loop before it lets timers and I/O run. */
const SLICE_MILLIS = 20;

/**
 * Paces the conversion of a batch: decoding a record of a few MiB takes hundreds of milliseconds, and a batch
 * converted in one go would block the event loop for seconds. {@link ConversionPacer.pace} before each record
 * yields to the event loop once the conversion held it for 20 ms, and rejects with the signal's reason when
 * the send was aborted meanwhile.
 */
export class ConversionPacer {
  readonly #signal: AbortSignal;
  #sliceStart = performance.now();

  constructor(signal: AbortSignal) {
    this.#signal = signal;
  }

  async pace(): Promise<void> {
    if (performance.now() - this.#sliceStart < SLICE_MILLIS) return;
    await new Promise((resolve) => setImmediate(resolve));
    if (this.#signal.aborted) throw abortError(this.#signal);
    this.#sliceStart = performance.now();
  }
}
