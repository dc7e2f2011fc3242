// What a Redis master sends a replica after PSYNC, decoded from bytes without I/O: the sync reply,
// the RDB payload of a full resync, then the command stream with the replication offset of each.
//
// Wire format (Redis 2.8 – 7.x):
//   "\n"*                            keep-alives while the master prepares the RDB (skipped)
//   +FULLRESYNC <replid> <offset>    then "\n"* and the RDB, either
//       $<len>\r\n<len bytes>        (disk-based: no CRLF after the payload), or
//       $EOF:<40-byte mark>\r\n<bytes><mark>   (diskless, announced by `capa eof`)
//   +CONTINUE [<replid>]             partial resync: commands follow at once
//   -ERR …                           refused (LOADING, NOMASTERLINK, …)
//   *<n>\r\n$<len>\r\n<arg>\r\n…     commands, forever
// The replication offset counts every byte of every command (PING and REPLCONF GETACK included),
// starting from the offset of FULLRESYNC, or the one asked for with PSYNC on CONTINUE.

import { parseValue, RespProtocolError } from "./resp.js";

export type ReplicationEvent =
  | { kind: "fullresync"; replid: string; offset: number }
  | { kind: "continue"; replid: string | undefined; offset: number }
  | { kind: "refused"; message: string }
  | { kind: "rdb"; payload: Buffer }
  /** `offset` is the replication offset just after this command. */
  | { kind: "command"; args: Buffer[]; offset: number };

type State =
  | { name: "reply" }
  | { name: "rdb-header" }
  | { name: "rdb-length"; remaining: number; chunks: Buffer[] }
  | { name: "rdb-eof"; mark: Buffer; chunks: Buffer[]; tail: Buffer }
  | { name: "commands" }
  | { name: "refused" };

const CRLF = Buffer.from("\r\n");
const NEWLINE = 0x0a;
const markLength = 40;

/**
 * Feeds on the bytes of one replication connection, from the PSYNC reply on. `continueOffset` is
 * the offset the replica already holds (what it asked PSYNC for, minus one): a CONTINUE resumes
 * counting from there. Throws RespProtocolError on bytes that cannot be this protocol.
 */
export class ReplicationStreamDecoder {
  private state: State = { name: "reply" };
  private buffer: Buffer = Buffer.alloc(0);
  private currentOffset: number;

  constructor(continueOffset: number) {
    this.currentOffset = continueOffset;
  }

  /** The replication offset after the last command decoded. */
  get offset(): number {
    return this.currentOffset;
  }

  /** Whether the initial sync (FULLRESYNC + RDB, or CONTINUE) is over and commands flow. */
  get streaming(): boolean {
    return this.state.name === "commands";
  }

  push(chunk: Buffer): ReplicationEvent[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const events: ReplicationEvent[] = [];
    while (this.step(events)) {
      // each step consumes part of the buffer or changes state
    }
    return events;
  }

  /** One decoding step; false when more bytes are needed. */
  private step(events: ReplicationEvent[]): boolean {
    switch (this.state.name) {
      case "reply":
        return this.readReply(events);
      case "rdb-header":
        return this.readRdbHeader();
      case "rdb-length":
        return this.readRdbByLength(this.state, events);
      case "rdb-eof":
        return this.readRdbToMark(this.state, events);
      case "commands":
        return this.readCommand(events);
      case "refused":
        this.buffer = Buffer.alloc(0);
        return false;
    }
  }

  private skipNewlines(): void {
    let start = 0;
    while (start < this.buffer.length && this.buffer[start] === NEWLINE) start += 1;
    if (start > 0) this.buffer = this.buffer.subarray(start);
  }

  private takeLine(): string | undefined {
    const end = this.buffer.indexOf(CRLF);
    if (end === -1) return undefined;
    const line = this.buffer.toString("latin1", 0, end);
    this.buffer = this.buffer.subarray(end + 2);
    return line;
  }

