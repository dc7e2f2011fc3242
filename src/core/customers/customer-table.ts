// The customer side of the join: the latest birth year per email, the only state that grows with
// customers. Stored compactly: each email's bytes, behind a variable-length size, in fixed-size
// chunks that never move; per customer only a chunk address and a birth year in typed arrays; and an
// open-addressing hash index over them. About 45 bytes per customer (a JavaScript Map takes 80), no
// copy of the emails as the table grows, and nothing for the garbage collector to trace.

import { accept, type Decoded, reject } from "../result.js";

const emptySlot = -1;
const nonAscii = /[\u0080-\uffff]/;

/**
 * A slot holds an entry number in its low 24 bits and seven bits of the key's hash above them, so
 * that a probe passing another key is rejected without reading that key's bytes.
 */
const entryBits = 24;
const entryMask = (1 << entryBits) - 1;
const maxCustomers = entryMask;
const tagOf = (hash: number) => ((hash >>> 25) & 0x7f) << entryBits;

/** Emails are packed into chunks of this many bytes; an address is chunk × chunkSize + position. */
const chunkBits = 20;
const chunkSize = 1 << chunkBits;
/** The longest email a chunk can hold behind its length (Kafka's record limit keeps real ones far below). */
const maxEmailBytes = chunkSize - 3;

/** FNV-1a over bytes, with a final avalanche so that the low bits index well. */
function finish(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function hashAscii(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return finish(h);
}

function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i += 1) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return finish(h);
}

/** Whether an email's length and bytes at `address` lie within `chunks` (as exported: the last one cut). */
function emailFits(address: number, chunks: readonly Uint8Array[]): boolean {
  const chunk = chunks[address >>> chunkBits];
  if (chunk === undefined) return false;
  let position = address & (chunkSize - 1);
  let length = 0;
  for (let shift = 0; shift <= 14; shift += 7) {
    if (position >= chunk.length) return false;
    const byte = chunk[position++] as number;
    length |= (byte & 0x7f) << shift;
    if (byte < 0x80) return position + length <= chunk.length;
  }
  return false;
}

/** An email as the table compares it: ASCII text as is (no copy), anything else as UTF-8 bytes. */
type Key =
  | { ascii: string; bytes?: undefined; length: number; hash: number }
  | { ascii?: undefined; bytes: Uint8Array; length: number; hash: number };

function keyOf(email: string): Key {
  if (!nonAscii.test(email)) return { ascii: email, length: email.length, hash: hashAscii(email) };
  const bytes = Buffer.from(email, "utf8");
  return { bytes, length: bytes.length, hash: hashBytes(bytes, 0, bytes.length) };
}

/** Bytes of the length written before an email: seven bits per byte, low bits first. */
const prefixLength = (length: number) => (length < 0x80 ? 1 : length < 0x4000 ? 2 : 3);

/**
 * A table's contents as a few arrays, for a checkpoint: restoring them is a handful of copies and
 * one pass that rebuilds the hash index, not one upsert per customer.
 */
export type CustomerTableState = {
  /** Email bytes behind their lengths: every chunk but the last is full size, the last is cut at its used length. */
  chunks: readonly Uint8Array[];
  /** Per customer, in entry order: where its email starts (chunk × 2^20 + position). */
  addresses: Uint32Array;
  /** Per customer, in entry order: the birth year. */
  years: Int16Array;
  /** The hash index: per slot an entry number and a tag of its key's hash, or -1. */
  slots: Int32Array;
};

export const customerTableChunkSize = chunkSize;

export class CustomerTable {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes used in the last chunk. */
  private chunkUsed = chunkSize;
  private addresses = new Uint32Array(1024);
  private years = new Int16Array(1024);
  private count = 0;
  private slots = new Int32Array(2048).fill(emptySlot);
  /** Birth years as text, made once per distinct year: the join asks for one per event. */
  private readonly yearTexts = new Map<number, string>();

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table's arrays (for memory reports). */
  get bytes(): number {
    return (
      this.chunks.length * chunkSize +
      this.addresses.byteLength +
      this.years.byteLength +
      this.slots.byteLength
    );
  }

