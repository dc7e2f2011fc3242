// Java's Double.toString as JDK 8 to 17 print it, which Spark's console, Jackson and Gson use for doubles.

/**
 * Formats a number exactly as `java.lang.Double.toString` does on JDK 17 and earlier: plain decimal
 * with at least one fractional digit for 1e-3 <= |x| < 1e7, otherwise `d.dddE±n`; non-finite
 * values take Java's names. The digits are those of the pre-JDK-19 algorithm (FloatingDecimal),
 * which are not always the shortest that round-trip (JavaScript's and JDK 19+'s): JDK 17 prints
 * 1e23 as 9.999999999999999E22 and 2^60 as 1.15292150460684698E18.
 */
export function formatJavaDouble(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  const magnitude = value < 0 ? -value : value;
  const shortest = String(magnitude);
  const text = shortestWhenJavaAgrees(magnitude, shortest) ?? javaText(magnitude, shortest);
  return value < 0 ? `-${text}` : text;
}

// ---------------------------------------------------------------------------------------------
// Fast path: JavaScript's shortest digits, where they are provably the ones Java prints.
//
// Java develops digits until the truncated or the rounded-up prefix lies within half an ulp of the
// value (a quarter ulp at a power of two), then takes the nearer of the two. So its digits are the
// shortest ones strictly inside that interval, the nearest of them, except where they lie exactly on
// its boundary, where a carry reaches a new power of ten (Java then keeps a digit too many:
// "0.0010"), or where its 64-bit arithmetic wraps. None of that can happen for a non-integer below
// 2^53 whose shortest form has at most 15 significant digits: such a decimal is never a midpoint
// between two doubles (those need 16 or more digits), never halfway between two shorter decimals,
// and keeps the scaled values far from 2^63. Integers below 2^53 print exactly. The rest (longer
// digit strings, powers of two and of ten, subnormals, huge values) is checked exactly on Java's
// scale, and developed digit by digit when the check cannot vouch for the shortest digits.

const float = new Float64Array(1);
const words = new Uint32Array(float.buffer);
/** Index of the high 32 bits of a double in `words`. */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

const TWO_53 = 2 ** 53;
const MIN_NORMAL = 2 ** -1022;
const powersOfTen = Array.from({ length: 23 }, (_, i) => 10 ** i);
const powersOfFive = Array.from({ length: 23 }, (_, i) => 5 ** i);
const powersOfTwo = Array.from({ length: 23 }, (_, i) => 2 ** i);

/** Java's text for the doubles nearest 10^-n, which the fast path cannot vouch for but are common (0.1, 0.01). */
const powerOfTenTexts = new Map<number, string>();

/** Java's text from JavaScript's shortest one (`String(magnitude)`), where they provably agree. */
function shortestWhenJavaAgrees(magnitude: number, text: string): string | undefined {
  if (Number.isInteger(magnitude)) {
    // Below 2^53 Java prints an integer's exact digits, as JavaScript does.
    if (magnitude >= TWO_53) return undefined;
    return magnitude < 1e7 ? `${text}.0` : exponentForm(text.replace(/0+$/, ""), text.length - 1);
  }
  if (magnitude < MIN_NORMAL) return undefined;
  // Not an integer, so below 2^52: "28.5", "0.00017" or "1.7e-7".
  let digits: string | undefined;
  let exponent: number; // of the first significant digit
  let significant: number;
  let fractionDigits: number;
  const e = text.indexOf("e");
  if (e >= 0) {
    digits = e === 1 ? text.slice(0, 1) : text.slice(0, 1) + text.slice(2, e);
    exponent = Number(text.slice(e + 1));
    significant = digits.length;
    fractionDigits = significant - 1 - exponent;
  } else {
    const dot = text.indexOf(".");
    fractionDigits = text.length - dot - 1;
    if (dot === 1 && text.charCodeAt(0) === 48) {
      let first = 2;
      while (text.charCodeAt(first) === 48) first += 1;
      exponent = 1 - first;
      significant = text.length - first;
      if (exponent < -3) digits = text.slice(first);
    } else {
      exponent = dot - 1;
      significant = text.length - 1;
      if (exponent >= 7) digits = text.slice(0, dot) + text.slice(dot + 1);
    }
  }
  if (significant > 15) return undefined;

  float[0] = magnitude;
  // At a power of two Java's interval is narrower above than JavaScript's.
  const powerOfTwo = words[1 - HIGH] === 0 && ((words[HIGH] as number) & 0xfffff) === 0;
  // Near 10^-n Java's digits may carry into a new exponent ("0.0010").
  const one = significant === 1 && text.charCodeAt(e >= 0 ? 0 : text.length - 1) === 49;
  if ((powerOfTwo || one) && !isExactDecimal(magnitude, fractionDigits)) {
    if (powerOfTwo) return undefined;
    let known = powerOfTenTexts.get(magnitude);
    if (known === undefined) {
      known = javaText(magnitude, text);
      powerOfTenTexts.set(magnitude, known);
    }
    return known;
  }
  // From 1e-3 to 1e7 JavaScript's plain form is Java's.
  return digits === undefined ? text : exponentForm(digits, exponent);
}

