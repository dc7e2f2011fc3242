// Reads an RDB file (the payload of a full resync) into keys and values, without I/O.
//
// Covers what Redis 2.8 – 7.4 writes for strings, lists, sets, sorted sets and hashes in every
// encoding (plain, ziplist, listpack, intset, quicklist, LZF-compressed strings); streams and
// module values are read past (their keys are reported as skipped). A type this module does not
// know (e.g. a future encoding) ends the decoding with an error: the keys read until then are kept.
// The CRC64 trailer is not checked: the payload arrives over TCP from the master that wrote it.

export type RdbValue =
  | { type: "string"; value: Buffer }
  | { type: "list"; value: Buffer[] }
  | { type: "set"; value: Buffer[] }
  | { type: "zset"; value: { element: Buffer; score: number }[] }
  | { type: "hash"; value: [Buffer, Buffer][] }
  | { type: "unsupported"; what: string };

/** The database as announced by SELECTDB and RESIZEDB (null sizes when the RDB has no RESIZEDB). */
export type RdbDb = { dbNumber: number; dbsize: bigint | null; expires: bigint | null };

export type RdbEntry = {
  db: RdbDb;
  /** The RDB type byte, e.g. 0 string, 5 sorted set (skiplist), 17 sorted set (listpack). */
  valueRdbType: number;
  key: Buffer;
  value: RdbValue;
  expiry: { type: "SECOND" | "MS"; value: bigint } | undefined;
  evict: { type: "LRU" | "LFU"; value: bigint } | undefined;
};

export type RdbContents = {
  version: number;
  entries: RdbEntry[];
  /** Why decoding stopped early; undefined when the whole file was read. */
  error: string | undefined;
};

class RdbError extends Error {}

const typeNames: Record<number, string> = {
  6: "module",
  7: "module",
  15: "stream",
  19: "stream",
  21: "stream",
};

/** Decodes a whole RDB payload. Never throws: a failure is reported in `error` with the keys read so far. */
export function decodeRdb(payload: Buffer): RdbContents {
  const entries: RdbEntry[] = [];
  const reader = new Reader(payload);
  let version = 0;
  try {
    const magic = reader.bytes(9).toString("latin1");
    if (!/^REDIS\d{4}$/.test(magic)) throw new RdbError("not an RDB file (no REDIS header)");
    version = Number(magic.slice(5));
    let db: RdbDb = { dbNumber: 0, dbsize: null, expires: null };
    let expiry: RdbEntry["expiry"];
    let evict: RdbEntry["evict"];
    for (;;) {
      const opcode = reader.u8();
      switch (opcode) {
        case 0xff: // EOF (a CRC64 follows)
          return { version, entries, error: undefined };
        case 0xfe: // SELECTDB
          db = { dbNumber: reader.lengthNumber(), dbsize: null, expires: null };
          continue;
        case 0xfd: // EXPIRETIME, seconds
          expiry = { type: "SECOND", value: BigInt(reader.uint32le()) };
          continue;
        case 0xfc: // EXPIRETIME_MS
          expiry = { type: "MS", value: reader.int64le() };
          continue;
        case 0xfb: // RESIZEDB
          db = { dbNumber: db.dbNumber, dbsize: reader.length(), expires: reader.length() };
          continue;
        case 0xfa: // AUX field
          reader.string();
          reader.string();
          continue;
        case 0xf9: // FREQ (LFU)
          evict = { type: "LFU", value: BigInt(reader.u8()) };
          continue;
        case 0xf8: // IDLE (LRU)
          evict = { type: "LRU", value: reader.length() };
          continue;
        case 0xf7: // MODULE_AUX
          reader.length();
          reader.length();
          reader.length();
          skipModuleValue(reader);
          continue;
        case 0xf5: // FUNCTION2: a library's code
          reader.string();
          continue;
        case 0xf4: // SLOT_INFO (7.4 cluster)
          reader.length();
          reader.length();
          reader.length();
          continue;
        default: {
          const key = reader.string();
          const value = readValue(reader, opcode);
          entries.push({ db, valueRdbType: opcode, key, value, expiry, evict });
          expiry = undefined;
          evict = undefined;
        }
      }
    }
  } catch (error) {
    if (!(error instanceof RdbError)) throw error;
    return { version, entries, error: `${error.message} (at byte ${reader.position})` };
  }
}

