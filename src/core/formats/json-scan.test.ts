import { describe, expect, it } from "vitest";
import {
  meaningOf,
  numberEdgeRows,
  numberLabel,
  randomNumberText,
} from "../../../test/support/number-texts.js";
import { seeded } from "../../../test/support/random.js";
import { numberEnd, shortNumberEnd } from "./json-scan.js";

const bytesOf = (text: string) => Buffer.from(text, "latin1");

/** Whether `text` is a number in plain decimal notation of at most 15 digits. */
const isShortPlain = (text: string) =>
  /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(text) && text.replace(/[^0-9]/g, "").length <= 15;

/** How the number steps disagree with JSON.parse on one text standing alone, if they do. */
function disagreement(text: string): string | undefined {
  const meaning = meaningOf(text);
  const end = numberEnd(bytesOf(text), 0);
  if ((end === text.length) !== (meaning !== "invalid")) return `numberEnd ${end}, JSON.parse ${meaning}`;
  const short = shortNumberEnd(bytesOf(text), 0);
  if ((short === text.length) !== isShortPlain(text)) return `shortNumberEnd ${short}`;
  if (short < 0) return undefined;
  // What the fast path reads is a whole JSON number, finite, with the value JSON.parse gives
  // (-0 included).
  const read = text.slice(0, short);
  const value = meaningOf(read);
  if (
    short !== end ||
    !isShortPlain(read) ||
    typeof value !== "object" ||
    !Object.is(value.value, Number(read))
  )
    return `shortNumberEnd ${short} reads ${read}, JSON.parse ${JSON.stringify(value)}`;
  return undefined;
}

describe("numberEnd and shortNumberEnd", () => {
  it.each(numberEdgeRows)("%s", (_label, text, meaning) => {
    expect(meaningOf(text)).toEqual(meaning);
    expect(disagreement(text)).toBeUndefined();
  });

  it("agree with JSON.parse on random number texts", () => {
    const random = seeded(1234);
    const seen = { short: 0, finite: 0, infinite: 0, invalid: 0 };
    const disagreements: string[] = [];
    for (let round = 0; round < 30_000; round += 1) {
      const text = randomNumberText(random);
      const wrong = disagreement(text);
      if (wrong !== undefined) disagreements.push(`${numberLabel(text)}: ${wrong}`);
      const meaning = meaningOf(text);
      if (shortNumberEnd(bytesOf(text), 0) === text.length) seen.short += 1;
      else if (typeof meaning === "object") seen.finite += 1;
      else seen[meaning] += 1;
    }
    expect(disagreements).toEqual([]);
    // Every kind of text turns up often: read by the fast path, left to the general decoder
    // (finite or overflowing), and not JSON.
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(2000);
  });

  it("stop at the number's end, so that what follows is the caller's to check", () => {
    expect(numberEnd(bytesOf('{"score":28.5}'), 9)).toBe(13);
    expect(shortNumberEnd(bytesOf('{"score":28.5}'), 9)).toBe(13);
    expect(shortNumberEnd(bytesOf('{"score":-0.25,"x":1}'), 9)).toBe(14);
    expect(numberEnd(bytesOf("1e5}"), 0)).toBe(3);
    expect(shortNumberEnd(bytesOf("1e5}"), 0)).toBe(-1);
    // a leading zero ends a JSON number; the digit after it is left for the caller to refuse
    expect(numberEnd(bytesOf("012"), 0)).toBe(1);
    expect(shortNumberEnd(bytesOf("012"), 0)).toBe(-1);
    expect(numberEnd(bytesOf("1"), -1)).toBe(-1);
    expect(shortNumberEnd(bytesOf("1"), -1)).toBe(-1);
  });
});
