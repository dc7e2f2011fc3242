import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  decideCheckpointUse,
  decodeCheckpoint,
  encodeCheckpoint,
  fingerprintOf,
  type PartitionCheckpoint,
  type RecordFingerprint,
  recordsToVerify,
} from "./checkpoint.js";
import { CustomerTable } from "./customer-table.js";

const concat = (parts: Uint8Array[]) => Buffer.concat(parts);

function seeded(seed: number) {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

const fingerprint = (offset: string, value = `v${offset}`): RecordFingerprint =>
  fingerprintOf(
    { key: Buffer.from("Customer"), value: Buffer.from(value), offset, timestamp: "1700000000000" },
    crc32,
  );

const positions: PartitionCheckpoint[] = [
  { partition: 0, resumeAt: 10, lastRecord: fingerprint("9") },
  { partition: 1, resumeAt: 0, lastRecord: undefined },
];

function smallTable(): CustomerTable {
  const table = new CustomerTable();
  table.upsert("a@test.com", "1950");
  table.upsert("José@test.com", "1960");
  table.upsert("b@test.com", "0007");
  return table;
}

const encode = (table: CustomerTable, topic = "redis-server", partitions = positions) =>
  concat(encodeCheckpoint({ topic, takenAt: 1234, partitions, table: table.exportState() }, crc32));

function expectSameTable(actual: CustomerTable, expected: Map<string, string>) {
  expect(actual.size).toBe(expected.size);
  for (const [email, year] of expected) expect(actual.birthYearOf(email), email).toBe(year);
}

describe("customer checkpoint codec", () => {
  it("round-trips random tables: every look-up equal, and further upserts still work", () => {
    const random = seeded(7);
    for (const customers of [0, 1, 5, 3000, 20_000]) {
      const table = new CustomerTable();
      const model = new Map<string, string>();
      for (let step = 0; step < customers * 1.3; step += 1) {
        const index = Math.floor(random() * customers);
        const email = `${random() < 0.1 ? "é".repeat(1 + Math.floor(random() * 300)) : "c"}${index}@test.com`;
        const year = String(1900 + Math.floor(random() * 120)).padStart(4, "0");
        table.upsert(email, year);
        model.set(email, year);
      }
      const decoded = decodeCheckpoint(encode(table), "redis-server", crc32);
      if (!decoded.ok) throw new Error(decoded.reason);
      expect(decoded.value.topic).toBe("redis-server");
      expect(decoded.value.takenAt).toBe(1234);
      expect(decoded.value.partitions).toEqual(positions);
      const restored = decoded.value.table;
      expectSameTable(restored, model);
      expect(restored.birthYearOf("nobody@test.com")).toBeUndefined();
      // The restored table grows and updates like any other.
      for (let index = 0; index < 5000; index += 1) {
        const email = `new${index}@test.com`;
        restored.upsert(email, "1999");
        model.set(email, "1999");
      }
      const [first] = model.keys();
      if (first !== undefined) {
        restored.upsert(first, "2001");
        model.set(first, "2001");
      }
      expectSameTable(restored, model);
    }
  });

  it("spans several email chunks", () => {
    const table = new CustomerTable();
    const model = new Map<string, string>();
    for (let index = 0; index < 60_000; index += 1) {
      const email = `${"x".repeat(30)}.customer${index}@test.com`;
      table.upsert(email, "1980");
      model.set(email, "1980");
    }
    expect(table.exportState().chunks.length).toBeGreaterThan(2);
    const decoded = decodeCheckpoint(encode(table), "redis-server", crc32);
    if (!decoded.ok) throw new Error(decoded.reason);
    expectSameTable(decoded.value.table, model);
  });

  it("rejects every single-byte change of a small checkpoint, or decodes it to the same table", () => {
    const bytes = encode(smallTable());
    const model = new Map([
      ["a@test.com", "1950"],
      ["José@test.com", "1960"],
      ["b@test.com", "0007"],
    ]);
    let rejected = 0;
    for (let at = 0; at < bytes.length; at += 1) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const changed = Buffer.from(bytes);
        changed[at] = (changed[at] as number) ^ flip;
        const decoded = decodeCheckpoint(changed, "redis-server", crc32);
        if (decoded.ok) expectSameTable(decoded.value.table, model);
        else rejected += 1;
      }
    }
    expect(rejected).toBe(bytes.length * 3);
  });

  it("names what is wrong: truncated, bad magic, version, checksum, topic", () => {
    const bytes = encode(smallTable());
    const reason = (data: Uint8Array, topic = "redis-server") => {
      const decoded = decodeCheckpoint(data, topic, crc32);
      return decoded.ok ? "ok" : decoded.reason;
    };
    expect(reason(bytes)).toBe("ok");
    expect(reason(new Uint8Array(0))).toMatch(/^truncated/);
    expect(reason(bytes.subarray(0, bytes.length - 1))).toBe("checksum mismatch");
    expect(reason(bytes.subarray(0, 20))).toBe("checksum mismatch");
    expect(reason(Buffer.concat([Buffer.from("NOTSTEDI"), bytes.subarray(8)]))).toMatch(/bad magic/);
    const version = Buffer.from(bytes);
    version.writeUInt32LE(2, 8);
    expect(reason(version)).toMatch(/^format version 2/);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 10] = (flipped[flipped.length - 10] as number) ^ 1;
    expect(reason(flipped)).toBe("checksum mismatch");
    expect(reason(bytes, "other-topic")).toBe("taken of topic redis-server, not other-topic");
    const badTime = concat(
      encodeCheckpoint(
        { topic: "t", takenAt: 1e300, partitions: [], table: smallTable().exportState() },
        crc32,
      ),
    );
    expect(reason(badTime, "t")).toBe("malformed header");
  });

  it("rejects arrays that do not make a table even when the checksum is right", () => {
    const state = smallTable().exportState();
    const reencode = (table: typeof state) =>
      decodeCheckpoint(
        concat(encodeCheckpoint({ topic: "t", takenAt: 0, partitions: [], table }, crc32)),
        "t",
        crc32,
      );
    const reason = (table: typeof state) => {
      const decoded = reencode(table);
      return decoded.ok ? "ok" : decoded.reason;
    };
    expect(reason(state)).toBe("ok");
    expect(reason({ ...state, addresses: Uint32Array.of(0, 5000, 12) })).toMatch(/outside the stored bytes/);
    const uneven = CustomerTable.fromState({ ...state, years: Int16Array.of(1950) });
    expect(uneven.ok ? "ok" : uneven.reason).toBe("3 addresses but 1 birth years");
    expect(reason({ ...state, slots: new Int32Array(2048).fill(-1) })).toMatch(/every customer once/);
    const twice = state.slots.slice();
    twice[twice.findIndex((value) => value !== -1)] = twice.findLast((value) => value !== -1) as number;
    expect(reason({ ...state, slots: twice })).toMatch(/every customer once/);
    expect(reason({ ...state, slots: new Int32Array(1000).fill(-1) })).toMatch(/an index of 1000 slots/);
    const short = CustomerTable.fromState({ ...state, chunks: [new Uint8Array(10), new Uint8Array(10)] });
    expect(short.ok ? "ok" : short.reason).toBe("email chunk 0 holds 10 bytes");
  });
});

