// The Thrift binary encoder, byte for byte against expectations written out by hand from the protocol
// (field header = type byte + i16 id, stop byte 0, list = element type + i32 size, string = i32 length + UTF-8,
// integers big-endian two's complement) and the field ids of jaeger-idl's jaeger.thrift.
import {
  JAEGER_BATCH_OVERHEAD_BYTES,
  JaegerSpanRefType,
  JaegerTagType,
  ThriftBinaryWriter,
  ThriftType,
  assembleJaegerBatch,
  encodeJaegerBatch,
  encodeJaegerProcess,
  writeJaegerSpan,
} from '../../../src/sinks/thrift-binary';
import type { JaegerSpan, JaegerTag } from '../../../src/sinks/thrift-binary';

/** Hex with spaces and `|` allowed for readability. */
function hex(...parts: string[]): string {
  return parts.join('').replace(/[\s|]/g, '');
}

function written(write: (w: ThriftBinaryWriter) => void, initialBytes?: number): string {
  const w = new ThriftBinaryWriter(initialBytes);
  write(w);
  return w.finish().toString('hex');
}

describe('ThriftBinaryWriter', () => {
  it('writes a field header as its type byte and a big-endian i16 id, and a stop as one zero byte', () => {
    expect(written((w) => w.fieldBegin(ThriftType.I64, 1))).toBe('0a0001');
    expect(written((w) => w.fieldBegin(ThriftType.LIST, 11))).toBe('0f000b');
    expect(written((w) => w.fieldBegin(ThriftType.STRING, 0x1234))).toBe('0b1234');
    expect(written((w) => w.fieldStop())).toBe('00');
  });

  it('writes a list header as the element type byte and an i32 size', () => {
    expect(written((w) => w.listBegin(ThriftType.STRUCT, 3))).toBe('0c00000003');
    expect(written((w) => w.listBegin(ThriftType.STRUCT, 0x01020304))).toBe('0c01020304');
  });

  it('writes i32 and i64 big-endian in two’s complement', () => {
    expect(written((w) => w.i32(1))).toBe('00000001');
    expect(written((w) => w.i32(-1))).toBe('ffffffff');
    expect(written((w) => w.i32(-2_147_483_648))).toBe('80000000');
    expect(written((w) => w.i64(0n))).toBe('0000000000000000');
    expect(written((w) => w.i64(0x0102030405060708n))).toBe('0102030405060708');
    expect(written((w) => w.i64(256n))).toBe('0000000000000100');
    expect(written((w) => w.i64(-2n))).toBe('fffffffffffffffe');
    expect(written((w) => w.i64(-(2n ** 63n)))).toBe('8000000000000000');
  });

  it('writes an unsigned 64-bit value with the same bits as the signed one', () => {
    expect(written((w) => w.i64(2n ** 64n - 1n))).toBe('ffffffffffffffff');
    expect(written((w) => w.i64(0x8448eb211c80319cn))).toBe('8448eb211c80319c');
  });

  it('writes a double as its IEEE 754 bits and a bool as one byte', () => {
    expect(written((w) => w.double(1.5))).toBe('3ff8000000000000');
    expect(written((w) => w.double(-0.1))).toBe('bfb999999999999a');
    expect(written((w) => w.bool(true))).toBe('01');
    expect(written((w) => w.bool(false))).toBe('00');
  });

  it('writes a string as its UTF-8 byte length and bytes, and a binary likewise', () => {
    expect(written((w) => w.string(''))).toBe('00000000');
    expect(written((w) => w.string('op'))).toBe('000000026f70');
    // é is 2 bytes in UTF-8, 🌍 is 4: the length counts bytes, not characters.
    expect(written((w) => w.string('é🌍'))).toBe(hex('00000006', 'c3a9', 'f09f8c8d'));
    expect(written((w) => w.binary(new Uint8Array([0, 1, 254, 255])))).toBe('0000000400' + '01feff');
  });

  it('grows its buffer as needed, keeping what was written', () => {
    const long = 'x'.repeat(10_000);
    const out = written((w) => {
      w.i32(7);
      w.string(long);
      w.i64(-1n);
    }, 16);
    expect(out).toBe(hex('00000007', '00002710', Buffer.from(long).toString('hex'), 'ffffffffffffffff'));
  });
});