  private readReply(events: ReplicationEvent[]): boolean {
    this.skipNewlines();
    const line = this.takeLine();
    if (line === undefined) return false;
    const [word = "", replid, offset] = line.split(" ");
    if (word === "+FULLRESYNC" && replid && offset && /^\d+$/.test(offset)) {
      this.currentOffset = Number(offset);
      events.push({ kind: "fullresync", replid, offset: this.currentOffset });
      this.state = { name: "rdb-header" };
    } else if (word === "+CONTINUE") {
      events.push({ kind: "continue", replid: replid || undefined, offset: this.currentOffset });
      this.state = { name: "commands" };
    } else if (line.startsWith("-")) {
      events.push({ kind: "refused", message: line.slice(1) });
      this.state = { name: "refused" };
    } else {
      throw new RespProtocolError(`unexpected reply to PSYNC: ${JSON.stringify(line.slice(0, 80))}`);
    }
    return true;
  }

  private readRdbHeader(): boolean {
    this.skipNewlines();
    const line = this.takeLine();
    if (line === undefined) return false;
    if (line.startsWith("$EOF:") && line.length === 5 + markLength) {
      this.state = {
        name: "rdb-eof",
        mark: Buffer.from(line.slice(5), "latin1"),
        chunks: [],
        tail: Buffer.alloc(0),
      };
    } else if (/^\$\d+$/.test(line)) {
      this.state = { name: "rdb-length", remaining: Number(line.slice(1)), chunks: [] };
    } else {
      throw new RespProtocolError(`unexpected RDB header ${JSON.stringify(line.slice(0, 80))}`);
    }
    return true;
  }

  private readRdbByLength(
    state: Extract<State, { name: "rdb-length" }>,
    events: ReplicationEvent[],
  ): boolean {
    const take = Math.min(state.remaining, this.buffer.length);
    if (take > 0) {
      state.chunks.push(Buffer.from(this.buffer.subarray(0, take)));
      this.buffer = this.buffer.subarray(take);
      state.remaining -= take;
    }
    if (state.remaining > 0) return false;
    events.push({ kind: "rdb", payload: Buffer.concat(state.chunks) });
    this.state = { name: "commands" };
    return true;
  }

  /**
   * The diskless payload has no length: it ends with the mark announced in its header. The master
   * sends nothing after it until the replica's first REPLCONF ACK, so bytes past the mark in the
   * same chunk would be a protocol error; they are kept as commands all the same.
   */
  private readRdbToMark(state: Extract<State, { name: "rdb-eof" }>, events: ReplicationEvent[]): boolean {
    if (this.buffer.length === 0) return false;
    // `tail` holds the last bytes of earlier chunks that may be the start of the mark.
    const window = state.tail.length === 0 ? this.buffer : Buffer.concat([state.tail, this.buffer]);
    const found = window.indexOf(state.mark);
    if (found === -1) {
      const settled = Math.max(0, window.length - (markLength - 1));
      if (settled > 0) state.chunks.push(Buffer.from(window.subarray(0, settled)));
      state.tail = Buffer.from(window.subarray(settled));
      this.buffer = Buffer.alloc(0);
      return false;
    }
    state.chunks.push(Buffer.from(window.subarray(0, found)));
    events.push({ kind: "rdb", payload: Buffer.concat(state.chunks) });
    this.buffer = window.subarray(found + markLength);
    this.state = { name: "commands" };
    return true;
  }

  private readCommand(events: ReplicationEvent[]): boolean {
    if (this.buffer.length === 0) return false;
    const parsed = parseValue(this.buffer, 0);
    if (!parsed) return false;
    const { value, end } = parsed;
    if (value.type !== "array" || value.value === null || value.value.length === 0) {
      throw new RespProtocolError(`expected a command from the master, got a ${value.type}`);
    }
    const args: Buffer[] = [];
    for (const item of value.value) {
      if (item.type !== "bulk" || item.value === null) {
        throw new RespProtocolError(`expected bulk-string arguments from the master, got a ${item.type}`);
      }
      args.push(item.value);
    }
    this.currentOffset += end;
    this.buffer = this.buffer.subarray(end);
    events.push({ kind: "command", args, offset: this.currentOffset });
    return true;
  }
}
