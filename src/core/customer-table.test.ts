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
});