function readValue(reader: Reader, type: number): RdbValue {
  switch (type) {
    case 0:
      return { type: "string", value: reader.string() };
    case 1:
      return { type: "list", value: reader.repeat(() => reader.string()) };
    case 2:
      return { type: "set", value: reader.repeat(() => reader.string()) };
    case 3:
      return {
        type: "zset",
        value: reader.repeat(() => ({ element: reader.string(), score: reader.textDouble() })),
      };
    case 4:
      return {
        type: "hash",
        value: reader.repeat(() => [reader.string(), reader.string()] as [Buffer, Buffer]),
      };
    case 5:
      return {
        type: "zset",
        value: reader.repeat(() => ({ element: reader.string(), score: reader.doublele() })),
      };
    case 10:
      return { type: "list", value: readZiplist(reader.string()) };
    case 11:
      return { type: "set", value: readIntset(reader.string()) };
    case 12:
      return { type: "zset", value: scored(readZiplist(reader.string())) };
    case 13:
      return { type: "hash", value: paired(readZiplist(reader.string())) };
    case 14:
      return { type: "list", value: reader.repeat(() => readZiplist(reader.string())).flat() };
    case 16:
      return { type: "hash", value: paired(readListpack(reader.string())) };
    case 17:
      return { type: "zset", value: scored(readListpack(reader.string())) };
    case 18:
      return {
        type: "list",
        value: reader
          .repeat(() => {
            const container = reader.lengthNumber();
            const data = reader.string();
            return container === 1 ? [data] : readListpack(data); // 1 = PLAIN node, 2 = PACKED
          })
          .flat(),
      };
    case 20:
      return { type: "set", value: readListpack(reader.string()) };
    case 7:
      reader.length(); // module id
      skipModuleValue(reader);
      return { type: "unsupported", what: "module" };
    case 15:
    case 19:
    case 21:
      skipStream(reader, type);
      return { type: "unsupported", what: "stream" };
    default:
      throw new RdbError(
        `cannot read RDB value type ${type}${typeNames[type] ? ` (${typeNames[type]})` : ""}`,
      );
  }
}

const paired = (items: Buffer[]): [Buffer, Buffer][] => {
  const pairs: [Buffer, Buffer][] = [];
  for (let index = 0; index + 1 < items.length; index += 2)
    pairs.push([items[index] as Buffer, items[index + 1] as Buffer]);
  return pairs;
};

const scored = (items: Buffer[]) =>
  paired(items).map(([element, score]) => ({ element, score: parseScore(score.toString("latin1")) }));

function parseScore(text: string): number {
  const lower = text.toLowerCase();
  if (lower === "inf" || lower === "+inf") return Number.POSITIVE_INFINITY;
  if (lower === "-inf") return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (Number.isNaN(value)) throw new RdbError(`bad score ${JSON.stringify(text)}`);
  return value;
}

/** Module values (type 7, MODULE_AUX) are a sequence of typed opcodes closed by EOF (0). */
function skipModuleValue(reader: Reader): void {
  for (;;) {
    const opcode = reader.lengthNumber();
    if (opcode === 0) return;
    if (opcode === 1 || opcode === 2) reader.length();
    else if (opcode === 3) reader.bytes(4);
    else if (opcode === 4) reader.bytes(8);
    else if (opcode === 5) reader.string();
    else throw new RdbError(`bad module opcode ${opcode}`);
  }
}

/** Reads past a stream (types 15, 19, 21): entries, metadata, consumer groups and their PELs. */
function skipStream(reader: Reader, type: number): void {
  const listpacks = reader.lengthNumber();
  for (let index = 0; index < listpacks; index += 1) {
    reader.string();
    reader.string();
  }
  reader.length(); // length
  reader.length(); // last id
  reader.length();
  if (type >= 19) {
    for (let index = 0; index < 5; index += 1) reader.length(); // first id, max deleted id, entries added
  }
  const groups = reader.lengthNumber();
  for (let group = 0; group < groups; group += 1) {
    reader.string();
    reader.length();
    reader.length();
    if (type >= 19) reader.length(); // entries read
    const pending = reader.lengthNumber();
    for (let index = 0; index < pending; index += 1) {
      reader.bytes(16 + 8); // id, delivery time
      reader.length(); // delivery count
    }
    const consumers = reader.lengthNumber();
    for (let consumer = 0; consumer < consumers; consumer += 1) {
      reader.string();
      reader.bytes(type >= 21 ? 16 : 8); // seen time (and active time)
      const owned = reader.lengthNumber();
      reader.bytes(16 * owned);
    }
  }
}

