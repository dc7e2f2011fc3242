import { describe, expect, it } from "vitest";
import {
  meaningOf,
  numberEdgeRows,
  numberLabel,
  randomNumberText,
} from "../../../test/support/number-texts.js";
import { seeded } from "../../../test/support/random.js";
import { numberEnd, shortNumberEnd, shortNumberValue } from "./json-scan.js";

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
    !Object.is(value.value, Number(read)) ||
    !Object.is(shortNumberValue(bytesOf(text), 0, short), value.value)
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

describe("shortNumberValue", () => {
  it("reads every short plain decimal as Number() does, -0 included", () => {
    const random = seeded(99);
    const wrong: string[] = [];
    let read = 0;
    for (let round = 0; round < 100_000; round += 1) {
      const digits = 1 + Math.floor(random() * 15);
      let text = String(Math.floor(random() * 9) + 1);
      for (let i = 1; i < digits; i += 1) text += String(Math.floor(random() * 10));
      if (random() < 0.2) text = `0${text.slice(1)}`.replace(/^0(?=\d)/, "0.");
      const point = Math.floor(random() * text.length);
      if (!text.includes(".") && point > 0) text = `${text.slice(0, point)}.${text.slice(point)}`;
      if (random() < 0.5) text = `-${text}`;
      const end = shortNumberEnd(bytesOf(text), 0);
      if (end !== text.length) continue;
      read += 1;
      if (!Object.is(shortNumberValue(bytesOf(text), 0, end), Number(text))) wrong.push(text);
    }
    expect(wrong).toEqual([]);
    expect(read).toBeGreaterThan(90_000);
    for (const text of ["0", "-0", "-0.0", "0.5", "-12.5", "999999999999999", "0.000000000000001", "4.35"])
      expect(Object.is(shortNumberValue(bytesOf(text), 0, text.length), Number(text))).toBe(true);
  });
});
