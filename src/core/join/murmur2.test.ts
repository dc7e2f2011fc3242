import { describe, expect, it } from "vitest";
import { murmur2, partitionForKey } from "./murmur2.js";

describe("murmur2", () => {
  it.each([
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ])("matches Kafka's test vector for %s", (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
  });

  it("places ASCII and non-ASCII keys as the byte-wise hash does", () => {
    for (const key of ["abc", "a-little-bit-longer-string", "José.Núñez@test.com", "Ω@x", ""]) {
      expect(partitionForKey(key, 7)).toBe((murmur2(Buffer.from(key, "utf8")) & 0x7fffffff) % 7);
    }
  });

  it("spreads keys over partitions as the default partitioner does", () => {
    const counts = [0, 0, 0];
    for (let index = 0; index < 3000; index += 1) {
      const partition = partitionForKey(`c${index}@test.com`, 3);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(800);
  });
});