/** Whether the value is exactly its decimal of that many fraction digits and at most 15 digits (28.5, 0.25). */
function isExactDecimal(magnitude: number, fractionDigits: number): boolean {
  if (fractionDigits > 21) return false; // 5^22 does not divide 15 digits
  const scaled = Math.round(magnitude * (powersOfTen[fractionDigits] as number));
  const five = powersOfFive[fractionDigits] as number;
  return scaled % five === 0 && scaled / five / (powersOfTwo[fractionDigits] as number) === magnitude;
}

/** `d.dddE±n`, with at least one digit after the point. */
const exponentForm = (digits: string, exponent: number) =>
  `${digits[0]}.${digits.length > 1 ? digits.slice(1) : "0"}E${exponent}`;

// ---------------------------------------------------------------------------------------------
// The exact algorithm: the digits JDK 17's FloatingDecimal develops, quirks included.

/** Java's layout of digits d1d2… worth 0.d1d2… × 10^decimalExponent. */
function javaLayout(digits: string, decimalExponent: number): string {
  if (decimalExponent > 0 && decimalExponent < 8) {
    if (digits.length <= decimalExponent) return `${digits}${"0".repeat(decimalExponent - digits.length)}.0`;
    return `${digits.slice(0, decimalExponent)}.${digits.slice(decimalExponent)}`;
  }
  if (decimalExponent <= 0 && decimalExponent > -3) return `0.${"0".repeat(-decimalExponent)}${digits}`;
  return exponentForm(digits, decimalExponent - 1);
}

const bigPowersOfFive: bigint[] = [1n];
function bigPowerOfFive(exponent: number): bigint {
  for (let i = bigPowersOfFive.length; i <= exponent; i++)
    bigPowersOfFive.push((bigPowersOfFive[i - 1] as bigint) * 5n);
  return bigPowersOfFive[exponent] as bigint;
}

/** Bits Java budgets for 5^n when it decides whether 32 or 64-bit arithmetic suffices: exact up to 5^26. */
const fiveBitsTable = Array.from({ length: 27 }, (_, n) =>
  n === 0 ? 0 : bigPowerOfFive(n).toString(2).length,
);
const fiveBits = (exponent: number) => fiveBitsTable[exponent] ?? exponent * 3;

const LONG_LIMIT = 1n << 63n;
const INT_LIMIT = 1n << 31n;

/** Decimal digits Java drops from an integer of 2^54 and more: floor(log10(2^p)) for a 2^p ulp. */
const dropsForUlp = (p: number) => (p > 1 && p < 64 ? (1n << BigInt(p)).toString().length - 1 : 0);

function trailingZeros(integer: number): number {
  const low = integer % 2 ** 32;
  if (low !== 0) return 31 - Math.clz32(low & -low);
  const high = (integer - low) / 2 ** 32;
  return 32 + 31 - Math.clz32(high & -high);
}

/** formatJavaDouble by digit development alone, without shortcuts: the reference the shortcuts are tested against. */
export function formatJavaDoubleExact(value: number): string {
  if (!Number.isFinite(value) || value === 0) return formatJavaDouble(value);
  return value < 0 ? `-${javaText(-value)}` : javaText(value);
}

