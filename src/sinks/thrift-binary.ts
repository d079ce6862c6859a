// Jaeger's Thrift model (jaeger-idl `thrift/jaeger.thrift`) and its encoding with the Thrift binary protocol,
// which is what a Jaeger collector's `POST /api/traces` reads. Only the writing side is needed, and only the
// few Thrift types jaeger.thrift uses, so a small writer replaces a Thrift runtime dependency.
//
// TBinaryProtocol, as a struct is written: for each set field, its type (1 byte) and id (i16), then its value;
// a stop byte (0) ends the struct. Integers are big-endian two's complement, a double is its IEEE 754 bits
// as an i64, a bool one byte (0 or 1), a string or binary an i32 byte length then the bytes (UTF-8 for
// strings), a list its element type (1 byte) and an i32 size, then the elements. Strictness only concerns
// message envelopes, which a bare struct does not have.

/** Thrift wire type ids (TType) of the types jaeger.thrift uses. */
export const ThriftType = {
  STOP: 0,
  BOOL: 2,
  DOUBLE: 4,
  I32: 8,
  I64: 10,
  /** Also `binary`. */
  STRING: 11,
  STRUCT: 12,
  LIST: 15,
} as const;

/** A Thrift wire type id. */
export type ThriftType = (typeof ThriftType)[keyof typeof ThriftType];

/** `jaeger.TagType`: which value field of a {@link JaegerTag} is set. */
export const JaegerTagType = { STRING: 0, DOUBLE: 1, BOOL: 2, LONG: 3, BINARY: 4 } as const;

/** A `jaeger.TagType` value. */
export type JaegerTagType = (typeof JaegerTagType)[keyof typeof JaegerTagType];

/** `jaeger.SpanRefType`. */
export const JaegerSpanRefType = { CHILD_OF: 0, FOLLOWS_FROM: 1 } as const;

/** A `jaeger.SpanRefType` value. */
export type JaegerSpanRefType = (typeof JaegerSpanRefType)[keyof typeof JaegerSpanRefType];

/** `jaeger.Tag`: a typed key-value pair. Exactly the value field named by `vType` is meant to be set. */
export interface JaegerTag {
  /** Field 1. */
  key: string;
  /** Field 2. */
  vType: JaegerTagType;
  /** Field 3. */
  vStr?: string;
  /** Field 4. */
  vDouble?: number;
  /** Field 5. */
  vBool?: boolean;
  /** Field 6. */
  vLong?: bigint;
  /** Field 7. */
  vBinary?: Uint8Array;
}

/** `jaeger.Log`: a timestamped event. */
export interface JaegerLog {
  /** Field 1: microseconds since the Unix epoch. */
  timestamp: bigint;
  /** Field 2 (required, may be empty). */
  fields: JaegerTag[];
}

/** `jaeger.SpanRef`: a reference from a span to another span. */
export interface JaegerSpanRef {
  /** Field 1. */
  refType: JaegerSpanRefType;
  /** Field 2: the low 64 bits of the referenced trace id. */
  traceIdLow: bigint;
  /** Field 3: the high 64 bits of the referenced trace id. */
  traceIdHigh: bigint;
  /** Field 4. */
  spanId: bigint;
}

/** `jaeger.Span`. 64-bit ids are signed, as Thrift's i64; unsigned values are written with the same bits. */
export interface JaegerSpan {
  /** Field 1: the low 64 bits of the trace id. */
  traceIdLow: bigint;
  /** Field 2: the high 64 bits of the trace id. */
  traceIdHigh: bigint;
  /** Field 3. */
  spanId: bigint;
  /** Field 4: 0 for a root span. */
  parentSpanId: bigint;
  /** Field 5. */
  operationName: string;
  /** Field 6 (optional). */
  references?: JaegerSpanRef[];
  /** Field 7: bit 0 sampled, bit 1 debug. */
  flags: number;
  /** Field 8: microseconds since the Unix epoch. */
  startTime: bigint;
  /** Field 9: microseconds. */
  duration: bigint;
  /** Field 10 (optional). */
  tags?: JaegerTag[];
  /** Field 11 (optional). */
  logs?: JaegerLog[];
}

/** `jaeger.Process`: the emitter of a batch's spans. */
export interface JaegerProcess {
  /** Field 1. */
  serviceName: string;
  /** Field 2 (optional). */
  tags?: JaegerTag[];
}

/** `jaeger.Batch`: spans of one process, the body of one `POST /api/traces`. Field 4 (`stats`) is not modelled. */
export interface JaegerBatch {
  /** Field 1. */
  process: JaegerProcess;
  /** Field 2. */
  spans: JaegerSpan[];
  /** Field 3 (optional). */
  seqNo?: bigint;
}

const INITIAL_BYTES = 4096;

/**
 * Writes Thrift binary protocol values into a growing buffer.
 *
 * @example
 * ```ts
 * const w = new ThriftBinaryWriter();
 * w.fieldBegin(ThriftType.STRING, 1);
 * w.string('svc');
 * w.fieldStop();
 * const bytes = w.finish();
 * ```
 */
