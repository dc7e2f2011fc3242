// Draws chart shapes (rectangles, lines, bitmap text) into an RGB pixel buffer for the PNG encoder.

import { glyphAdvance, glyphHeight, glyphOf } from "./font.js";

export type Color = readonly [number, number, number];

export type Align = "left" | "center" | "right";

export type Shape =
  | { kind: "rect"; x: number; y: number; width: number; height: number; color: Color }
  | { kind: "line"; x1: number; y1: number; x2: number; y2: number; color: Color; dash?: number }
  | { kind: "text"; x: number; y: number; text: string; color: Color; scale: number; align: Align };

/** Width in pixels of a line of text at a font scale (no trailing gap). */
export const textWidth = (text: string, scale: number): number =>
  text.length === 0 ? 0 : ([...text].length * glyphAdvance - 1) * scale;

export const textHeight = (scale: number): number => glyphHeight * scale;

export class Raster {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Color = [255, 255, 255],
  ) {
    this.pixels = new Uint8Array(width * height * 3);
    this.fillRect(0, 0, width, height, background);
  }

  /** The colour at a pixel; undefined outside the buffer. */
  at(x: number, y: number): Color | undefined {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return undefined;
    const i = (y * this.width + x) * 3;
    return [this.pixels[i] ?? 0, this.pixels[i + 1] ?? 0, this.pixels[i + 2] ?? 0];
  }

  /** Sets one pixel; points outside the buffer are ignored. */
  set(x: number, y: number, color: Color): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.pixels[i] = color[0];
    this.pixels[i + 1] = color[1];
    this.pixels[i + 2] = color[2];
  }

  /** Fills the rectangle [x, x+width) × [y, y+height), rounded to whole pixels and clipped. */
  fillRect(x: number, y: number, width: number, height: number, color: Color): void {
    const left = Math.max(0, Math.round(x));
    const top = Math.max(0, Math.round(y));
    const right = Math.min(this.width, Math.round(x + width));
    const bottom = Math.min(this.height, Math.round(y + height));
    for (let row = top; row < bottom; row += 1)
      for (let col = left; col < right; col += 1) this.set(col, row, color);
  }

  /** A one-pixel line (Bresenham); with `dash`, alternating drawn and skipped runs of that length. */
  line(x1: number, y1: number, x2: number, y2: number, color: Color, dash = 0): void {
    let x = Math.round(x1);
    let y = Math.round(y1);
    const endX = Math.round(x2);
    const endY = Math.round(y2);
    const dx = Math.abs(endX - x);
    const dy = -Math.abs(endY - y);
    const stepX = x < endX ? 1 : -1;
    const stepY = y < endY ? 1 : -1;
    let error = dx + dy;
    for (let step = 0; ; step += 1) {
      if (dash <= 0 || Math.floor(step / dash) % 2 === 0) this.set(x, y, color);
      if (x === endX && y === endY) return;
      const twice = 2 * error;
      if (twice >= dy) {
        error += dy;
        x += stepX;
      }
      if (twice <= dx) {
        error += dx;
        y += stepY;
      }
    }
  }

  /** Text whose top edge is at y; x is its left edge, centre or right edge as `align` says. */
  text(x: number, y: number, text: string, color: Color, scale = 1, align: Align = "left"): void {
    const width = textWidth(text, scale);
    let left = Math.round(align === "left" ? x : align === "center" ? x - width / 2 : x - width);
    const top = Math.round(y);
    for (const character of text) {
      const glyph = glyphOf(character);
      glyph.forEach((row, gy) => {
        row.forEach((lit, gx) => {
          if (lit) this.fillRect(left + gx * scale, top + gy * scale, scale, scale, color);
        });
      });
      left += glyphAdvance * scale;
    }
  }

  draw(shapes: Shape[]): this {
    for (const shape of shapes) {
      if (shape.kind === "rect") this.fillRect(shape.x, shape.y, shape.width, shape.height, shape.color);
      else if (shape.kind === "line")
        this.line(shape.x1, shape.y1, shape.x2, shape.y2, shape.color, shape.dash ?? 0);
      else this.text(shape.x, shape.y, shape.text, shape.color, shape.scale, shape.align);
    }
    return this;
  }
}