/** Ziplist: <zlbytes u32><zltail u32><zllen u16> entries… 0xFF. */
function readZiplist(data: Buffer): Buffer[] {
  const reader = new Reader(data);
  reader.bytes(10);
  const items: Buffer[] = [];
  for (;;) {
    const first = reader.u8();
    if (first === 0xff) return items;
    if (first === 0xfe) reader.bytes(4); // previous entry length, long form
    const encoding = reader.u8();
    const kind = encoding >> 6;
    if (kind === 0) items.push(reader.bytes(encoding & 0x3f));
    else if (kind === 1) items.push(reader.bytes(((encoding & 0x3f) << 8) | reader.u8()));
    else if (kind === 2) items.push(reader.bytes(reader.uint32be()));
    else items.push(Buffer.from(String(readZiplistInteger(reader, encoding)), "latin1"));
  }
}

function readZiplistInteger(reader: Reader, encoding: number): bigint | number {
  switch (encoding) {
    case 0xc0:
      return reader.int16le();
    case 0xd0:
      return reader.int32le();
    case 0xe0:
      return reader.int64le();
    case 0xf0:
      return reader.int24le();
    case 0xfe:
      return reader.int8();
    default:
      if (encoding >= 0xf1 && encoding <= 0xfd) return (encoding & 0x0f) - 1;
      throw new RdbError(`bad ziplist encoding 0x${encoding.toString(16)}`);
  }
}

/** Listpack: <total u32><count u16> entries (each followed by its back-length) … 0xFF. */
function readListpack(data: Buffer): Buffer[] {
  const reader = new Reader(data);
  reader.bytes(6);
  const items: Buffer[] = [];
  for (;;) {
    const start = reader.position;
    const encoding = reader.u8();
    if (encoding === 0xff) return items;
    let item: Buffer;
    if (encoding < 0x80) item = integerText(encoding);
    else if (encoding >> 6 === 2) item = reader.bytes(encoding & 0x3f);
    else if (encoding >> 5 === 6) {
      const raw = ((encoding & 0x1f) << 8) | reader.u8();
      item = integerText(raw >= 1 << 12 ? raw - (1 << 13) : raw);
    } else if (encoding >> 4 === 0xe) item = reader.bytes(((encoding & 0x0f) << 8) | reader.u8());
    else if (encoding === 0xf0) item = reader.bytes(reader.uint32le());
    else if (encoding === 0xf1) item = integerText(reader.int16le());
    else if (encoding === 0xf2) item = integerText(reader.int24le());
    else if (encoding === 0xf3) item = integerText(reader.int32le());
    else if (encoding === 0xf4) item = integerText(reader.int64le());
    else throw new RdbError(`bad listpack encoding 0x${encoding.toString(16)}`);
    const size = reader.position - start;
    reader.bytes(size <= 127 ? 1 : size < 16383 ? 2 : size < 2097151 ? 3 : size < 268435455 ? 4 : 5);
    items.push(item);
  }
}

/** Intset: <encoding u32: 2, 4 or 8><length u32> little-endian integers. */
function readIntset(data: Buffer): Buffer[] {
  const reader = new Reader(data);
  const width = reader.uint32le();
  const count = reader.uint32le();
  const items: Buffer[] = [];
  for (let index = 0; index < count; index += 1) {
    const value = width === 2 ? reader.int16le() : width === 4 ? reader.int32le() : reader.int64le();
    items.push(integerText(value));
  }
  return items;
}

const integerText = (value: number | bigint) => Buffer.from(String(value), "latin1");