  /** Where an entry's email bytes start, and their length. */
  private emailOf(entry: number): { chunk: Uint8Array; start: number; length: number } {
    const address = this.addresses[entry] as number;
    const chunk = this.chunks[address >>> chunkBits] as Uint8Array;
    const at = address & (chunkSize - 1);
    let length = 0;
    let shift = 0;
    let position = at;
    for (;;) {
      const byte = chunk[position++] as number;
      length |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    return { chunk, start: position, length };
  }

  private matches(entry: number, key: Key): boolean {
    const address = this.addresses[entry] as number;
    const chunk = this.chunks[address >>> chunkBits] as Uint8Array;
    let at = address & (chunkSize - 1);
    let length = chunk[at++] as number;
    if (length >= 0x80) {
      const { start, length: long } = this.emailOf(entry);
      at = start;
      length = long;
    }
    if (length !== key.length) return false;
    if (key.ascii !== undefined) {
      for (let i = 0; i < length; i += 1) if (chunk[at + i] !== key.ascii.charCodeAt(i)) return false;
      return true;
    }
    for (let i = 0; i < length; i += 1) if (chunk[at + i] !== key.bytes[i]) return false;
    return true;
  }

  /** The slot holding the key's entry, or the empty slot where it would go. */
  private slotOf(key: Key): number {
    const mask = this.slots.length - 1;
    const tag = tagOf(key.hash);
    let slot = key.hash & mask;
    for (;;) {
      const value = this.slots[slot] as number;
      if (value === emptySlot) return slot;
      if ((value & ~entryMask) === tag && this.matches(value & entryMask, key)) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private resize(capacity: number): void {
    const addresses = new Uint32Array(capacity);
    addresses.set(this.addresses.subarray(0, this.count));
    this.addresses = addresses;
    const years = new Int16Array(capacity);
    years.set(this.years.subarray(0, this.count));
    this.years = years;
    // The index stays at most half full, so probes stay short.
    let slotCount = 2048;
    while (slotCount < capacity * 2) slotCount *= 2;
    if (slotCount === this.slots.length) return;
    this.slots = new Int32Array(slotCount).fill(emptySlot);
    const mask = slotCount - 1;
    for (let entry = 0; entry < this.count; entry += 1) {
      const { chunk, start, length } = this.emailOf(entry);
      const hash = hashBytes(chunk, start, start + length);
      let slot = hash & mask;
      while (this.slots[slot] !== emptySlot) slot = (slot + 1) & mask;
      this.slots[slot] = tagOf(hash) | entry;
    }
  }

  /** Copies the key's bytes, behind their length, into the last chunk (a new one when full). */
  private store(key: Key): number {
    const size = prefixLength(key.length) + key.length;
    if (this.chunkUsed + size > chunkSize) {
      this.chunks.push(new Uint8Array(chunkSize));
      this.chunkUsed = 0;
    }
    const chunk = this.chunks.at(-1) as Uint8Array;
    const at = this.chunkUsed;
    let position = at;
    let length = key.length;
    while (length >= 0x80) {
      chunk[position++] = 0x80 | (length & 0x7f);
      length >>>= 7;
    }
    chunk[position++] = length;
    if (key.ascii !== undefined)
      for (let i = 0; i < key.length; i += 1) chunk[position + i] = key.ascii.charCodeAt(i);
    else chunk.set(key.bytes, position);
    this.chunkUsed = at + size;
    return (this.chunks.length - 1) * chunkSize + at;
  }

  /** Records or replaces a customer. `birthYear` is the four digits written in `birthDay`. */
  upsert(email: string, birthYear: string): void {
    this.upsertKey(keyOf(email), Number(birthYear));
  }

  /** Records or replaces a customer whose email is given as UTF-8 bytes (copied, not kept). */
  upsertUtf8(email: Uint8Array, birthYear: number): void {
    this.upsertKey(
      { bytes: email, length: email.length, hash: hashBytes(email, 0, email.length) },
      birthYear,
    );
  }

  private upsertKey(key: Key, birthYear: number): void {
    if (key.length > maxEmailBytes) throw new RangeError(`an email of ${key.length} bytes is too long`);
    let slot = this.slotOf(key);
    const existing = this.slots[slot] as number;
    if (existing !== emptySlot) {
      this.years[existing & entryMask] = birthYear;
      return;
    }
    if (this.count === maxCustomers) {
      throw new RangeError(`the customer table is full at ${maxCustomers} customers`);
    }
    if (this.count === this.addresses.length) {
      this.resize(this.addresses.length * 2);
      slot = this.slotOf(key);
    }
    const entry = this.count;
    this.addresses[entry] = this.store(key);
    this.years[entry] = birthYear;
    this.slots[slot] = tagOf(key.hash) | entry;
    this.count += 1;
  }

  /**
   * The table's contents at this moment. The chunks are shared, not copied: bytes below a chunk's
   * used length never change (emails are only appended, and an update changes a birth year only),
   * so a caller may write them out later while the table keeps changing. The other arrays are copies.
   */
  exportState(): CustomerTableState {
    const last = this.chunks.length - 1;
    return {
      chunks: this.chunks.map((chunk, index) => (index === last ? chunk.subarray(0, this.chunkUsed) : chunk)),
      addresses: this.addresses.slice(0, this.count),
      years: this.years.slice(0, this.count),
      slots: this.slots.slice(),
    };
  }

  /**
   * A table holding exactly `state` (as `exportState` gave it), or the reason it cannot be one: a
   * chunk of the wrong size, an address outside the bytes, an index that does not name every
   * customer once or is too full to probe. The index is taken as stored (rebuilding it costs about
   * as much as a third of a million upserts); the caller guards against bytes changed on disk with
   * a checksum. The arrays are copied, so the table owns what it holds and takes further upserts.
   * Never throws on bad state.
   */
  static fromState(state: CustomerTableState): Decoded<CustomerTable> {
    const { chunks, addresses, years, slots } = state;
    const count = addresses.length;
    if (years.length !== count) return reject(`${count} addresses but ${years.length} birth years`);
    if (count > maxCustomers) return reject(`${count} customers, more than a table holds`);
    if (count > 0 && chunks.length === 0) return reject(`${count} customers but no email bytes`);
    for (const [index, chunk] of chunks.entries()) {
      const last = index === chunks.length - 1;
      if (last ? chunk.length > chunkSize : chunk.length !== chunkSize)
        return reject(`email chunk ${index} holds ${chunk.length} bytes`);
    }
    // Probes end at an empty slot: the index must stay at most half full, as resize keeps it.
    if (slots.length < 2048 || (slots.length & (slots.length - 1)) !== 0 || slots.length < count * 2)
      return reject(`an index of ${slots.length} slots for ${count} customers`);
    for (let entry = 0; entry < count; entry += 1) {
      if (!emailFits(addresses[entry] as number, chunks))
        return reject(`customer ${entry}: its email lies outside the stored bytes`);
    }
    const indexed = new Uint8Array(count);
    let filled = 0;
    for (const value of slots) {
      if (value === emptySlot) continue;
      const entry = value & entryMask;
      if (entry >= count || indexed[entry] === 1)
        return reject("the index does not name every customer once");
      indexed[entry] = 1;
      filled += 1;
    }
    if (filled !== count) return reject("the index does not name every customer once");

    const table = new CustomerTable();
    const capacity = slots.length / 2;
    table.addresses = new Uint32Array(capacity);
    table.addresses.set(addresses);
    table.years = new Int16Array(capacity);
    table.years.set(years);
    table.slots = slots.slice();
    table.count = count;
    for (const [index, chunk] of chunks.entries()) {
      if (index < chunks.length - 1) table.chunks.push(chunk.slice());
      else {
        // The last chunk is where new emails go, so it gets its full size back.
        const full = new Uint8Array(chunkSize);
        full.set(chunk);
        table.chunks.push(full);
        table.chunkUsed = chunk.length;
      }
    }
    return accept(table);
  }

  /** The birth year as written (four digits, e.g. "0007"), or undefined for an unknown email. */
  birthYearOf(email: string): string | undefined {
    const value = this.slots[this.slotOf(keyOf(email))] as number;
    if (value === emptySlot) return undefined;
    const year = this.years[value & entryMask] as number;
    let text = this.yearTexts.get(year);
    if (text === undefined) {
      text = String(year).padStart(4, "0");
      this.yearTexts.set(year, text);
    }
    return text;
  }
}
