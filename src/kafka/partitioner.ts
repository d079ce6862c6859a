// librdkafka's key partitioners, reproduced so that the exporter can group spans by the partition a message
// keyed by their trace id would go to, and produce each group to that partition explicitly. The hashes are
// librdkafka's (rdcrc32.c, rdmurmur2.c, rdfnv1a.c; murmur2 is Kafka's Java client's); an integration test
// produces keyed messages through librdkafka itself and checks every partition it chose against these.

/** A partitioner: the partition of an ASCII key (a hex trace id) among `partitions`. */
export type KeyPartitioner = (key: string, partitions: number) => number;

/** librdkafka's `partitioner` values whose choice depends only on the key. */
const PARTITIONERS: Record<string, KeyPartitioner> = {
  consistent: (key, n) => crc32(key) % n,
  consistent_random: (key, n) => crc32(key) % n,
  murmur2: (key, n) => (murmur2(key) & 0x7fffffff) % n,
  murmur2_random: (key, n) => (murmur2(key) & 0x7fffffff) % n,
  fnv1a: (key, n) => fnv1a(key) % n,
  fnv1a_random: (key, n) => fnv1a(key) % n,
};

/** librdkafka's default `partitioner`. */
export const DEFAULT_PARTITIONER = 'consistent_random';

/**
 * The partitioner for a librdkafka `partitioner` setting, or undefined for one that does not depend on the
 * key alone (`random`) or is unknown.
 */
export function keyPartitioner(name: string = DEFAULT_PARTITIONER): KeyPartitioner | undefined {
  return Object.prototype.hasOwnProperty.call(PARTITIONERS, name) ? PARTITIONERS[name] : undefined;
}

let crcTable: Uint32Array | undefined;

function table(): Uint32Array {
  if (crcTable) return crcTable;
  crcTable = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[i] = c >>> 0;
  }
  return crcTable;
}

/** CRC-32 (IEEE 802.3, as zlib) of the key's bytes: char codes below 256 (the key is ASCII). */
export function crc32(key: string): number {
  const t = table();
  let c = 0xffffffff;
  for (let i = 0; i < key.length; i++) c = (t[(c ^ key.charCodeAt(i)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** MurmurHash2 as Kafka's Java client computes it (seed 0x9747b28c), unsigned. */
export function murmur2(key: string): number {
  const m = 0x5bd1e995;
  const length = key.length;
  let h = (0x9747b28c ^ length) >>> 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    let k =
      (key.charCodeAt(i) & 0xff) |
      ((key.charCodeAt(i + 1) & 0xff) << 8) |
      ((key.charCodeAt(i + 2) & 0xff) << 16) |
      ((key.charCodeAt(i + 3) & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The last one to three bytes, as the reference's fall-through switch takes them.
  const tail = length - i;
  if (tail > 0) {
    if (tail === 3) h ^= (key.charCodeAt(i + 2) & 0xff) << 16;
    if (tail >= 2) h ^= (key.charCodeAt(i + 1) & 0xff) << 8;
    h ^= key.charCodeAt(i) & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h >>> 0;
}

/**
 * 32-bit FNV-1a of the key's bytes as librdkafka's `rd_fnv1a` returns it: the absolute value of the signed
 * hash (Sarama's hash partitioner does the same), so that both place a key alike.
 */
export function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ (key.charCodeAt(i) & 0xff), 0x01000193);
  return Math.abs(h | 0) >>> 0;
}