/** Java's text for a finite positive double; with its shortest text, checked as a shortcut first. */
function javaText(magnitude: number, shortest?: string): string {
  float[0] = magnitude;
  const high = words[HIGH] as number;
  const biased = high >>> 20;
  let significand = (high & 0xfffff) * 2 ** 32 + (words[1 - HIGH] as number);
  let binaryExponent: number; // of the leading bit
  let significantBits: number; // the precision: 53, fewer for subnormals
  if (biased === 0) {
    significantBits =
      significand >= 2 ** 32 ? 64 - Math.clz32(significand / 2 ** 32) : 32 - Math.clz32(significand);
    significand *= 2 ** (53 - significantBits);
    binaryExponent = significantBits - 1075;
  } else {
    significand += 2 ** 52;
    significantBits = 53;
    binaryExponent = biased - 1023;
  }
  const zeros = trailingZeros(significand);
  const fractionBits = 53 - zeros; // bits up to the last 1
  const tinyBits = Math.max(0, fractionBits - binaryExponent - 1); // of those, right of the binary point

  if (tinyBits === 0 && binaryExponent <= 62) {
    // An integer below 2^63: its digits, with those finer than the ulp rounded off half-up.
    const drop = binaryExponent > significantBits ? dropsForUlp(binaryExponent - significantBits - 1) : 0;
    let integer = BigInt(magnitude);
    if (drop > 0) {
      const unit = 10n ** BigInt(drop);
      const rest = integer % unit;
      integer /= unit;
      if (rest >= unit >> 1n) integer += 1n;
    }
    const digits = integer.toString();
    return javaLayout(digits.replace(/0+$/, ""), digits.length + drop);
  }

  // value = b/s · 10^decimalExponent with b, s integers; m is half an ulp on b's scale (a quarter at a
  // power of two). Exponents of 2 and 5 are tracked apart so that the scale stays as small as Java's,
  // which decides between 32-bit, 64-bit and arbitrary precision.
  let decimalExponent = estimateDecimalExponent(significand, binaryExponent);
  const b5 = Math.max(0, -decimalExponent);
  const s5 = Math.max(0, decimalExponent);
  let b2 = b5 + tinyBits + binaryExponent - (fractionBits - 1);
  let s2 = s5 + tinyBits;
  let m2 = b5 + tinyBits + binaryExponent - significantBits;
  const common = Math.min(b2, s2);
  b2 -= common;
  s2 -= common;
  m2 -= common;
  if (fractionBits === 1) m2 -= 1;
  if (m2 < 0) {
    b2 -= m2;
    s2 -= m2;
    m2 = 0;
  }
  const bBits = fractionBits + b2 + fiveBits(b5);
  const tenSBits = s2 + 1 + fiveBits(s5 + 1);
  const b = (BigInt(significand / 2 ** zeros) * bigPowerOfFive(b5)) << BigInt(b2);
  const s = bigPowerOfFive(s5) << BigInt(s2);
  const m = bigPowerOfFive(b5) << BigInt(m2);
  const width = bBits < 32 && tenSBits < 32 ? 32 : bBits < 64 && tenSBits < 64 ? 64 : 0;

  // Only an odd significand leaves JavaScript's interval open at the top, where Java's may be closed.
  const topMayBeShorter = width === 0 && zeros === 0 && magnitude >= TWO_53;
  const checked =
    shortest === undefined
      ? undefined
      : checkedShortest(shortest, b, s, m, width, topMayBeShorter, decimalExponent);
  if (checked !== undefined) return checked;
  const development =
    width === 0 ? developExact(b, s, m, decimalExponent) : developFixedWidth(b, s, m, width, decimalExponent);
  const digits = development.digits;
  decimalExponent = development.decimalExponent + 1;
  if (development.roundUp) {
    let i = digits.length - 1;
    while (digits[i] === 9 && i > 0) digits[i--] = 0;
    if (digits[i] === 9) {
      // 9…9 became 10…0: one more power of ten, the digit count unchanged.
      digits[0] = 1;
      decimalExponent += 1;
    } else {
      digits[i] = (digits[i] as number) + 1;
    }
  }
  return javaLayout(String.fromCharCode(...digits.map((digit) => 48 + digit)), decimalExponent);
}

/**
 * JavaScript's shortest digits, when a few exact tests on Java's scale (value = b/s, half-ulp = m,
 * in units of 10^estimate) prove that Java develops the same ones; undefined otherwise. Java stops at
 * the first length with a candidate strictly inside its interval (or on its top end, in arbitrary
 * precision) and keeps the nearer candidate. The shortest digits c are that candidate when c lies
 * strictly inside, is strictly the nearer, no shorter decimal sits on the top end, no carry makes a
 * new power of ten, and, in 64 bits, nothing can wrap before Java stops.
 */
function checkedShortest(
  shortest: string,
  b: bigint,
  s: bigint,
  m: bigint,
  width: 0 | 32 | 64,
  topMayBeShorter: boolean,
  estimate: number,
): string | undefined {
  if (width === 32) return undefined; // never for doubles
  let digits: string;
  let exponent: number;
  const e = shortest.indexOf("e");
  const dot = shortest.indexOf(".");
  if (e >= 0) {
    digits = e === 1 ? shortest.slice(0, 1) : shortest.slice(0, 1) + shortest.slice(2, e);
    exponent = Number(shortest.slice(e + 1));
  } else if (dot < 0) {
    digits = shortest.replace(/0+$/, "");
    exponent = shortest.length - 1;
  } else if (shortest.charCodeAt(0) === 48) {
    let first = 2;
    while (shortest.charCodeAt(first) === 48) first += 1;
    digits = shortest.slice(first);
    exponent = 1 - first;
  } else {
    digits = shortest.slice(0, dot) + shortest.slice(dot + 1);
    exponent = dot - 1;
  }
  if (estimate !== exponent && estimate !== exponent + 1) return undefined;
  const length = digits.length;
  const minimum = exponent < -3 || exponent >= 8 ? 2 : 1; // Java's E-form develops 2 digits at least
  // c − value = x / (s · 10^shift) in units of 10^estimate, and one unit of c's last digit is 10^-shift.
  const shift = estimate - exponent + length - 1;
  const scale = bigPowerOfTen(shift);
  const x = BigInt(digits) * s - b * scale;
  const distance = x < 0n ? -x : x;
  if (distance >= m * scale) return undefined;
  if ((length < minimum ? 20n : 2n) * distance >= s) return undefined;
  if (x > 0n && digits === "1") return undefined;
  if (topMayBeShorter && shift > 0 && ((b + m) * bigPowerOfTen(shift - 1)) % s === 0n) return undefined;
  if (width === 64 && Number(m) * 10 ** (Math.max(length, minimum) + 1) + Number(s) * 10 >= 2 ** 62)
    return undefined;
  return javaLayout(digits, exponent + 1);
}

