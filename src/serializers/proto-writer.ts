// A growable protobuf output buffer for the exporter's OTLP encoder: one pass, no size estimate, nested
// messages written in place. A nested message reserves the bytes its length will most likely need and
// moves its body only when the length turned out to need more or fewer (a memmove inside one buffer).

/** Bytes of the varint encoding of a length (non-negative, below 2^32). */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

const TWO_POW_32 = 0x1_0000_0000;
/** Strings up to this many UTF-16 units are copied by a JS loop; longer ones by the native UTF-8 writer. */
const SHORT_STRING = 48;

export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Forgets what was written; keeps the buffer for the next message. */
  reset(): void {
    this.pos = 0;
  }

  /** A copy of what was written, sized exactly. */
  copy(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  /** What was written, as a view of the buffer: valid until the next write after a {@link ProtoWriter.reset}. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** One byte: a precomputed tag of a field number below 16. */
  byte(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  /** A tag (field number and wire type). */
  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  /** A varint of a value in [0, 2^32). */
  uint32(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let p = this.pos;
    let v = value >>> 0;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  /**
   * A varint of an integral number in [-2^63, 2^63): negative values as 64-bit two's complement (10 bytes),
   * as protobuf encodes int64. Values beyond 2^53 are exact as far as the double is.
   */
  int64(value: number): void {
    if (value >= 0 && value < TWO_POW_32) {
      this.uint32(value);
      return;
    }
    const magnitude = Math.abs(value);
    let lo = magnitude >>> 0;
    let hi = Math.floor(magnitude / TWO_POW_32) >>> 0;
    if (value < 0) {
      // Two's complement of the 64-bit magnitude.
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
      lo = (lo + 1) >>> 0;
      if (lo === 0) hi = (hi + 1) >>> 0;
    }
    this.ensure(10);
    const buf = this.buf;
    let p = this.pos;
    while (hi !== 0 || lo > 0x7f) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[p++] = lo;
    this.pos = p;
  }

  fixed32(value: number): void {
    this.ensure(4);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = value;
    buf[p + 1] = value >>> 8;
    buf[p + 2] = value >>> 16;
    buf[p + 3] = value >>> 24;
    this.pos = p + 4;
  }

  fixed64(lo: number, hi: number): void {
    this.ensure(8);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = lo;
    buf[p + 1] = lo >>> 8;
    buf[p + 2] = lo >>> 16;
    buf[p + 3] = lo >>> 24;
    buf[p + 4] = hi;
    buf[p + 5] = hi >>> 8;
    buf[p + 6] = hi >>> 16;
    buf[p + 7] = hi >>> 24;
    this.pos = p + 8;
  }

  /**
   * A `[seconds, nanoseconds]` time as unsigned 64-bit nanoseconds. `seconds × 10^9` leaves the exact range
   * of a double after 2^53 ns (year 2255 is long before that, but 2^53 / 10^9 s is only 104 days), so the
   * seconds are split at 2^16 and each half multiplied on its own, every product below 2^53.
   * The split is otlp-transformer's own (`& 0xffff`, `>>> 0`): it truncates, so that a time no SDK makes
   * (fractional or negative seconds, beyond 2^64 ns) still gets otlp-transformer's bytes.
   */
  time(t: readonly [number, number]): void {
    const seconds = t[0];
    const high16 = (seconds / 0x10000) >>> 0;
    const low16 = seconds & 0xffff;
    // seconds × 10^9 = high16 × 10^9 × 2^16 + low16 × 10^9.
    const a = high16 * 1e9; // < 2^53 for any seconds below 2^64 / 10^9
    const aHi = Math.floor(a / 0x10000); // (a × 2^16) / 2^32
    const aLo = (a - aHi * 0x10000) * 0x10000; // (a × 2^16) mod 2^32, below 2^32
    const b = low16 * 1e9 + t[1]; // < 2^47
    const bHi = Math.floor(b / TWO_POW_32);
    const bLo = b - bHi * TWO_POW_32;
    const lo = aLo + bLo;
    const carry = lo >= TWO_POW_32 ? 1 : 0;
    this.fixed64(lo - carry * TWO_POW_32, aHi + bHi + carry);
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** A length-delimited UTF-8 string (lone surrogates become U+FFFD, as TextEncoder does). */
  string(value: string): void {
    const length = value.length;
    if (length < SHORT_STRING) {
      // Assume ASCII: the byte length is then the string length, below 128, so one length byte.
      this.ensure(length + 1);
      const buf = this.buf;
      const start = this.pos;
      let p = start + 1;
      let i = 0;
      for (; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) break;
        buf[p++] = c;
      }
      if (i === length) {
        buf[start] = length;
        this.pos = p;
        return;
      }
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.uint32(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(value, this.pos, bytes, 'utf8');
  }

  /** A length-delimited bytes field from a hex string (trace and span ids): two characters per byte. */
  hexBytes(hex: string): void {
    const bytes = hex.length >>> 1;
    this.uint32(bytes);
    this.ensure(bytes);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < hex.length - 1; i += 2) {
      const hi = hex.charCodeAt(i);
      const lo = hex.charCodeAt(i + 1);
      buf[p++] =
        ((hi < 128 ? (HEX[hi] as number) : hexValue(hi)) << 4) | (lo < 128 ? (HEX[lo] as number) : hexValue(lo));
    }
    this.pos = p;
  }

  /** A length-delimited bytes field. */
  bytes(value: Uint8Array): void {
    this.uint32(value.length);
    this.raw(value);
  }

  /** Bytes as they are, e.g. an already encoded field. */
  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /**
   * Starts a nested message: reserves `reserve` bytes for its length. Returns where the length goes, for
   * {@link ProtoWriter.end}.
   */
  begin(reserve: number): number {
    this.ensure(reserve);
    const at = this.pos;
    this.pos += reserve;
    return at;
  }

  /** Ends a nested message begun at `at` with `reserve` bytes: writes its length, moving the body if needed. */
  end(at: number, reserve: number): void {
    const length = this.pos - at - reserve;
    const size = varintSize(length);
    if (size !== reserve) {
      if (size > reserve) this.ensure(size - reserve);
      this.buf.copyWithin(at + size, at + reserve, this.pos);
      this.pos += size - reserve;
    }
    const buf = this.buf;
    let p = at;
    let v = length;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
  }
}

/** {@link hexValue} of every ASCII character, looked up instead of computed. */
const HEX = Int8Array.from({ length: 128 }, (_, c) => hexValue(c));

/** The value of a hex digit; any other character counts as the hex digits OTel's own encoder maps it to. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return c - 55; // A-F (other characters: whatever this arithmetic gives, masked to a byte by the caller)
}
