// Lays the bench results out as a PNG chart: throughput bars, latency percentiles per rate, RSS growth.
// Layout is pure (data in, shapes out); raster.ts draws the shapes and png.ts encodes the pixels.

import { encodePng } from "./png.js";
import { type Align, type Color, Raster, type Shape, textHeight, textWidth } from "./raster.js";

/** Bars side by side under one label; `note` is a second, grey line under the label. */
export type BarGroup = { label: string; values: (number | undefined)[]; note?: string };

export type BarPanel = {
  title: string;
  unit: string;
  scale: "linear" | "log";
  series: string[];
  groups: BarGroup[];
  target?: { value: number; label: string };
};

export type ChartInput = {
  title: string;
  subtitle: string;
  panels: BarPanel[];
  /** One line per target; pass undefined when it was not measured. */
  verdicts: { text: string; pass: boolean | undefined }[];
};

export type Box = { x: number; y: number; width: number; height: number };

const ink: Color = [33, 37, 41];
const grey: Color = [134, 142, 150];
const grid: Color = [228, 231, 235];
const targetColor: Color = [214, 51, 108];
const passColor: Color = [43, 138, 62];
const missColor: Color = [201, 42, 42];
const palette: Color[] = [
  [34, 139, 230],
  [250, 176, 5],
  [64, 192, 87],
  [132, 94, 247],
  [253, 126, 20],
  [21, 170, 191],
  [230, 73, 128],
];

export const seriesColor = (index: number): Color => palette[index % palette.length] ?? ink;

/** Tick values for a linear axis from 0: steps of 1, 2 or 5 × 10^k, about `count` intervals, covering max. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  // The smallest step that needs at most count + 1 intervals.
  const step =
    [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => max / candidate <= count + 1) ??
    10 * power;
  const ticks: number[] = [];
  for (let i = 0; ; i += 1) {
    const tick = Number((i * step).toPrecision(12));
    ticks.push(tick);
    if (tick >= max) return ticks;
  }
}

/** Decade ticks for a log axis covering [min, max] (positive values only). */
export function logTicks(min: number, max: number): number[] {
  const low = Math.floor(Math.log10(Math.max(min, 1e-9)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(max, 1e-9))));
  const ticks: number[] = [];
  for (let power = low; power <= high; power += 1) ticks.push(Number((10 ** power).toPrecision(12)));
  return ticks;
}

/** A short label for a number: 1.5M, 120K, 950, 12.5, 0.25. */
export function formatCompact(value: number): string {
  const trim = (text: string) => text.replace(/\.0+$/, "").replace(/(\.\d*?)0+$/, "$1");
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return `${trim((value / 1e6).toFixed(magnitude >= 1e7 ? 0 : 1))}M`;
  if (magnitude >= 1e4) return `${trim((value / 1e3).toFixed(0))}K`;
  if (magnitude >= 1e3) return `${trim((value / 1e3).toFixed(1))}K`;
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return trim(value.toFixed(1));
  if (magnitude >= 1) return trim(value.toFixed(2));
  return trim(value.toPrecision(2));
}

/** Maps a value to a pixel row inside [top, bottom]; values outside the axis are clamped to it. */
export function axisMapper(scale: "linear" | "log", ticks: number[], top: number, bottom: number) {
  const first = ticks[0] ?? 0;
  const last = ticks.at(-1) ?? 1;
  return (value: number): number => {
    let fraction: number;
    if (scale === "log") {
      const low = Math.log10(first);
      const high = Math.log10(last);
      fraction = (Math.log10(Math.max(value, first)) - low) / (high - low);
    } else {
      fraction = (value - first) / (last - first);
    }
    return bottom - Math.min(1, Math.max(0, fraction)) * (bottom - top);
  };
}

const text = (x: number, y: number, content: string, color: Color, scale: number, align: Align): Shape => ({
  kind: "text",
  x,
  y,
  text: content,
  color,
  scale,
  align,
});

