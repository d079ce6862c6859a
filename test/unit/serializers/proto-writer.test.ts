// ProtoWriter's edge cases, each against an independent reference: BigInt arithmetic for varints and times,
// TextEncoder for UTF-8, protobufjs's Reader for what a decoder reads back.
import protobuf from 'protobufjs/light.js';

import { ProtoWriter, varintSize } from '../../../src/serializers/proto-writer';
import { Rng } from '../fuzz/generators';

/** The varint of `value` taken as a 64-bit two's complement integer, by BigInt arithmetic. */
function varint64(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

function written(write: (w: ProtoWriter) => void, initialBytes?: number): Buffer {
  const w = new ProtoWriter(initialBytes);
  write(w);
  return w.copy();
}

describe('varintSize', () => {
  it.each([
    [0, 1],
    [0x7f, 1],
    [0x80, 2],
    [0x3fff, 2],
    [0x4000, 3],
    [0x1fffff, 3],
    [0x200000, 4],
    [0xfffffff, 4],
    [0x10000000, 5],
    [0xffffffff, 5],
  ])('%i takes %i bytes, as many as uint32 writes', (value, size) => {
    expect(varintSize(value)).toBe(size);
    expect(written((w) => w.uint32(value)).length).toBe(size);
  });
});

describe('uint32 and int64', () => {
  it.each([0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32 - 1])(
    'uint32(%i) is its varint',
    (value) => {
      expect(written((w) => w.uint32(value))).toEqual(varint64(value));
    },
  );

  it.each([
    0,
    -0,
    1,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 32 + 1,
    2 ** 53 - 1,
    2 ** 53,
    2 ** 60,
    2 ** 63 - 1024,
    -1,
    -127,
    -128,
    -(2 ** 31),
    -(2 ** 32) + 1,
    -(2 ** 32),
    -(2 ** 32) - 1,
    -(2 ** 53),
    -(2 ** 63) + 1024,
    -(2 ** 63),
  ])('int64(%d) is the varint of its 64-bit two’s complement', (value) => {
    const bytes = written((w) => w.int64(value));
    expect(bytes).toEqual(varint64(value));
    if (value < 0) expect(bytes.length).toBe(10);
    // What a decoder reads back.
    const read = protobuf.Reader.create(bytes).int64() as { toString(): string };
    expect(read.toString()).toBe(BigInt(value).toString());
  });

  it('int64 agrees with BigInt on random integers of every magnitude', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 5000; i++) {
      const magnitude = Math.floor((rng.uint32() / 2 ** 32) * 2 ** rng.int(64));
      const value = rng.chance(0.5) ? -magnitude : magnitude;
      const bytes = written((w) => w.int64(value));
      if (!bytes.equals(varint64(value))) throw new Error(`int64(${value}): ${bytes.toString('hex')}`);
    }
  });
});

describe('time', () => {
  const nanos = (t: [number, number]): bigint => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
  const timeOf = (t: [number, number]): bigint => written((w) => w.time(t)).readBigUInt64LE(0);

  it.each<[number, number]>([
    [0, 0],
    [0, 1],
    [0, 999_999_999],
    [1, 0],
    [4, 294_967_295], // 2^32 - 1 ns: the low word full
    [4, 294_967_296], // 2^32 ns: the carry into the high word
    [65_535, 999_999_999],
    [65_536, 0],
    [65_537, 999_999_999],
    [9_007_199, 254_740_991], // 2^53 - 1 ns
    [9_007_199, 254_740_993], // beyond 2^53 ns: exact all the same
    [1_700_000_000, 123_456_789],
    [2 ** 31, 999_999_999],
    [2 ** 32 - 1, 999_999_999],
    [2 ** 32, 0],
    [2 ** 32 + 1, 1],
    [18_446_744_073, 709_551_615], // 2^64 - 1 ns, the largest a fixed64 holds
  ])('[%i, %i] is its exact nanoseconds as fixed64', (s, ns) => {
    expect(timeOf([s, ns])).toBe(nanos([s, ns]));
  });

  it('agrees with BigInt arithmetic on random times up to 2^64 ns', () => {
    const rng = new Rng(12);
    for (let i = 0; i < 20_000; i++) {
      const s = rng.chance(0.5) ? 1_600_000_000 + rng.int(400_000_000) : rng.int(18_446_744_073);
      const ns = rng.chance(0.1) ? 999_999_999 : rng.int(1e9);
      const got = timeOf([s, ns]);
      if (got !== nanos([s, ns])) throw new Error(`[${s}, ${ns}]: ${got} ns`);
    }
  });

  it('writes exactly 8 bytes (fixed64) after what came before', () => {
    const bytes = written((w) => {
      w.byte(0x39);
      w.time([1, 2]);
      w.byte(0x41);
    });
    expect(bytes.length).toBe(10);
    expect(bytes.readBigUInt64LE(1)).toBe(1_000_000_002n);
    expect(bytes[9]).toBe(0x41);
  });
});

