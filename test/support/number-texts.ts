// Number texts for the differential tests of the byte scanners: edge cases of the JSON number
// grammar and of doubles, and random texts around them.

/**
 * What JSON.parse makes of a text: a finite double, a number too large for one (±Infinity), or
 * no JSON number at all.
 */
export type NumberMeaning = { value: number } | "infinite" | "invalid";

const zeros = (count: number) => "0".repeat(count);

/** Edge cases, each with its meaning, so that tests can also check the oracle itself. */
export const numberEdgeCases: [text: string, meaning: NumberMeaning][] = [
  // what the STEDI app writes
  ["28.5", { value: 28.5 }],
  ["-12.75", { value: -12.75 }],
  ["7.0", { value: 7 }],
  ["0.0", { value: 0 }],
  ["-0.0", { value: -0 }],
  ["-0", { value: -0 }],
  ["0", { value: 0 }],
  // the longest the fast path reads, and just beyond
  ["123456789012345", { value: 123456789012345 }],
  ["1234567890.12345", { value: 1234567890.12345 }],
  ["1234567890123456", { value: 1234567890123456 }],
  ["9007199254740993", { value: 9007199254740992 }],
  ["0.000000000000001", { value: 1e-15 }],
  // overflow
  [`1${zeros(400)}`, "infinite"],
  [`-1${zeros(400)}`, "infinite"],
  ["9".repeat(309), "infinite"],
  ["1e309", "infinite"],
  ["1E309", "infinite"],
  ["-1e309", "infinite"],
  ["1e999999", "infinite"],
  ["1e+999999999999", "infinite"],
  ["0.1e310", "infinite"],
  ["1.7976931348623159e308", "infinite"],
  // the largest double, and long texts that stay finite
  ["1.7976931348623157e308", { value: Number.MAX_VALUE }],
  [`1${zeros(308)}`, { value: 1e308 }],
  [`1${zeros(308)}.${zeros(50)}`, { value: 1e308 }],
  [`1.${zeros(5000)}`, { value: 1 }],
  [`0.${zeros(300)}1`, { value: 1e-301 }],
  [`0.${zeros(3000)}1`, { value: 0 }],
  [`0.${zeros(400)}1e400`, { value: 0.1 }],
  [`${"1".repeat(2000)}e-2000`, { value: 0.1111111111111111 }],
  // underflow
  ["1e-999999", { value: 0 }],
  ["-1e-999999", { value: -0 }],
  ["1e-400", { value: 0 }],
  ["5e-324", { value: 5e-324 }],
  ["3e-324", { value: 5e-324 }],
  ["2e-324", { value: 0 }],
  ["-2e-324", { value: -0 }],
  ["0e999999", { value: 0 }],
  ["-0e-5", { value: -0 }],
  // exponents
  ["1e2", { value: 100 }],
  ["1E2", { value: 100 }],
  ["1e+2", { value: 100 }],
  ["1E-2", { value: 0.01 }],
  ["2.5e0", { value: 2.5 }],
  ["1e0005", { value: 100000 }],
  ["0e0", { value: 0 }],
  // not JSON
  ["012", "invalid"],
  ["-012", "invalid"],
  ["00", "invalid"],
  ["-00.5", "invalid"],
  ["1.", "invalid"],
  ["-1.", "invalid"],
  [".5", "invalid"],
  ["-.5", "invalid"],
  ["+1", "invalid"],
  ["--1", "invalid"],
  ["-", "invalid"],
  ["1e", "invalid"],
  ["1e+", "invalid"],
  ["1e-", "invalid"],
  ["1.e5", "invalid"],
  ["1e5.5", "invalid"],
  ["1ee5", "invalid"],
  ["e5", "invalid"],
  ["0x1A", "invalid"],
  ["1_000", "invalid"],
  ["Infinity", "invalid"],
  ["-Infinity", "invalid"],
  ["NaN", "invalid"],
  ["", "invalid"],
];

/** A text short enough for a test's name. */
export const numberLabel = (text: string) =>
  text.length > 30 ? `${text.slice(0, 12)}…${text.slice(-8)} (${text.length} characters)` : text;

/** The edge cases as test-table rows `[label, text, meaning]`. */
export const numberEdgeRows = numberEdgeCases.map(
  ([text, meaning]) => [numberLabel(text), text, meaning] as const,
);

/** A random text that is, or nearly is, a JSON number: digit runs, fractions, exponents, signs. */
export function randomNumberText(random: () => number): string {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  // Choices are functions, so that only the picked one spends random draws and time.
  const oneOf = (choices: readonly (() => string)[]) => pick(choices)();
  const digits = (length: number) => {
    let text = "";
    for (let i = 0; i < length; i += 1) text += String(Math.floor(random() * 10));
    return text;
  };
  // Mostly short runs, as real scores have, with some at and past the scanner's limit and some far
  // past a double's range.
  const runLength = () => pick([1, 1, 2, 2, 3, 4, 6, 9, 13, 14, 15, 16, 17, 20, 30, 308, 309, 400, 2000]);
  if (random() < 0.02) return pick(["Infinity", "-Infinity", "NaN", "0x1F", "1_0", "", "-", ".", "e5", "00"]);

  const sign = pick(["", "", "", "", "", "-", "-", "-", "-", "+", "--"]);
  const nonZero = () => `${1 + Math.floor(random() * 9)}${digits(runLength() - 1)}`;
  const integer = oneOf([
    () => "0",
    () => "0",
    () => "0",
    () => "00",
    () => `0${digits(1 + Math.floor(random() * 3))}`,
    () => "",
    ...Array<() => string>(8).fill(nonZero),
  ]);
  const fraction = oneOf([
    () => "",
    () => "",
    () => "",
    () => ".",
    () => `.${digits(runLength())}`,
    () => `.${digits(runLength())}`,
    () => `.${zeros(runLength())}${digits(1 + Math.floor(random() * 3))}`,
  ]);
  if (random() < 0.6) return sign + integer + fraction;
  const exponentDigits = oneOf([
    () => digits(1),
    () => digits(2),
    () => String(300 + Math.floor(random() * 30)),
    () => String(320 + Math.floor(random() * 10)),
    () => digits(7),
    () => `000${digits(1)}`,
    () => "",
  ]);
  return `${sign}${integer}${fraction}${pick(["e", "E"])}${pick(["", "", "+", "-", "-", "+-"])}${exponentDigits}`;
}

/** What JSON.parse makes of `text` alone: the oracle the decoders are held to. */
export function meaningOf(text: string): NumberMeaning {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "invalid";
  }
  // Whitespace around a number, or a text that is some other JSON value, is not a number text.
  if (typeof value !== "number" || text.trim() !== text) return "invalid";
  return Number.isFinite(value) ? { value } : "infinite";
}
