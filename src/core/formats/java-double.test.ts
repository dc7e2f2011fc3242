import { describe, expect, it } from "vitest";
import { formatJavaDouble, formatJavaDoubleExact } from "./java-double.js";

// Every expected text below is what JDK 17's Double.toString printed for that value.

const float = new Float64Array(1);
const bits = new BigUint64Array(float.buffer);
const step = (value: number, by: bigint) => {
  float[0] = value;
  bits[0] = (bits[0] as bigint) + by;
  return float[0] as number;
};
/** The next double toward +∞ / −∞, for positive values. */
const nextUp = (value: number) => step(value, 1n);
const nextDown = (value: number) => step(value, -1n);

const cases = (table: [number, string][]) => table.map(([value, text]) => ({ value, text }));

describe("formatJavaDouble", () => {
  it.each(
    cases([
      [0, "0.0"],
      [-0, "-0.0"],
      [7, "7.0"],
      [-31.5, "-31.5"],
      [0.17, "0.17"],
      [100, "100.0"],
      [1.5, "1.5"],
      [28.5, "28.5"],
      [-15.5, "-15.5"],
      [0.01, "0.01"],
      [0.1, "0.1"],
      [0.3, "0.3"],
      [1.1, "1.1"],
      [4.35, "4.35"],
      [0.1 + 0.2, "0.30000000000000004"],
      [2 / 3, "0.6666666666666666"],
      [Math.PI, "3.141592653589793"],
      [Math.E, "2.718281828459045"],
      [1234567.125, "1234567.125"],
      [9999999, "9999999.0"],
      [1e7, "1.0E7"],
      [12345678.9, "1.23456789E7"],
      [1612345678.123, "1.612345678123E9"],
      [1e-4, "1.0E-4"],
      [1e-5, "1.0E-5"],
      [2.5e-5, "2.5E-5"],
      [-2.5e-5, "-2.5E-5"],
      [0.0015, "0.0015"],
      [2e-3, "0.002"],
      [1e21, "1.0E21"],
      [123456789012345680000, "1.2345678901234568E20"],
      [Number.NaN, "NaN"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      [Number.NEGATIVE_INFINITY, "-Infinity"],
    ]),
  )("ordinary value $value → $text", ({ value, text }) => {
    expect(formatJavaDouble(value)).toBe(text);
  });

  it.each(
    cases([
      [1e23, "9.999999999999999E22"],
      [-1e23, "-9.999999999999999E22"],
      [2e23, "1.9999999999999998E23"],
      [8.41e21, "8.409999999999999E21"],
      [nextDown(1e23), "9.999999999999997E22"],
      [nextUp(1e23), "1.0000000000000001E23"],
      // Integers from 2^54 keep digits below the ulp, rounded half-up to the ulp's magnitude.
      [2 ** 57, "1.44115188075855872E17"],
      [2 ** 59, "5.7646075230342349E17"],
      [2 ** 60, "1.15292150460684698E18"],
      [-(2 ** 60), "-1.15292150460684698E18"],
      [2 ** 60 + 2 ** 8, "1.15292150460684723E18"],
      [2 ** 62, "4.6116860184273879E18"],
      [nextDown(2 ** 63), "9.2233720368547748E18"],
      // Subnormal powers of two: a quarter-ulp interval where a half would do.
      [2 ** -1040, "8.4879831639E-314"],
    ]),
  )("JDK 17's digits where they are not the shortest: $value → $text", ({ value, text }) => {
    expect(formatJavaDouble(value)).toBe(text);
  });

  it.each(
    cases([
      [5e-324, "4.9E-324"],
      [Number.MIN_VALUE, "4.9E-324"],
      [-Number.MIN_VALUE, "-4.9E-324"],
      [2 * Number.MIN_VALUE, "1.0E-323"],
      [3 * Number.MIN_VALUE, "1.5E-323"],
      [10 * Number.MIN_VALUE, "4.9E-323"],
      [1000 * Number.MIN_VALUE, "4.94E-321"],
      [4095 * Number.MIN_VALUE, "2.023E-320"],
      [2 ** -1073, "1.0E-323"],
      [nextDown(2 ** -1022), "2.225073858507201E-308"],
      [2 ** -1022, "2.2250738585072014E-308"],
      [Number.MAX_VALUE, "1.7976931348623157E308"],
      [-Number.MAX_VALUE, "-1.7976931348623157E308"],
    ]),
  )("extremes: $value → $text", ({ value, text }) => {
    expect(formatJavaDouble(value)).toBe(text);
  });

  it.each(
    cases([
      [2 ** -1000, "9.332636185032189E-302"],
      [2 ** -100, "7.888609052210118E-31"],
      [2 ** -30, "9.313225746154785E-10"],
      [2 ** -20, "9.5367431640625E-7"],
      [2 ** -10, "9.765625E-4"],
      [2 ** -3, "0.125"],
      [2 ** -1, "0.5"],
      [2 ** 0, "1.0"],
      [2 ** 1, "2.0"],
      [2 ** 10, "1024.0"],
      [2 ** 23, "8388608.0"],
      [2 ** 24, "1.6777216E7"],
      [2 ** 52, "4.503599627370496E15"],
      [2 ** 53, "9.007199254740992E15"],
      [2 ** 53 + 2, "9.007199254740994E15"],
      [2 ** 54, "1.8014398509481984E16"],
      [2 ** 58, "2.8823037615171174E17"],
      [2 ** 61, "2.305843009213694E18"],
      [2 ** 63, "9.223372036854776E18"],
      [nextUp(2 ** 63), "9.223372036854778E18"],
      [2 ** 64, "1.8446744073709552E19"],
      [2 ** 66, "7.378697629483821E19"],
      [2 ** 70, "1.1805916207174113E21"],
      [2 ** 76, "7.555786372591432E22"],
      [2 ** 100, "1.2676506002282294E30"],
      [2 ** 1000, "1.0715086071862673E301"],
      [2 ** 1023, "8.98846567431158E307"],
    ]),
  )("powers of two: $value → $text", ({ value, text }) => {
    expect(formatJavaDouble(value)).toBe(text);
  });

  it.each(
    cases([
      [1e-323, "1.0E-323"],
      [1e-322, "1.0E-322"],
      [1e-310, "1.0E-310"],
      [1e-300, "1.0E-300"],
      [1e-100, "1.0E-100"],
      [1e-20, "1.0E-20"],
      [1e-10, "1.0E-10"],
      [1e-2, "0.01"],
      [1e-1, "0.1"],
      [1e1, "10.0"],
      [1e2, "100.0"],
      [1e6, "1000000.0"],
      [1e8, "1.0E8"],
      [1e15, "1.0E15"],
      [1e16, "1.0E16"],
      [1e17, "1.0E17"],
      [1e18, "1.0E18"],
      [1e19, "1.0E19"],
      [1e20, "1.0E20"],
      [1e22, "1.0E22"],
      [1e24, "1.0E24"],
      [1e25, "1.0E25"],
      [1e26, "1.0E26"],
      [1e100, "1.0E100"],
      [1e200, "1.0E200"],
      [1e300, "1.0E300"],
      [1e308, "1.0E308"],
    ]),
  )("powers of ten: $value → $text", ({ value, text }) => {
    expect(formatJavaDouble(value)).toBe(text);
  });

  it.each(
    cases([
      [nextDown(0.001), "9.999999999999998E-4"],
      [0.001, "0.001"],
      [-0.001, "-0.001"],
      [nextUp(0.001), "0.0010000000000000002"],
      [nextDown(1e7), "9999999.999999998"],
      [nextUp(1e7), "1.0000000000000002E7"],
      [nextDown(1), "0.9999999999999999"],
      [nextUp(1), "1.0000000000000002"],
      [nextDown(0.1), "0.09999999999999999"],
      [nextUp(0.1), "0.10000000000000002"],
      [nextDown(100), "99.99999999999999"],
      [nextUp(100), "100.00000000000001"],
    ]),
  )("either side of the plain-decimal range and of round values: $value → $text", ({ value, text }) => {
    expect(formatJavaDouble(value)).toBe(text);
  });

  it("takes its shortcuts only where digit development gives the same text", () => {
    // A fixed xorshift generator: short decimals (the shortcuts' domain) and raw bit patterns.
    let state = 0x2545f4914f6cdd1dn;
    const next = () => {
      state ^= (state << 13n) & 0xffffffffffffffffn;
      state ^= state >> 7n;
      state ^= (state << 17n) & 0xffffffffffffffffn;
      return state;
    };
    const values: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const digits = 1 + Number(next() % 17n);
      const mantissa = Number(next() % 10n ** BigInt(digits));
      values.push(Number(`${mantissa}e${Number(next() % 60n) - 30}`), mantissa / 100);
      bits[0] = next();
      values.push(float[0] as number);
    }
    const differing = values.filter((value) => formatJavaDouble(value) !== formatJavaDoubleExact(value));
    expect(differing).toEqual([]);
  });
});
