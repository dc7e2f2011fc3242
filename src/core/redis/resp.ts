// RESP2, the Redis wire protocol: encoding commands and parsing replies incrementally, without I/O.

export type RespValue =
  | { type: "simple"; value: string }
  | { type: "error"; value: string }
  | { type: "integer"; value: number }
  | { type: "bulk"; value: Buffer | null }
  | { type: "array"; value: RespValue[] | null };

const CRLF = Buffer.from("\r\n");

/** Encodes a command as an array of bulk strings, the only form Redis accepts from clients. */
export function encodeCommand(args: (string | Buffer | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), "utf8");
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/** Thrown for bytes that cannot be RESP at all: the connection cannot be trusted any more. */
export class RespProtocolError extends Error {}

type Parsed = { value: RespValue; end: number } | undefined;

function readLine(buffer: Buffer, start: number): { line: string; next: number } | undefined {
  const end = buffer.indexOf(CRLF, start);
  if (end === -1) return undefined;
  return { line: buffer.toString("latin1", start, end), next: end + 2 };
}

/** Parses one value at `start`; undefined when the buffer does not hold all of it yet. */
export function parseValue(buffer: Buffer, start = 0): Parsed {
  if (start >= buffer.length) return undefined;
  const header = readLine(buffer, start + 1);
  if (!header) return undefined;
  const { line, next } = header;
  switch (buffer[start]) {
    case 0x2b /* + */:
      return { value: { type: "simple", value: line }, end: next };
    case 0x2d /* - */:
      return { value: { type: "error", value: line }, end: next };
    case 0x3a /* : */:
      return { value: { type: "integer", value: Number(line) }, end: next };
    case 0x24 /* $ */:
      {
        const length = Number(line);
        if (!Number.isInteger(length)) throw new RespProtocolError(`bad bulk length ${JSON.stringify(line)}`);
        if (length < 0) return { value: { type: "bulk", value: null }, end: next };
        if (buffer.length < next + length + 2) return undefined;
        return {
          value: { type: "bulk", value: Buffer.from(buffer.subarray(next, next + length)) },
          end: next + length + 2,
        };
      }
    case 0x2a /* * */:
      {
        const count = Number(line);
        if (!Number.isInteger(count)) throw new RespProtocolError(`bad array length ${JSON.stringify(line)}`);
        if (count < 0) return { value: { type: "array", value: null }, end: next };
        const items: RespValue[] = [];
        let position = next;
        for (let index = 0; index < count; index += 1) {
          const item = parseValue(buffer, position);
          if (!item) return undefined;
          items.push(item.value);
          position = item.end;
        }
        return { value: { type: "array", value: items }, end: position };
      }
    default:
      throw new RespProtocolError(`unexpected byte 0x${(buffer[start] ?? 0).toString(16)} at ${start}`);
  }
}

/**
 * Accumulates bytes from a socket and yields complete values. Keeps any partial value for the
 * next `push`, so values split across TCP packets come out whole.
 */
export class RespReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): RespValue[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const values: RespValue[] = [];
    let position = 0;
    for (;;) {
      const parsed = parseValue(this.buffer, position);
      if (!parsed) break;
      values.push(parsed.value);
      position = parsed.end;
    }
    this.buffer = this.buffer.subarray(position);
    return values;
  }

  /** Bytes received but not yet parsed. */
  get pending(): number {
    return this.buffer.length;
  }
}
