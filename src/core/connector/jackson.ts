// JSON the way the original connector's Jackson wrote it: fields in declaration order, byte arrays as
// padded base64, Java longs as integers, Java doubles as Double.toString, enums by name, nulls kept.

import { formatJavaDouble } from "../formats/java-double.js";

/**
 * A Java value as Jackson sees it. `bigint` is a Java int/long (written as an integer), `number` is a
 * Java double (written as `0.0`, `1.0E7`; non-finite ones quoted, as QUOTE_NON_NUMERIC_NUMBERS does),
 * strings are Java Strings or enum names, `Uint8Array` is a byte[] (base64).
 */
export type JavaValue =
  | string
  | boolean
  | null
  | bigint
  | number
  | Uint8Array
  | JavaValue[]
  | JavaObject
  | JavaWritten;

/** An object with its fields in order. A class rather than a plain object: base64 map keys such as
 * "1234" are integer-like, and JavaScript would move them to the front of a plain object. */
export class JavaObject {
  constructor(readonly fields: readonly (readonly [string, JavaValue])[]) {}
}

/** A value serialized already: written as is (the connector writes some arrays twice). */
export class JavaWritten {
  constructor(readonly json: string) {}
}

/** A Java bean: field names are identifiers, so a plain object keeps their order. */
export const bean = (fields: Record<string, JavaValue>): JavaObject => new JavaObject(Object.entries(fields));

/** Serializes like Jackson's default ObjectMapper, without spaces or a trailing newline. */
export function writeJava(value: JavaValue): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    const text = formatJavaDouble(value);
    return Number.isFinite(value) ? text : JSON.stringify(text);
  }
  if (value instanceof Uint8Array) return `"${base64(value)}"`;
  if (value instanceof JavaWritten) return value.json;
  if (Array.isArray(value)) return `[${value.map(writeJava).join(",")}]`;
  return `{${value.fields.map(([name, field]) => `${JSON.stringify(name)}:${writeJava(field)}`).join(",")}}`;
}

/** Padded standard base64 of the bytes, without copying them first. */
const base64 = (bytes: Uint8Array) =>
  (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString(
    "base64",
  );