export class ThriftBinaryWriter {
  #buf: Buffer;
  #pos = 0;

  /** @param initialBytes - The initial buffer size; it doubles as needed. */
  constructor(initialBytes = INITIAL_BYTES) {
    this.#buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
  }

  /** A field header: its type and id. */
  fieldBegin(type: ThriftType, id: number): void {
    this.#reserve(3);
    this.#buf.writeUInt8(type, this.#pos);
    this.#buf.writeInt16BE(id, this.#pos + 1);
    this.#pos += 3;
  }

  /** The end of a struct. */
  fieldStop(): void {
    this.#reserve(1);
    this.#buf.writeUInt8(ThriftType.STOP, this.#pos);
    this.#pos += 1;
  }

  /** A list header: the element type and the number of elements. */
  listBegin(elementType: ThriftType, size: number): void {
    this.#reserve(5);
    this.#buf.writeUInt8(elementType, this.#pos);
    this.#buf.writeInt32BE(size, this.#pos + 1);
    this.#pos += 5;
  }

  /** A bool: one byte, 1 or 0. */
  bool(value: boolean): void {
    this.#reserve(1);
    this.#buf.writeUInt8(value ? 1 : 0, this.#pos);
    this.#pos += 1;
  }

  /** An i32, big-endian. */
  i32(value: number): void {
    this.#reserve(4);
    this.#buf.writeInt32BE(value, this.#pos);
    this.#pos += 4;
  }

  /** An i64: `value` is taken modulo 2^64, so signed and unsigned 64-bit values both keep their bits. */
  i64(value: bigint): void {
    this.#reserve(8);
    this.#buf.writeBigInt64BE(BigInt.asIntN(64, value), this.#pos);
    this.#pos += 8;
  }

  /** A double: its IEEE 754 bits, big-endian. */
  double(value: number): void {
    this.#reserve(8);
    this.#buf.writeDoubleBE(value, this.#pos);
    this.#pos += 8;
  }

  /** A string, as UTF-8 (lone surrogates become U+FFFD). */
  string(value: string): void {
    const length = Buffer.byteLength(value, 'utf8');
    this.#reserve(4 + length);
    this.#buf.writeInt32BE(length, this.#pos);
    this.#buf.write(value, this.#pos + 4, length, 'utf8');
    this.#pos += 4 + length;
  }

  /** A binary: like a string, the bytes as they are. */
  binary(value: Uint8Array): void {
    this.#reserve(4 + value.length);
    this.#buf.writeInt32BE(value.length, this.#pos);
    this.#buf.set(value, this.#pos + 4);
    this.#pos += 4 + value.length;
  }

  /** How many bytes were written so far. */
  get length(): number {
    return this.#pos;
  }

  /** Bytes already encoded (a struct or list elements written by another writer), as they are. */
  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }

  #reserve(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }
}

/**
 * Encodes a `jaeger.Batch` with the Thrift binary protocol: the body `POST /api/traces` takes with
 * `Content-Type: application/x-thrift`.
 *
 * @example
 * ```ts
 * const body = encodeJaegerBatch({ process: { serviceName: 'checkout' }, spans });
 * ```
 */
export function encodeJaegerBatch(batch: JaegerBatch): Buffer {
  const w = new ThriftBinaryWriter();
  w.fieldBegin(ThriftType.STRUCT, 1);
  writeProcess(w, batch.process);
  w.fieldBegin(ThriftType.LIST, 2);
  w.listBegin(ThriftType.STRUCT, batch.spans.length);
  for (const span of batch.spans) writeJaegerSpan(w, span);
  if (batch.seqNo !== undefined) {
    w.fieldBegin(ThriftType.I64, 3);
    w.i64(batch.seqNo);
  }
  w.fieldStop();
  return w.finish();
}

/** Bytes a `jaeger.Batch` without `seqNo` adds to its encoded process and spans: three headers and a stop. */
export const JAEGER_BATCH_OVERHEAD_BYTES = 3 + 3 + 5 + 1;

/**
 * Encodes a `jaeger.Batch` (without `seqNo`) from parts encoded beforehand: the process, as
 * {@link encodeJaegerProcess} writes it, and `spanCount` spans, as {@link writeJaegerSpan} writes them, one
 * after the other. The same bytes as {@link encodeJaegerBatch} of the same batch, so spans can be encoded
 * as they are converted and batches cut later by size.
 *
 * @example
 * ```ts
 * const body = assembleJaegerBatch(encodeJaegerProcess(process), 2, spansWriter.finish());
 * ```
 */
