// Strict standard base64 (with `=` padding), as the Redis connector writes every binary field.

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes strict base64 to bytes; undefined when the text is not canonical base64. */
function decodeBase64(text: string): Uint8Array | undefined {
  if (!base64Pattern.test(text)) return undefined;
  return Buffer.from(text, "base64");
}

/** Decodes strict base64 holding UTF-8 text; undefined when either layer is invalid. */
export function decodeBase64Text(text: string): string | undefined {
  const bytes = decodeBase64(text);
  if (bytes === undefined) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export const encodeBase64 = (bytes: Uint8Array | string): string =>
  (typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Buffer.from(bytes)).toString("base64");

/** Base64 digit values by character code; -1 for anything else. */
const base64Values = new Int8Array(128).fill(-1);
for (const [index, character] of [
  ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
].entries())
  base64Values[character.charCodeAt(0)] = index;

/**
 * Decodes canonical padded base64 written in `bytes` from `at` up to a closing quote (a JSON string's
 * content) into `out` at `outAt`, without building a string. Returns the quote's index and the end of
 * the decoded bytes, or undefined (not base64, or `out` too small).
 */
export function decodeBase64Into(
  bytes: Uint8Array,
  at: number,
  out: Uint8Array,
  outAt: number,
): { end: number; outEnd: number } | undefined {
  let i = at;
  let o = outAt;
  for (;;) {
    const a = base64Values[bytes[i] as number] ?? -1;
    if (a < 0) break;
    const b = base64Values[bytes[i + 1] as number] ?? -1;
    if (b < 0) return undefined;
    const thirdCode = bytes[i + 2];
    const fourthCode = bytes[i + 3];
    const c = base64Values[thirdCode as number] ?? -1;
    const d = base64Values[fourthCode as number] ?? -1;
    if (o + 3 > out.length) return undefined;
    out[o++] = (a << 2) | (b >> 4);
    if (c < 0) {
      // "xx==": one byte, and the string ends here.
      if (thirdCode !== 0x3d || fourthCode !== 0x3d) return undefined;
      i += 4;
      break;
    }
    out[o++] = ((b & 0xf) << 4) | (c >> 2);
    if (d < 0) {
      // "xxx=": two bytes, and the string ends here.
      if (fourthCode !== 0x3d) return undefined;
      i += 4;
      break;
    }
    out[o++] = ((c & 0x3) << 6) | d;
    i += 4;
  }
  return bytes[i] === 0x22 ? { end: i, outEnd: o } : undefined;
}
