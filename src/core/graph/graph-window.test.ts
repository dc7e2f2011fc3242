import { describe, expect, it } from "vitest";
import type { GraphPoint } from "./graph-point.js";
import { GraphWindow, minOpacity, type WindowPoint } from "./graph-window.js";

const point = (n: number): GraphPoint => ({ x: 1900 + n, y: n, customer: `c${n}`, email: `c${n}@e` });
const numbered = (n: number): WindowPoint => ({ ...point(n), seq: n });

describe("GraphWindow", () => {
  it("starts empty", () => {
    const window = new GraphWindow(3);
    expect(window.points).toEqual([]);
    expect(window.received).toBe(0);
    expect(window.snapshot()).toEqual({ capacity: 3, received: 0, points: [] });
  });

  it.each([
    [1, 1, [1]],
    [3, 2, [1, 2]],
    [3, 3, [1, 2, 3]],
    [3, 4, [2, 3, 4]],
    [3, 10, [8, 9, 10]],
    [1, 5, [5]],
  ])("with capacity %i after %i points holds seq %j", (capacity, added, held) => {
    const window = new GraphWindow(capacity);
    for (let n = 1; n <= added; n += 1) expect(window.add(point(n)).seq).toBe(n);
    expect(window.points.map((p) => p.seq)).toEqual(held);
    expect(window.points.map((p) => p.customer)).toEqual(held.map((n) => `c${n}`));
    expect(window.received).toBe(added);
  });

  it("ignores points not newer than the newest held (a replay after reconnecting)", () => {
    const window = new GraphWindow(5);
    expect(window.accept(numbered(4))).toBe(true);
    expect(window.accept(numbered(4))).toBe(false);
    expect(window.accept(numbered(2))).toBe(false);
    expect(window.accept(numbered(7))).toBe(true);
    expect(window.points.map((p) => p.seq)).toEqual([4, 7]);
    expect(window.received).toBe(7);
  });

  it("round-trips through a snapshot, keeping the count of points let go", () => {
    const server = new GraphWindow(2);
    for (let n = 1; n <= 5; n += 1) server.add(point(n));
    const page = GraphWindow.fromSnapshot(server.snapshot());
    expect(page.received).toBe(5);
    expect(page.points).toEqual(server.points);
    expect(page.accept(server.add(point(6)))).toBe(true);
    expect(page.points.map((p) => p.seq)).toEqual([5, 6]);
  });

  it("rejects a capacity that is not a positive whole number", () => {
    expect(() => new GraphWindow(0)).toThrow(RangeError);
    expect(() => new GraphWindow(2.5)).toThrow(RangeError);
  });

  it.each([
    // capacity, points added, seq asked → opacity
    [5, 5, 5, 1],
    [5, 5, 1, minOpacity],
    [5, 5, 3, 1 - (1 - minOpacity) / 2],
    [5, 3, 1, 1 - ((1 - minOpacity) * 2) / 4],
    [1, 9, 9, 1],
    [300, 300, 1, minOpacity],
  ])("with capacity %i after %i points gives seq %i opacity %d", (capacity, added, seq, opacity) => {
    const window = new GraphWindow(capacity);
    for (let n = 1; n <= added; n += 1) window.add(point(n));
    expect(window.opacityOf(numbered(seq))).toBeCloseTo(opacity, 10);
  });

  it("fades every held point between minOpacity and 1, newest brightest", () => {
    const window = new GraphWindow(10);
    for (let n = 1; n <= 25; n += 1) window.add(point(n));
    const opacities = window.points.map((p) => window.opacityOf(p));
    expect(opacities[opacities.length - 1]).toBe(1);
    expect(opacities[0]).toBeCloseTo(minOpacity, 10);
    for (let i = 1; i < opacities.length; i += 1)
      expect(opacities[i]).toBeGreaterThan(opacities[i - 1] ?? Number.POSITIVE_INFINITY);
  });
});
