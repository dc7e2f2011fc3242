import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32, encodePng } from "./png.js";

type Chunk = { type: string; data: Buffer; crcOk: boolean };

function readChunks(png: Buffer): Chunk[] {
  const chunks: Chunk[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    const crc = png.readUInt32BE(at + 8 + length);
    chunks.push({ type, data, crcOk: crc === crc32(png.subarray(at + 4, at + 8 + length)) });
    at += 12 + length;
  }
  return chunks;
}

/** Undoes the Sub filter the encoder uses, giving back the RGB bytes. */
function unfilter(raw: Buffer, width: number, height: number): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y += 1) {
    expect(raw[y * (stride + 1)]).toBe(1);
    for (let x = 0; x < stride; x += 1) {
      const left = x >= 3 ? (out[y * stride + x - 3] ?? 0) : 0;
      out[y * stride + x] = ((raw[y * (stride + 1) + 1 + x] ?? 0) + left) & 0xff;
    }
  }
  return out;
}

describe("crc32", () => {
  it.each([
    ["", 0],
    ["a", 0xe8b7_be43],
    ["123456789", 0xcbf4_3926],
    ["IEND", 0xae42_6082],
  ])("crc32(%j)", (text, expected) => {
    expect(crc32(Buffer.from(text, "latin1"))).toBe(expected);
  });
});

describe("encodePng", () => {
  it("writes signature, IHDR, IDAT and IEND with valid CRCs and the pixels back", () => {
    const width = 3;
    const height = 2;
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 200, 100, 0, 1, 2, 3]);
    const png = encodePng(width, height, rgb);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks = readChunks(png);
    expect(chunks.map((chunk) => chunk.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    expect(chunks.every((chunk) => chunk.crcOk)).toBe(true);
    const header = chunks[0]?.data ?? Buffer.alloc(0);
    expect([header.readUInt32BE(0), header.readUInt32BE(4), header[8], header[9], header[12]]).toEqual([
      3, 2, 8, 2, 0,
    ]);
    const raw = inflateSync(chunks[1]?.data ?? Buffer.alloc(0));
    expect([...unfilter(raw, width, height)]).toEqual([...rgb]);
  });

  it("rejects a buffer of the wrong size", () => {
    expect(() => encodePng(2, 2, new Uint8Array(11))).toThrow(RangeError);
    expect(() => encodePng(0, 2, new Uint8Array(0))).toThrow(RangeError);
  });
});