const bigPowersOfTen: bigint[] = [1n];
function bigPowerOfTen(exponent: number): bigint {
  for (let i = bigPowersOfTen.length; i <= exponent; i++)
    bigPowersOfTen.push((bigPowersOfTen[i - 1] as bigint) * 10n);
  return bigPowersOfTen[exponent] as bigint;
}

/**
 * floor(log10(value)) from a tangent to log10 at 1.5: exact or one too high (Java then drops a
 * leading 0), computed in the same double operations as Java so that it errs alike.
 */
function estimateDecimalExponent(significand: number, binaryExponent: number): number {
  const normalized = significand / 2 ** 52;
  return Math.floor((normalized - 1.5) * 0.289529654 + 0.176091259 + binaryExponent * 0.301029995663981);
}

type Development = { digits: number[]; decimalExponent: number; roundUp: boolean };

/** Whether the last digit rounds up, from the stopping tests and the sign of 2·remainder − unit. */
function roundsUp(low: boolean, high: boolean, twiceRestVersusUnit: number, lastDigit: number): boolean {
  if (!high) return false;
  if (!low) return true;
  return twiceRestVersusUnit > 0 || (twiceRestVersusUnit === 0 && lastDigit % 2 === 1);
}

/**
 * Digit development in Java's int or long arithmetic, wrapping included: the stopping tests are
 * strict, a sum past the largest value turns negative, and once m wraps negative both tests hold.
 */
function developFixedWidth(
  b: bigint,
  s: bigint,
  m: bigint,
  width: 32 | 64,
  decimalExponent: number,
): Development {
  // b stays below tens, which fits; only m and b + m can pass the limit.
  const limit = width === 64 ? LONG_LIMIT : INT_LIMIT;
  const wrap = (x: bigint) => (x < limit && x >= -limit ? x : BigInt.asIntN(width, x));
  const tens = s * 10n;
  const digits: number[] = [];
  let q = b / s;
  b = (b - q * s) * 10n;
  m = wrap(m * 10n);
  let low = b < m;
  let high = wrap(b + m) > tens;
  if (q === 0n && !high) decimalExponent -= 1;
  else digits.push(Number(q));
  // Java's E-form always shows a digit after the point, so the stopping tests start at the second digit.
  if (decimalExponent < -3 || decimalExponent >= 8) low = high = false;
  while (!low && !high) {
    q = b / s;
    b = (b - q * s) * 10n;
    m = wrap(m * 10n);
    if (m > 0n) {
      low = b < m;
      high = wrap(b + m) > tens;
    } else {
      low = high = true;
    }
    digits.push(Number(q));
  }
  const difference = BigInt.asIntN(width, BigInt.asIntN(width, b << 1n) - tens);
  const roundUp = roundsUp(
    low,
    high,
    difference > 0n ? 1 : difference < 0n ? -1 : 0,
    digits.at(-1) as number,
  );
  return { digits, decimalExponent, roundUp };
}

/** Digit development in Java's arbitrary precision, where the high test is not strict. */
function developExact(b: bigint, s: bigint, m: bigint, decimalExponent: number): Development {
  const tens = s * 10n;
  const digits: number[] = [];
  let q = b / s;
  b = (b - q * s) * 10n;
  m *= 10n;
  let low = b < m;
  let high = b + m >= tens;
  if (q === 0n && !high) decimalExponent -= 1;
  else digits.push(Number(q));
  if (decimalExponent < -3 || decimalExponent >= 8) low = high = false;
  while (!low && !high) {
    q = b / s;
    b = (b - q * s) * 10n;
    m *= 10n;
    low = b < m;
    high = b + m >= tens;
    digits.push(Number(q));
  }
  const twice = b << 1n;
  const comparison = low && high ? (twice > tens ? 1 : twice < tens ? -1 : 0) : 0;
  return { digits, decimalExponent, roundUp: roundsUp(low, high, comparison, digits.at(-1) as number) };
}
