import { describe, expect, it } from "vitest";
import {
  axisMapper,
  type BarPanel,
  type ChartInput,
  formatCompact,
  layoutBarPanel,
  layoutChart,
  logTicks,
  niceTicks,
  renderChartPng,
} from "./chart.js";
import { type Shape, textWidth } from "./raster.js";

/** Coloured rectangles: bars and legend swatches, not the white backings of value labels. */
const rects = (shapes: Shape[]) =>
  shapes.filter(
    (shape): shape is Extract<Shape, { kind: "rect" }> =>
      shape.kind === "rect" && shape.color.join() !== "255,255,255",
  );

describe("niceTicks", () => {
  it.each([
    [108_000, [0, 20_000, 40_000, 60_000, 80_000, 100_000, 120_000]],
    [9, [0, 2, 4, 6, 8, 10]],
    [1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [0, [0, 1]],
  ])("niceTicks(%s)", (max, expected) => {
    expect(niceTicks(max)).toEqual(expected);
  });
});

describe("logTicks", () => {
  it("covers the range in decades", () => {
    expect(logTicks(0.42, 1234)).toEqual([0.1, 1, 10, 100, 1000, 10_000]);
    expect(logTicks(5, 5)).toEqual([1, 10]);
  });
});

describe("formatCompact", () => {
  it.each([
    [1_500_000, "1.5M"],
    [12_000_000, "12M"],
    [120_000, "120K"],
    [2500, "2.5K"],
    [1000, "1K"],
    [950, "950"],
    [12.5, "12.5"],
    [2.25, "2.25"],
    [0.25, "0.25"],
    [0, "0"],
  ])("%s → %s", (value, expected) => {
    expect(formatCompact(value)).toBe(expected);
  });
});

describe("axisMapper", () => {
  it("maps linear and log axes bottom-up and clamps", () => {
    const linear = axisMapper("linear", [0, 50, 100], 100, 300);
    expect([linear(0), linear(50), linear(100), linear(200), linear(-1)]).toEqual([300, 200, 100, 100, 300]);
    const log = axisMapper("log", [1, 10, 100], 0, 200);
    expect([log(1), log(10), log(100), log(0)]).toEqual([200, 100, 0, 200]);
  });
});

describe("layoutBarPanel", () => {
  const panel: BarPanel = {
    title: "THROUGHPUT",
    unit: "EVENTS/S",
    scale: "linear",
    series: ["EVENTS/S"],
    groups: [
      { label: "JOIN", values: [30_000] },
      { label: "COPY", values: [60_000] },
      { label: "SPARK", values: [undefined] },
    ],
    target: { value: 100_000, label: "TARGET 100K" },
  };
  const box = { x: 10, y: 20, width: 500, height: 600 };

  it("draws bars proportional to their values from a shared baseline, skipping missing values", () => {
    const bars = rects(layoutBarPanel(panel, box));
    expect(bars).toHaveLength(2);
    const [join, copy] = bars;
    expect(join && copy).toBeTruthy();
    if (!join || !copy) return;
    expect(join.y + join.height).toBeCloseTo(copy.y + copy.height, 5);
    expect(copy.height / join.height).toBeCloseTo(2, 1);
  });

  it("keeps every shape inside its box", () => {
    for (const shape of layoutBarPanel(panel, box)) {
      if (shape.kind === "rect") {
        expect(shape.x).toBeGreaterThanOrEqual(box.x);
        expect(shape.x + shape.width).toBeLessThanOrEqual(box.x + box.width);
        expect(shape.y).toBeGreaterThanOrEqual(box.y);
        expect(shape.y + shape.height).toBeLessThanOrEqual(box.y + box.height);
      } else if (shape.kind === "text") {
        const width = textWidth(shape.text, shape.scale);
        const left =
          shape.align === "left" ? shape.x : shape.align === "center" ? shape.x - width / 2 : shape.x - width;
        expect(left).toBeGreaterThanOrEqual(box.x);
        expect(left + width).toBeLessThanOrEqual(box.x + box.width);
        expect(shape.y).toBeGreaterThanOrEqual(box.y);
      }
    }
  });

  it("adds a legend row per series when there are several", () => {
    const latency: BarPanel = {
      title: "LATENCY",
      unit: "MS",
      scale: "log",
      series: ["P50", "P95", "P99", "MAX"],
      groups: [{ label: "1K/S", values: [1, 2, 5, 40] }],
    };
    const shapes = layoutBarPanel(latency, box);
    const legend = shapes.filter(
      (shape) => shape.kind === "text" && ["P50", "P95", "P99", "MAX"].includes(shape.text),
    );
    expect(legend).toHaveLength(4);
    expect(rects(shapes)).toHaveLength(8);
  });
});

describe("layoutChart", () => {
  const input: ChartInput = {
    title: "STEDI JOIN BENCH",
    subtitle: "100K CUSTOMERS",
    panels: [
      {
        title: "A",
        unit: "U",
        scale: "linear",
        series: ["X"],
        groups: [{ label: "G", values: [3] }],
      },
      {
        title: "B",
        unit: "U",
        scale: "log",
        series: ["P50", "P99"],
        groups: [{ label: "G", values: [0.5, 20] }],
      },
    ],
    verdicts: [
      { text: "ONE", pass: true },
      { text: "TWO", pass: false },
      { text: "THREE", pass: undefined },
    ],
  };

  it("fits everything in the canvas and badges each verdict", () => {
    const { width, height, shapes } = layoutChart(input);
    for (const shape of shapes) {
      if (shape.kind === "text") {
        expect(shape.y).toBeGreaterThanOrEqual(0);
        expect(shape.y + 7 * shape.scale).toBeLessThanOrEqual(height);
      }
      if (shape.kind === "rect") expect(shape.x + shape.width).toBeLessThanOrEqual(width);
    }
    const badges = shapes.filter((shape) => shape.kind === "text" && /^(PASS|MISS|N\/A )$/.test(shape.text));
    expect(badges.map((shape) => (shape.kind === "text" ? shape.text : ""))).toEqual([
      "PASS",
      "MISS",
      "N/A ",
    ]);
  });

  it("renders a PNG", () => {
    const png = renderChartPng(input);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(png.readUInt32BE(16)).toBe(layoutChart(input).width);
  });
});