describe('encodeJaegerBatch', () => {
  it('encodes a batch: process (1, struct), spans (2, list<struct>), stop', () => {
    const bytes = encodeJaegerBatch({ process: { serviceName: 's' }, spans: [] });

    expect(bytes.toString('hex')).toBe(
      hex(
        '0c 0001', // field 1: struct Process
        '  0b 0001 00000001 73', //   serviceName (1, string) 's'
        '  00', //   stop
        '0f 0002 0c 00000000', // field 2: list<struct>, 0 spans
        '00', // stop
      ),
    );
  });

  it('encodes process tags (2, list<Tag>) and seqNo (3, i64)', () => {
    const bytes = encodeJaegerBatch({
      process: { serviceName: 'svc', tags: [{ key: 'h', vType: JaegerTagType.STRING, vStr: 'x' }] },
      spans: [],
      seqNo: 5n,
    });

    expect(bytes.toString('hex')).toBe(
      hex(
        '0c 0001',
        '  0b 0001 00000003 737663', // serviceName 'svc'
        '  0f 0002 0c 00000001', // tags: list<struct> of 1
        '    0b 0001 00000001 68', //   key 'h'
        '    08 0002 00000000', //   vType (2, i32) STRING
        '    0b 0003 00000001 78', //   vStr (3, string) 'x'
        '    00',
        '  00',
        '0f 0002 0c 00000000',
        '0a 0003 0000000000000005', // seqNo
        '00',
      ),
    );
    expect(
      encodeJaegerProcess({ serviceName: 'svc', tags: [{ key: 'h', vType: JaegerTagType.STRING, vStr: 'x' }] }),
    ).toEqual(bytes.subarray(3, bytes.length - 20));
  });

  it.each<[string, JaegerTag, string]>([
    ['STRING', { key: 'a', vType: JaegerTagType.STRING, vStr: 'x' }, '08 0002 00000000 | 0b 0003 00000001 78'],
    ['DOUBLE', { key: 'a', vType: JaegerTagType.DOUBLE, vDouble: 1.5 }, '08 0002 00000001 | 04 0004 3ff8000000000000'],
    ['BOOL', { key: 'a', vType: JaegerTagType.BOOL, vBool: true }, '08 0002 00000002 | 02 0005 01'],
    ['LONG', { key: 'a', vType: JaegerTagType.LONG, vLong: -1n }, '08 0002 00000003 | 0a 0006 ffffffffffffffff'],
    [
      'BINARY',
      { key: 'a', vType: JaegerTagType.BINARY, vBinary: new Uint8Array([1, 2]) },
      '08 0002 00000004 | 0b 0007 00000002 0102',
    ],
  ])('encodes a %s tag with its vType and value field', (_name, tag, fields) => {
    const bytes = encodeJaegerBatch({ process: { serviceName: '', tags: [tag] }, spans: [] });

    const process = hex('0c 0001', '0b 0001 00000000', '0f 0002 0c 00000001');
    expect(bytes.toString('hex')).toBe(
      hex(process, '0b 0001 00000001 61', fields, '00', '00', '0f 0002 0c 00000000', '00'),
    );
  });

  it('encodes a span with every field: ids, name, references, flags, times, tags, logs', () => {
    const span: JaegerSpan = {
      traceIdLow: 2n,
      traceIdHigh: 1n,
      spanId: 3n,
      parentSpanId: -1n,
      operationName: 'op',
      references: [{ refType: JaegerSpanRefType.FOLLOWS_FROM, traceIdLow: 5n, traceIdHigh: 4n, spanId: 6n }],
      flags: 1,
      startTime: 7n,
      duration: 8n,
      tags: [{ key: 'k', vType: JaegerTagType.LONG, vLong: 42n }],
      logs: [
        { timestamp: 9n, fields: [] },
        { timestamp: 10n, fields: [{ key: 'event', vType: JaegerTagType.STRING, vStr: 'e' }] },
      ],
    };

    const bytes = encodeJaegerBatch({ process: { serviceName: 's' }, spans: [span] });

    expect(bytes.toString('hex')).toBe(
      hex(
        '0c 0001 | 0b 0001 00000001 73 | 00',
        '0f 0002 0c 00000001', // spans: 1
        '  0a 0001 0000000000000002', // traceIdLow
        '  0a 0002 0000000000000001', // traceIdHigh
        '  0a 0003 0000000000000003', // spanId
        '  0a 0004 ffffffffffffffff', // parentSpanId
        '  0b 0005 00000002 6f70', // operationName 'op'
        '  0f 0006 0c 00000001', // references: 1
        '    08 0001 00000001', //   refType FOLLOWS_FROM
        '    0a 0002 0000000000000005', //   traceIdLow
        '    0a 0003 0000000000000004', //   traceIdHigh
        '    0a 0004 0000000000000006', //   spanId
        '    00',
        '  08 0007 00000001', // flags
        '  0a 0008 0000000000000007', // startTime
        '  0a 0009 0000000000000008', // duration
        '  0f 000a 0c 00000001', // tags: 1
        '    0b 0001 00000001 6b | 08 0002 00000003 | 0a 0006 000000000000002a | 00',
        '  0f 000b 0c 00000002', // logs: 2
        '    0a 0001 0000000000000009 | 0f 0002 0c 00000000 | 00', // fields: required, here empty
        '    0a 0001 000000000000000a | 0f 0002 0c 00000001', //
        '      0b 0001 00000005 6576656e74 | 08 0002 00000000 | 0b 0003 00000001 65 | 00',
        '    00',
        '  00', // end of span
        '00', // end of batch
      ),
    );
  });

  it('leaves out the optional span fields that are not set', () => {
    const span: JaegerSpan = {
      traceIdLow: 0n,
      traceIdHigh: 0n,
      spanId: 1n,
      parentSpanId: 0n,
      operationName: '',
      flags: 0,
      startTime: 0n,
      duration: 0n,
    };

    const bytes = encodeJaegerBatch({ process: { serviceName: '' }, spans: [span] });

    expect(bytes.toString('hex')).toBe(
      hex(
        '0c 0001 | 0b 0001 00000000 | 00',
        '0f 0002 0c 00000001',
        '  0a 0001 0000000000000000 | 0a 0002 0000000000000000 | 0a 0003 0000000000000001',
        '  0a 0004 0000000000000000 | 0b 0005 00000000',
        '  08 0007 00000000 | 0a 0008 0000000000000000 | 0a 0009 0000000000000000',
        '  00',
        '00',
      ),
    );
  });

  it('gives equal bytes for equal processes, and different bytes when a tag differs', () => {
    const a = encodeJaegerProcess({ serviceName: 'a', tags: [{ key: 'k', vType: JaegerTagType.LONG, vLong: 1n }] });
    const b = encodeJaegerProcess({ serviceName: 'a', tags: [{ key: 'k', vType: JaegerTagType.LONG, vLong: 1n }] });
    const c = encodeJaegerProcess({ serviceName: 'a', tags: [{ key: 'k', vType: JaegerTagType.LONG, vLong: 2n }] });

    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });
});

describe('assembleJaegerBatch', () => {
  const span = (id: bigint, name: string): JaegerSpan => ({
    traceIdLow: 1n,
    traceIdHigh: 2n,
    spanId: id,
    parentSpanId: 0n,
    operationName: name,
    flags: 1,
    startTime: 3n,
    duration: 4n,
    tags: [{ key: 'k', vType: JaegerTagType.STRING, vStr: 'v' }],
  });

  it('gives the bytes of encodeJaegerBatch from a process and spans encoded beforehand', () => {
    const process = { serviceName: 'svc', tags: [{ key: 'host', vType: JaegerTagType.STRING, vStr: 'h' }] };
    const spans = [span(5n, 'a'), span(6n, 'bb'), span(7n, 'ccc')];
    const w = new ThriftBinaryWriter(16);
    for (const s of spans) writeJaegerSpan(w, s);

    const body = assembleJaegerBatch(encodeJaegerProcess(process), spans.length, w.finish());

    expect(body.equals(encodeJaegerBatch({ process, spans }))).toBe(true);
    expect(body.length).toBe(JAEGER_BATCH_OVERHEAD_BYTES + encodeJaegerProcess(process).length + w.length);
  });
});
