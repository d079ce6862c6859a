import { crc32 } from 'node:zlib';

import {
  encodeRecords,
  encodedSize,
  parseSegment,
  RECORD_HEADER_BYTES,
} from '../../../../src/exporter/spool/segment-format';
import type { SpoolRecord } from '../../../../src/exporter/spool/segment-format';

function record(i: number, overrides: Partial<SpoolRecord> = {}): SpoolRecord {
  return {
    key: i % 2 === 0 ? null : `trace-${i}`,
    ...(i % 3 === 0 ? {} : { partition: i % 5 }),
    value: Buffer.from(`value-${i}-`.repeat(10 + i)),
    headers: { 'content-type': 'application/x-protobuf', 'otelcol.signal': 'traces' },
    spanCount: i + 1,
    spooledAtMillis: 1_764_000_000_000 + i,
    ...overrides,
  };
}

const records = Array.from({ length: 8 }, (_, i) => record(i));

/** Byte offsets where each record starts in `encodeRecords(records)`. */
function offsets(rs: SpoolRecord[]): number[] {
  let pos = 0;
  return rs.map((r) => {
    const at = pos;
    pos += encodedSize(r);
    return at;
  });
}

describe('segment format', () => {
  it('round-trips key (or none), partition (or none), headers, value, span count and time', () => {
    const data = encodeRecords(records);
    expect(data.length).toBe(records.reduce((n, r) => n + encodedSize(r), 0));
    const { records: back, damage } = parseSegment(data);
    expect(back).toEqual(records);
    expect(damage).toEqual({ corruptRegions: 0, skippedBytes: 0, truncatedTail: false });
  });

  it('keeps non-ASCII keys and header values', () => {
    const r = record(1, { key: 'clé-🔑', headers: { 'x-näme': 'välue ✓' } });
    expect(parseSegment(encodeRecords([r])).records).toEqual([r]);
  });

  it('an empty segment has no records and no damage', () => {
    expect(parseSegment(Buffer.alloc(0))).toEqual({
      records: [],
      damage: { corruptRegions: 0, skippedBytes: 0, truncatedTail: false },
    });
  });

  it.each([1, 5, RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + 3, -1])(
    'a segment cut %i bytes into its last record: every earlier record, a torn tail reported',
    (into) => {
      const data = encodeRecords(records);
      const last = offsets(records).at(-1)!;
      const cut = into < 0 ? data.length - 1 : last + into;
      const { records: back, damage } = parseSegment(data.subarray(0, cut));
      expect(back).toEqual(records.slice(0, -1));
      expect(damage.truncatedTail).toBe(true);
      expect(damage.skippedBytes).toBe(cut - last);
    },
  );

  it('a flipped bit in a record body: that record is skipped, every other one delivered', () => {
    const data = Buffer.from(encodeRecords(records));
    const at = offsets(records)[3]! + RECORD_HEADER_BYTES + 30;
    data[at] = data[at]! ^ 0x10;
    const { records: back, damage } = parseSegment(data);
    expect(back).toEqual([...records.slice(0, 3), ...records.slice(4)]);
    expect(damage).toEqual({ corruptRegions: 1, skippedBytes: encodedSize(records[3]!), truncatedTail: false });
  });

  it('a damaged length field: the reader resynchronises on the next record', () => {
    const data = Buffer.from(encodeRecords(records));
    data.writeUInt32BE(0x7fff_ffff, offsets(records)[2]! + 4);
    const { records: back, damage } = parseSegment(data);
    expect(back).toEqual([...records.slice(0, 2), ...records.slice(3)]);
    expect(damage.corruptRegions).toBe(1);
    expect(damage.truncatedTail).toBe(false);
  });

  it('a zeroed block over two records (a lost page): one region skipped, the rest delivered', () => {
    const data = Buffer.from(encodeRecords(records));
    const o = offsets(records);
    data.fill(0, o[4]! + 5, o[6]! + 2);
    const { records: back, damage } = parseSegment(data);
    expect(back).toEqual([...records.slice(0, 4), ...records.slice(7)]);
    expect(damage.corruptRegions).toBe(1);
    expect(damage.skippedBytes).toBe(o[7]! - o[4]!);
  });

  it('a magic word inside a value does not fool the resync: its checksum fails', () => {
    const tricky = record(9, { value: Buffer.concat([Buffer.from('OKJR'), Buffer.alloc(40, 1)]) });
    const rs = [record(0), tricky, record(2)];
    const data = Buffer.from(encodeRecords(rs));
    const o = offsets(rs);
    data[o[1]! + 2] = 0; // the record's own magic word: the reader must scan past the fake one in its value
    const { records: back } = parseSegment(data);
    expect(back).toEqual([rs[0], rs[2]]);
  });

  it('a body whose checksum holds but whose fields do not fit its length is damage, not a crash', () => {
    const body = Buffer.alloc(22);
    body.writeInt32BE(1_000, 16); // key length beyond the body
    const header = Buffer.alloc(RECORD_HEADER_BYTES);
    header.writeUInt32BE(0x4f4b4a52, 0);
    header.writeUInt32BE(body.length, 4);
    header.writeUInt32BE(crc32(body), 8);
    const { records: back, damage } = parseSegment(Buffer.concat([header, body, encodeRecords([record(1)])]));
    expect(back).toEqual([record(1)]);
    expect(damage.corruptRegions).toBe(1);
  });
});
