import { describe, expect, it } from "vitest";
import { scanCustomerZadd } from "../../src/core/customers/customer-scan.js";
import { encodeGraphRecord, toGraphRecord } from "../../src/core/graph/graph-record.js";
import { decodeRiskEvent } from "../../src/core/risk-events/risk-event.js";
import { dueCount, intendedTime } from "./schedule.js";
import {
  benchCustomerIndex,
  benchEmail,
  createRandom,
  customerBirthYear,
  customerRecord,
  customerRecordKey,
  scoreOfGraphRecord,
  sequencedEventRecord,
  sequenceOfScore,
} from "./workload.js";

describe("customer records", () => {
  it("are keyed, when keyed at all, as the connector keys a ZADD", () => {
    expect(customerRecordKey).toBe("com.moilioncircle.redis.replicator.cmd.impl.ZAddCommand");
  });

  it("carry emails whose index reads back", () => {
    for (const index of [0, 7, 99_999]) expect(benchCustomerIndex(benchEmail(index))).toBe(index);
    for (const other of [
      "Bench.Customer07@test.com",
      "bench.customer7@test.com",
      "Bench.Customer7@test.comx",
    ]) {
      expect(benchCustomerIndex(other)).toBeUndefined();
    }
  });

  // Otherwise the bench would time the join's general decoder, not the path real connector records take.
  it("take the join's fast customer scan", () => {
    for (const index of [0, 7, 42, 99_999]) {
      const found: { email: string; birthYear: number }[] = [];
      const recognised = scanCustomerZadd(
        Buffer.from(customerRecord(index, customerBirthYear(index)), "utf8"),
        (email, birthYear) => found.push({ email: Buffer.from(email).toString("latin1"), birthYear }),
      );
      expect(recognised).toBe(true);
      expect(found).toEqual([{ email: benchEmail(index), birthYear: customerBirthYear(index) }]);
    }
  });
});

describe("sequenced risk events", () => {
  // 57k round trips with three expects each: seconds even on an idle machine, more when it is shared.
  it("survive the join's decode → graph record → bench decode round trip for every sequence number", {
    timeout: 30_000,
  }, () => {
    const random = createRandom(1);
    for (let seq = 0; seq < 400_000; seq += 7) {
      const decoded = decodeRiskEvent(sequencedEventRecord(random, 1000, seq, 1_767_225_600_000));
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) return;
      const output = encodeGraphRecord(toGraphRecord(decoded.value.customer, decoded.value.score, "1950"));
      const score = scoreOfGraphRecord(output);
      expect(score).toBeDefined();
      expect(sequenceOfScore(score ?? "")).toBe(seq);
    }
  });

  it("rejects scores that are not sequence numbers", () => {
    expect(sequenceOfScore("-1.5")).toBeUndefined();
    expect(sequenceOfScore("abc")).toBeUndefined();
    expect(sequenceOfScore("1.2345")).toBeUndefined();
    expect(scoreOfGraphRecord('{"customer":"a"}')).toBeUndefined();
  });

  it("reads the score of a risk event passed through unchanged (the copy-only pipe)", () => {
    const event = sequencedEventRecord(createRandom(3), 10, 12_345, 0);
    expect(sequenceOfScore(scoreOfGraphRecord(event) ?? "")).toBe(12_345);
  });

  it("is seeded", () => {
    const a = createRandom(9);
    const b = createRandom(9);
    expect(sequencedEventRecord(a, 100, 5, 0)).toBe(sequencedEventRecord(b, 100, 5, 0));
  });
});

describe("open-loop schedule", () => {
  it("makes event i due at i/rate seconds regardless of progress", () => {
    expect(dueCount(-1, 1000, 10)).toBe(0);
    expect(dueCount(0, 1000, 10)).toBe(1);
    expect(dueCount(0.999, 1000, 10)).toBe(1);
    expect(dueCount(1, 1000, 10)).toBe(2);
    expect(dueCount(1000, 20_000, 1_000_000)).toBe(20_001);
    expect(dueCount(60_000, 1000, 10)).toBe(10);
    expect(intendedTime(100, 5, 1000)).toBe(105);
    expect(intendedTime(0, 20_000, 20_000)).toBe(1000);
  });
});
