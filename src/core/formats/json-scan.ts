// Steps shared by the join's fast paths (customer-scan.ts, risk-event.ts): reading JSON text of a
// known layout straight from a record's bytes. Each step takes the index to read at and returns the
// index after what it read, or -1; a step given -1 returns -1, so steps chain without checks between.

import { isRealDate } from "../simulation/calendar.js";

/** The bytes of ASCII text, for comparing with `literalEnd`. */
export const ascii = (text: string) => Buffer.from(text, "latin1");

const quote = 0x22;
const backslash = 0x5c;

/** Index after `literal` if `bytes` hold it at `at`, else -1. */
export function literalEnd(bytes: Uint8Array, at: number, literal: Uint8Array): number {
  if (at < 0 || at + literal.length > bytes.length) return -1;
  for (let i = 0; i < literal.length; i += 1) if (bytes[at + i] !== literal[i]) return -1;
  return at + literal.length;
}

/** Index after the byte `code` at `at`, else -1. */
export const byteEnd = (bytes: Uint8Array, at: number, code: number) =>
  at >= 0 && bytes[at] === code ? at + 1 : -1;

/**
 * Index of the quote closing a plain string (printable ASCII, no escapes) that starts at `at` and
 * ends before `end`, else -1.
 */
export function plainStringEnd(bytes: Uint8Array, at: number, end = bytes.length): number {
  if (at < 0) return -1;
  for (let i = at; i < end; i += 1) {
    const code = bytes[i] as number;
    if (code === quote) return i;
    if (code < 0x20 || code >= 0x7f || code === backslash) return -1;
  }
  return -1;
}

const isDigit = (code: number | undefined) => code !== undefined && code >= 0x30 && code <= 0x39;

/**
 * Index after a JSON number starting at `at` (the whole grammar, any length), else -1. JSON.parse
 * accepts every such number, turning one too large into ±Infinity, so this step only validates a
 * number whose value is ignored; a value to be used is read through `shortNumberEnd`.
 */
export function numberEnd(bytes: Uint8Array, at: number): number {
  if (at < 0) return -1;
  let i = at;
  if (bytes[i] === 0x2d) i += 1;
  if (bytes[i] === 0x30) i += 1;
  else if (isDigit(bytes[i])) while (isDigit(bytes[i])) i += 1;
  else return -1;
  if (bytes[i] === 0x2e) {
    i += 1;
    if (!isDigit(bytes[i])) return -1;
    while (isDigit(bytes[i])) i += 1;
  }
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    i += 1;
    if (bytes[i] === 0x2b || bytes[i] === 0x2d) i += 1;
    if (!isDigit(bytes[i])) return -1;
    while (isDigit(bytes[i])) i += 1;
  }
  return i;
}

/** Most digits `shortNumberEnd` takes: enough for any score, and far from a double's limits. */
const shortNumberDigits = 15;

/**
 * Index after a JSON number in plain decimal notation, `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, of at most
 * 15 digits, else -1. Such a number lies between 10^-14 and 10^15, so never overflows or
 * underflows, and Number() of its text is the double JSON.parse gives (ECMAScript guarantees
 * correct rounding only up to 20 significant digits): a fast path may read its value. Every other
 * number is left to the general decoder.
 */
export function shortNumberEnd(bytes: Uint8Array, at: number): number {
  if (at < 0) return -1;
  let i = at;
  if (bytes[i] === 0x2d) i += 1;
  const digitsStart = i;
  if (bytes[i] === 0x30) i += 1;
  else if (isDigit(bytes[i])) while (isDigit(bytes[i])) i += 1;
  else return -1;
  let digits = i - digitsStart;
  if (bytes[i] === 0x2e) {
    i += 1;
    const fractionStart = i;
    while (isDigit(bytes[i])) i += 1;
    if (i === fractionStart) return -1;
    digits += i - fractionStart;
  }
  // An exponent, or a digit after a leading zero, is no plain short number (the latter no JSON).
  if (digits > shortNumberDigits || bytes[i] === 0x65 || bytes[i] === 0x45 || isDigit(bytes[i])) return -1;
  return i;
}

const powersOfTen = Array.from({ length: shortNumberDigits + 1 }, (_, power) => 10 ** power);

/**
 * The value of the number `shortNumberEnd` accepted in `bytes[start, end)`, as Number() reads its
 * text: the digits make an integer below 10^15 and the fraction a power of ten up to 10^15, both
 * exact in a double, so their quotient is the correctly rounded value, as Number's.
 */
export function shortNumberValue(bytes: Uint8Array, start: number, end: number): number {
  let at = start;
  const negative = bytes[at] === 0x2d;
  if (negative) at += 1;
  let digits = 0;
  let fraction = -1;
  for (; at < end; at += 1) {
    const byte = bytes[at] as number;
    if (byte === 0x2e) fraction = 0;
    else {
      digits = digits * 10 + (byte - 0x30);
      if (fraction >= 0) fraction += 1;
    }
  }
  const value = fraction > 0 ? digits / (powersOfTen[fraction] as number) : digits;
  return negative ? -value : value;
}

const trueText = ascii("true");
const falseText = ascii("false");

/** Index after `true` or `false` at `at`, else -1. */
export function booleanEnd(bytes: Uint8Array, at: number): number {
  const afterTrue = literalEnd(bytes, at, trueText);
  return afterTrue >= 0 ? afterTrue : literalEnd(bytes, at, falseText);
}

/** The number written by `digits` ASCII digits at `at`, or -1. */
export function digitsAt(bytes: Uint8Array, at: number, digits: number): number {
  let value = 0;
  for (let i = at; i < at + digits; i += 1) {
    const code = bytes[i];
    if (!isDigit(code)) return -1;
    value = value * 10 + (code as number) - 0x30;
  }
  return value;
}

/** The year of a real `yyyy-MM-dd` date at `at`, or -1. */
export function dateYearAt(bytes: Uint8Array, at: number): number {
  if (at < 0 || bytes[at + 4] !== 0x2d || bytes[at + 7] !== 0x2d) return -1;
  const year = digitsAt(bytes, at, 4);
  const month = digitsAt(bytes, at + 5, 2);
  const day = digitsAt(bytes, at + 8, 2);
  return year >= 0 && month >= 0 && day >= 0 && isRealDate(year, month, day) ? year : -1;
}