describe('string', () => {
  const utf8 = new TextEncoder();
  const expected = (s: string): Buffer => {
    const body = utf8.encode(s);
    return Buffer.concat([varint64(body.length), body]);
  };

  it.each([
    ['empty', ''],
    ['ASCII, short (the copy loop)', 'service.name'],
    ['ASCII, 47 units (the loop’s last length)', 'a'.repeat(47)],
    ['ASCII, 48 units (the native writer)', 'a'.repeat(48)],
    ['ASCII, 127 bytes', 'b'.repeat(127)],
    ['ASCII, 128 bytes (2-byte length)', 'b'.repeat(128)],
    ['ASCII, 16,384 bytes (3-byte length)', 'c'.repeat(16_384)],
    ['NUL and control characters', '\0\x01\x1f\x7f'],
    ['non-ASCII first', 'éa'],
    ['non-ASCII in the middle of a short string', `${'a'.repeat(20)}ü${'a'.repeat(5)}`],
    ['non-ASCII at the loop’s last unit', `${'a'.repeat(46)}中`],
    ['non-ASCII right after the loop’s limit', `${'a'.repeat(48)}中`],
    ['a short string whose UTF-8 needs a 2-byte length', '中'.repeat(45)],
    ['astral (a surrogate pair)', 'x😀y'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', 'a\udc00b'],
    ['a lone high surrogate at the end', 'ab\udbff'],
    ['a reversed pair', '\udc00\ud800'],
    ['a long string with lone surrogates', `${'\ud800x'.repeat(40)}`],
  ])('%s: the UTF-8 TextEncoder writes (lone surrogates as U+FFFD), length first', (_name, s) => {
    expect(written((w) => w.string(s))).toEqual(expected(s));
  });

  it('leaves nothing of an abandoned ASCII copy behind (the fallback writes over it)', () => {
    // The copy loop writes 'abc' before meeting 'é'; the fallback must write from the same position.
    const bytes = written((w) => {
      w.byte(0x0a);
      w.string('abcé');
      w.byte(0x12);
      w.string('xy');
    });
    expect(bytes).toEqual(Buffer.concat([Buffer.from([0x0a]), expected('abcé'), Buffer.from([0x12]), expected('xy')]));
  });

  it('grows the buffer for a string, ASCII or not, at the very end of it', () => {
    for (const s of ['a'.repeat(40), 'é'.repeat(40), 'a'.repeat(100)]) {
      const bytes = written((w) => {
        w.raw(Buffer.alloc(7, 1));
        w.string(s);
      }, 8);
      expect(bytes).toEqual(Buffer.concat([Buffer.alloc(7, 1), expected(s)]));
    }
  });
});

describe('hexBytes, fixed32, fixed64, double, bytes', () => {
  it('hexBytes reads lower- and upper-case hex, length first', () => {
    expect(written((w) => w.hexBytes('0123456789abcdefABCDEF'))).toEqual(
      Buffer.from('0b0123456789abcdefabcdef', 'hex'),
    );
  });

  it('fixed32, fixed64 and double are little-endian', () => {
    expect(written((w) => w.fixed32(0x301))).toEqual(Buffer.from('01030000', 'hex'));
    expect(written((w) => w.fixed32(-1))).toEqual(Buffer.from('ffffffff', 'hex'));
    expect(written((w) => w.fixed64(0x04030201, 0x08070605))).toEqual(Buffer.from('0102030405060708', 'hex'));
    const d = Buffer.alloc(8);
    d.writeDoubleLE(-1.5);
    expect(written((w) => w.double(-1.5))).toEqual(d);
  });

  it('bytes writes a view’s own bytes, not its whole backing buffer', () => {
    const whole = Buffer.from('00112233445566', 'hex');
    expect(written((w) => w.bytes(whole.subarray(2, 5)))).toEqual(Buffer.from('03223344', 'hex'));
  });
});

describe('nested messages (begin/end)', () => {
  /** A nested message of `bodyBytes` bytes, begun with `reserve` bytes for its length, between two markers. */
  function nested(reserve: number, bodyBytes: number, initialBytes?: number): Buffer {
    return written((w) => {
      w.byte(0xaa);
      const at = w.begin(reserve);
      for (let i = 0; i < bodyBytes; i++) w.byte(i & 0x7f);
      w.end(at, reserve);
      w.byte(0xbb);
    }, initialBytes);
  }

  function expectedNested(bodyBytes: number): Buffer {
    const body = Buffer.from(Array.from({ length: bodyBytes }, (_, i) => i & 0x7f));
    return Buffer.concat([Buffer.from([0xaa]), varint64(bodyBytes), body, Buffer.from([0xbb])]);
  }

  it.each([
    // [reserve, body]: the length needs the reserved size, more (body moved forward) or fewer (moved back).
    [1, 0],
    [1, 127],
    [1, 128],
    [1, 16_384],
    [1, 2 ** 21],
    [2, 0],
    [2, 127],
    [2, 128],
    [2, 16_383],
    [2, 16_384],
    [3, 5],
    [3, 200],
    [3, 2 ** 21 - 1],
    [3, 2 ** 21],
  ])('reserve %i, body of %i bytes: the exact length, the body intact, what follows in place', (reserve, body) => {
    expect(nested(reserve, body).equals(expectedNested(body))).toBe(true);
  });

  it('moves the body forward even when that needs the buffer to grow', () => {
    // 1 + 1 + 128 bytes fill a 130-byte buffer exactly; the 2-byte length needs one more.
    expect(nested(1, 128, 130).equals(expectedNested(128))).toBe(true);
  });

  it('nests: inner messages that moved leave the outer length right', () => {
    const w = new ProtoWriter(16);
    const outer = w.begin(1);
    const inner1 = w.begin(3);
    w.raw(Buffer.alloc(10, 1));
    w.end(inner1, 3);
    const inner2 = w.begin(1);
    w.raw(Buffer.alloc(300, 2));
    w.end(inner2, 1);
    w.end(outer, 1);
    const inner = Buffer.concat([varint64(10), Buffer.alloc(10, 1), varint64(300), Buffer.alloc(300, 2)]);
    expect(w.copy().equals(Buffer.concat([varint64(inner.length), inner]))).toBe(true);
  });
});

describe('buffer', () => {
  it('grows from 1 byte keeping everything written, and copy() is sized exactly', () => {
    const rng = new Rng(13);
    const small = new ProtoWriter(1);
    const large = new ProtoWriter(1 << 20);
    for (let i = 0; i < 2000; i++) {
      const op = rng.int(4);
      for (const w of [small, large]) {
        if (op === 0) w.int64(-i);
        else if (op === 1) w.string(`key-${i}-é`);
        else if (op === 2) w.time([i * 1000, i]);
        else w.raw(Buffer.alloc(i % 50, i & 0xff));
      }
    }
    expect(small.buf.length).toBeGreaterThan(1);
    expect(small.copy().length).toBe(small.pos);
    expect(small.copy().equals(large.copy())).toBe(true);
  });

  it('reset() forgets what was written; copies already taken stay as they were', () => {
    const w = new ProtoWriter(4);
    w.string('first message');
    const first = w.copy();
    w.reset();
    w.string('second');
    expect(w.copy()).toEqual(Buffer.from('\x06second'));
    expect(first).toEqual(Buffer.from('\x0dfirst message'));
  });
});