/** LZF, as Redis compresses long strings: literal runs and back-references. */
function decompressLzf(input: Buffer, outputLength: number): Buffer {
  const output = Buffer.alloc(outputLength);
  let inPos = 0;
  let outPos = 0;
  while (inPos < input.length) {
    const control = input[inPos++] as number;
    if (control < 32) {
      const run = control + 1;
      if (outPos + run > outputLength || inPos + run > input.length) throw new RdbError("corrupt LZF data");
      input.copy(output, outPos, inPos, inPos + run);
      inPos += run;
      outPos += run;
      continue;
    }
    let length = control >> 5;
    if (length === 7) length += input[inPos++] as number;
    const back = ((control & 0x1f) << 8) + (input[inPos++] as number) + 1;
    length += 2;
    let from = outPos - back;
    if (from < 0 || outPos + length > outputLength) throw new RdbError("corrupt LZF data");
    // Byte by byte: a reference may overlap the bytes it produces.
    for (let index = 0; index < length; index += 1) output[outPos++] = output[from++] as number;
  }
  if (outPos !== outputLength) throw new RdbError("corrupt LZF data (short)");
  return output;
}

class Reader {
  position = 0;
  constructor(private readonly data: Buffer) {}

  private need(count: number): number {
    const at = this.position;
    if (at + count > this.data.length) throw new RdbError("the RDB ends early");
    this.position += count;
    return at;
  }

  bytes(count: number): Buffer {
    const at = this.need(count);
    return this.data.subarray(at, at + count);
  }
  u8 = () => this.data[this.need(1)] as number;
  int8 = () => this.data.readInt8(this.need(1));
  int16le = () => this.data.readInt16LE(this.need(2));
  int24le = () => this.data.readIntLE(this.need(3), 3);
  int32le = () => this.data.readInt32LE(this.need(4));
  uint32le = () => this.data.readUInt32LE(this.need(4));
  uint32be = () => this.data.readUInt32BE(this.need(4));
  int64le = () => this.data.readBigInt64LE(this.need(8));
  doublele = () => this.data.readDoubleLE(this.need(8));

  /** A length, or for encoded strings `{ encoded }` with the 6-bit encoding type. */
  private lengthOrEncoding(): { length: bigint } | { encoded: number } {
    const first = this.u8();
    switch (first >> 6) {
      case 0:
        return { length: BigInt(first & 0x3f) };
      case 1:
        return { length: BigInt(((first & 0x3f) << 8) | this.u8()) };
      case 2:
        if (first === 0x80) return { length: BigInt(this.uint32be()) };
        if (first === 0x81) return { length: this.data.readBigUInt64BE(this.need(8)) };
        throw new RdbError(`bad length byte 0x${first.toString(16)}`);
      default:
        return { encoded: first & 0x3f };
    }
  }

  length(): bigint {
    const read = this.lengthOrEncoding();
    if ("encoded" in read) throw new RdbError("an encoded string where a length belongs");
    return read.length;
  }

  lengthNumber(): number {
    const length = this.length();
    if (length > BigInt(this.data.length)) throw new RdbError(`length ${length} exceeds the RDB`);
    return Number(length);
  }

  /** Reads `count` (a length) items. */
  repeat<T>(read: () => T): T[] {
    const count = this.lengthNumber();
    const items: T[] = [];
    for (let index = 0; index < count; index += 1) items.push(read());
    return items;
  }

  string(): Buffer {
    const read = this.lengthOrEncoding();
    if ("length" in read) {
      if (read.length > BigInt(this.data.length)) throw new RdbError("string longer than the RDB");
      return this.bytes(Number(read.length));
    }
    switch (read.encoded) {
      case 0:
        return integerText(this.int8());
      case 1:
        return integerText(this.int16le());
      case 2:
        return integerText(this.int32le());
      case 3: {
        const compressed = this.lengthNumber();
        const length = Number(this.length());
        if (length > 1 << 30) throw new RdbError("compressed string too long");
        return decompressLzf(this.bytes(compressed), length);
      }
      default:
        throw new RdbError(`bad string encoding ${read.encoded}`);
    }
  }

  /** Scores of the old sorted-set type 3: a length byte (253 NaN, 254 +inf, 255 -inf) and text. */
  textDouble(): number {
    const length = this.u8();
    if (length === 253) return Number.NaN;
    if (length === 254) return Number.POSITIVE_INFINITY;
    if (length === 255) return Number.NEGATIVE_INFINITY;
    return parseScore(this.bytes(length).toString("latin1"));
  }
}
