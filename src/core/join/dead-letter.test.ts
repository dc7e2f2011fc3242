import { describe, expect, it } from "vitest";
import { toDeadLetter } from "./dead-letter.js";

describe("toDeadLetter", () => {
  it("keeps key, value and headers, and adds where and why", () => {
    const letter = toDeadLetter(
      { key: Buffer.from("k"), value: Buffer.from("{bad"), headers: { trace: "t1" } },
      { topic: "stedi-events", partition: 2, offset: "41" },
      "not JSON",
    );
    expect(letter).toEqual({
      key: Buffer.from("k"),
      value: Buffer.from("{bad"),
      headers: {
        trace: "t1",
        "stedi.dlq.reason": "not JSON",
        "stedi.dlq.topic": "stedi-events",
        "stedi.dlq.partition": "2",
        "stedi.dlq.offset": "41",
      },
    });
  });
});
