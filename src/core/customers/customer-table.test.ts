import { describe, expect, it } from "vitest";
import { CustomerTable } from "./customer-table.js";

describe("CustomerTable", () => {
  it("keeps the latest birth year per email, written as four digits", () => {
    const table = new CustomerTable();
    table.upsert("a@test.com", "1950");
    table.upsert("a@test.com", "1951");
    table.upsert("old@test.com", "0007");
    expect(table.birthYearOf("a@test.com")).toBe("1951");
    expect(table.birthYearOf("old@test.com")).toBe("0007");
    expect(table.birthYearOf("nobody@test.com")).toBeUndefined();
    expect(table.size).toBe(2);
  });

  it("tells apart emails that differ only in case, length or non-ASCII characters", () => {
    const table = new CustomerTable();
    const emails = [
      "a@x",
      "A@x",
      "a@xx",
      "",
      "José@x",
      "Jose@x",
      "Jos\u00e9@x".normalize("NFD"),
      "日本@x",
      "\u0000@x",
    ];
    for (const [index, email] of emails.entries()) table.upsert(email, String(1900 + index));
    for (const [index, email] of emails.entries())
      expect(table.birthYearOf(email), email).toBe(String(1900 + index));
    expect(table.size).toBe(emails.length);
  });

  it("agrees with a Map over a long random sequence of updates and look-ups, across growth", () => {
    const table = new CustomerTable();
    const model = new Map<string, string>();
    let state = 42;
    const random = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    for (let step = 0; step < 60_000; step += 1) {
      const email = `c${Math.floor(random() * 20_000)}${random() < 0.05 ? "é" : ""}@test.com`;
      if (random() < 0.6) {
        const year = String(1900 + Math.floor(random() * 120));
        table.upsert(email, year);
        model.set(email, year);
      } else {
        expect(table.birthYearOf(email)).toBe(model.get(email));
      }
    }
    expect(table.size).toBe(model.size);
    for (const [email, year] of model) expect(table.birthYearOf(email)).toBe(year);
  });

  it("finds customers given as UTF-8 bytes or text alike, with long emails", () => {
    const table = new CustomerTable();
    const long = `${"x".repeat(200)}@test.com`;
    const longer = `${"é".repeat(10_000)}@test.com`;
    table.upsertUtf8(Buffer.from("bytes@test.com"), 1960);
    table.upsert(long, "1961");
    table.upsertUtf8(Buffer.from(longer, "utf8"), 1962);
    for (let index = 0; index < 20_000; index += 1) table.upsert(`filler${index}@test.com`, "1999");
    expect(table.birthYearOf("bytes@test.com")).toBe("1960");
    expect(table.birthYearOf(long)).toBe("1961");
    expect(table.birthYearOf(longer)).toBe("1962");
    table.upsertUtf8(Buffer.from(long), 1970);
    expect(table.birthYearOf(long)).toBe("1970");
    expect(table.size).toBe(20_003);
  });

  it("keeps a million customers in under 48 bytes each", () => {
    const table = new CustomerTable();
    for (let index = 0; index < 1_000_000; index += 1)
      table.upsert(`Bench.Customer${index}@test.com`, "1950");
    expect(table.size).toBe(1_000_000);
    expect(table.birthYearOf("Bench.Customer999999@test.com")).toBe("1950");
    expect(table.bytes / table.size).toBeLessThan(48);
  });

  it("exports a state that later upserts do not change, and makes an equal table from it", () => {
    const table = new CustomerTable();
    const before = new Map<string, string>();
    for (let index = 0; index < 30_000; index += 1) {
      const email = `${"y".repeat(index % 50)}${index}@test.com`;
      table.upsert(email, "1950");
      before.set(email, "1950");
    }
    const state = table.exportState();
    // Updates and new emails, enough to fill the last chunk and to grow the index.
    for (const email of before.keys()) table.upsert(email, "2000");
    for (let index = 0; index < 40_000; index += 1) table.upsert(`later${index}@test.com`, "2001");
    const restored = CustomerTable.fromState(state);
    if (!restored.ok) throw new Error(restored.reason);
    expect(restored.value.size).toBe(before.size);
    for (const [email, year] of before) expect(restored.value.birthYearOf(email)).toBe(year);
    expect(restored.value.birthYearOf("later0@test.com")).toBeUndefined();
  });
});
