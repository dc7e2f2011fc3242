// Java's Double.toString, which Spark's console, Jackson and Gson use for doubles: 7 → "7.0", 1e7 → "1.0E7".

/**
 * Formats a finite number the way `java.lang.Double.toString` does: plain decimal with at least one
 * fractional digit for 1e-3 <= |x| < 1e7, otherwise `d.dddE±n`. Digits are the shortest round-trip
 * representation (as JavaScript and Java 19+ both choose). Non-finite values follow Java's names.
 */
export function formatJavaDouble(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const plain = String(value);
    if (!plain.includes("e")) return plain.includes(".") ? plain : `${plain}.0`;
    // JavaScript switches to exponent form below 1e-6 only, so this branch is unreachable in range.
  }
  const [mantissa = "", exponent = "0"] = value.toExponential().split("e");
  const digits = mantissa.includes(".") ? mantissa : `${mantissa}.0`;
  return `${digits}E${Number(exponent)}`;
}