export function assembleJaegerBatch(encodedProcess: Uint8Array, spanCount: number, encodedSpans: Uint8Array): Buffer {
  const w = new ThriftBinaryWriter(JAEGER_BATCH_OVERHEAD_BYTES + encodedProcess.length + encodedSpans.length);
  w.fieldBegin(ThriftType.STRUCT, 1);
  w.raw(encodedProcess);
  w.fieldBegin(ThriftType.LIST, 2);
  w.listBegin(ThriftType.STRUCT, spanCount);
  w.raw(encodedSpans);
  w.fieldStop();
  return w.finish();
}

/**
 * Encodes a `jaeger.Process` on its own; equal processes give equal bytes.
 *
 * @example
 * ```ts
 * const sameProcess = encodeJaegerProcess(a).equals(encodeJaegerProcess(b));
 * ```
 */
export function encodeJaegerProcess(process: JaegerProcess): Buffer {
  const w = new ThriftBinaryWriter(256);
  writeProcess(w, process);
  return w.finish();
}

function writeProcess(w: ThriftBinaryWriter, process: JaegerProcess): void {
  w.fieldBegin(ThriftType.STRING, 1);
  w.string(process.serviceName);
  if (process.tags !== undefined) {
    w.fieldBegin(ThriftType.LIST, 2);
    writeTags(w, process.tags);
  }
  w.fieldStop();
}

/**
 * Writes a `jaeger.Span` struct, an element of a batch's span list (see {@link assembleJaegerBatch}).
 *
 * @example
 * ```ts
 * for (const span of spans) writeJaegerSpan(spansWriter, span);
 * ```
 */
export function writeJaegerSpan(w: ThriftBinaryWriter, span: JaegerSpan): void {
  w.fieldBegin(ThriftType.I64, 1);
  w.i64(span.traceIdLow);
  w.fieldBegin(ThriftType.I64, 2);
  w.i64(span.traceIdHigh);
  w.fieldBegin(ThriftType.I64, 3);
  w.i64(span.spanId);
  w.fieldBegin(ThriftType.I64, 4);
  w.i64(span.parentSpanId);
  w.fieldBegin(ThriftType.STRING, 5);
  w.string(span.operationName);
  if (span.references !== undefined) {
    w.fieldBegin(ThriftType.LIST, 6);
    w.listBegin(ThriftType.STRUCT, span.references.length);
    for (const ref of span.references) writeSpanRef(w, ref);
  }
  w.fieldBegin(ThriftType.I32, 7);
  w.i32(span.flags);
  w.fieldBegin(ThriftType.I64, 8);
  w.i64(span.startTime);
  w.fieldBegin(ThriftType.I64, 9);
  w.i64(span.duration);
  if (span.tags !== undefined) {
    w.fieldBegin(ThriftType.LIST, 10);
    writeTags(w, span.tags);
  }
  if (span.logs !== undefined) {
    w.fieldBegin(ThriftType.LIST, 11);
    w.listBegin(ThriftType.STRUCT, span.logs.length);
    for (const log of span.logs) writeLog(w, log);
  }
  w.fieldStop();
}

function writeSpanRef(w: ThriftBinaryWriter, ref: JaegerSpanRef): void {
  w.fieldBegin(ThriftType.I32, 1);
  w.i32(ref.refType);
  w.fieldBegin(ThriftType.I64, 2);
  w.i64(ref.traceIdLow);
  w.fieldBegin(ThriftType.I64, 3);
  w.i64(ref.traceIdHigh);
  w.fieldBegin(ThriftType.I64, 4);
  w.i64(ref.spanId);
  w.fieldStop();
}

function writeLog(w: ThriftBinaryWriter, log: JaegerLog): void {
  w.fieldBegin(ThriftType.I64, 1);
  w.i64(log.timestamp);
  w.fieldBegin(ThriftType.LIST, 2);
  writeTags(w, log.fields);
  w.fieldStop();
}

/** A `list<Tag>` value: its header and elements. */
function writeTags(w: ThriftBinaryWriter, tags: readonly JaegerTag[]): void {
  w.listBegin(ThriftType.STRUCT, tags.length);
  for (const tag of tags) writeTag(w, tag);
}

function writeTag(w: ThriftBinaryWriter, tag: JaegerTag): void {
  w.fieldBegin(ThriftType.STRING, 1);
  w.string(tag.key);
  w.fieldBegin(ThriftType.I32, 2);
  w.i32(tag.vType);
  if (tag.vStr !== undefined) {
    w.fieldBegin(ThriftType.STRING, 3);
    w.string(tag.vStr);
  }
  if (tag.vDouble !== undefined) {
    w.fieldBegin(ThriftType.DOUBLE, 4);
    w.double(tag.vDouble);
  }
  if (tag.vBool !== undefined) {
    w.fieldBegin(ThriftType.BOOL, 5);
    w.bool(tag.vBool);
  }
  if (tag.vLong !== undefined) {
    w.fieldBegin(ThriftType.I64, 6);
    w.i64(tag.vLong);
  }
  if (tag.vBinary !== undefined) {
    w.fieldBegin(ThriftType.STRING, 7);
    w.binary(tag.vBinary);
  }
  w.fieldStop();
}
