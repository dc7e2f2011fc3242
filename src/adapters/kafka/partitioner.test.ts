import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { murmur2 } from "../../core/join/murmur2.js";

const require = createRequire(import.meta.url);
// The client's own (Long-based) implementation: core's hash must place keys where the client does.
const reference = require("kafkajs/src/producer/partitioners/default/murmur2.js") as (key: Buffer) => number;

describe("core's murmur2 against the client's default partitioner", () => {
  it("agrees with kafkajs on emails of every length", () => {
    for (let index = 0; index < 2000; index += 1) {
      const key = `${"x".repeat(index % 7)}Customer.${index}@test.com`;
      expect(murmur2(Buffer.from(key))).toBe(reference(Buffer.from(key)));
    }
  });
});