describe("whether a checkpoint may be used", () => {
  const ranges = new Map([
    [0, { low: 0, high: 50 }],
    [1, { low: 0, high: 7 }],
  ]);
  const decide = (found: Map<number, RecordFingerprint | undefined>, at = ranges, partitions = positions) => {
    const decision = decideCheckpointUse(partitions, at, found);
    return decision.ok ? decision.value : decision.reason;
  };

  it("resumes where the checkpoint ends, and reads whole a partition it took nothing from", () => {
    expect(recordsToVerify(positions, ranges)).toEqual({ ok: true, value: new Map([[0, "9"]]) });
    expect(decide(new Map([[0, fingerprint("9")]]))).toEqual(
      new Map([
        [0, 10],
        [1, 0],
      ]),
    );
    const later = new Map([
      [0, { low: 5, high: 50 }],
      [1, { low: 3, high: 7 }],
    ]);
    expect(decide(new Map([[0, fingerprint("9")]]), later)).toEqual(
      new Map([
        [0, 10],
        [1, 3],
      ]),
    );
  });

  it.each([
    ["a partition more", new Map([...ranges, [2, { low: 0, high: 1 }]]), /3 partitions, the checkpoint 2/],
    ["a partition less", new Map([[0, { low: 0, high: 50 }]]), /1 partitions, the checkpoint 2/],
    [
      "another partition",
      new Map([
        [0, { low: 0, high: 50 }],
        [5, { low: 0, high: 1 }],
      ]),
      /partition 5 is not in the checkpoint/,
    ],
    [
      "a topic that ends before it",
      new Map([...ranges, [0, { low: 0, high: 9 }]]),
      /partition 0: the checkpoint reaches offset 10, past the topic's end 9/,
    ],
    [
      "records deleted",
      new Map([...ranges, [0, { low: 10, high: 50 }]]),
      /partition 0: records from offset 9 are gone \(the topic starts at 10\)/,
    ],
  ])("rebuilds for %s", (_name, at, reason) => {
    expect(recordsToVerify(positions, at).ok).toBe(false);
    expect(decide(new Map([[0, fingerprint("9")]]), at)).toMatch(reason);
  });

  it("rebuilds when the record it was taken after is gone or another one", () => {
    expect(decide(new Map())).toMatch(/partition 0: no record at offset 9 any more/);
    expect(decide(new Map([[0, undefined]]))).toMatch(/no record at offset 9/);
    expect(decide(new Map([[0, fingerprint("9", "another value")]]))).toMatch(/not the one the checkpoint/);
    expect(decide(new Map([[0, { ...fingerprint("9"), timestamp: "1" }]]))).toMatch(/not the one/);
    expect(decide(new Map([[0, fingerprint("12")]]))).toMatch(/not the one/);
  });

  it("resumes before the last record when the checkpoint says so (a bad record still to dead-letter)", () => {
    const behind = [{ partition: 0, resumeAt: 4, lastRecord: fingerprint("9") }];
    const decision = decideCheckpointUse(
      behind,
      new Map([[0, { low: 0, high: 50 }]]),
      new Map([[0, fingerprint("9")]]),
    );
    expect(decision).toEqual({ ok: true, value: new Map([[0, 4]]) });
  });

  it("tells null, empty and moved key/value boundaries apart in fingerprints", () => {
    const of = (key: string | null, value: string | null) =>
      fingerprintOf(
        {
          key: key === null ? null : Buffer.from(key),
          value: value === null ? null : Buffer.from(value),
          offset: "0",
          timestamp: "0",
        },
        crc32,
      ).hash;
    const hashes = [of(null, null), of("", null), of(null, ""), of("", ""), of("ab", "c"), of("a", "bc")];
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});
