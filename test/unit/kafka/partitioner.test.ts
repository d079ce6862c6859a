// The key hashes of librdkafka's partitioners, against published vectors: Kafka's Java client for murmur2
// (UtilsTest), zlib for crc32, librdkafka's own unit test for its FNV-1a (rdfnv1a.c, the Sarama-compatible
// variant: the absolute value of the signed hash). test/integration/exporter/partitioner-parity.test.ts
// checks the partitions against librdkafka itself.
import zlib from 'node:zlib';

import { crc32, DEFAULT_PARTITIONER, fnv1a, keyPartitioner, murmur2 } from '../../../src/kafka/partitioner';
import { Rng } from '../fuzz/generators';

const traceIds = (count: number, seed: number): string[] => {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => rng.hex(16));
};

describe('murmur2', () => {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2: the Java client's signed int results.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('%j hashes to %i (as a signed int32), as in Kafka’s Java client', (key, expected) => {
    expect(murmur2(key) | 0).toBe(expected);
  });

  it('returns an unsigned 32-bit value', () => {
    for (const key of traceIds(1000, 1)) {
      const h = murmur2(key);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    }
  });
});

describe('crc32', () => {
  it('is the CRC-32 check value for "123456789" and 0 for the empty key', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
  });

  it('equals zlib.crc32 on trace ids and on every byte value', () => {
    for (const key of traceIds(2000, 2)) expect(crc32(key)).toBe(zlib.crc32(key));
    const everyByte = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    expect(crc32(everyByte)).toBe(zlib.crc32(Buffer.from(everyByte, 'latin1')));
  });
});

describe('fnv1a', () => {
  // librdkafka's unittest_fnv1a (the values Go's hash/fnv gives, made non-negative as Sarama does).
  it.each([
    ['kafka', 0x0d33c4e1],
    ['giberish123456789', 0x77a58295],
    ['1234', 0x023bdd03],
    ['234', 0x2dea3cd2],
    ['34', 0x740fa83e],
    ['4', 0x310ca263],
    ['PreAmbleWillBeRemoved,ThePrePartThatIs', 0x65cbd69c],
    ['reAmbleWillBeRemoved,ThePrePartThatIs', 0x6e49c79a],
    ['eAmbleWillBeRemoved,ThePrePartThatIs', 0x69eed356],
    ['AmbleWillBeRemoved,ThePrePartThatIs', 0x6abcc023],
    ['', 0x7ee3623b],
  ])('%j hashes to %i, as in librdkafka’s unit test', (key, expected) => {
    expect(fnv1a(key)).toBe(expected);
  });

  it('is the absolute value of the signed FNV-1a hash', () => {
    // Plain 32-bit FNV-1a, by BigInt arithmetic, as the reference.
    const plain = (key: string): number => {
      let h = 0x811c9dc5n;
      for (const c of Buffer.from(key, 'latin1')) h = ((h ^ BigInt(c)) * 0x01000193n) & 0xffffffffn;
      return Number(BigInt.asIntN(32, h));
    };
    for (const key of traceIds(2000, 3)) expect(fnv1a(key)).toBe(Math.abs(plain(key)));
  });
});

describe('keyPartitioner', () => {
  const keys = traceIds(3000, 4);

  it.each([
    ['consistent', (k: string) => crc32(k)],
    ['consistent_random', (k: string) => crc32(k)],
    ['murmur2', (k: string) => murmur2(k) & 0x7fffffff],
    ['murmur2_random', (k: string) => murmur2(k) & 0x7fffffff],
    ['fnv1a', (k: string) => fnv1a(k)],
    ['fnv1a_random', (k: string) => fnv1a(k)],
  ])('%s: the hash modulo the partition count, always a valid partition', (name, hash) => {
    const partitioner = keyPartitioner(name);
    expect(partitioner).toBeDefined();
    for (const n of [1, 2, 3, 7, 12, 100]) {
      const seen = new Set<number>();
      for (const key of keys) {
        const p = partitioner!(key, n);
        if (p !== hash(key) % n || p < 0 || p >= n) throw new Error(`${name}(${key}, ${n}) = ${p}`);
        seen.add(p);
      }
      // 3000 random keys reach every one of up to 12 partitions.
      if (n <= 12) expect(seen.size).toBe(n);
    }
  });

  it('defaults to librdkafka’s default, consistent_random (crc32)', () => {
    expect(DEFAULT_PARTITIONER).toBe('consistent_random');
    const partitioner = keyPartitioner();
    for (const key of keys.slice(0, 100)) expect(partitioner!(key, 7)).toBe(crc32(key) % 7);
  });

  it.each(['random', 'murmur3', 'CONSISTENT', '', 'toString', '__proto__', 'constructor'])(
    '%j: undefined (not a key partitioner, or not one at all)',
    (name) => {
      expect(keyPartitioner(name)).toBeUndefined();
    },
  );
});