/** The shapes of one bar panel inside `box`: title, axis with ticks, grouped bars, target line, legend. */
export function layoutBarPanel(panel: BarPanel, box: Box): Shape[] {
  const shapes: Shape[] = [];
  const titleScale = 2;
  shapes.push(text(box.x + box.width / 2, box.y, panel.title, ink, titleScale, "center"));
  shapes.push(text(box.x + box.width / 2, box.y + 24, panel.unit, grey, 2, "center"));

  // The legend names the series (when there are several) and the target line, below the plot.
  const legendRows = (panel.series.length > 1 ? panel.series.length : 0) + (panel.target ? 1 : 0);
  const rowHeight = 20;
  const noteHeight = panel.groups.some((group) => group.note !== undefined) ? rowHeight : 0;
  const plot: Box = {
    x: box.x + 62,
    y: box.y + 56,
    width: box.width - 66,
    height: box.height - 56 - 40 - noteHeight - legendRows * rowHeight,
  };
  const values = panel.groups.flatMap((group) => group.values).filter((v): v is number => v !== undefined);
  const withTarget = panel.target ? [...values, panel.target.value] : values;
  const ticks =
    panel.scale === "log"
      ? logTicks(Math.min(...withTarget.filter((v) => v > 0), 1), Math.max(...withTarget, 1))
      : niceTicks(Math.max(...withTarget, 0) * 1.08);
  const toY = axisMapper(panel.scale, ticks, plot.y, plot.y + plot.height);

  for (const tick of ticks) {
    const y = toY(tick);
    shapes.push({ kind: "line", x1: plot.x, y1: y, x2: plot.x + plot.width, y2: y, color: grid });
    shapes.push(text(plot.x - 8, y - 7, formatCompact(tick), grey, 2, "right"));
  }
  shapes.push({ kind: "line", x1: plot.x, y1: plot.y, x2: plot.x, y2: plot.y + plot.height, color: ink });
  shapes.push({
    kind: "line",
    x1: plot.x,
    y1: plot.y + plot.height,
    x2: plot.x + plot.width,
    y2: plot.y + plot.height,
    color: ink,
  });

  const groupWidth = plot.width / Math.max(1, panel.groups.length);
  const seriesCount = Math.max(1, panel.series.length);
  const barWidth = Math.max(2, Math.floor((groupWidth * 0.8) / seriesCount));
  panel.groups.forEach((group, g) => {
    const groupLeft = plot.x + g * groupWidth + (groupWidth - barWidth * seriesCount) / 2;
    group.values.forEach((value, s) => {
      if (value === undefined) return;
      const top = toY(value);
      const x = groupLeft + s * barWidth;
      const bottom = plot.y + plot.height;
      shapes.push({
        kind: "rect",
        x: x + 1,
        y: top,
        width: barWidth - 2,
        height: Math.max(1, bottom - top),
        color: seriesColor(s),
      });
      const label = formatCompact(value);
      const labelScale = textWidth(label, 2) <= barWidth + 4 ? 2 : 1;
      // Labels wider than their bar would run into the neighbours': the axis and the table tell those.
      if (textWidth(label, labelScale) <= barWidth + 2) {
        // A white backing keeps the value readable where it crosses a grid or target line.
        const labelWidth = textWidth(label, labelScale);
        shapes.push({
          kind: "rect",
          x: x + barWidth / 2 - labelWidth / 2 - 2,
          y: top - textHeight(labelScale) - 5,
          width: labelWidth + 4,
          height: textHeight(labelScale) + 3,
          color: [255, 255, 255],
        });
        shapes.push(
          text(x + barWidth / 2, top - textHeight(labelScale) - 3, label, ink, labelScale, "center"),
        );
      }
    });
    shapes.push(
      text(plot.x + (g + 0.5) * groupWidth, plot.y + plot.height + 8, group.label, ink, 2, "center"),
    );
    if (group.note !== undefined) {
      shapes.push(
        text(plot.x + (g + 0.5) * groupWidth, plot.y + plot.height + 28, group.note, grey, 2, "center"),
      );
    }
  });

  if (panel.target) {
    const y = toY(panel.target.value);
    shapes.push({
      kind: "line",
      x1: plot.x,
      y1: y,
      x2: plot.x + plot.width,
      y2: y,
      color: targetColor,
      dash: 6,
    });
    shapes.push({
      kind: "line",
      x1: plot.x,
      y1: y + 1,
      x2: plot.x + plot.width,
      y2: y + 1,
      color: targetColor,
      dash: 6,
    });
  }

  const legendTop = plot.y + plot.height + 36 + noteHeight;
  const named = panel.series.length > 1 ? panel.series : [];
  named.forEach((name, s) => {
    const y = legendTop + s * rowHeight;
    shapes.push({ kind: "rect", x: plot.x, y, width: 14, height: 14, color: seriesColor(s) });
    shapes.push(text(plot.x + 22, y, name, ink, 2, "left"));
  });
  if (panel.target) {
    const y = legendTop + named.length * rowHeight;
    for (const dy of [6, 7]) {
      shapes.push({
        kind: "line",
        x1: plot.x,
        y1: y + dy,
        x2: plot.x + 14,
        y2: y + dy,
        color: targetColor,
        dash: 4,
      });
    }
    shapes.push(text(plot.x + 22, y, panel.target.label, targetColor, 2, "left"));
  }
  return shapes;
}

export const chartWidth = 1560;

/** The whole chart: a title band, the panels side by side, and one PASS/MISS line per target below. */
export function layoutChart(input: ChartInput): { width: number; height: number; shapes: Shape[] } {
  const width = chartWidth;
  const margin = 24;
  const panelTop = 84;
  const panelHeight = 600;
  const verdictTop = panelTop + panelHeight + 24;
  const height = verdictTop + 34 + input.verdicts.length * 22 + margin;
  const shapes: Shape[] = [
    text(width / 2, 18, input.title, ink, 3, "center"),
    text(width / 2, 50, input.subtitle, grey, 2, "center"),
  ];
  const count = Math.max(1, input.panels.length);
  const gap = 28;
  const panelWidth = (width - 2 * margin - gap * (count - 1)) / count;
  input.panels.forEach((panel, index) => {
    shapes.push(
      ...layoutBarPanel(panel, {
        x: margin + index * (panelWidth + gap),
        y: panelTop,
        width: panelWidth,
        height: panelHeight,
      }),
    );
  });
  shapes.push({ kind: "line", x1: margin, y1: verdictTop, x2: width - margin, y2: verdictTop, color: grid });
  shapes.push(text(margin, verdictTop + 10, "TARGETS", ink, 2, "left"));
  input.verdicts.forEach((verdict, index) => {
    const x = margin;
    const y = verdictTop + 34 + index * 22;
    const badge = verdict.pass === undefined ? "N/A " : verdict.pass ? "PASS" : "MISS";
    const color = verdict.pass === undefined ? grey : verdict.pass ? passColor : missColor;
    shapes.push(text(x, y, badge, color, 2, "left"));
    shapes.push(text(x + textWidth("PASS ", 2) + 6, y, verdict.text, ink, 2, "left"));
  });
  return { width, height, shapes };
}

/** The chart as PNG bytes. */
export function renderChartPng(input: ChartInput): Buffer {
  const { width, height, shapes } = layoutChart(input);
  const raster = new Raster(width, height).draw(shapes);
  return encodePng(width, height, raster.pixels);
}
