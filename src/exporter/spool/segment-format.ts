// The on-disk format of spool segments: a file is a sequence of self-checking records, so a crash in the
// middle of an append (a torn tail) or a damaged block costs only the records it touched. Each record
// starts with a magic word, so a reader that meets damage scans forward to the next record whose checksum
// holds instead of trusting a length it cannot trust.
//
//   record  = magic u32 'OKJR' | bodyLength u32 | crc32(body) u32 | body
//   body    = spooledAtMillis f64 | partition i32 (-1: none) | spanCount u32 | keyLength i32 (-1: null) | key
//             | headerCount u16 | (nameLength u16 | name | valueLength u32 | value)* | message value
//
// Integers are big-endian. The checksum is CRC-32 (zlib's, native in Node): a random error escapes it with
// probability 2^-32, and the magic plus the length bound make a false resync rarer still.
import { crc32 } from 'node:zlib';

/** A message as the spool keeps it: what the exporter would have produced, plus bookkeeping. */
export interface SpoolRecord {
  key: string | null;
  /** The partition the exporter chose; absent: the producer's partitioner chooses by key. */
  partition?: number;
  value: Buffer;
  headers: Record<string, string>;
  /** How many spans the value holds (for the metrics, which count spans). */
  spanCount: number;
  /** When the record was spooled (`Date.now()`). */
  spooledAtMillis: number;
}

/** What a reader skipped in one segment. */
export interface SegmentDamage {
  /** Damaged regions skipped (each holds one or more records that failed their checks). */
  corruptRegions: number;
  /** Bytes skipped in all, torn tail included. */
  skippedBytes: number;
  /** Whether the segment ends in the middle of a record (a crash during an append). */
  truncatedTail: boolean;
}

export const RECORD_MAGIC = 0x4f4b4a52;
const MAGIC_BYTES = Buffer.from([0x4f, 0x4b, 0x4a, 0x52]);
export const RECORD_HEADER_BYTES = 12;
/** A body never exceeds this: a record larger than the biggest Kafka message is damage, not data. */
const MAX_BODY_BYTES = 1_100_000_000;
const FIXED_BODY_BYTES = 8 + 4 + 4 + 4 + 2;

