// Kafka's default partitioning of keyed records: murmur2 of the key bytes, made positive, modulo the
// partition count — the same partition a Java producer (or any client's default partitioner) picks.

const seed = 0x9747b28c;
const m = 0x5bd1e995;

/** Kafka's `Utils.murmur2` over bytes, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = seed ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  // The tail bytes, as Kafka's switch with fall-through cases handles them.
  const tail = length & 3;
  if (tail === 3) h ^= (data[whole + 2] as number) << 16;
  if (tail >= 2) h ^= (data[whole + 1] as number) << 8;
  if (tail >= 1) {
    h ^= data[whole] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const nonAscii = /[\u0080-\uffff]/;

/** murmur2 of an ASCII string's bytes without copying it into a buffer first (the common case: emails). */
function murmur2Ascii(text: string): number {
  const length = text.length;
  let h = seed ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k =
      text.charCodeAt(i) |
      (text.charCodeAt(i + 1) << 8) |
      (text.charCodeAt(i + 2) << 16) |
      (text.charCodeAt(i + 3) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= text.charCodeAt(whole + 2) << 16;
  if (tail >= 2) h ^= text.charCodeAt(whole + 1) << 8;
  if (tail >= 1) {
    h ^= text.charCodeAt(whole);
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner assigns to a record with this (UTF-8) key. */
export const partitionForKey = (key: string, partitions: number): number =>
  ((!nonAscii.test(key) ? murmur2Ascii(key) : murmur2(Buffer.from(key, "utf8"))) & 0x7fffffff) % partitions;
