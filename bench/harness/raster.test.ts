import { describe, expect, it } from "vitest";
import { glyphOf } from "./font.js";
import { Raster, textWidth } from "./raster.js";

const black = [0, 0, 0] as const;
const red = [255, 0, 0] as const;

const litCount = (raster: Raster, color: readonly [number, number, number]) => {
  let count = 0;
  for (let y = 0; y < raster.height; y += 1)
    for (let x = 0; x < raster.width; x += 1) if (raster.at(x, y)?.join() === color.join()) count += 1;
  return count;
};

describe("Raster", () => {
  it("starts filled with the background", () => {
    const raster = new Raster(4, 3, [1, 2, 3]);
    expect(raster.at(3, 2)).toEqual([1, 2, 3]);
    expect(raster.at(4, 0)).toBeUndefined();
  });

  it("fills rectangles clipped to the buffer", () => {
    const raster = new Raster(10, 10);
    raster.fillRect(-5, 8, 8, 10, red);
    expect(litCount(raster, red)).toBe(3 * 2);
    expect(raster.at(2, 9)).toEqual(red);
    expect(raster.at(3, 9)).toEqual([255, 255, 255]);
  });

  it("draws solid and dashed lines including both ends", () => {
    const solid = new Raster(20, 5);
    solid.line(0, 2, 19, 2, black);
    expect(litCount(solid, black)).toBe(20);
    const dashed = new Raster(20, 5);
    dashed.line(0, 2, 19, 2, black, 4);
    expect(litCount(dashed, black)).toBe(12);
    expect(dashed.at(4, 2)).toEqual([255, 255, 255]);
    const diagonal = new Raster(5, 5);
    diagonal.line(4, 4, 0, 0, black);
    expect([0, 1, 2, 3, 4].every((i) => diagonal.at(i, i)?.join() === "0,0,0")).toBe(true);
  });

  it("renders text with the glyph's lit pixels at the given scale and alignment", () => {
    const lit = glyphOf("A")
      .flat()
      .filter((cell) => cell).length;
    const raster = new Raster(40, 20);
    raster.text(20, 2, "A", black, 2, "center");
    expect(litCount(raster, black)).toBe(lit * 4);
    expect(textWidth("AB", 2)).toBe(22);
    const right = new Raster(40, 20);
    right.text(39, 0, "I", black, 1, "right");
    // "I" spans columns 34–38 and is .###. in its top row: lit from 35 to 37.
    expect(right.at(37, 0)).toEqual([0, 0, 0]);
    expect(right.at(38, 0)).toEqual([255, 255, 255]);
    expect(right.at(34, 6)).toEqual([255, 255, 255]);
    expect(right.at(35, 6)).toEqual([0, 0, 0]);
  });

  it("draws lower case as upper case and unknown characters as a box", () => {
    expect(glyphOf("a")).toEqual(glyphOf("A"));
    expect(glyphOf("€")[0]).toEqual([true, true, true, true, true]);
    expect(glyphOf("7")).toHaveLength(7);
  });
});