/** The bytes one record takes on disk. */
export function encodedSize(record: Omit<SpoolRecord, 'spooledAtMillis'>): number {
  let n = RECORD_HEADER_BYTES + FIXED_BODY_BYTES + record.value.length;
  if (record.key !== null) n += Buffer.byteLength(record.key);
  for (const [name, value] of Object.entries(record.headers)) {
    n += 6 + Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  return n;
}

/** Encodes records back to back, ready for one append. */
export function encodeRecords(records: readonly SpoolRecord[]): Buffer {
  const out = Buffer.allocUnsafe(records.reduce((n, r) => n + encodedSize(r), 0));
  let pos = 0;
  for (const r of records) {
    const start = pos;
    pos += RECORD_HEADER_BYTES;
    pos = out.writeDoubleBE(r.spooledAtMillis, pos);
    pos = out.writeInt32BE(r.partition ?? -1, pos);
    pos = out.writeUInt32BE(r.spanCount, pos);
    if (r.key === null) {
      pos = out.writeInt32BE(-1, pos);
    } else {
      const length = out.write(r.key, pos + 4, 'utf8');
      out.writeInt32BE(length, pos);
      pos += 4 + length;
    }
    const headers = Object.entries(r.headers);
    pos = out.writeUInt16BE(headers.length, pos);
    for (const [name, value] of headers) {
      const nameLength = out.write(name, pos + 2, 'utf8');
      out.writeUInt16BE(nameLength, pos);
      pos += 2 + nameLength;
      const valueLength = out.write(value, pos + 4, 'utf8');
      out.writeUInt32BE(valueLength, pos);
      pos += 4 + valueLength;
    }
    pos += r.value.copy(out, pos);
    const body = out.subarray(start + RECORD_HEADER_BYTES, pos);
    out.writeUInt32BE(RECORD_MAGIC, start);
    out.writeUInt32BE(body.length, start + 4);
    out.writeUInt32BE(crc32(body), start + 8);
  }
  return out;
}

/** The body's fields, or undefined when they do not fit its length (damage a checksum happened to pass). */
function decodeBody(body: Buffer): SpoolRecord | undefined {
  if (body.length < FIXED_BODY_BYTES) return undefined;
  let pos = 0;
  const spooledAtMillis = body.readDoubleBE(pos);
  const partition = body.readInt32BE((pos += 8));
  const spanCount = body.readUInt32BE((pos += 4));
  const keyLength = body.readInt32BE((pos += 4));
  pos += 4;
  let key: string | null = null;
  if (keyLength >= 0) {
    if (pos + keyLength > body.length) return undefined;
    key = body.toString('utf8', pos, (pos += keyLength));
  }
  if (pos + 2 > body.length) return undefined;
  const headerCount = body.readUInt16BE(pos);
  pos += 2;
  const headers: Record<string, string> = {};
  for (let i = 0; i < headerCount; i++) {
    if (pos + 2 > body.length) return undefined;
    const nameLength = body.readUInt16BE(pos);
    pos += 2;
    if (pos + nameLength + 4 > body.length) return undefined;
    const name = body.toString('utf8', pos, (pos += nameLength));
    const valueLength = body.readUInt32BE(pos);
    pos += 4;
    if (pos + valueLength > body.length) return undefined;
    headers[name] = body.toString('utf8', pos, (pos += valueLength));
  }
  const value = Buffer.from(body.subarray(pos));
  return partition >= 0
    ? { key, partition, value, headers, spanCount, spooledAtMillis }
    : { key, value, headers, spanCount, spooledAtMillis };
}

/**
 * Every intact record of a segment, in order, and what was skipped: records that fail their checksum
 * (or whose length runs past the end while another record follows) are skipped up to the next record that
 * checks out; a record cut off at the end of the file is a torn tail.
 */
export function parseSegment(data: Buffer): { records: SpoolRecord[]; damage: SegmentDamage } {
  const records: SpoolRecord[] = [];
  const damage: SegmentDamage = { corruptRegions: 0, skippedBytes: 0, truncatedTail: false };
  let pos = 0;
  let inDamage = false;
  /** Skips from `pos` to the next magic word after it; false when there is none. */
  const resync = (): boolean => {
    if (!inDamage) damage.corruptRegions++;
    inDamage = true;
    const next = data.indexOf(MAGIC_BYTES, pos + 1);
    const to = next < 0 ? data.length : next;
    damage.skippedBytes += to - pos;
    pos = to;
    return next >= 0;
  };
  while (pos < data.length) {
    if (data.length - pos < RECORD_HEADER_BYTES) {
      tail();
      break;
    }
    if (data.readUInt32BE(pos) !== RECORD_MAGIC) {
      if (!resync()) break;
      continue;
    }
    const bodyLength = data.readUInt32BE(pos + 4);
    const end = pos + RECORD_HEADER_BYTES + bodyLength;
    if (bodyLength > MAX_BODY_BYTES || end > data.length) {
      // Either the last record was cut off, or its length is damaged and records follow.
      if (data.indexOf(MAGIC_BYTES, pos + 1) < 0) {
        tail();
        break;
      }
      resync();
      continue;
    }
    const body = data.subarray(pos + RECORD_HEADER_BYTES, end);
    const record = crc32(body) === data.readUInt32BE(pos + 8) ? decodeBody(body) : undefined;
    if (!record) {
      if (!resync()) break;
      continue;
    }
    records.push(record);
    inDamage = false;
    pos = end;
  }
  return { records, damage };

  function tail(): void {
    damage.truncatedTail = true;
    damage.skippedBytes += data.length - pos;
    pos = data.length;
  }
}

/** Whether `damage` records anything skipped. */
export function isDamaged(damage: SegmentDamage): boolean {
  return damage.skippedBytes > 0;
}
